#!/usr/bin/env bash
# Renders infra/nats/{hub,leaf}.conf.tmpl for the Tilt dev loop: a stand-in for
# `edgeops nats-config`, so the Tiltfile works before that subcommand exists (and needs
# no build). Plain sed over the templates; fails if a {{placeholder}} is left.
#
#   render-nats.sh hub  --dir DIR [--client-port 4222] [--monitor-port 8222] [--leaf-port 7422]
#   render-nats.sh leaf --site s1 --dir DIR [--client-port 4223] [--monitor-port 8223]
#                       [--hub-leaf-url nats-leaf://127.0.0.1:7422] [--mqtt-port 1883]
#   common: [--host 127.0.0.1] [--max-file-store 20GB] [--store-dir DIR/jetstream]
#   (max_file_store bounds what streams may reserve, not disk in use: the hub's READINGS
#   stream alone reserves 4 GiB and a site's raw stream 2 GiB, so keep it well above that)
#
# Writes DIR/nats.conf (JetStream store in DIR/jetstream unless --store-dir) and prints its path.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { printf 'render-nats: %s\n' "$*" >&2; exit 1; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kind=${1:-}
case "$kind" in hub|leaf) shift ;; *) usage ;; esac

dir="" site="" host=127.0.0.1 max_file_store=20GB store_dir=""
if [ "$kind" = hub ]; then client_port=4222 monitor_port=8222; else client_port=4223 monitor_port=8223; fi
leaf_port=7422 hub_leaf_url=nats-leaf://127.0.0.1:7422 mqtt_port=1883
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case "$1" in
        --dir) dir=$2 ;;
        --site) site=$2 ;;
        --host) host=$2 ;;
        --client-port) client_port=$2 ;;
        --monitor-port) monitor_port=$2 ;;
        --leaf-port) leaf_port=$2 ;;
        --mqtt-port) mqtt_port=$2 ;;
        --hub-leaf-url) hub_leaf_url=$2 ;;
        --max-file-store) max_file_store=$2 ;;
        --store-dir) store_dir=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[ -n "$dir" ] || die "--dir is required"
for p in "$client_port" "$monitor_port" "$leaf_port" "$mqtt_port"; do
    if ! [[ $p =~ ^[0-9]+$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then die "not a port: $p"; fi
done
if [ "$kind" = leaf ]; then
    # The same rule as SiteId in shared/contracts: it becomes a subject token and a domain.
    [[ $site =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die "--site must be 1-64 of [A-Za-z0-9_-], got '$site'"
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
store_dir=${store_dir:-$dir/jetstream}
mkdir -p "$store_dir"

# Escape a value for the replacement side of sed s|||.
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

args=(
    -e "s|{{listen_host}}|$(esc "$host")|g"
    -e "s|{{client_port}}|$client_port|g"
    -e "s|{{monitor_port}}|$monitor_port|g"
    -e "s|{{store_dir}}|$(esc "$store_dir")|g"
    -e "s|{{max_file_store}}|$(esc "$max_file_store")|g"
)
if [ "$kind" = hub ]; then
    template=$REPO/infra/nats/hub.conf.tmpl
    args+=(-e "s|{{server_name}}|hub|g" -e "s|{{leaf_port}}|$leaf_port|g")
else
    template=$REPO/infra/nats/leaf.conf.tmpl
    args+=(-e "s|{{site}}|$site|g" -e "s|{{hub_leaf_url}}|$(esc "$hub_leaf_url")|g" -e "s|{{mqtt_port}}|$mqtt_port|g")
fi

out=$dir/nats.conf
sed "${args[@]}" "$template" >"$out.tmp"
if grep -nE '\{\{[A-Za-z0-9_]+\}\}' "$out.tmp" >&2; then
    rm -f "$out.tmp"
    die "$template has placeholders this script does not know (above)"
fi
mv "$out.tmp" "$out"
printf '%s\n' "$out"
