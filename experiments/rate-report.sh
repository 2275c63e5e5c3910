#!/bin/bash
# SPDX-License-Identifier: MIT
# Turn the fixed-rate experiment's runs.csv into medians (summary.csv), a
# Markdown table with ratios to no migration and to move_pages at the same
# rate (results.md), and plots of TPS and p99 latency against the pages
# relocated per second (tps-MIX-CLIENTS.png, p99-MIX-CLIENTS.png), in the
# same folder.
#
# usage: experiments/rate-report.sh DIR
set -euo pipefail
case "${1:-}" in -h | --help) awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
dir=${1:?usage: rate-report.sh DIR (holding runs.csv)}
runs=$dir/runs.csv
[ -s "$runs" ] || { echo "rate-report.sh: no $runs" >&2; exit 1; }

# Medians over repeats per (mix, clients, method, mode, every, rate) into
# summary.csv, and results.md: each row against no migration (same mix
# and clients) and move_pages2 against move_pages at the same rate.
"$(dirname "$0")/stats.py" rate "$dir"

# Plots per mix and clients: TPS and p99 against pages/s moved, one line
# per method, no migration as a flat line.
if command -v gnuplot >/dev/null; then
	tail -n +2 "$dir/summary.csv" | cut -d, -f1,2 | sort -u |
	while IFS=, read -r mix c; do
		tps_plot='' p99_plot=''
		for m in move_pages move_pages2; do
			dat="$dir/.plot-$mix-$c-$m.dat"
			awk -F, -v mix="$mix" -v c="$c" -v m="$m" \
				'$1 == mix && $2 == c && $3 == m { print $12, $8, $11 }' \
				"$dir/summary.csv" | sort -n >"$dat"
			[ -s "$dat" ] || continue
			tps_plot+=", \"$dat\" using 1:2 title \"$m\" with linespoints"
			p99_plot+=", \"$dat\" using 1:3 title \"$m\" with linespoints"
		done
		read -r none none99 < <(awk -F, -v mix="$mix" -v c="$c" \
			'$1 == mix && $2 == c && $3 == "none" { print $8, $11 }' \
			"$dir/summary.csv")
		gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set key outside right
set xlabel "pages relocated per second (median, log scale)"
set logscale x
set grid
set yrange [0:*]
set output "$dir/tps-$mix-$c.png"
set title "YCSB $mix, $c clients: TPS at fixed relocation rates (emulated guest)"
set ylabel "TPS (median)"
plot ${none:-0} title "no migration" with lines dt 2 lc rgb "black"$tps_plot
set output "$dir/p99-$mix-$c.png"
set title "YCSB $mix, $c clients: p99 latency at fixed relocation rates (emulated guest)"
set ylabel "p99 latency, ms (median)"
plot ${none99:-0} title "no migration" with lines dt 2 lc rgb "black"$p99_plot
GP
	done
	rm -f "$dir"/.plot-*.dat
fi
cat "$dir/results.md"
