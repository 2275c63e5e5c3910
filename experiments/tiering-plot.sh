#!/bin/bash
# SPDX-License-Identifier: MIT
# The table and plots of experiments/tiering.sh from DIR/samples.csv and
# DIR/tps.csv: DIR/summary.md and, per load, DIR/placement-LOAD.png
# (share of the current hot table on the fast nodes over time, per arm,
# the shift marked), DIR/migrations-LOAD.png (pages migrated since the
# start of the load) and DIR/tps-LOAD.png.  Medians over the repeats.
#
#   experiments/tiering-plot.sh [DIR]      default results/tiering
set -euo pipefail

case "${1:-}" in -h | --help) awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
dir=${1:-results/tiering}
for f in samples.csv tps.csv tables.csv conditions.txt; do
	[ -s "$dir/$f" ] || { echo "tiering-plot: $dir/$f is missing (run experiments/tiering.sh)" >&2; exit 1; }
done

"$(dirname "$0")/stats.py" tiering "$dir"

shift_s=$(awk '$1 == "shift" { print $2 }' "$dir/conditions.txt")
# plot KIND LOAD WITH: the arms that ran under LOAD, each a line.
plot() {
	local kind=$1 load=$2 with=$3 sep="" a
	for a in none numab numab-pol damon mp2; do
		[ -s "$dir/.$kind-$load-$a.dat" ] || continue
		printf '%s"%s/.%s-%s-%s.dat" using 1:2 with %s title "%s"' "$sep" "$dir" "$kind" "$load" "$a" "$with" "$a"
		sep=', '
	done
}

made=()
for load in skewed uniform; do
	ls "$dir"/.placement-"$load"-*.dat >/dev/null 2>&1 || continue
	command -v gnuplot >/dev/null || break
	made+=("$dir/placement-$load.png" "$dir/migrations-$load.png" "$dir/tps-$load.png")
	gnuplot <<EOF
set terminal pngcairo size 800,450 noenhanced
set datafile separator " "
set arrow from $shift_s, graph 0 to $shift_s, graph 1 nohead dashtype 2
set label "hot set moves to table B" at $shift_s, graph 0.5 offset 1,0
set xlabel "seconds since the load started"
set output "$dir/placement-$load.png"
set title "Hot table's pages on the fast nodes (0-1), pool moved to nodes 2-3 at the start, $load load"
set ylabel "share of the hot table's pages on nodes 0-1"
set yrange [0:1.05]
set key bottom right
plot $(plot placement "$load" linespoints)
set output "$dir/migrations-$load.png"
set title "Pages migrated (vmstat pgmigrate_success) since the load started, $load load"
set ylabel "pages"
set yrange [0:*]
set key top left
plot $(plot migrated "$load" linespoints)
set output "$dir/tps-$load.png"
set title "pgbench TPS (2 clients), $load load"
set ylabel "TPS"
plot $(plot tps "$load" lines)
EOF
done
rm -f "$dir"/.placement-*.dat "$dir"/.migrated-*.dat "$dir"/.tps-*.dat
echo "tiering-plot: $dir/summary.md ${made[*]}"
