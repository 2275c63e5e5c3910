#!/bin/bash
# SPDX-License-Identifier: MIT
# The tables and plots of experiments/tier.sh from DIR/samples.csv and
# DIR/tps.csv: DIR/summary.md, DIR/placement.png (share of the working set
# on the fast nodes over time, per policy) and DIR/tps.png (pgbench TPS
# over time, per policy).  Medians over the repeats.
#
#   experiments/tier-plot.sh [DIR]      default results/tier
set -euo pipefail

case "${1:-}" in -h | --help) awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
dir=${1:-results/tier}
for f in samples.csv tps.csv; do
	[ -s "$dir/$f" ] || { echo "tier-plot: $dir/$f is missing (run experiments/tier.sh)" >&2; exit 1; }
done

# Per policy and time the median over the repeats (.placement-POLICY.dat,
# .tps-POLICY.dat, for the plots), and summary.md.
"$(dirname "$0")/stats.py" tier "$dir"

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
