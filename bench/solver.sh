#!/usr/bin/env bash
# Benchmark the session scheduler on the public instances.
#
#   bench/solver.sh [TIMES] [INSTANCES...]
#
# TIMES is a comma-separated list of time limits (default 1s,10s,60s);
# INSTANCES default to the four public ones in schedule/testdata/sched.
# Builds bench/solve (a small driver around schedule.ReadInstance, Solve and
# WriteSolution), runs every instance at every limit, checks each solution
# with the benchmark's own evaluate.py and prints a markdown table.
# It also reports how long the unconf instance takes to reach the
# reference objective (smallest limit of 0.1s, 0.2s, 0.5s, 1s, 2s that does).
set -euo pipefail
cd "$(dirname "$0")/.."
times=${1:-1s,10s,60s}
shift || true
data=schedule/testdata/sched
if [ $# -eq 0 ]; then
	set -- "$data"/small-public.json "$data"/unconf-public.json "$data"/large-public.json "$data"/fosdem-public.json
fi
declare -A ref=([small-public]=13 [unconf-public]=105 [large-public]=884 [fosdem-public]=5195)
seed=${SEED:-1}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/solve" ./bench/solve

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg), seed $seed"
echo
IFS=, read -ra limits <<<"$times"
header="| instance | reference |"
rule="|---|---:|"
for t in "${limits[@]}"; do
	header+=" $t |"
	rule+="---:|"
done
echo "$header wall (last) |"
echo "$rule---:|"
for inst in "$@"; do
	name=$(basename "$inst" .json)
	row="| $name | ${ref[$name]:-?} |"
	for t in "${limits[@]}"; do
		sol="$work/$name-$t.json"
		start=$(date +%s.%N)
		"$work/solve" -time "$t" -seed "$seed" -o "$sol" "$inst" 2>/dev/null
		end=$(date +%s.%N)
		wall=$(awk "BEGIN{print $end - $start}")
		line=$(python3 "$data/evaluate.py" "$inst" "$sol" --quiet || true)
		obj=$(sed -n 's/.*objective=\([0-9]*\).*/\1/p' <<<"$line")
		case $line in FEASIBLE*) ;; *) obj="$obj INFEASIBLE" ;; esac
		mark=""
		if [ -n "${ref[$name]:-}" ] && [ -n "$obj" ] && [ "${obj%% *}" -le "${ref[$name]}" ]; then mark=" ✓"; fi
		row+=" $obj$mark |"
	done
	printf '%s %.2fs |\n' "$row" "$wall"
done

unconf=$data/unconf-public.json
if [ -f "$unconf" ]; then
	echo
	for t in 0.1s 0.2s 0.5s 1s 2s; do
		start=$(date +%s.%N)
		"$work/solve" -time "$t" -seed "$seed" -o "$work/u.json" "$unconf" 2>/dev/null
		end=$(date +%s.%N)
		obj=$(python3 "$data/evaluate.py" "$unconf" "$work/u.json" --quiet | sed -n 's/^FEASIBLE objective=\([0-9]*\).*/\1/p')
		if [ -n "$obj" ] && [ "$obj" -le 105 ]; then
			printf 'unconf-public reaches the reference (%s <= 105) with -time %s (wall %.2fs)\n' "$obj" "$t" "$(awk "BEGIN{print $end - $start}")"
			exit 0
		fi
	done
	echo "unconf-public did not reach the reference within 2s"
fi
