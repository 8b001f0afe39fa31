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
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/testenv.sh env)"

# Several test.sh runs may share one test environment (same checkout): each
# holds users.lock shared; the last one out stops the servers, unless some
# other test process holds irc.lock (bot/irctest.TestEnv does, per test).
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

echo "test.sh: go vet ./..." >&2
go vet ./...
echo "test.sh: go test -race ./..." >&2
go test -race -count=1 -timeout "${HALLWAY_TEST_TIMEOUT:-25m}" "$@" ./...
