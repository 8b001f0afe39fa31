#!/usr/bin/env bash
# bench/engines.sh — SQLite against PostgreSQL, in one run on one machine
# (issue 14): votes per second, one command per transaction and batched
# as the IRC transport batches under load (BenchmarkVote,
# BenchmarkVoteBatched); the FOSDEM feed's first request (read from the
# store, render, gzip); and the web's 200 and 304 rates for
# /{slug}/schedule.ics, one instance on SQLite against two instances on
# one PostgreSQL database (wrk on each, rates summed).
#
#   bench/engines.sh                   # 3 rounds
#   ROUNDS=5 DURATION=10s bench/engines.sh
#
# Uses the test environment's PostgreSQL (scripts/testenv.sh start), a
# throwaway cluster without fsync; SQLite runs with hallway's settings
# (WAL, synchronous=NORMAL): neither waits for the disk on commit.
# Rounds alternate the engines, so the shared machine's noise falls on
# both. Needs wrk (apt-get install -y wrk).
#
# Targets: PostgreSQL >= 0.5x SQLite's single-command votes/s, >= 3,000
# votes/s batched; the web not slower. Exit 1 when one is missed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
BENCHTIME=${BENCHTIME:-3s}
CONNS=${CONNS:-50}
PORT1=${PORT1:-18090}
PORT2=${PORT2:-18091}
PORT3=${PORT3:-18092}

command -v wrk >/dev/null || { echo "bench/engines.sh: wrk is missing (apt-get install -y wrk)" >&2; exit 2; }
scripts/testenv.sh start >&2
eval "$(scripts/testenv.sh env)"

work=$(mktemp -d "${TMPDIR:-/tmp}/engines.XXXXXX")
db="bench_$$"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	psql -q "$HALLWAY_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
psql -q "$HALLWAY_TEST_POSTGRES" -c "CREATE DATABASE $db" >/dev/null
pgurl=${HALLWAY_TEST_POSTGRES%/*}/$db?sslmode=disable

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1); $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(go version | cut -d' ' -f3-), $(psql --version)"

go test -c -o "$work/bot.test" ./bot
go build -o "$work/webserve" ./bench/webserve

# votes prints "single batched" votes/s of one run on the engine.
votes() {
	local out
	out=$(HALLWAY_TEST_ENGINE=$1 "$work/bot.test" -test.run - -test.bench 'Vote' -test.benchtime "$BENCHTIME" 2>&1)
	echo "$(sed -n 's/^BenchmarkVote-[0-9]*.* \([0-9.]*\) votes\/s$/\1/p' <<<"$out") $(sed -n 's/^BenchmarkVoteBatched-[0-9]*.* \([0-9.]*\) votes\/s$/\1/p' <<<"$out")"
}

# serve NAME PORT ARGS...: start webserve, wait until ready
serve() {
	local name=$1 port=$2
	shift 2
	"$work/webserve" -listen "127.0.0.1:$port" -base http://hallway.test -runs 3 "$@" >"$work/$name.out" 2>"$work/$name.err" &
	pids+=($!)
	for _ in $(seq 1 600); do
		grep -q '^ready=1' "$work/$name.out" 2>/dev/null && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/$name.err" >&2; exit 2; }
		sleep 0.1
	done
	echo "webserve $name did not get ready" >&2
	exit 2
}

rps() {
	wrk -t1 -c"$1" -d"$DURATION" --timeout 10s "${@:2}" | sed -n 's/^Requests\/sec:[[:space:]]*//p'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

serve lite "$PORT1"
serve pg1 "$PORT2" -store "$pgurl"
serve pg2 "$PORT3" -store "$pgurl" -seed=false
for f in lite pg1; do echo "$f: first request (store read, render, gzip) $(sed -n 's/^first_request=//p' "$work/$f.out")"; done
etag=$(sed -n 's/^etag=//p' "$work/lite.out")
[ "$etag" = "$(sed -n 's/^etag=//p' "$work/pg1.out")" ] || { echo "the engines serve different schedules" >&2; exit 2; }
path=/fosdem-2027/schedule.ics

declare -A r
for round in $(seq 1 "$ROUNDS"); do
	read -r s1 s2 <<<"$(votes sqlite)"
	read -r p1 p2 <<<"$(votes postgres)"
	w200l=$(rps "$CONNS" "http://127.0.0.1:$PORT1$path")
	w304l=$(rps "$CONNS" -H "If-None-Match: $etag" "http://127.0.0.1:$PORT1$path")
	rps $((CONNS / 2)) "http://127.0.0.1:$PORT2$path" >"$work/a" &
	rps $((CONNS / 2)) "http://127.0.0.1:$PORT3$path" >"$work/b"
	wait $!
	w200p=$(awk '{ s += $1 } END { print s }' "$work/a" "$work/b")
	rps $((CONNS / 2)) -H "If-None-Match: $etag" "http://127.0.0.1:$PORT2$path" >"$work/a" &
	rps $((CONNS / 2)) -H "If-None-Match: $etag" "http://127.0.0.1:$PORT3$path" >"$work/b"
	wait $!
	w304p=$(awk '{ s += $1 } END { print s }' "$work/a" "$work/b")
	echo "round $round (load $(cut -d' ' -f1 /proc/loadavg)): votes/s single sqlite $s1 postgres $p1; batched sqlite $s2 postgres $p2; web 200 sqlite $w200l postgres×2 $w200p; 304 sqlite $w304l postgres×2 $w304p"
	for k in s1 s2 p1 p2 w200l w200p w304l w304p; do r[$k]+=" ${!k}"; done
done

m() { median <<<"${r[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "medians of $ROUNDS rounds:"
echo "  votes/s, one command a transaction: sqlite $(m s1), postgres $(m p1): $(ratio "$(m p1)" "$(m s1)")x (target >= 0.5x)"
echo "  votes/s, batched:                   sqlite $(m s2), postgres $(m p2): $(ratio "$(m p2)" "$(m s2)")x (target >= 3000/s)"
echo "  web 200/s: sqlite $(m w200l), two instances on postgres $(m w200p): $(ratio "$(m w200p)" "$(m w200l)")x"
echo "  web 304/s: sqlite $(m w304l), two instances on postgres $(m w304p): $(ratio "$(m w304p)" "$(m w304l)")x"
rc=0
awk -v p="$(m p1)" -v s="$(m s1)" 'BEGIN { exit !(p >= 0.5 * s) }' || { echo "MISSED: single-command votes below 0.5x SQLite"; rc=1; }
awk -v p="$(m p2)" 'BEGIN { exit !(p >= 3000) }' || { echo "MISSED: batched votes below 3000/s"; rc=1; }
exit "$rc"
