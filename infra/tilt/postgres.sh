#!/usr/bin/env bash
# Postgres for the Tilt dev loop: the local image edgeops/postgres:15 (built by
# infra/scripts/bootstrap.sh; nothing is pulled), published on 127.0.0.1:5432, with the
# database the services use created once the server answers.
#
#   postgres.sh serve   run the container in the foreground (Tilt's serve_cmd); a leftover
#                       container of the same name is removed first; SIGTERM/SIGINT stop it
#   postgres.sh ready   exit 0 once the database accepts queries (Tilt's readiness probe)
#   postgres.sh stop    remove the container
#
# Env (defaults): EDGEOPS_DEV_PG_CONTAINER (edgeops-dev-postgres), EDGEOPS_DEV_PG_PORT (5432),
# EDGEOPS_DEV_PG_DB (edgeops), EDGEOPS_POSTGRES_IMAGE (edgeops/postgres:15).
# The data lives in the container only (--rm): every start is a fresh, empty database,
# and ingest migrates it.
set -euo pipefail

NAME=${EDGEOPS_DEV_PG_CONTAINER:-edgeops-dev-postgres}
PORT=${EDGEOPS_DEV_PG_PORT:-5432}
DB=${EDGEOPS_DEV_PG_DB:-edgeops}
IMAGE=${EDGEOPS_POSTGRES_IMAGE:-edgeops/postgres:15}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGPASSWORD=postgres PGCONNECT_TIMEOUT=2

log() { printf '[postgres] %s\n' "$*"; }

query() { psql -X -q -v ON_ERROR_STOP=1 -tA "$@" </dev/null; }

case "${1:-}" in
serve)
    docker image inspect "$IMAGE" >/dev/null 2>&1 ||
        { log "image $IMAGE is missing: run infra/scripts/bootstrap.sh (it builds it; nothing can be pulled)"; exit 1; }
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    log "starting $NAME from $IMAGE on 127.0.0.1:$PORT"
    docker run --rm --name "$NAME" -p "127.0.0.1:$PORT:5432" "$IMAGE" -c fsync=off &
    pid=$!
    stop() { trap - TERM INT; log "stopping $NAME"; docker stop -t 5 "$NAME" >/dev/null 2>&1 || true; wait "$pid" || true; exit 0; }
    trap stop TERM INT
    for _ in $(seq 1 120); do
        if query -d postgres -c 'SELECT 1' >/dev/null 2>&1; then break; fi
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit $?; }
        sleep 0.5
    done
    if [ "$(query -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
        query -d postgres -c "CREATE DATABASE \"$DB\""
        log "created database $DB"
    fi
    log "ready: postgres://postgres:postgres@127.0.0.1:$PORT/$DB"
    wait "$pid"
    ;;
ready)
    # Asked of the maintenance database, so probing before the CREATE logs no FATAL.
    [ "$(query -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" 2>/dev/null)" = 1 ]
    ;;
stop)
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    ;;
*)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
