#!/bin/bash
# SPDX-License-Identifier: MIT
args="$*"
# The paper's YCSB sweep with mp2bench ycsb, in one boot of the 2-node
# guest: mixes C, A, E x r 0.01, 0.25, 0.5 x move_pages and move_pages2
# async at kernel batches 32..4096 (and sync at 512, move_pages' own mode
# and batch), with the no-migration baseline; every
# setting once per repeat, in turn, medians over the repeats.
#
# Writes to OUTDIR (default results/ycsb): runs.csv (every run),
# summary.csv (medians and ratios per mix, r and setting, from mp2bench),
# summary.txt (mp2bench's output), summary.md (the tables against the
# paper's figures), guest.txt (what the guest had), host.txt (the host's
# load, sampled every minute), and the plots qps-MIX.png and pages-MIX.png
# (queries/s and pages/s against the kernel batch, one line per r).
#
# --isolation instead looks for where the kernel batch matters, in a boot
# of its own: mp2bench migrate moving 4096 pages in one call at each batch
# (alone, beside a reader thread, two threads at once: batch-migrate*.csv),
# and mp2bench ycsb mix C with one worker that only migrates, two such
# workers, one worker at r = 0.25, and one worker that only migrates with
# transparent huge pages off (isolate-*.csv); isolation.txt says how much
# of the tree sat in transparent huge pages (AnonHugePages).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP="ycsb-sweep.sh"
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

usage() {
	cat <<EOF
usage: experiments/ycsb-sweep.sh [--out DIR] [--repeats N] [--seconds S]
                                 [--keys K] [--slices S] [--batches LIST]
                                 [--rs LIST] [--smoke] [--plot-only]

  --out DIR     results folder (default results/ycsb)
  --repeats N   interleaved repeats, medians reported (default 3)
  --seconds S   length of each run (default 4)
  --keys K      keys in the B+-Tree (default 6600000: 8 slices of about
                4100 pages, so every kernel batch up to 4096 is a batch of
                its own)
  --slices S    slices (default 8)
  --batches LIST  move_pages2 kernel batches (default 32,64,...,4096)
  --rs LIST     migration probabilities r (default 0.01,0.25,0.5)
  --smoke       a quick check of the whole chain: 2 slices of 1/4 the keys,
                0.5 s runs, 1 repeat, batches 64 and 4096, r 0.25; results
                in DIR/smoke/
  --plot-only   only write summary.md and the plots again from
                DIR/summary.csv
  --isolation   the batch without the sweep's concurrency, and without
                transparent huge pages (about 5 minutes)

279 runs with the defaults: about 21 minutes in the guest on a quiet host.
Run it under the shared guest lock:
  flock /tmp/mp2-guest.lock experiments/ycsb-sweep.sh
EOF
}

die() { echo "ycsb-sweep.sh: $*" >&2; exit 2; }

out=results/ycsb
repeats=3
seconds=4
keys=6600000
slices=8
batches=32,64,128,256,512,1024,2048,4096
rs=0.01,0.25,0.5
mixes=C,A,E
smoke=0
isolation=0
in_guest=0
plot_only=0
exp_options "out:text repeats:number keys:number slices:number seconds:text batches:text rs:text
	smoke:flag plot-only:flag isolation:flag in-guest:flag" "$@"
