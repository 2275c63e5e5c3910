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
# (cached), boots the guest and runs this script there with --guest.  Each
# method moves N pages (default 512; of the page kind, so 2 MiB each for
# thp and hugetlb) in one call from node 0 to node 1, --repeats times
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
# the functions that make it up, listed in PHASES below, on the CPU the
# calls ran on (profile_call binds itself to one); rows whose functions
# start with @ count the other CPUs instead.  Functions the compiler
# inlined cannot be traced and count under "other", the rest of the system
# call's time (the local CPU's lru_add_drain(), the mmap_lock, the VMA
# lookup and move_pages' per-entry get_user()/put_user() are among them).
# Rows in parentheses are parts or sums of other rows and are left out of
# "other".  Under TCG absolute times mean little: compare the methods and
# phases of one run.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)

# phase|functions (these do not call one another, so their times add up)
PHASES=(
	"per call: LRU drain of all CPUs and RCU wait|lru_cache_disable lru_add_drain_all"
	"(of which RCU wait)|synchronize_rcu_expedited synchronize_rcu"
	"per call: argument copy and check|mp2_get_window fault_in_safe_writeable"
	"page-table walk and isolation|folio_walk_start __add_folio_for_migration"
	"unmap|try_to_migrate"
	"TLB flush|try_to_unmap_flush try_to_unmap_flush_dirty"
	"allocation|alloc_migration_target"
	"copy|folio_mc_copy folio_copy"
	"remap|remove_migration_ptes"
	"putback: new folios to the LRU; old ones freed; failed ones back|folio_add_lru migrate_folio_done putback_movable_pages"
	"(migration: unmap to remap in all batches)|migrate_pages_batch"
	"(unmap: rmap visits: try_to_migrate_one per mapping)|try_to_migrate_one"
	"(remap: rmap visits: remove_migration_pte per mapping)|remove_migration_pte"
	"(TLB: unbatched flushes: flush_tlb_mm_range)|flush_tlb_mm_range"
	"(TLB: batched flushes: arch_tlbbatch_flush)|arch_tlbbatch_flush"
	"(TLB: flushes that IPI other CPUs and wait for them)|native_flush_tlb_multi"
	"(copy: copy_mc_to_kernel: one per 4 KiB)|copy_mc_to_kernel"
	"(allocation: hugetlb pool)|alloc_hugetlb_folio_nodemask"
	"(allocation: compaction)|try_to_compact_pages"
	"(split of large folios)|split_huge_page_to_list_to_order"
	"(other CPUs: TLB-flush IPI handler)|@flush_tlb_func"
	"(other CPUs: function-call IPIs handled)|@__flush_smp_call_function_queue"
	"(other CPUs: LRU drain work)|@lru_add_drain_per_cpu"
)
TOTAL_FUNCS="__x64_sys_move_pages __x64_sys_move_pages2"
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

usage() {
	awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$0" | sed 's/^# \{0,1\}//'
}

num() { # num OPTION VALUE
	[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
		echo "profile.sh: $1 wants a positive number" >&2
		exit 2
	}
}

pages=512
repeats=5
calls=1
kind=4k
shared=0
mappers=1
busy=0
copyref=0
methods=$ALL_METHODS
scenario=
scenarios=
out=results/profile
guest=0
report_only=0
specs=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--pages) num "$1" "${2:-}"; pages=$2; shift ;;
	--repeats) num "$1" "${2:-}"; repeats=$2; shift ;;
	--calls) num "$1" "${2:-}"; calls=$2; shift ;;
	--mappers) num "$1" "${2:-}"; mappers=$2; shift ;;
	--busy-threads)
		[[ ${2:-} =~ ^[0-9]+$ ]] || {
			echo "profile.sh: $1 wants a number" >&2
			exit 2
		}
		busy=$2
		shift
		;;
	--page-kind)
		case "${2:-}" in
		4k | thp | hugetlb) kind=$2 ;;
		*) echo "profile.sh: --page-kind wants 4k, thp or hugetlb" >&2; exit 2 ;;
		esac
		shift
		;;
	--shared) shared=1 ;;
	--copy-reference) copyref=1 ;;
	--methods)
		methods=${2:-}
		methods=${methods//,/ }
		for m in $methods; do
			case " $ALL_METHODS " in
			*" $m "*) ;;
			*) echo "profile.sh: unknown method '$m'" >&2; exit 2 ;;
			esac
		done
		[ -n "$methods" ] || { echo "profile.sh: --methods wants a list" >&2; exit 2; }
		shift
		;;
	--scenario)
		[[ ${2:-} =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || {
			echo "profile.sh: --scenario wants a name of letters, digits, . _ -" >&2
			exit 2
		}
		scenario=$2
		shift
		;;
	--scenarios) scenarios=${2:?--scenarios needs a list}; shift ;;
	--out)
		out=${2:?--out needs a folder}
		shift
		;;
	--spec) specs+=("${2:?}"); shift ;;
	--guest) guest=1 ;;
	--report-only) report_only=1 ;;
	*)
		echo "profile.sh: unknown option '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

