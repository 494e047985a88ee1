#!/usr/bin/env bash
# Readiness probe for the Tilt dev loop: exit 0 when a client named NAME is connected to the
# nats-server whose monitoring port is PORT (on 127.0.0.1) and, if SUBJECT is given, that
# connection subscribes to SUBJECT. edgeops services name their connection (shared/bus
# connect): edgeops-ingest, edgeops-gateway-<site>. ingest subscribes to $SRV.PING.ingest once
# its micro service is up, which is after it provisioned the hub and migrated Postgres.
#
#   probe-connz.sh PORT NAME [SUBJECT]
set -euo pipefail
[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: probe-connz.sh PORT NAME [SUBJECT]" >&2; exit 2; }
body=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/connz?subs=true&limit=4096") || exit 1
python3 -c '
import json, sys
name, subject = sys.argv[1], sys.argv[2]
conns = json.load(sys.stdin).get("connections") or []
sys.exit(0 if any(c.get("name") == name and (not subject or subject in (c.get("subscriptions_list") or []))
                  for c in conns) else 1)
' "$2" "${3:-}" <<<"$body"
