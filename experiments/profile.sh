#!/bin/bash
# SPDX-License-Identifier: MIT
# Where the time of a page migration call goes, phase by phase, for
# move_pages and for move_pages2 in each mode: ftrace's function profiler
# around the calls in the 2-node guest.
#
#   experiments/profile.sh [--pages N] [--repeats N] [--out DIR]
#                          [--calls N] [--page-kind 4k|thp|hugetlb] [--shared]
#                          [--mappers N] [--busy-threads N] [--copy-reference]
#                          [--methods LIST] [--scenario NAME]
#   experiments/profile.sh --scenarios LIST|all [--repeats N] [--out DIR]
#                          [--report-only]
#
# Builds build/profile_call (experiments/profile_call.c) and the kernel
# (cached), boots the guest and runs experiments/profile-guest.sh there.
# Each method moves N pages (default 512; of the page kind, so 2 MiB each
# for thp and hugetlb) in one call from node 0 to node 1, --repeats times
# (default 5), each profiled on its own; with --calls C, C calls of N
# pages each are profiled together and the tables give one call's share.
# The other options set the scenario as mp2bench migrate's options of the
# same names do (--shared: shared anonymous memory, as mp2bench uses;
# implied by thp, hugetlb and --mappers above 1); --copy-reference also
# times a user-space memcpy() and "rep movsb" copy of the same bytes
# between the nodes.  --methods picks from move_pages,async,sync_light,sync
# (default all four).  Writes to DIR (default results/profile), or to
# DIR/NAME with --scenario NAME:
#
#   METHOD-R.txt   the profiler's table of that call, per CPU
#   calls.csv      method,repeat,pages,seconds,calls,cpu,statuses,
#                  memcpy_gbps,movsb_gbps,oncpu_seconds,warmup_failed
#   phases.csv     method,repeat,phase,hits,usecs (all calls of the window)
#   profile.md     per method and phase the median microseconds of a call,
#                  with the smallest and largest
#
# --scenarios runs named scenarios in one boot, each into DIR/NAME, and
# writes DIR/summary.md, a table of the main phases of every scenario:
#   1p-idle, 1p-busy      64 calls of 1 page of shared 4 KiB memory,
#                         without and with one reader thread
#   8p-idle, 8p-busy      16 calls of 8 pages, the same
#   64p-idle, 64p-busy    4 calls of 64 pages, the same
#   map1, map8, map32     512 pages in one call, mapped by 1, 8, 32 processes
#   thp4, thp32           4 and 32 shared THP in one call
#   hugetlb4, hugetlb32   4 and 32 hugetlb pages in one call
#   thp4-map8, thp4-map32 4 shared THP mapped by 8 processes, and by 32
#                         with one reader thread (move_pages2 async only,
#                         15 repeats whatever --repeats says)
#   bench1p-idle, bench1p-busy, bench8p-idle, bench8p-busy
#                         a whole "mp2bench migrate --mib 8 --page-kind 4k"
#                         run at 1 and 8 pages per call without and with
#                         one reader thread (the matrix's settings), the
#                         profiler on around it; its threads are not bound,
#                         so these tables sum every CPU, and a call is the
#                         run divided by its migrating calls (the few
#                         move_pages queries that check where the pages are
#                         count in the system call row)
# (with move_pages and move_pages2 async unless said; "all" is every one).
# --report-only computes phases.csv from the saved tables and calls.csv
# and writes profile.md and summary.md again.
#
# A phase's time is the inclusive time (children and sleep included) of
# the functions that make it up, listed in experiments/profile-phases.py,
# on the CPU the calls ran on (profile_call binds itself to one); rows
# whose functions start with @ count the other CPUs instead.  Functions
# the compiler inlined cannot be traced and count under "other", the rest
# of the system call's time (the local CPU's lru_add_drain(), the
# mmap_lock, the VMA lookup and move_pages' per-entry get_user()/
# put_user() are among them).  Rows in parentheses are parts or sums of
# other rows and are left out of "other".  Under TCG absolute times mean
# little: compare the methods and phases of one run.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=profile.sh
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

ALL_METHODS="move_pages async sync_light sync"

