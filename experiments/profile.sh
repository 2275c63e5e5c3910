#!/bin/bash
# SPDX-License-Identifier: MIT
# Where the time of one page migration call goes, phase by phase, for
# move_pages and for move_pages2 in each mode: ftrace's function profiler
# around single calls in the 2-node guest.
#
#   experiments/profile.sh [--pages N] [--repeats N] [--out DIR]
#
# Builds build/profile_call (experiments/profile_call.c) and the kernel
# (cached), boots the guest and runs this script there with --guest.  Each
# method moves N pages (default 512) in one call, --repeats times (default
# 5), each call profiled on its own.  Writes to DIR (default
# results/profile):
#
#   METHOD-R.txt   the profiler's table of that call (every CPU)
#   calls.csv      method,repeat,pages,seconds
#   phases.csv     method,repeat,phase,hits,usecs
#   profile.md     per method and phase the median microseconds of a call,
#                  with the smallest and largest
#
# A phase's time is the inclusive time (children and sleep included) of
# the functions that make it up, listed in PHASES below; functions the
# compiler inlined cannot be traced and count under "other", the rest of
# the system call's time (the local CPU's lru_add_drain(), the mmap_lock,
# the VMA lookup and move_pages' per-entry get_user()/put_user() are among
# them).  Rows in parentheses are parts or sums of other rows and are left
# out of "other".  Under TCG absolute times mean little:
# compare the methods and phases of one run.
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
)
TOTAL_FUNCS="__x64_sys_move_pages __x64_sys_move_pages2"
METHODS="move_pages async sync_light sync"

pages=512
repeats=5
out=results/profile
guest=0
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help)
		sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	--pages | --repeats)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
			echo "profile.sh: $1 wants a positive number" >&2
			exit 2
		}
		if [ "$1" = --pages ]; then pages=$2; else repeats=$2; fi
		shift
		;;
	--out)
		out=${2:?--out needs a folder}
		shift
		;;
	--guest) guest=1 ;;
	*)
		echo "profile.sh: unknown option '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

# ---- on the host: build, boot, report -------------------------------------
if [ "$guest" = 0 ]; then
	cd "$TOP"
	mkdir -p build "$out"
	out=$(cd "$out" && pwd)
	cc -std=gnu11 -O2 -g -Wall -Wextra -Werror experiments/profile_call.c \
		-lnuma -o build/profile_call
	kernel/build-kernel.sh >/dev/null
	rm -f "$out"/*.txt "$out"/*.csv "$out"/profile.md
	kernel/run-guest.sh --nodes 2 --share "$out" --timeout 3000 -- \
		experiments/profile.sh --guest --pages "$pages" \
		--repeats "$repeats" --out "$out"
	[ -s "$out/phases.csv" ] || {
		echo "profile.sh: no results in $out" >&2
		exit 1
	}
	{
		echo "One call moving $pages pages of 4 KiB from node 0 to node 1 in"
		echo "the 2-node QEMU guest (TCG), profiled with ftrace's function"
		echo "profiler; microseconds of a call, median (smallest-largest) of"
		echo "$repeats calls per method;"
		echo "measured $(date -u +%Y-%m-%d) by experiments/profile.sh."
		echo
		awk -F, -v methods="$METHODS" '
		FNR == 1 { next }
		FILENAME ~ /calls.csv$/ { secs[$1] = secs[$1] " " $4 * 1e6; next }
		{
			key = $1 SUBSEP $3
			v[key] = v[key] " " $5
			if (!($3 in seen)) { seen[$3] = 1; order[++np] = $3 }
		}
		# "median (min-max)" of the numbers in s
		function spread(s,    a, n, i, j, t) {
			n = split(s, a, " ")
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			if (!n)
				return "-"
			return sprintf("%.0f (%.0f-%.0f)", a[int((n + 1) / 2)], a[1], a[n])
		}
		END {
			nm = split(methods, m, " ")
			printf "| phase |"
			for (i = 1; i <= nm; i++) printf " %s |", m[i]
			printf "\n| --- |"
			for (i = 1; i <= nm; i++) printf " ---: |"
			printf "\n| call (user space clock) |"
			for (i = 1; i <= nm; i++) printf " %s |", spread(secs[m[i]])
			printf "\n"
			for (p = 1; p <= np; p++) {
				printf "| %s |", order[p]
				for (i = 1; i <= nm; i++)
					printf " %s |", spread(v[m[i] SUBSEP order[p]])
				printf "\n"
			}
		}' "$out/calls.csv" "$out/phases.csv"
	} >"$out/profile.md"
	cat "$out/profile.md"
	exit 0
fi

# ---- in the guest ------------------------------------------------------------
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
	if grep -qE "^$f( |$)" "$T/available_filter_functions" &&
		echo "$f" >>"$T/set_ftrace_filter" 2>/dev/null; then
		traced+=("$f")
	fi
done
echo "profile: tracing ${traced[*]}"

cd "$TOP"
echo "method,repeat,pages,seconds" >"$out/calls.csv"
echo "method,repeat,phase,hits,usecs" >"$out/phases.csv"
rc=0
for ((r = 1; r <= repeats; r++)); do
	for m in $METHODS; do
		line=$(build/profile_call "$T" "$m" "$pages") || rc=1
		echo "profile: $line"
		read -r _ n secs _ <<<"$line"
		echo "$m,$r,$n,$secs" >>"$out/calls.csv"
		# "name hits time us avg us s^2 us" per CPU; summed over CPUs
		cat "$T"/trace_stat/function* >"$out/$m-$r.txt"
		PHASE_LIST=$(printf '%s\n' "${PHASES[@]}") awk -v m="$m" -v r="$r" \
			-v total="$TOTAL_FUNCS" '
		$3 ~ /^[0-9.]+$/ && $4 == "us" { hits[$1] += $2; us[$1] += $3 }
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
		}' "$out/$m-$r.txt" >>"$out/phases.csv"
	done
done
echo 0 >"$T/function_profile_enabled"
exit $rc
