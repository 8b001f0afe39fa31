#!/usr/bin/env bash
# bench/stability/run.sh — how much a re-solve moves, against a fresh solve.
#
# For each instance and change (one more voter; a session withdrawn; a new
# pin; PCT % of the ballots re-drawn), solves the original, makes the
# changed instance (variant.py), and solves it twice with the same time:
# from the original's solution (-previous) and fresh. Prints one line each:
# moved/retimed sessions of the revision, and its objective against the
# fresh solve's. The evaluator in shared/bench/sched checks every solution.
#
# Usage: bench/stability/run.sh [INSTANCE_DIR] [SEEDS]   (default: ../shared/bench/sched/instances, "1 2 3")
# STAB_SIZES overrides the instances ("unconf large fosdem"); STAB_TIME_<size> the time per solve.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-../shared/bench/sched/instances}
SEEDS=${2:-"1 2 3"}
EVAL=$DIR/../evaluate.py
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
go build -o "$OUT/hallway" ./cmd/hallway
declare -A TIME=([small]=1s [unconf]=1s [large]=20s [fosdem]=55s)
for size in ${STAB_SIZES:-unconf large fosdem}; do
	t=${TIME[$size]}
	v="STAB_TIME_$size"; t=${!v:-$t}
	inst=$DIR/$size-public.json
	"$OUT/hallway" schedule solve -time "$t" -o "$OUT/base.json" "$inst" 2>/dev/null
	for seed in $SEEDS; do
		for change in voter withdraw pin "ballots 1"; do
			set -- $change
			case $1 in
			withdraw|pin) python3 bench/stability/variant.py "$1" "$inst" "$OUT/changed.json" "$OUT/base.json" --seed "$seed" ;;
			ballots) python3 bench/stability/variant.py ballots "$inst" "$OUT/changed.json" "$2" --seed "$seed" ;;
			*) python3 bench/stability/variant.py "$1" "$inst" "$OUT/changed.json" --seed "$seed" ;;
			esac
			"$OUT/hallway" schedule solve -time "$t" -seed "$seed" -previous "$OUT/base.json" -o "$OUT/rev.json" "$OUT/changed.json" 2>/dev/null
			"$OUT/hallway" schedule solve -time "$t" -seed "$seed" -o "$OUT/fresh.json" "$OUT/changed.json" 2>/dev/null
			for s in rev fresh; do
				python3 "$EVAL" "$OUT/changed.json" "$OUT/$s.json" --quiet >/dev/null || { echo "$size $change seed $seed: $s infeasible" >&2; exit 1; }
			done
			python3 - "$OUT/rev.json" "$OUT/fresh.json" "$size" "$change" "$seed" "$t" <<'PY'
import json, sys
rev, fresh = (json.load(open(p))["meta"] for p in sys.argv[1:3])
n = len(json.load(open(sys.argv[1]))["assignments"])
print("%-7s %-10s seed %s (%s): moved %3d (%4.1f%%) retimed %3d dropped %d  objective %6d vs fresh %6d (%.3fx)" % (
    sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], rev["moved"], 100.0 * rev["moved"] / n, rev["retimed"], rev["dropped"],
    rev["objective"], fresh["objective"], rev["objective"] / max(1, fresh["objective"])))
PY
		done
	done
done
