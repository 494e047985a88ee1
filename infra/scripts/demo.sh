#!/usr/bin/env bash
# The main job on this machine, from nothing: provision the tools, build, and run
# `edgeops demo` (hub + one site's leaf NATS, Postgres, ingest, the edge gateway, simulated
# readings into Postgres, then a clean stop). Extra arguments go to `edgeops demo`
# (see `edgeops demo --help`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

EDGEOPS_REQUIRE_DOCKER=1 bash infra/scripts/bootstrap.sh
# shellcheck disable=SC1091
source .tools/env
cargo build --locked --bin edgeops
exec target/debug/edgeops demo "$@"
