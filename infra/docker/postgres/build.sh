#!/usr/bin/env bash
# Build the local image edgeops/postgres:15 without any container registry:
#   1. debootstrap a minimal Debian bookworm root fs with postgresql-15, from the
#      Debian mirror the host's apt is configured with (read at run time);
#   2. initdb inside it (chroot, as the postgres user): data dir
#      /var/lib/postgresql/data, superuser postgres / password postgres,
#      local connections trust, host connections scram-sha-256 from anywhere;
#   3. trim it (apt lists, docs, man pages, translations, LLVM JIT, perl modules);
#   4. `tar | docker import` it with USER/ENV/ENTRYPOINT/EXPOSE and the label
#      edgeops.recipe=<sha256 of this recipe>;
#   5. start it once and check that psql from the host gets `select 1` back.
#
# Usage: build.sh [--recipe-hash] [--no-verify] [--image NAME:TAG]
#   --recipe-hash  print the recipe hash (what the label will hold) and exit
#   --no-verify    skip the start-and-query check
# Env:   EDGEOPS_DEBIAN_MIRROR  override the mirror taken from the apt config
#        EDGEOPS_CACHE_DIR      where downloaded .debs are kept (default <repo>/.tools/cache)
#
# Needs root (debootstrap, chroot), debootstrap and docker. Called by
# infra/scripts/bootstrap.sh, which decides whether a rebuild is needed.
set -euo pipefail

PG_MAJOR=15
SUITE=bookworm
IMAGE=edgeops/postgres:${PG_MAJOR}
RECIPE_SCHEMA=1   # bump to force a rebuild everywhere

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)

log() { printf '[postgres-image] %s\n' "$*" >&2; }
die() { printf '[postgres-image] ERROR: %s\n' "$*" >&2; exit 1; }

recipe_hash() {
    {
        printf 'schema=%s pg=%s suite=%s\n' "$RECIPE_SCHEMA" "$PG_MAJOR" "$SUITE"
        local f
        for f in build.sh postgresql.conf.append pg_hba.conf.append; do
            printf '== %s\n' "$f"
            cat "$HERE/$f"
        done
    } | sha256sum | cut -c1-64
}

VERIFY=1
while [ $# -gt 0 ]; do
    case "$1" in
        --recipe-hash) recipe_hash; exit 0 ;;
        --no-verify) VERIFY=0 ;;
        --image) IMAGE=$2; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
    shift
done

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
command -v docker >/dev/null || die "docker is not installed"

# --- the Debian mirror, from the host's apt configuration ---------------------
# Prints the first URI of a 'deb' source serving $1 (deb822 *.sources first,
# then one-line sources.list); with no exact suite match, the first 'deb' URI of
# a non-security source.
apt_mirror_for_suite() {
    local want=$1 f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk -v want="$want" '
            BEGIN { RS = ""; FS = "\n" }
            {
                uris = ""; suites = ""; types = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^[ \t]*#/) continue
                    key = tolower(line); sub(/:.*/, "", key); gsub(/[ \t]/, "", key)
                    val = line; sub(/^[^:]*:[ \t]*/, "", val)
                    if (key == "uris") uris = val
                    else if (key == "suites") suites = val
                    else if (key == "types") types = val
                    else if (key == "enabled") enabled = tolower(val)
                }
                if (uris == "" || enabled == "no" || types !~ /(^|[ \t])deb([ \t]|$)/) next
                n = split(suites, s, /[ \t]+/)
                for (j = 1; j <= n; j++) {
                    if (want != "" && s[j] == want) { split(uris, u, /[ \t]+/); print u[1]; exit }
                    if (want == "" && s[j] !~ /security/) { split(uris, u, /[ \t]+/); print u[1]; exit }
                }
            }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk -v want="$want" '
            $1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ((want != "" && $(i + 1) == want) || (want == "" && $(i + 1) !~ /security/)) { print $i; exit }
            }' "$f"
    done
}

MIRROR=${EDGEOPS_DEBIAN_MIRROR:-}
if [ -z "$MIRROR" ]; then
    MIRROR=$(apt_mirror_for_suite "$SUITE" | head -n1)
    [ -n "$MIRROR" ] || MIRROR=$(apt_mirror_for_suite "" | head -n1)
