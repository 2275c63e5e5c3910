#!/bin/bash
# SPDX-License-Identifier: MIT
# The mp2bench migrate matrix, in one boot of the 2-node guest: pages per
# call 1, 8, 64, 512, 4096 with 0 and 1 reader threads, 1, 8 and 32
# processes mapping the buffer, page kinds 4k, thp and hugetlb, move_pages
# against move_pages2 async; settings interleaved over the repeats.
#
# Writes to OUTDIR (default results/mp2bench): matrix.csv (every run),
# matrix-summary.csv and matrix-summary.txt (medians, ratios to
# move_pages), matrix-guest.txt (what the guest had), matrix-host.txt
# (the host's load, sampled every minute), and the plots
# matrix-calls-KIND.png (pages/s against pages per call) and
# matrix-mappers-KIND.png (pages/s against mappers).
#
# usage: experiments/bench-matrix.sh [--out DIR] [--mib N] [--repeats N]
#                                    [--smoke] [--plot-only]
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=bench-matrix.sh
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

usage() {
	cat <<EOF
usage: experiments/bench-matrix.sh [--out DIR] [--mib N] [--repeats N] [--smoke]
                                   [--plot-only]

  --out DIR     results folder (default results/mp2bench)
  --mib N       buffer size in MiB, even (default 8)
  --repeats N   interleaved repeats, medians reported (default 3)
  --smoke       a quick check that every mode works: 4 MiB, 1 repeat,
                results in DIR/smoke/
  --plot-only   only draw the plots again from DIR/matrix-summary.csv
EOF
}

out=results/mp2bench
mib=8
repeats=3
smoke=0
in_guest=0
plot_only=0
exp_options "out:text mib:number repeats:number smoke:flag plot-only:flag in-guest:flag" "$@"
if [ "$smoke" = 1 ]; then
	mib=4
	repeats=1
	case "$out" in */smoke) ;; *) out=$out/smoke ;; esac
fi
if [ $((mib % 2)) -ne 0 ] || [ "$mib" -lt 2 ]; then
	echo "bench-matrix.sh: --mib wants an even number (2 MiB pages)" >&2
	exit 2
fi

out=$(exp_out "$out")

# ---- inside the guest: the benchmark ---------------------------------------
if [ "$in_guest" = 1 ]; then
	thp=/sys/kernel/mm/transparent_hugepage
	{
		echo "kernel: $(uname -r)"
		echo "move_pages2: $(cat /sys/kernel/mm/move_pages2/syscall_nr 2>/dev/null || echo none)"
		echo "transparent_hugepage/enabled: $(cat $thp/enabled)"
		echo "transparent_hugepage/shmem_enabled (found): $(cat $thp/shmem_enabled)"
		# Shared THP only comes with shmem_enabled advise (or always).
		echo advise >$thp/shmem_enabled
		echo "transparent_hugepage/shmem_enabled (set): $(cat $thp/shmem_enabled)"
		numactl --hardware
	} | tee "$out/matrix-guest.txt"
	echo
	echo "== mp2bench migrate: $mib MiB there and back, $repeats interleaved repeats"
	exp_mp2bench "$out/matrix-summary.txt" migrate --mib "$mib" --repeats "$repeats" \
		--methods move_pages,move_pages2 --modes async \
		--page-kind 4k,thp,hugetlb --pages-per-call 1,8,64,512,4096 \
		--busy-threads 0,1 --mappers 1,8,32 \
		--csv "$out/matrix.csv" --summary "$out/matrix-summary.csv"
	exit 0
fi

# ---- on the host: boot the guest, then plot ---------------------------------
mkdir -p "$out"
if [ "$plot_only" = 0 ]; then
	make -s build/mp2bench
	exp_boot 2 1024 3600 "$out" --host-log "$out/matrix-host.txt" -- \
		experiments/bench-matrix.sh --in-guest --out "$out" --mib "$mib" \
		--repeats "$repeats"
fi

# Plots from the medians: one line per method (and reader threads).
summary=$out/matrix-summary.csv
command -v gnuplot >/dev/null || { echo "bench-matrix.sh: no gnuplot, no plots" >&2; exit 0; }
# column: kind,page_kind,mappers,busy_threads,method,mode,kernel_batch,
#         pages_per_call,runs,bad_runs,pages_per_s,...
plot() { # plot PNG TITLE XLABEL then "file|title" pairs
	local png=$1 title=$2 xlabel=$3 lines=
	shift 3
	for l in "$@"; do
		[ -s "${l%%|*}" ] || continue
		lines+="${lines:+, }\"${l%%|*}\" using 1:2 title \"${l#*|}\" with linespoints"
	done
	[ -n "$lines" ] || return 0
	gnuplot <<GP
set terminal pngcairo size 800,560 noenhanced
set output "$png"
set title "$title"
set xlabel "$xlabel"
set ylabel "pages/s (median)"
set logscale x 2
set key below
set grid
plot $lines
GP
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for kind in 4k thp hugetlb; do
	calls=() maps=()
	for m in move_pages move_pages2; do
		name=$m
		[ "$m" = move_pages2 ] && name="move_pages2 async"
		for busy in 0 1; do
			awk -F, -v k="$kind" -v m="$m" -v b="$busy" \
				'$1 == "migrate" && $2 == k && $3 == 1 && $4 == b && $5 == m { print $8, $11 }' \
				"$summary" | sort -n >"$tmp/calls-$kind-$m-$busy"
			calls+=("$tmp/calls-$kind-$m-$busy|$name, $busy reader(s)")
		done
		awk -F, -v k="$kind" -v m="$m" \
			'$1 == "migrate" && $2 == k && $4 == 0 && $8 == 512 && $5 == m { print $3, $11 }' \
			"$summary" | sort -n >"$tmp/maps-$kind-$m"
		maps+=("$tmp/maps-$kind-$m|$name")
	done
	plot "$out/matrix-calls-$kind.png" "$kind pages, 1 mapper: pages/s against pages per call" \
		"pages per call" "${calls[@]}"
	plot "$out/matrix-mappers-$kind.png" "$kind pages, 512 pages per call, no readers: pages/s against mappers" \
		"processes mapping the buffer" "${maps[@]}"
done
echo "bench-matrix.sh: CSV, summary and plots are in $out/"
ls "$out"
