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
dir=${1:?usage: rate-report.sh DIR (holding runs.csv)}
runs=$dir/runs.csv
[ -s "$runs" ] || { echo "rate-report.sh: no $runs" >&2; exit 1; }

# Medians over repeats per (mix, clients, method, mode, every, rate),
# columns found by name; rows in the order of the table.
awk -F, '
function med(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
{
	k = $c["mix"] "," $c["clients"] "," $c["method"] "," $c["mode"] "," \
	    $c["every_s"] "," $c["rate"]
	if (!(k in n)) order[++keys] = k
	i = ++n[k]
	v["tps", k, i] = $c["tps"]; v["p50", k, i] = $c["lat_p50_ms"]
	v["p95", k, i] = $c["lat_p95_ms"]; v["p99", k, i] = $c["lat_p99_ms"]
	v["pps", k, i] = $c["pages_per_s"]; v["cpp", k, i] = $c["cpu_us_per_page"]
	failed[k] += $c["failed_tx"]
}
END {
	print "order,mix,clients,method,mode,every_s,rate,repeats,tps,lat_p50_ms,lat_p95_ms,lat_p99_ms,pages_per_s,cpu_us_per_page,failed_tx"
	split("tps p50 p95 p99 pps cpp", m, " ")
	for (o = 1; o <= keys; o++) {
		k = order[o]
		split(k, f, ",")
		# order: no migration, then rates from low to high, flat out last
		printf "%d,%s,%d", f[3] == "none" ? 0 : (f[6] == 0 ? 2 : 1), k, n[k]
		for (j = 1; j <= 6; j++) {
			delete a
			for (i = 1; i <= n[k]; i++) a[i] = v[m[j], k, i]
			printf ",%.3f", med(a, n[k])
		}
		printf ",%d\n", failed[k]
	}
}' "$runs" | {
	read -r header
	echo "${header#order,}"
	sort -t, -k2,2 -k3,3n -k1,1n -k7,7n -k4,4 | cut -d, -f2-
} >"$dir/summary.csv"

# The table: each row against no migration (same mix and clients) and
# move_pages2 against move_pages at the same rate.
awk -F, '
NR == 1 { next }
{
	row[NR] = $0
	if ($3 == "none") { none[$1, $2] = $8; none99[$1, $2] = $11 }
	if ($3 == "move_pages") {
		mp[$1, $2, $5] = $8; mp99[$1, $2, $5] = $11; mpc[$1, $2, $5] = $13
	}
}
END {
	print "| mix | clients | method | table every | pages/s asked | pages/s moved | TPS | vs none | vs move_pages | p50 ms | p95 ms | p99 ms | p99 vs none | p99 vs move_pages | CPU µs/page | CPU vs move_pages | failed tx |"
	print "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 2; i <= NR; i++) {
		split(row[i], f, ",")
		mig = f[3] != "none"
		every = !mig ? "" : (f[5] == 0 ? "flat out" : f[5] " s")
		asked = (mig && f[6] > 0) ? sprintf("%d", f[6]) : ""
		k = f[1] SUBSEP f[2]
		vsn = none[k] > 0 ? sprintf("%.2f", f[8] / none[k]) : ""
		p99n = (mig && none99[k] > 0) ? sprintf("%.2f", f[11] / none99[k]) : ""
		km = f[1] SUBSEP f[2] SUBSEP f[5]
		two = f[3] == "move_pages2"
		vsm = (two && mp[km] > 0) ? sprintf("%.2f", f[8] / mp[km]) : ""
		p99m = (two && mp99[km] > 0) ? sprintf("%.2f", f[11] / mp99[km]) : ""
		cpm = (two && mpc[km] > 0) ? sprintf("%.2f", f[13] / mpc[km]) : ""
		printf "| %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %.1f | %.1f | %.1f | %s | %s | %s | %s | %d |\n",
			f[1], f[2], f[3], every, asked,
			mig ? sprintf("%.0f", f[12]) : "", f[8], vsn, vsm,
			f[9], f[10], f[11], p99n, p99m,
			mig ? sprintf("%.0f", f[13]) : "", cpm, f[14]
	}
}' "$dir/summary.csv" >"$dir/results.md"

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