# name|pages|calls|kind|shared|mappers|busy|copyref|methods[|repeats]
SCENARIOS=(
	"1p-idle|1|64|4k|1|1|0|0|move_pages async"
	"1p-busy|1|64|4k|1|1|1|0|move_pages async"
	"8p-idle|8|16|4k|1|1|0|0|move_pages async"
	"8p-busy|8|16|4k|1|1|1|0|move_pages async"
	"64p-idle|64|4|4k|1|1|0|0|move_pages async"
	"64p-busy|64|4|4k|1|1|1|0|move_pages async"
	"map1|512|1|4k|1|1|0|1|move_pages async"
	"map8|512|1|4k|1|8|0|0|move_pages async"
	"map32|512|1|4k|1|32|0|0|move_pages async"
	"thp4|4|1|thp|1|1|0|1|move_pages async"
	"thp32|32|1|thp|1|1|0|1|move_pages async"
	"hugetlb4|4|1|hugetlb|1|1|0|1|move_pages async"
	"hugetlb32|32|1|hugetlb|1|1|0|1|move_pages async"
	"bench1p-idle|1|0|bench|1|1|0|0|move_pages async"
	"bench1p-busy|1|0|bench|1|1|1|0|move_pages async"
	"bench8p-idle|8|0|bench|1|1|0|0|move_pages async"
	"bench8p-busy|8|0|bench|1|1|1|0|move_pages async"
	"thp4-map8|4|1|thp|1|8|0|0|async|15"
	"thp4-map32|4|1|thp|1|32|1|0|async|15"
)

pages=512
repeats=5
calls=1
page_kind=4k
shared=0
mappers=1
busy_threads=0
copy_reference=0
methods=$ALL_METHODS
scenario=
scenarios=
out=results/profile
report_only=0
exp_options "pages:number repeats:number calls:number mappers:number busy-threads:whole
	page-kind:text shared:flag copy-reference:flag methods:text scenario:text
	scenarios:text out:text report-only:flag" "$@"
case "$page_kind" in
4k | thp | hugetlb) ;;
*) echo "profile.sh: --page-kind wants 4k, thp or hugetlb" >&2; exit 2 ;;
esac
methods=${methods//,/ }
for m in $methods; do
	case " $ALL_METHODS " in
	*" $m "*) ;;
	*) echo "profile.sh: unknown method '$m'" >&2; exit 2 ;;
	esac