# ---- in the guest ------------------------------------------------------------
# Profile one scenario: guest_scenario DIR PAGES CALLS KIND SHARED MAPPERS
#                                      BUSY COPYREF METHODS
guest_scenario() {
	local dir=$1 pages=$2 calls=$3 kind=$4 shared=$5 mappers=$6 busy=$7
	local copyref=$8 methods=$9 opts=() line r m n secs rest cpu

	if [ "$kind" = bench ]; then
		guest_bench "$@"
		return
	fi
	opts=(--calls "$calls" --page-kind "$kind" --mappers "$mappers"
		--busy-threads "$busy")
	[ "$shared" = 1 ] && opts+=(--shared)
	[ "$copyref" = 1 ] && opts+=(--copy-reference)
	echo "method,repeat,pages,seconds,calls,cpu,statuses,memcpy_gbps,movsb_gbps,oncpu_seconds,warmup_failed" >"$dir/calls.csv"
	echo "method,repeat,phase,hits,usecs" >"$dir/phases.csv"
	for ((r = 1; r <= repeats; r++)); do
		for m in $methods; do
			line=$(build/profile_call "${opts[@]}" "$T" "$m" "$pages") || rc=1
			echo "profile: $line"
			read -r _ n secs _ rest <<<"$line"
			field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $rest"; }
			cpu=$(field cpu)
			echo "$m,$r,$n,$secs,$calls,$cpu,$(field statuses | tr , ' '),$(field memcpy_gbps),$(field movsb_gbps),$(field oncpu),$(field warmup_failed | tr , ' ')" >>"$dir/calls.csv"
			# "name hits time us avg us s^2 us" per CPU
			for f in "$T"/trace_stat/function*; do
				echo "# cpu ${f##*function}"
				cat "$f"
			done >"$dir/$m-$r.txt"
			phase_rows "$m" "$r" "${cpu:-0}" "$dir/$m-$r.txt" >>"$dir/phases.csv"
		done
	done
}

