#!/usr/bin/env bash
# bench/votestorm.sh — the vote-storm benchmark against the real test
# servers: starts (or reuses) InspIRCd + Anope with scripts/testenv.sh,
# exports their addresses, and runs bench/votestorm (defaults: 200 voters
# within 10 s, send_burst 4, send_rate 1/s). Arguments go to the program:
#
#   bench/votestorm.sh                      # the target: 200 voters in 10 s
#   bench/votestorm.sh -voters 500 -spread 5s -v
#
# Exit status: 0 all targets met, 1 a target missed, 2 could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/testenv.sh start
eval "$(scripts/testenv.sh env)"

# one connection per voter, plus the bot, observer and proposer
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1); $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
go build -o "${TMPDIR:-/tmp}/votestorm.$$" ./bench/votestorm
trap 'rm -f "${TMPDIR:-/tmp}/votestorm.$$"' EXIT
rc=0
"${TMPDIR:-/tmp}/votestorm.$$" "$@" || rc=$?
exit "$rc"