done
[ -n "${methods// /}" ] || { echo "profile.sh: --methods wants a list" >&2; exit 2; }
[ -z "$scenario" ] || [[ $scenario =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || {
	echo "profile.sh: --scenario wants a name of letters, digits, . _ -" >&2
	exit 2
}

# ---- on the host: build, boot, report -------------------------------------
out=$(exp_out "$out")
mkdir -p build "$out"
run=()	# name|pages|calls|kind|shared|mappers|busy|copyref|methods
if [ -n "$scenarios" ]; then
	[ "$scenarios" = all ] && scenarios=$(printf '%s\n' "${SCENARIOS[@]}" | cut -d'|' -f1 | tr '\n' ,); scenarios=${scenarios%,}
	for want in ${scenarios//,/ }; do
		found=
		for s in "${SCENARIOS[@]}"; do
			[ "${s%%|*}" = "$want" ] && found=$s
		done
		[ -n "$found" ] || { echo "profile.sh: unknown scenario '$want' (try --help)" >&2; exit 2; }
		run+=("$found")
	done
else
	if [ "$page_kind" != 4k ] || [ "$mappers" -gt 1 ]; then
		shared=1
	fi
	run=("$scenario|$pages|$calls|$page_kind|$shared|$mappers|$busy_threads|$copy_reference|$methods")
fi
if [ "$report_only" = 0 ]; then
	cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Ibench \
		experiments/profile_call.c bench/mappers.c -lnuma -lpthread \
		-o build/profile_call
	case " ${run[*]} " in *"|bench|"*) make -s build/mp2bench ;; esac
	for s in "${run[@]}"; do
		name=${s%%|*}
		dir=$out
		[ -n "$name" ] && dir=$out/$name
		mkdir -p "$dir"
		rm -f "$dir"/*.txt "$dir"/*.csv "$dir"/profile.md "$dir"/host.txt
	done
	# Other guests on the host skew the numbers: say how busy the host was.
	guests() { pgrep -fc '^qemu-system-x86_64 ' || true; }
	before="load $(cut -d' ' -f1-3 /proc/loadavg), other QEMU guests $(guests)"
	exp_boot 2 1024 1200 "$out" -- experiments/profile-guest.sh "$out" "$repeats" "${run[@]}"
	after="load $(cut -d' ' -f1-3 /proc/loadavg), other QEMU guests $(guests)"
	for s in "${run[@]}"; do
		name=${s%%|*}
		echo "host before the run: $before; after: $after" >"$out${name:+/$name}/host.txt"
	done
fi

# profile.md of one scenario: report DIR pages calls kind shared mappers busy methods
report() {
	local dir=$1 pages=$2 calls=$3 kind=$4 shared=$5 mappers=$6 busy=$7
	local methods=$8 what mem measured repeats
	[ -s "$dir/phases.csv" ] || {
		echo "profile.sh: no results in $dir" >&2
		return 1
	}
	case "$kind" in
	4k) what="4 KiB" ;;
	thp) what="2 MiB (shared THP)" ;;
	hugetlb) what="2 MiB (hugetlb)" ;;
	esac
	mem=private
	[ "$shared" = 1 ] && mem=shared
	repeats=$(awk -F, 'NR > 1 && $2 > n { n = $2 } END { print n + 0 }' "$dir/calls.csv")
	measured="measured $(date -u -r "$dir/phases.csv" +%Y-%m-%d) by experiments/profile.sh"
	{
		if [ "$kind" = bench ]; then
			echo "mp2bench migrate --mib 8 --repeats 1 --page-kind 4k --pages-per-call $pages"
			echo "--busy-threads $busy --mappers $mappers (there and back; move_pages,"
			echo "or move_pages2 in the mode named), with the function profiler on"
			echo "around the whole run; summed over both CPUs and divided by the"
			echo "migrating calls (pages moved / $pages); in the 2-node QEMU guest (TCG);"
			echo "microseconds of a call, median (smallest-largest) of $repeats runs per"
			echo "method; $measured"
		else
			if [ "$calls" = 1 ]; then
				echo "One call moving $pages pages of $what $mem anonymous memory"
			else
				echo "$calls calls moving $pages pages each of $what $mem anonymous"
				echo "memory (the tables give one call: the window divided by $calls)"
			fi
			echo "from node 0 to node 1 in the 2-node QEMU guest (TCG), mapped by"
			echo "$mappers process(es), with $busy reader thread(s) running; profiled"
			echo "with ftrace's function profiler; microseconds of a call, median"
			echo "(smallest-largest) of $repeats repeats per method;"
			echo "$measured"
		fi
		[ -s "$dir/host.txt" ] && echo "($(cat "$dir/host.txt"))."
		echo
		experiments/stats.py profile "$dir" "$methods"
	} >"$dir/profile.md"
	cat "$dir/profile.md"
}

rc=0
for s in "${run[@]}"; do
	IFS='|' read -r name sp sc sk ssh sm sb _ smeth _ <<<"$s"
	dir=$out
	[ -n "$name" ] && dir=$out/$name
	if [ "$report_only" = 1 ] && [ -s "$dir/calls.csv" ]; then
		# The phases again from the saved tables
		echo "method,repeat,phase,hits,usecs" >"$dir/phases.csv.new"
		while IFS=, read -r m r _ _ _ cpu _; do
			[ -s "$dir/$m-$r.txt" ] &&
				experiments/profile-phases.py rows "$m" "$r" "$cpu" "$dir/$m-$r.txt" >>"$dir/phases.csv.new"
		done < <(tail -n +2 "$dir/calls.csv")
		touch -r "$dir/phases.csv" "$dir/phases.csv.new"
		mv "$dir/phases.csv.new" "$dir/phases.csv"
	fi
	[ -n "$name" ] && echo "== $name"
	report "$dir" "$sp" "$sc" "$sk" "$ssh" "$sm" "$sb" "$smeth" || rc=1
done

# The combined summary of the named scenarios
if [ -n "$scenarios" ]; then
	{
		echo "Main phases of a call per scenario (experiments/profile.sh"
		echo "--scenarios $scenarios), microseconds, median of the repeats;"
		echo "measured $(date -u -r "$out/${run[0]%%|*}/phases.csv" +%Y-%m-%d) in the 2-node QEMU guest (TCG)"
		[ -s "$out/${run[0]%%|*}/host.txt" ] && echo "($(cat "$out/${run[0]%%|*}/host.txt"))."
		echo "IPI flushes: flushes that interrupt other CPUs and wait for them"
		echo "(native_flush_tlb_multi), calls/µs per migration call; off CPU:"
		echo "wall time of the call minus the calling thread's CPU time (-: not"
		echo "measured, mp2bench runs); per page: call / pages per call."
		echo
		echo "| scenario | method | call | drain+RCU | walk+isolate | unmap | of which IPI flushes | TLB flush | alloc | copy | remap | putback | off CPU | other | per page |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
		for s in "${run[@]}"; do
			IFS='|' read -r name sp sc _ _ _ _ _ smeth _ <<<"$s"
			experiments/stats.py profile-summary "$out/$name" "$name" "$smeth" "$sp"
		done
	} >"$out/summary.md"
	cat "$out/summary.md"
fi
exit $rc
