#!/bin/bash
# SPDX-License-Identifier: MIT
# Turn an experiment's runs.csv into medians: summary.csv, results.md (a
# Markdown table with ratios) and gnuplot PNG plots, in the same folder.
#
# usage: experiments/report.sh DIR
set -euo pipefail
dir=${1:?usage: report.sh DIR (holding runs.csv)}
runs=$dir/runs.csv
[ -s "$runs" ] || { echo "report.sh: no $runs" >&2; exit 1; }

# Medians over repeats per (mix, method, mode, batch).
tail -n +2 "$runs" | sort -t, -k1,1 -k2,2 -k3,3 -k4,4n |
awk -F, '
function med(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function flush() {
	if (n == 0) return
	printf "%s,%d,%.0f,%.3f,%.3f,%.0f,%d\n", key, n, med(tps, n), med(p95, n),
		med(p99, n), med(pps, n), failed
	n = 0; failed = 0
}
BEGIN { print "mix,method,mode,batch,repeats,tps,lat_p95_ms,lat_p99_ms,pages_per_s,failed_tx" }
{
	k = $1 "," $2 "," $3 "," $4
	if (k != key) { flush(); key = k }
	n++; tps[n] = $7; p95[n] = $9; p99[n] = $10; pps[n] = $14; failed += $11
}
END { flush() }' >"$dir/summary.csv"

# The Markdown table: each setting against no migration and move_pages.
awk -F, '
NR == 1 { next }
{
	row[NR] = $0
	if ($2 == "none") none[$1] = $6
	if ($2 == "move_pages" && (!($1 in mp) || $4 == 512)) { mp[$1] = $6; mpp[$1] = $9 }
}
END {
	print "| mix | method | mode | batch | TPS | vs no migration | vs move_pages | p95 ms | p99 ms | pages/s | pages/s vs move_pages | failed tx |"
	print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 2; i <= NR; i++) {
		split(row[i], f, ",")
		mig = f[2] != "none"
		mode = (f[3] == "-") ? "" : f[3]
		batch = mig ? f[4] : ""
		vs_none = (none[f[1]] > 0) ? sprintf("%.2f", f[6] / none[f[1]]) : ""
		vs_mp = (mig && mp[f[1]] > 0) ? sprintf("%.2f", f[6] / mp[f[1]]) : ""
		pps = mig ? sprintf("%.0f", f[9]) : ""
		pps_mp = (mig && mpp[f[1]] > 0) ? sprintf("%.2f", f[9] / mpp[f[1]]) : ""
		printf("| %s | %s | %s | %s | %.0f | %s | %s | %.2f | %.2f | %s | %s | %d |\n",
		       f[1], f[2], mode, batch, f[6], vs_none, vs_mp, f[7], f[8],
		       pps, pps_mp, f[10])
	}
}' "$dir/summary.csv" >"$dir/results.md"

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
