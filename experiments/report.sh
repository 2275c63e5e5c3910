#!/bin/bash
# SPDX-License-Identifier: MIT
# Turn an experiment's runs.csv into medians: summary.csv, results.md (a
# Markdown table with ratios) and gnuplot PNG plots, in the same folder.
#
# usage: experiments/report.sh DIR
set -euo pipefail
case "${1:-}" in -h | --help) awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
dir=${1:?usage: report.sh DIR (holding runs.csv)}
runs=$dir/runs.csv
[ -s "$runs" ] || { echo "report.sh: no $runs" >&2; exit 1; }

# Medians over repeats per (mix, method, mode, batch) into summary.csv,
# and results.md: each setting against no migration and move_pages.
"$(dirname "$0")/stats.py" pgbench "$dir"

# Plots: TPS and pages/s against the batch size, per mix, one line per
# method and mode, no migration as a flat line.
if command -v gnuplot >/dev/null; then
	for mix in $(tail -n +2 "$dir/summary.csv" | cut -d, -f1 | sort -u); do
		tps_plot= pps_plot=
		for m in move_pages:sync move_pages2:async move_pages2:sync_light move_pages2:sync; do
			dat="$dir/.plot-$mix-${m/:/-}.dat"
			awk -F, -v mix="$mix" -v m="$m" '$1 == mix && $2 ":" $3 == m { print $4, $6, $9 }' \
				"$dir/summary.csv" >"$dat"
			[ -s "$dat" ] || continue
			tps_plot+=", \"$dat\" using 1:2 title \"${m/:/ }\" with linespoints"
			pps_plot+="${pps_plot:+, }\"$dat\" using 1:3 title \"${m/:/ }\" with linespoints"
		done
		none=$(awk -F, -v mix="$mix" '$1 == mix && $2 == "none" { print $6 }' "$dir/summary.csv")
		[ -n "$pps_plot" ] || continue
		gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set key outside right
set logscale x 2
set xlabel "pages per batch (batch_size)"
set grid
set yrange [0:*]
set output "$dir/tps-$mix.png"
set title "YCSB $mix: TPS while relocating the table (emulated guest)"
set ylabel "TPS (median)"
plot ${none:-0} title "no migration" with lines dt 2 lc rgb "black"$tps_plot
set output "$dir/pages-$mix.png"
set title "YCSB $mix: pages relocated per second (emulated guest)"
set ylabel "pages/s (median)"
plot $pps_plot
GP
	done
	rm -f "$dir"/.plot-*.dat
fi
cat "$dir/results.md"
