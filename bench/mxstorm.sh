#!/usr/bin/env bash
# bench/mxstorm.sh — the Matrix vote-storm benchmark against the real test
# servers: starts (or reuses) Dendrite (and InspIRCd, which `hallway run`
# connects to as well) with scripts/testenv.sh, exports their addresses,
# and runs bench/mxstorm (defaults: 200 Matrix users voting within 10 s,
# [matrix] send_burst 10, send_rate 1/s). Arguments go to the program:
#
#   bench/mxstorm.sh                        # the target: 200 voters in 10 s
#   bench/mxstorm.sh -rate 50 -burst 50     # a bot its homeserver does not limit
#
# Exit status: 0 all targets met, 1 a target missed, 2 could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/testenv.sh start
eval "$(scripts/testenv.sh env)"
scripts/testenv.sh wait-matrix

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1); $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
go build -o "${TMPDIR:-/tmp}/mxstorm.$$" ./bench/mxstorm
trap 'rm -f "${TMPDIR:-/tmp}/mxstorm.$$"' EXIT
rc=0
"${TMPDIR:-/tmp}/mxstorm.$$" "$@" || rc=$?
exit "$rc"
