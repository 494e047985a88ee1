#!/usr/bin/env bash
# Runs two builds of `edgeops bench` alternately on this machine, so that a change is measured
# side by side with its baseline in the same minutes (the machines are shared and noisy).
#   infra/scripts/bench-pair.sh OLD_EDGEOPS NEW_EDGEOPS [ROUNDS] [-- bench options]
# Build each binary with `cargo build --release --bin edgeops` (an old revision in a git
# worktree, e.g. `git worktree add --detach /tmp/old <rev>`). Prints each run's JSON figures.
set -euo pipefail
if [[ $# -lt 2 || "$1" == "--help" || "$1" == "-h" ]]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
old=$1 new=$2
shift 2
rounds=2
if [[ $# -gt 0 && "$1" != "--" ]]; then rounds=$1; shift; fi
[[ $# -gt 0 && "$1" == "--" ]] && shift
options=("$@")
[[ ${#options[@]} -eq 0 ]] && options=(--readings 100000 --backlog 300000 --runs 3 --inference false)
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC1091
[[ -f "$here/.tools/env" ]] && source "$here/.tools/env"
for round in $(seq 1 "$rounds"); do
  for which in old new; do
    binary=$old
    [[ $which == new ]] && binary=$new
    echo "### round $round: $which ($binary)"
    "$binary" bench "${options[@]}" 2>/dev/null | grep -E '^\{'
  done
done