fi
[ -n "$MIRROR" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d/} (set EDGEOPS_DEBIAN_MIRROR)"

# --- work dir and cleanup ------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/edgeops-pg-image.XXXXXX")
ROOT=$WORK/rootfs
CID=""

unmount_under() {
    # Unmount anything still mounted below $1 (deepest first), e.g. after a
    # debootstrap that failed half way with proc/sys mounted in the chroot.
    local m
    while IFS= read -r m; do
        umount -l "$m" 2>/dev/null || true
    done < <(awk -v p="$1" 'index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
}

kill_chroot_procs() {
    # Processes whose root is our chroot were started by this build (e.g. a
    # service a maintainer script started); stop them by pid.
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$ROOT"|"$ROOT"/*) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
    done
}

cleanup() {
    local rc=$?
    if [ -n "$CID" ]; then docker rm -f "$CID" >/dev/null 2>&1 || true; fi
    if [ -d "$ROOT" ]; then
        kill_chroot_procs
        unmount_under "$ROOT"
    fi
    if awk -v p="$WORK" 'index($2, p "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        log "WARNING: mounts remain under $WORK; not removing it"
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. debootstrap --------------------------------------------------------------
CACHE=${EDGEOPS_CACHE_DIR:-$REPO/.tools/cache}/debootstrap-$SUITE
mkdir -p "$CACHE"
log "debootstrap $SUITE (minbase + postgresql-$PG_MAJOR) from the host's apt mirror ..."
t0=$(date +%s)
if ! debootstrap --variant=minbase --include="postgresql-$PG_MAJOR" \
        --cache-dir="$CACHE" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 30 "$WORK/debootstrap.log" >&2
    [ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOT/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
fi
kill_chroot_procs
unmount_under "$ROOT"
log "debootstrap done in $(( $(date +%s) - t0 ))s"

# --- 2. initdb --------------------------------------------------------------------
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
PGDATA=/var/lib/postgresql/data
pg_uid=$(awk -F: '$1 == "postgres" { print $3 }' "$ROOT/etc/passwd")
pg_gid=$(awk -F: '$1 == "postgres" { print $4 }' "$ROOT/etc/passwd")
[ -n "$pg_uid" ] && [ -n "$pg_gid" ] || die "no postgres user in the root fs"

# Drop the cluster the Debian package created (/var/lib/postgresql/15/main and
# /etc/postgresql/15/main): the image uses a plain data dir instead.
rm -rf "$ROOT/var/lib/postgresql/$PG_MAJOR" "$ROOT/etc/postgresql/$PG_MAJOR"
install -d -o "$pg_uid" -g "$pg_gid" -m 0755 "$ROOT/var/lib/postgresql"
install -d -o "$pg_uid" -g "$pg_gid" -m 2775 "$ROOT/run/postgresql"
install -d -m 1777 "$ROOT/tmp"

printf 'postgres\n' >"$ROOT/tmp/pwfile"
chown "$pg_uid:$pg_gid" "$ROOT/tmp/pwfile"
chmod 0600 "$ROOT/tmp/pwfile"
log "initdb $PGDATA ..."
if ! chroot --userspec="$pg_uid:$pg_gid" "$ROOT" /usr/bin/env -i \
        HOME=/var/lib/postgresql LANG=C.UTF-8 TZ=UTC PATH="$PGBIN:/usr/bin:/bin" \
        "$PGBIN/initdb" -D "$PGDATA" -U postgres --pwfile=/tmp/pwfile \
        --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1; then
    cat "$WORK/initdb.log" >&2
    die "initdb failed"
fi
rm -f "$ROOT/tmp/pwfile"
cat "$HERE/postgresql.conf.append" >>"$ROOT$PGDATA/postgresql.conf"
cat "$HERE/pg_hba.conf.append" >>"$ROOT$PGDATA/pg_hba.conf"
chown "$pg_uid:$pg_gid" "$ROOT$PGDATA/postgresql.conf" "$ROOT$PGDATA/pg_hba.conf"

# --- 3. trim ------------------------------------------------------------------------
log "trimming the root fs ($(du -sh --one-file-system "$ROOT" | cut -f1)) ..."
arch_lib=$(cd "$ROOT/usr/lib" && ls -d ./*-linux-gnu* 2>/dev/null | head -n1)
arch_lib=${arch_lib#./}
(
    cd "$ROOT"
    # package manager state and caches; the image is never apt-upgraded
    rm -rf var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old \
        var/lib/dpkg/*-old var/cache/ldconfig/aux-cache debootstrap
    : >etc/apt/sources.list
    # docs, man pages, info, translations, locale sources (C.UTF-8 stays, in /usr/lib/locale)
    rm -rf usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/lintian \
        usr/share/locale/* usr/share/i18n
    # LLVM JIT (libLLVM + z3 + bitcode): jit = off in postgresql.conf
    rm -rf "usr/lib/postgresql/$PG_MAJOR/lib/bitcode" "usr/lib/postgresql/$PG_MAJOR/lib/llvmjit"*
    if [ -n "$arch_lib" ]; then
        rm -f "usr/lib/$arch_lib"/libLLVM-*.so* "usr/lib/$arch_lib"/libz3.so*
        # perl modules used only by postgresql-common's wrappers (perl-base stays);
        # PATH puts $PGBIN first, so psql/pg_* are the real binaries.
        rm -rf "usr/lib/$arch_lib/perl" usr/share/perl
    fi
    # logs from the install
    find var/log -type f -exec truncate -s 0 {} +
    rm -f etc/machine-id var/lib/dbus/machine-id root/.bash_history
)
# every library the server and its tools load must still be there
for b in postgres psql pg_ctl pg_isready initdb; do
    out=$(chroot "$ROOT" /usr/bin/ldd "$PGBIN/$b" 2>&1) || true
    case "$out" in *"not found"*) printf '%s\n' "$out" >&2; die "$b misses a library after trimming" ;; esac
done
log "root fs trimmed to $(du -sh --one-file-system "$ROOT" | cut -f1)"

# --- 4. docker import ---------------------------------------------------------------
HASH=$(recipe_hash)
log "docker import -> $IMAGE (edgeops.recipe=${HASH:0:12}...)"
tar -C "$ROOT" --numeric-owner --one-file-system \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
    docker import \
        --change "LABEL edgeops.recipe=$HASH" \
        --change "LABEL org.opencontainers.image.title=edgeops-postgres" \
        --change "LABEL org.opencontainers.image.version=$(chroot "$ROOT" "$PGBIN/postgres" --version | awk '{ print $3 }')" \
        --change 'USER postgres' \
        --change "ENV PATH=$PGBIN:/usr/bin:/bin" \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV PGDATA=$PGDATA" \
        --change 'WORKDIR /var/lib/postgresql' \
        --change "ENTRYPOINT [\"$PGBIN/postgres\",\"-D\",\"$PGDATA\"]" \
        --change 'EXPOSE 5432' \
        - "$IMAGE" >/dev/null

# --- 5. verify -------------------------------------------------------------------------
if [ "$VERIFY" = 1 ]; then
    log "verifying: start a container, wait for ready, query from the host ..."
    CID=$(docker run -d -p 127.0.0.1::5432 "$IMAGE" -c fsync=off)
    port=""
    for _ in $(seq 1 60); do
        logs=$(docker logs "$CID" 2>&1) || true
        if [[ $logs == *"database system is ready to accept connections"* ]]; then
            port=$(docker port "$CID" 5432/tcp | awk -F: 'NR == 1 { print $NF }')
            break
        fi
        [ "$(docker inspect -f '{{.State.Running}}' "$CID")" = true ] || break
        sleep 0.5
    done
    if [ -z "$port" ]; then
        docker logs "$CID" >&2 || true
        die "the container did not become ready"
    fi
    if command -v psql >/dev/null; then
        ok=""
        for _ in $(seq 1 20); do
            if [ "$(psql "postgresql://postgres:postgres@127.0.0.1:$port/postgres" -Atc 'select 1' 2>/dev/null)" = 1 ]; then
                ok=1; break
            fi
            sleep 0.5
        done
        [ -n "$ok" ] || { docker logs "$CID" >&2; die "psql from the host could not query the container"; }
        log "ok: psql postgresql://postgres:postgres@127.0.0.1:$port/postgres -c 'select 1' answered 1"
    else
        log "psql not installed on the host: checked the ready log line only"
    fi
    docker rm -f "$CID" >/dev/null
    CID=""
fi
log "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