[[ $seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--seconds wants a number, not '$seconds' (try --help)"
[[ $batches =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--batches wants numbers separated by commas, not '$batches' (try --help)"
[[ $rs =~ ^[0-9.]+(,[0-9.]+)*$ ]] || die "--rs wants numbers separated by commas, not '$rs' (try --help)"
if [ "$smoke" = 1 ] && [ "$in_guest" = 0 ]; then
	keys=$((keys / 4))
	slices=2
	seconds=0.5
	repeats=1
	batches=64,4096
	rs=0.25
	case "$out" in */smoke) ;; *) out=$out/smoke ;; esac
fi

out=$(exp_out "$out")

# ---- inside the guest: the batch in isolation ------------------------------
if [ "$in_guest" = 1 ] && [ "$isolation" = 1 ]; then
	# The host shows it when the guest is done.
	exec >"$out/isolation.txt" 2>&1
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	echo "kernel: $(uname -r); transparent_hugepage/enabled: $(cat $thp)"
	# Run a command; then say the most AnonHugePages it had.
	huge() {
		local pid peak=0 v
		"$@" &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			v=$(awk '/^AnonHugePages:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
			[ "${v:-0}" -gt "$peak" ] && peak=$v
			sleep 1
		done
		wait "$pid"
		echo "AnonHugePages of mp2bench, at most: $peak kB (transparent_hugepage/enabled: $(cat $thp))"
	}
	mig="build/mp2bench migrate --repeats 5 --modes async --kernel-batch 32,64,256,1024,4096 --pages-per-call 4096"
	$mig --mib 16 --busy-threads 0,1 --csv "$out/batch-migrate.csv" \
		--summary "$out/batch-migrate-summary.csv"
	$mig --mib 32 --threads 2 --csv "$out/batch-migrate-2threads.csv" \
		--summary "$out/batch-migrate-2threads-summary.csv"
	ycsb="build/mp2bench ycsb --mix C --keys $keys --slices $slices --seconds 3 --repeats 3 --kernel-batch 64,512,4096 --also sync:512 --pages-per-call 65536"
	huge $ycsb --threads 1 --r 1 --csv "$out/isolate-t1-r1.csv" \
		--summary "$out/isolate-t1-r1-summary.csv"
	$ycsb --threads 2 --r 1 --csv "$out/isolate-t2-r1.csv" \
		--summary "$out/isolate-t2-r1-summary.csv"
	$ycsb --threads 1 --r 0.25 --csv "$out/isolate-t1-r0.25.csv" \
		--summary "$out/isolate-t1-r0.25-summary.csv"
	echo never >"$thp"
	huge $ycsb --threads 1 --r 1 --csv "$out/isolate-t1-r1-nothp.csv" \
		--summary "$out/isolate-t1-r1-nothp-summary.csv"
	exit 0
fi

# ---- inside the guest: the benchmark ---------------------------------------
if [ "$in_guest" = 1 ]; then
	{
		echo "kernel: $(uname -r)"
		echo "move_pages2: $(cat /sys/kernel/mm/move_pages2/syscall_nr 2>/dev/null || echo none)"
		echo "cpus: $(nproc)"
		numactl --hardware
	} | tee "$out/guest.txt"
	# A call moves a whole slice: pages per call above a slice's pages.
	echo
	echo "== mp2bench ycsb: mixes $mixes, r $rs, kernel batches $batches, $repeats repeats of $seconds s"
	exp_mp2bench "$out/summary.txt" ycsb --mix "$mixes" --r "$rs" --keys "$keys" \
		--slices "$slices" --threads 2 --seconds "$seconds" \
		--repeats "$repeats" --methods move_pages,move_pages2 \
		--modes async --kernel-batch "$batches" --also sync:512 \
		--pages-per-call 65536 \
		--csv "$out/runs.csv" --summary "$out/summary.csv"
	exit 0
fi

# ---- on the host: boot the guest, then the tables and plots -----------------
mkdir -p "$out"
if [ "$plot_only" = 0 ]; then
	make -s build/mp2bench
	host=$out/host.txt
	if [ "$isolation" = 1 ]; then host=$out/isolation-host.txt; fi
	boot=(2 1024 1500 "$out" --host-log "$host"
		--host-note "command: experiments/ycsb-sweep.sh${args:+ $args}")
	# 25 minutes at most, boot included.
	if [ "$isolation" = 1 ]; then
		rc=0
		exp_boot "${boot[@]}" -- experiments/ycsb-sweep.sh --in-guest --isolation \
			--out "$out" --keys "$keys" --slices "$slices" || rc=$?
		cat "$out/isolation.txt"
		[ "$rc" = 0 ] || exit "$rc"
		echo "ycsb-sweep.sh: batch-migrate*.csv and isolate-*.csv are in $out/"
		exit 0
	fi
	exp_boot "${boot[@]}" -- experiments/ycsb-sweep.sh --in-guest --out "$out" \
		--repeats "$repeats" --seconds "$seconds" --keys "$keys" \
		--slices "$slices" --batches "$batches" --rs "$rs"
fi

summary=$out/summary.csv
[ -s "$summary" ] || die "no $summary: run the sweep first"

# ---- summary.md: the paper's claims beside the measured medians -------------
"$TOP/experiments/stats.py" ycsb "$summary" \
	--command="$(sed -n 's/^command: //p' "$out/host.txt" 2>/dev/null)" >"$out/summary.md"

# ---- plots: against the kernel batch, one line per r --------------------------
command -v gnuplot >/dev/null || { echo "ycsb-sweep.sh: no gnuplot, no plots" >&2; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mix in $(awk -F, 'NR > 1 && $3 != "none" { print $1 }' "$summary" | uniq); do
	for what in qps pages; do
		col=8 ylabel="queries/s (median, log scale)" title="mix $mix: query throughput against the kernel batch"
		if [ "$what" = pages ]; then
			col=11 ylabel="pages migrated/s (median)" title="mix $mix: migration throughput against the kernel batch"
		fi
		lines=
		ci=0
		for r in $(awk -F, -v m="$mix" 'NR > 1 && $1 == m && $3 == "move_pages2" { print $2 }' "$summary" | sort -un); do
			ci=$((ci + 1))
			rl=$(awk -v r="$r" 'BEGIN { print r + 0 }')
			awk -F, -v m="$mix" -v r="$r" -v c="$col" \
				'NR > 1 && $1 == m && $2 == r && $3 == "move_pages2" && $4 == "async" { print $5, $c }' \
				"$summary" | sort -n >"$tmp/$what-$mix-$r"
			mp=$(awk -F, -v m="$mix" -v r="$r" -v c="$col" \
				'NR > 1 && $1 == m && $2 == r && $3 == "move_pages" { print $c }' "$summary")
			lines+="${lines:+, }\"$tmp/$what-$mix-$r\" using 1:2 title \"move_pages2 async, r = $rl\" with linespoints lc $ci pt 7"
			[ -n "$mp" ] && lines+=", $mp title \"move_pages, r = $rl\" with lines lc $ci dt 2"
		done
		[ -n "$lines" ] || continue
		logy="set yrange [0:*]"
		[ "$what" = qps ] && logy="set logscale y"
		gnuplot <<GP
set terminal pngcairo size 800,560 noenhanced
set output "$out/$what-$mix.png"
set title "$title"
set xlabel "kernel batch (pages; move_pages: 512, dashed)"
set ylabel "$ylabel"
set logscale x 2
$logy
set key below
set grid
plot $lines
GP
	done
done
echo "ycsb-sweep.sh: runs.csv, summary.csv, summary.md and plots are in $out/"
ls "$out"
