#!/usr/bin/env bash
# Single-row inference latency of the gateway (Model::predict_one, and the whole per-reading
# forecast path) next to a Python onnxruntime loop over the same model bytes and rows, plus the
# resident memory with the model loaded and the warm-up time. Method: docs/benchmarks.md.
#
#   infra/scripts/bench-inference.sh [--runs 3] [--trees 300] [--rows 10000] [--passes 5]
#
# Runs bootstrap.sh (no Docker images: not needed here), installs numpy and the onnxruntime
# version bootstrap.sh pins from PyPI into .tools/py-bench (once), builds the example in release
# and runs it. stdout: one JSON line per run, then one with the medians; stderr: a table.
set -euo pipefail

NUMPY_VERSION=2.4.6

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
BENCH_PY=$REPO/.tools/py-bench
ORT_VERSION=$(sed -n 's/^ORT_VERSION=//p' "$SCRIPT_DIR/bootstrap.sh")
log() { printf '[bench-inference] %s\n' "$*" >&2; }

[ -n "$ORT_VERSION" ] || { log "no ORT_VERSION= line in bootstrap.sh"; exit 1; }
EDGEOPS_SKIP_IMAGES=1 bash "$SCRIPT_DIR/bootstrap.sh" >&2
# shellcheck source=/dev/null
source "$REPO/.tools/env"

PYTHON=$(command -v python3 || command -v python || true)
[ -n "$PYTHON" ] || { log "no python3 found"; exit 1; }
if [ -d "$BENCH_PY/numpy-$NUMPY_VERSION.dist-info" ] && [ -d "$BENCH_PY/onnxruntime-$ORT_VERSION.dist-info" ]; then
    log "numpy==$NUMPY_VERSION and onnxruntime==$ORT_VERSION already in .tools/py-bench"
else
    log "pip: installing numpy==$NUMPY_VERSION onnxruntime==$ORT_VERSION into .tools/py-bench ..."
    # The session API needs only numpy; onnxruntime's other requirements serve its tools.
    rm -rf "$BENCH_PY.new"
    PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip install \
        --quiet --no-input --no-deps --target "$BENCH_PY.new" \
        "numpy==$NUMPY_VERSION" "onnxruntime==$ORT_VERSION" </dev/null >&2
    rm -rf "$BENCH_PY"
    mv "$BENCH_PY.new" "$BENCH_PY"
fi

cd "$REPO"
log "building the example (release) ..."
cargo build --release -p edgeops-edge-gateway --example inference_footprint >&2
PYTHONPATH=$BENCH_PY PYTHONNOUSERSITE=1 exec target/release/examples/inference_footprint \
    --python "$PYTHON" "$@"
