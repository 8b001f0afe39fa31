#!/usr/bin/env bash
# bench/board.sh — the live board under load (issue 16): 500 screens on
# the wall's Server-Sent Events stream, a vote committed every 100 ms;
# the time from each vote's commit to its arrival on every screen, and
# the serving process's memory and CPU. Targets: worst < 2 s, < 100 MiB.
#
#   bench/board.sh                    # 500 screens, 300 votes (30 s), 3 rounds
#   ROUNDS=1 CONNS=1000 VOTES=600 bench/board.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-500}
VOTES=${VOTES:-300}
EVERY=${EVERY:-100ms}
work=$(mktemp -d "${TMPDIR:-/tmp}/boardbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(free -g | awk '/^Mem:/{print $2}') GiB; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(go version | cut -d' ' -f3-)"
go build -o "$work/boardbench" ./bench/boardbench
ulimit -n 65536 2>/dev/null || true
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r, load $(cut -d' ' -f1 /proc/loadavg):"
	"$work/boardbench" -conns "$CONNS" -votes "$VOTES" -every "$EVERY"
done