# Phases of one profiler table: phase_rows METHOD REPEAT CPU FILE, where CPU
# is the CPU the calls ran on ("all": the table is summed over every CPU)
phase_rows() {
	PHASE_LIST=$(printf '%s\n' "${PHASES[@]}") awk -v m="$1" -v r="$2" \
		-v cpu="$3" -v total="$TOTAL_FUNCS" '
	$1 == "#" && $2 == "cpu" { c = $3; next }
	$3 ~ /^[0-9.]+$/ && $4 == "us" {
		k = (cpu == "all" || cpu == "" || c == cpu) ? "" : "@"
		hits[k $1] += $2; us[k $1] += $3
	}
	function row(name, funcs,    f, n, i, h, t) {
		n = split(funcs, f, " ")
		for (i = 1; i <= n; i++) { h += hits[f[i]]; t += us[f[i]] }
		printf "%s,%s,%s,%d,%.1f\n", m, r, name, h, t
		return t
	}
	END {
		other = row("system call", total)
		np = split(ENVIRON["PHASE_LIST"], p, "\n")
		for (i = 1; i <= np; i++) {
			name = p[i]; sub(/\|.*/, "", name)
			funcs = p[i]; sub(/^[^|]*\|/, "", funcs)
			t = row(name, funcs)
			if (name !~ /^\(/)
				other -= t
		}
		printf "%s,%s,other,,%.1f\n", m, r, other
	}' "$4"
}

# The profiler around a whole mp2bench migrate run of 8 MiB (one method,
# one repeat, the matrix's settings): its migrating thread is not bound to
# a CPU, so the tables are summed over every CPU and divided by the number
# of migrating calls.  Same arguments as guest_scenario.
guest_bench() {
	local dir=$1 pages=$2 mappers=$6 busy=$7 methods=$9 r m margs secs moved
	echo "method,repeat,pages,seconds,calls,cpu,statuses,memcpy_gbps,movsb_gbps,oncpu_seconds,warmup_failed" >"$dir/calls.csv"
	echo "method,repeat,phase,hits,usecs" >"$dir/phases.csv"
	for ((r = 1; r <= repeats; r++)); do
		for m in $methods; do
			margs=(--methods move_pages)
			[ "$m" = move_pages ] || margs=(--methods move_pages2 --modes "$m")
			echo 1 >"$T/function_profile_enabled"
			build/mp2bench migrate --mib 8 --repeats 1 "${margs[@]}" \
				--page-kind 4k --pages-per-call "$pages" \
				--busy-threads "$busy" --mappers "$mappers" \
				--csv "$dir/$m-$r.csv" 2>/dev/null || rc=1
			echo 0 >"$T/function_profile_enabled"
			for f in "$T"/trace_stat/function*; do
				echo "# cpu ${f##*function}"
				cat "$f"
			done >"$dir/$m-$r.txt"
			# seconds and pages of the moves there and back
			read -r secs moved < <(awk -F, '$1 == "migrate" { s += $9; p += $8 } END { print s + 0, p + 0 }' "$dir/$m-$r.csv")
			echo "profile: mp2bench $m $pages pages/call: $moved pages in $secs s"
			echo "$m,$r,$pages,$secs,$((moved / pages)),all,,,," >>"$dir/calls.csv"
			phase_rows "$m" "$r" all "$dir/$m-$r.txt" >>"$dir/phases.csv"
		done
	done
}

if [ "$guest" = 1 ]; then
	T=/sys/kernel/tracing
	[ -e "$T/function_profile_enabled" ] || mount -t tracefs nodev "$T"
	[ -e "$T/function_profile_enabled" ] || {
		echo "profile.sh: no function profiler in this kernel" >&2
		exit 1
	}
	echo 0 >"$T/function_profile_enabled"
	echo nop >"$T/current_tracer"
	# Time functions with their children, and with the time they sleep.
	echo 1 >"$T/options/graph-time"
	echo 1 >"$T/options/sleep-time"

	# The functions of every phase that the kernel can trace
	: >"$T/set_ftrace_filter"
	all=$TOTAL_FUNCS
	for p in "${PHASES[@]}"; do all="$all ${p#*|}"; done
	traced=()
	for f in $all; do
		f=${f#@}
		case " ${traced[*]} " in *" $f "*) continue ;; esac
		if grep -qE "^$f( |$)" "$T/available_filter_functions" &&
			echo "$f" >>"$T/set_ftrace_filter" 2>/dev/null; then
			traced+=("$f")
		fi
	done
	echo "profile: tracing ${traced[*]}"
	{
		echo "kernel: $(uname -r)"
		echo "CPUs: $(nproc); copy-related CPU flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'erms|fsrm|rep_good|avx2|avx512f' | tr '\n' ' ')"
	} >"$out/guest.txt"
	# Shared THP only comes with shmem_enabled advise (or always).
	thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
	[ -w "$thp" ] && echo advise >"$thp"

	cd "$TOP"
	rc=0
	for s in "${specs[@]}"; do
		IFS='|' read -r name sp sc sk ssh sm sb scr smeth srep <<<"$s"
		dir=$out
		[ -n "$name" ] && dir=$out/$name
		mkdir -p "$dir"
		all_repeats=$repeats
		repeats=${srep:-$repeats}
		if [ "$sk" = hugetlb ]; then
			# The pages, and room for them on the other node
			need=$((sp * sc + 2))
			for node in 0 1; do
				echo "$need" >/sys/devices/system/node/node$node/hugepages/hugepages-2048kB/nr_hugepages
			done
		fi
		echo "profile: scenario ${name:-default}: $sp pages x $sc calls, $sk, shared $ssh, mappers $sm, readers $sb"
		guest_scenario "$dir" "$sp" "$sc" "$sk" "$ssh" "$sm" "$sb" "$scr" "$smeth"
		repeats=$all_repeats
	done
	echo 0 >"$T/function_profile_enabled"
	exit $rc
fi

# ---- on the host: build, boot, report -------------------------------------
cd "$TOP"
mkdir -p build "$out"
out=$(cd "$out" && pwd)
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
	if [ "$kind" != 4k ] || [ "$mappers" -gt 1 ]; then
		shared=1
	fi
	run=("$scenario|$pages|$calls|$kind|$shared|$mappers|$busy|$copyref|$methods")
fi
if [ "$report_only" = 0 ]; then
	cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Ibench \
		experiments/profile_call.c bench/mappers.c -lnuma -lpthread \
		-o build/profile_call
	case " ${run[*]} " in *"|bench|"*) make -s build/mp2bench ;; esac
	kernel/build-kernel.sh >/dev/null
	spec_args=()
	for s in "${run[@]}"; do
		name=${s%%|*}
		dir=$out
		[ -n "$name" ] && dir=$out/$name
		mkdir -p "$dir"
		rm -f "$dir"/*.txt "$dir"/*.csv "$dir"/profile.md "$dir"/host.txt
		spec_args+=(--spec "$s")
	done
	# Other guests on the host skew the numbers: say how busy the host was.
	guests() { pgrep -fc '^qemu-system-x86_64 ' || true; }
	before="load $(cut -d' ' -f1-3 /proc/loadavg), other QEMU guests $(guests)"
	kernel/run-guest.sh --nodes 2 --share "$out" --timeout 1200 -- \
		experiments/profile.sh --guest --repeats "$repeats" --out "$out" \
		"${spec_args[@]}"
	after="load $(cut -d' ' -f1-3 /proc/loadavg), other QEMU guests $(guests)"
	for s in "${run[@]}"; do
		name=${s%%|*}
		echo "host before the run: $before; after: $after" >"$out${name:+/$name}/host.txt"
	done
fi

# profile.md of one scenario: report DIR pages calls kind shared mappers busy methods
report() {
	local dir=$1 pages=$2 calls=$3 kind=$4 shared=$5 mappers=$6 busy=$7
	local methods=$8 what mem
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
	{
		if [ "$kind" = bench ]; then
			echo "mp2bench migrate --mib 8 --repeats 1 --page-kind 4k --pages-per-call $pages"
			echo "--busy-threads $busy --mappers $mappers (there and back; move_pages,"
			echo "or move_pages2 in the mode named), with the function profiler on"
			echo "around the whole run; summed over both CPUs and divided by the"
			echo "migrating calls (pages moved / $pages); in the 2-node QEMU guest (TCG);"
			echo "microseconds of a call, median (smallest-largest) of $repeats runs per"
			echo "method; measured $(date -u -r "$dir/phases.csv" +%Y-%m-%d) by experiments/profile.sh"
			[ -s "$dir/host.txt" ] && echo "($(cat "$dir/host.txt"))."
		elif [ "$calls" = 1 ]; then
			echo "One call moving $pages pages of $what $mem anonymous memory"
		else
			echo "$calls calls moving $pages pages each of $what $mem anonymous"
			echo "memory (the tables give one call: the window divided by $calls)"
		fi
		if [ "$kind" != bench ]; then
			echo "from node 0 to node 1 in the 2-node QEMU guest (TCG), mapped by"
			echo "$mappers process(es), with $busy reader thread(s) running; profiled"
			echo "with ftrace's function profiler; microseconds of a call, median"
			echo "(smallest-largest) of $repeats repeats per method;"
			echo "measured $(date -u -r "$dir/phases.csv" +%Y-%m-%d) by experiments/profile.sh"
			[ -s "$dir/host.txt" ] && echo "($(cat "$dir/host.txt"))."
		fi
		echo
		awk -F, -v methods="$methods" '
		FNR == 1 { next }
		FILENAME ~ /calls.csv$/ {
			n = ($5 == "") ? 1 : $5
			ncalls[$1 SUBSEP $2] = n
			secs[$1] = secs[$1] " " $4 * 1e6 / n
			if ($7 != "") st[$1] = st[$1] " " $7
			if ($11 != "") wf[$1] = wf[$1] " [repeat " $2 ": " $11 "]"
			if ($8 != "") { mc[$1] = mc[$1] " " $8; mb[$1] = mb[$1] " " $9 }
			if ($10 != "") off[$1] = off[$1] " " ($4 - $10) * 1e6 / n
			next
		}
		{
			n = ncalls[$1 SUBSEP $2]; if (!n) n = 1
			key = $1 SUBSEP $3
			v[key] = v[key] " " $5 / n
			h[key] = h[key] " " $4 / n
			if (!($3 in seen)) { seen[$3] = 1; order[++np] = $3 }
		}
		function sorted(s, a,    n, i, j, t) {
			n = split(s, a, " ")
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return n
		}
		# "median (min-max)" of the numbers in s
		function spread(s, fmt,    a, n) {
			n = sorted(s, a)
			if (!n)
				return "-"
			return sprintf(fmt " (" fmt "-" fmt ")", a[int((n + 1) / 2)], a[1], a[n])
		}
		function median(s,    a, n) {
			n = sorted(s, a)
			return n ? a[int((n + 1) / 2)] : ""
		}
		END {
			nm = split(methods, m, " ")
			printf "| phase |"
			for (i = 1; i <= nm; i++) printf " %s |", m[i]
			printf "\n| --- |"
			for (i = 1; i <= nm; i++) printf " ---: |"
			printf "\n| call (user space clock) |"
			for (i = 1; i <= nm; i++) printf " %s |", spread(secs[m[i]], "%.0f")
			printf "\n"
			if (off[m[1]] != "") {
				printf "| (calling thread off the CPU: wall time minus its CPU time) |"
				for (i = 1; i <= nm; i++) printf " %s |", spread(off[m[i]], "%.0f")
				printf "\n"
			}
			for (p = 1; p <= np; p++) {
				printf "| %s |", order[p]
				for (i = 1; i <= nm; i++)
					printf " %s |", spread(v[m[i] SUBSEP order[p]], "%.0f")
				printf "\n"
			}
			printf "\nCalls (hits) of the functions of each phase, per call, median:\n\n"
			printf "| phase |"
			for (i = 1; i <= nm; i++) printf " %s |", m[i]
			printf "\n| --- |"
			for (i = 1; i <= nm; i++) printf " ---: |"
			printf "\n"
			for (p = 1; p <= np; p++) {
				if (order[p] == "other") continue
				printf "| %s |", order[p]
				for (i = 1; i <= nm; i++)
					printf " %.4g |", median(h[m[i] SUBSEP order[p]])
				printf "\n"
			}
			printf "\nStatus values of the profiled calls (value:count), per repeat:\n\n"
			for (i = 1; i <= nm; i++) printf "- %s:%s\n", m[i], st[m[i]]
			for (i = 1; i <= nm; i++)
				if (wf[m[i]] != "")
					printf "- %s, failed entries in the warm-up moves there and back:%s\n", m[i], wf[m[i]]
			for (i = 1; i <= nm; i++)
				if (mc[m[i]] != "") {
					printf "\nUser-space copy of the same bytes from node 1 to node 0, GB/s, median (smallest-largest) over all repeats: memcpy() %s, rep movsb of 4 KiB at a time %s\n", spread(mc[m[1]] mc[m[2]] mc[m[3]] mc[m[4]], "%.3f"), spread(mb[m[1]] mb[m[2]] mb[m[3]] mb[m[4]], "%.3f")
					break
				}
		}' "$dir/calls.csv" "$dir/phases.csv"
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
				phase_rows "$m" "$r" "$cpu" "$dir/$m-$r.txt" >>"$dir/phases.csv.new"
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
			awk -F, -v name="$name" -v methods="$smeth" -v pages="$sp" '
			FNR == 1 { next }
			FILENAME ~ /calls.csv$/ { n = ($5 == "") ? 1 : $5; nc[$1 SUBSEP $2] = n; secs[$1] = secs[$1] " " $4 * 1e6 / n; if ($10 != "") off[$1] = off[$1] " " ($4 - $10) * 1e6 / n; next }
			{
				n = nc[$1 SUBSEP $2]; if (!n) n = 1
				v[$1 SUBSEP $3] = v[$1 SUBSEP $3] " " $5 / n
				h[$1 SUBSEP $3] = h[$1 SUBSEP $3] " " $4 / n
			}
			function median(s,    a, n, i, j, t) {
				n = split(s, a, " ")
				for (i = 2; i <= n; i++)
					for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
						t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
					}
				return n ? a[int((n + 1) / 2)] : ""
			}
			function ph(m, prefix,    k, key) {
				for (key in v) {
					split(key, k, SUBSEP)
					if (k[1] == m && index(k[2], prefix) == 1)
						return median(v[key])
				}
				return 0
			}
			function hits(m, prefix,    k, key) {
				for (key in h) {
					split(key, k, SUBSEP)
					if (k[1] == m && index(k[2], prefix) == 1)
						return median(h[key])
				}
				return 0
			}
			END {
				nm = split(methods, m, " ")
				for (i = 1; i <= nm; i++) {
					call = median(secs[m[i]])
					o = median(off[m[i]])
					o = (o == "") ? "-" : sprintf("%.0f", o)
					printf "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.3g/%.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.0f | %.1f |\n",
						name, m[i], call, ph(m[i], "per call: LRU"),
						ph(m[i], "page-table walk"), ph(m[i], "unmap"),
						hits(m[i], "(TLB: flushes that IPI"), ph(m[i], "(TLB: flushes that IPI"),
						ph(m[i], "TLB flush"), ph(m[i], "allocation"),
						ph(m[i], "copy"), ph(m[i], "remap"), ph(m[i], "putback"),
						o, ph(m[i], "other"), call / pages
				}
			}' "$out/$name/calls.csv" "$out/$name/phases.csv"
		done
	} >"$out/summary.md"
	cat "$out/summary.md"
fi
exit $rc
