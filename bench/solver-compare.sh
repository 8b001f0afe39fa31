#!/usr/bin/env bash
# Compare the session scheduler of two revisions within one sitting.
#
#   bench/solver-compare.sh OLD_REV [INSTANCES...]
#
# Builds bench/solve from OLD_REV (git archive) and from the work tree, then
# solves every instance with each, one after the other (old first), at the
# time limit of its size (small and unconf 1 s, large 20 s, FOSDEM 55 s; the
# size is the file name's prefix), checks each solution with the benchmark's
# evaluate.py and prints one line per run with the load average beside it:
# on a shared machine only a ratio within one sitting means much.
# INSTANCES default to the four public ones; SEED (default 1) is the seed.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/solver-compare.sh OLD_REV [INSTANCES...]}
shift
data=schedule/testdata/sched
if [ $# -eq 0 ]; then
	set -- "$data"/small-public.json "$data"/unconf-public.json "$data"/large-public.json "$data"/fosdem-public.json
fi
declare -A limit=([small]=1s [unconf]=1s [large]=20s [fosdem]=55s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/old"
git archive "$old" | tar -x -C "$work/old"
(cd "$work/old" && go build -o "$work/solve-old" ./bench/solve)
go build -o "$work/solve-new" ./bench/solve
echo "machine: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), old $(git rev-parse --short "$old"), new $(git rev-parse --short HEAD)$(git diff --quiet || echo +changes), seed ${SEED:-1}"
for inst in "$@"; do
	name=$(basename "$inst" .json)
	t=${limit[${name%%-*}]:-10s}
	for v in old new; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		"$work/solve-$v" -time "$t" -seed "${SEED:-1}" -o "$work/sol.json" "$inst" 2>"$work/err"
		line=$(python3 "$data/evaluate.py" "$inst" "$work/sol.json" --quiet || true)
		echo "$name $t $v: $line $(grep -o 'iterations=[0-9]*' "$work/err") load=$load"
	done
done
