#!/usr/bin/env bash
# Readiness probe for the Tilt dev loop: exit 0 when a client named NAME is connected to the
# nats-server whose monitoring port is PORT (127.0.0.1). edgeops services name their
# connection (shared/bus connect): edgeops-ingest, edgeops-gateway-<site>.
#
#   probe-connz.sh PORT NAME
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: probe-connz.sh PORT NAME" >&2; exit 2; }
body=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/connz?limit=4096") || exit 1
grep -Eq "\"name\": *\"$2\"" <<<"$body"
