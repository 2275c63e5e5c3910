#!/bin/bash
# SPDX-License-Identifier: MIT
# The tables and plots of experiments/tier.sh from DIR/samples.csv and
# DIR/tps.csv: DIR/summary.md, DIR/placement.png (share of the working set
# on the fast nodes over time, per policy) and DIR/tps.png (pgbench TPS
# over time, per policy).  Medians over the repeats.
#
#   experiments/tier-plot.sh [DIR]      default results/tier
set -euo pipefail

dir=${1:-results/tier}
for f in samples.csv tps.csv; do
	[ -s "$dir/$f" ] || { echo "tier-plot: $dir/$f is missing (run experiments/tier.sh)" >&2; exit 1; }
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Per policy and time: the median over the repeats.
for p in tier interleave off; do
	awk -F, -v p="$p" 'NR > 1 && $1 == p { print $3, $4 }' "$dir/samples.csv" |
		awk '{ s[$1] = s[$1] " " $2 } END { for (t in s) print t, s[t] }' | sort -n |
		while read -r t vals; do
			echo "$t $(tr ' ' '\n' <<<"$vals" | grep . | median)"
		done >"$dir/.placement-$p.dat"
	awk -F, -v p="$p" 'NR > 1 && $1 == p { printf "%d %s\n", $3, $4 }' "$dir/tps.csv" |
		awk '{ s[$1] = s[$1] " " $2 } END { for (t in s) print t, s[t] }' | sort -n |
		while read -r t vals; do
			echo "$t $(tr ' ' '\n' <<<"$vals" | grep . | median)"
		done >"$dir/.tps-$p.dat"
done

{
	echo "| policy | working set on fast nodes at 10 s | at 30 s | at the end | pool pages on fast nodes at the end (tier's cap: 16384) | pages moved | worker CPU s | median TPS | TPS vs off |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	base=$(awk -F, 'NR > 1 && $1 == "off" { print $4 }' "$dir/tps.csv" | median)
	for p in tier interleave off; do
		at() { awk -v t="$1" '$1 <= t { v = $2 } END { printf "%.0f%%", 100 * v }' "$dir/.placement-$p.dat"; }
		end=$(tail -n 1 "$dir/.placement-$p.dat" | awk '{ printf "%.0f%%", 100 * $2 }')
		fast_end=$(awk -F, -v p="$p" 'NR > 1 && $1 == p { last[$2] = $5 } END { for (r in last) print last[r] }' "$dir/samples.csv" |
			median)
		moved=$(awk -F, -v p="$p" 'NR > 1 && $1 == p { last[$2] = $7 } END { for (r in last) print last[r] }' "$dir/samples.csv" | median)
		cpu=$(awk -F, -v p="$p" 'NR > 1 && $1 == p { if (!($2 in first)) first[$2] = $8; last[$2] = $8 }
			END { for (r in last) print last[r] - first[r] }' "$dir/samples.csv" | median)
		tps=$(awk -F, -v p="$p" 'NR > 1 && $1 == p { print $4 }' "$dir/tps.csv" | median)
		echo "| $p | $(at 10) | $(at 30) | $end | $fast_end | $moved | $cpu | $tps | $(awk -v a="$tps" -v b="$base" 'BEGIN { printf "%.2fx", a / b }') |"
	done
} >"$dir/summary.md"

if command -v gnuplot >/dev/null; then
	gnuplot <<EOF
set terminal pngcairo size 800,450 noenhanced
set datafile separator " "
set output "$dir/placement.png"
set title "Working set (pgbench_accounts) on the fast nodes, pool first touched on the slow ones"
set xlabel "seconds"
set ylabel "share of its pages on nodes 0-1"
set yrange [0:1.05]
set key bottom right
plot "$dir/.placement-tier.dat" using 1:2 with linespoints title "tier", \
     "$dir/.placement-interleave.dat" using 1:2 with linespoints title "interleave", \
     "$dir/.placement-off.dat" using 1:2 with linespoints title "off"
set output "$dir/tps.png"
set title "pgbench TPS (2 clients) while the policy places the pool"
set ylabel "TPS"
set yrange [0:*]
plot "$dir/.tps-tier.dat" using 1:2 with lines title "tier", \
     "$dir/.tps-interleave.dat" using 1:2 with lines title "interleave", \
     "$dir/.tps-off.dat" using 1:2 with lines title "off"
EOF
fi
rm -f "$dir"/.placement-*.dat "$dir"/.tps-*.dat
echo "tier-plot: $dir/summary.md, $dir/placement.png, $dir/tps.png"
