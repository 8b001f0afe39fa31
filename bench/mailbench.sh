#!/usr/bin/env bash
# bench/mailbench.sh — the mail throughput benchmark against the real test
# servers: starts (or reuses) Dovecot + OpenSMTPD (and InspIRCd, which the
# binary connects to) with scripts/testenv.sh, builds cmd/hallway, and runs
# bench/mailbench (default: 10,000 register mails, the real binary, target
# 200 mails/s end to end). Arguments go to the program:
#
#   bench/mailbench.sh                                  # the target run
#   bench/mailbench.sh -mails 2000 -v
#   bench/mailbench.sh -inprocess -smtptrace -cpuprofile /tmp/cpu.out
#
# Needs root, as the testenv does: it reads Dovecot's Maildirs to count the
# confirmations delivered.
# Exit status: 0 all targets met, 1 a target missed, 2 could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

eval "$(scripts/testenv.sh env)"
# Like scripts/test.sh: hold users.lock shared, so a test.sh run that ends
# meanwhile leaves the servers running (the last one out stops them).
exec 6>>"$HALLWAY_TESTENV_DIR/users.lock"
flock -s 6
scripts/testenv.sh start

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1); $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/hallway" ./cmd/hallway
go build -o "$tmp/mailbench" ./bench/mailbench
rc=0
"$tmp/mailbench" -bin "$tmp/hallway" "$@" || rc=$?
exit "$rc"
