#!/usr/bin/env bash
# The project's test command: provisions what the tests need (nats-server, ONNX Runtime,
# the local NATS and Postgres images), checks formatting and lints, builds the binaries the
# process-level tests start, and runs every test (unit, property and integration).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

EDGEOPS_REQUIRE_DOCKER=1 bash infra/scripts/bootstrap.sh
# shellcheck disable=SC1091
source .tools/env

echo "[test] Tiltfile check (starlark-go with Tilt's API stubbed; see docs/tilt.md)"
python3 infra/tilt/check_tiltfile.py
echo "[test] cargo fmt --check"
cargo fmt --all -- --check
echo "[test] cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "[test] building binaries (the SIGTERM test runs edgeops-ingest as a process)"
cargo build --workspace --bins --locked
echo "[test] running all tests"
if cargo nextest --version >/dev/null 2>&1; then
  # The project has no doctests (nextest does not run them); its summary is the closing line.
  cargo nextest run --workspace --locked --no-fail-fast --test-threads 2
else
  cargo test --workspace --locked --no-fail-fast
fi
