#!/usr/bin/env bash
# scripts/test.sh — the project's test command (CI runs it through .ci/run).
#
# Starts the real servers (scripts/testenv.sh start: installs the Debian
# packages if missing), exports their addresses, requires integration tests
# to run (HALLWAY_REQUIRE_TESTENV=1: no silent skips), runs go vet and the
# race-enabled tests, and stops the servers at the end unless another
# test.sh run is still using them (or HALLWAY_TESTENV_KEEP=1).
#
# Extra arguments go to `go test` (e.g. scripts/test.sh -run TestSASL).
# HALLWAY_TEST_TIMEOUT overrides the go test timeout (default 25m).
# The store, bot, irc, mail, web and cmd tests run again on PostgreSQL, beside
# the race-enabled run (HALLWAY_TEST_POSTGRES_PASS=0 skips that).
#
# Every fuzz target of the repository runs for HALLWAY_FUZZTIME each
# (default 3s; 0 skips; skipped by default when arguments are given),
# beside the tests in the whole run, after them otherwise. A
# crasher fails the script; go test saves it under the package's
# testdata/fuzz/ to reproduce with plain `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/testenv.sh env)"

# Several test.sh runs may share one test environment (same checkout): each
# holds users.lock shared; the last one out stops the servers, unless some
# other test process holds irc.lock (irc/irctest.TestEnv does, per test).
exec 6>>"$HALLWAY_TESTENV_DIR/users.lock"
flock -s 6

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "${HALLWAY_TESTENV_KEEP:-0}" = 1 ]; then
		echo "test.sh: leaving the test environment running (HALLWAY_TESTENV_KEEP=1)" >&2
	elif flock -n -x 6 && flock -n "$HALLWAY_TESTENV_DIR/irc.lock" true; then
		scripts/testenv.sh stop || true
	else
		echo "test.sh: other tests are using the test environment: leaving it running" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --full: the calendar subscriber (vdirsyncer, khal) and headless Chromium
# are real parts of the tests too.
scripts/testenv.sh --full start
export HALLWAY_REQUIRE_TESTENV=1 HALLWAY_TEST_FULL=1

# fuzz runs every fuzz target of the repository for $fuzztime each.
fuzz() {
	# go test -fuzz takes one target of one package at a time; -list
	# prints a package's targets before its "ok" line.
	targets=$(go test -list '^Fuzz' ./... | awk '/^Fuzz/ { names = names " " $1 } /^ok / { n = split(names, a, " "); for (i = 1; i <= n; i++) print $2, a[i]; names = "" }' | sort)
	echo "test.sh: fuzzing $(echo "$targets" | wc -l) targets for $fuzztime each" >&2
	failed=()
	fuzzlog=$(mktemp)
	while read -r pkg name; do
		for try in 1 2; do
			# The second try runs longer: on a loaded machine the engine
			# may not finish its baseline coverage of the seeds within a
			# few seconds ("context deadline exceeded", no crasher).
			t=$fuzztime
			[ "$try" = 2 ] && t=${HALLWAY_FUZZRETRY:-10s}
			if go test -run '^$' -fuzz "^$name\$" -fuzztime "$t" "$pkg" >"$fuzzlog" 2>&1; then
				break
			fi
			# A crasher (a new input written, or a seed that fails) fails
			# at once; the fuzzing engine's own trouble on a loaded
			# machine (a worker that hung) gets one more try.
			if [ "$try" = 2 ] || grep -qE 'Failing input written|^\s*--- FAIL: Fuzz[^ ]*/' "$fuzzlog"; then
				cat "$fuzzlog" >&2
				failed+=("$pkg $name")
				break
			fi
			echo "test.sh: $pkg $name failed without a crasher; trying once more:" >&2
			tail -5 "$fuzzlog" >&2
		done
	done <<<"$targets"
	rm -f "$fuzzlog"
	if [ ${#failed[@]} -gt 0 ]; then
		printf 'test.sh: fuzz target failed: %s\n' "${failed[@]}" >&2
		return 1
	fi
}

fuzztime=${HALLWAY_FUZZTIME:-3s}
if [ $# -gt 0 ] && [ -z "${HALLWAY_FUZZTIME:-}" ]; then
	fuzztime=0
fi

echo "test.sh: go vet ./..." >&2
go vet ./...
timeout=${HALLWAY_TEST_TIMEOUT:-25m}
pgpkgs=(./store/... ./bot/... ./irc/... ./mail/... ./web/... ./cmd/...)
if [ "${HALLWAY_TEST_POSTGRES_PASS:-1}" != 1 ]; then
	echo "test.sh: go test -race ./..." >&2
	go test -race -count=1 -timeout "$timeout" "$@" ./...
elif [ $# -gt 0 ]; then
	# By hand, with arguments: one engine after the other.
	echo "test.sh: go test -race ./..." >&2
	go test -race -count=1 -timeout "$timeout" "$@" ./...
	echo "test.sh: on PostgreSQL: go test ${pgpkgs[*]}" >&2
	HALLWAY_TEST_ENGINE=postgres go test -count=1 -timeout "$timeout" "$@" "${pgpkgs[@]}"
else
	# The whole suite under the race detector on SQLite and, at the same
	# time, the packages that touch the store again on PostgreSQL (each
	# test on a database of its own, store/storetest; the race detector
	# ran already): the two take about as long each, and wait on the
	# servers more than on the CPU. The three tests that restart the IRC
	# server need it to themselves (its exclusive lock), so they run
	# after, on both engines.
	restarts='TestIRCReconnect|TestRestartIRC|TestStopStartIRC'
	# The fuzzers run beside them too: the tests leave half the CPU idle
	# (they wait on the servers), and the fuzzers need it for minutes.
	fuzzing=
	if [ "$fuzztime" != 0 ]; then
		fuzz &
		fuzzing=$!
	fi
	echo "test.sh: go test -race ./... and, on PostgreSQL, go test ${pgpkgs[*]}" >&2
	go test -race -count=1 -timeout "$timeout" -skip "^($restarts)\$" ./... &
	lite=$!
	HALLWAY_TEST_ENGINE=postgres go test -count=1 -timeout "$timeout" -skip "^($restarts)\$" "${pgpkgs[@]}" 2>&1 |
		sed -u 's/^/postgres: /' &
	pg=$!
	rc=0
	wait "$lite" || rc=1
	wait "$pg" || rc=1 # pipefail: go test's status, not sed's
	echo "test.sh: the IRC restarts, on SQLite then PostgreSQL" >&2
	go test -race -count=1 -timeout "$timeout" -run "^($restarts)\$" ./irc/... || rc=1
	HALLWAY_TEST_ENGINE=postgres go test -count=1 -timeout "$timeout" -run "^($restarts)\$" ./irc/... || rc=1
	if [ -n "$fuzzing" ]; then
		wait "$fuzzing" || rc=1
	fi
	exit "$rc"
fi

if [ "$fuzztime" != 0 ]; then
	fuzz
fi

