#!/bin/bash
# SPDX-License-Identifier: MIT
# Inside the 2-node guest: the profiler's side of experiments/profile.sh.
# Each SPEC (name|pages|calls|kind|shared|mappers|busy|copyref|methods
# [|repeats], as profile.sh's SCENARIOS) is profiled into OUT/NAME (OUT
# when the name is empty): per method REPEATS times (or the SPEC's
# repeats), build/profile_call moves the pages with ftrace's function
# profiler on (kind bench: a whole mp2bench migrate run), and the
# profiler's tables, calls.csv and phases.csv (experiments/
# profile-phases.py) are written there.  Run by experiments/profile.sh;
# needs root.
#
# usage: experiments/profile-guest.sh OUT REPEATS SPEC...
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
case "${1:-}" in
-h | --help) sed -n '3,13p' "$TOP/experiments/profile-guest.sh" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ $# -ge 3 ] || { echo "usage: experiments/profile-guest.sh OUT REPEATS SPEC..." >&2; exit 2; }
# It takes over the kernel's function profiler: not on the host.
[ "${MP2_GUEST:-}" = 1 ] || { echo "profile-guest.sh: runs in the guest (experiments/profile.sh boots it)" >&2; exit 2; }
out=$1
repeats=$2
shift 2
specs=("$@")
PHASES=$TOP/experiments/profile-phases.py
T=/sys/kernel/tracing

# guest_scenario DIR PAGES CALLS KIND SHARED MAPPERS BUSY COPYREF METHODS:
# profile one scenario into DIR.
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
			"$PHASES" rows "$m" "$r" "${cpu:-0}" "$dir/$m-$r.txt" >>"$dir/phases.csv"
		done
	done
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
			"$PHASES" rows "$m" "$r" all "$dir/$m-$r.txt" >>"$dir/phases.csv"
		done
	done
}

[ -e "$T/function_profile_enabled" ] || mount -t tracefs nodev "$T"
[ -e "$T/function_profile_enabled" ] || {
	echo "profile-guest.sh: no function profiler in this kernel" >&2
	exit 1
}
echo 0 >"$T/function_profile_enabled"
echo nop >"$T/current_tracer"
# Time functions with their children, and with the time they sleep.
echo 1 >"$T/options/graph-time"
echo 1 >"$T/options/sleep-time"

# The functions of every phase that the kernel can trace
: >"$T/set_ftrace_filter"
functions=$("$PHASES" functions)
traced=()
for f in $functions; do
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
