#!/bin/bash
# SPDX-License-Identifier: MIT
# mp2's policy tier beside the kernel's own tiering, in the four-node guest
# (nodes 0-1 with CPUs: the fast tier, memory_tier4; 2-3 memory only: the
# slow tier, memory_tier28, from the guest's ACPI HMAT).  Five arms, each
# in a server of its own, interleaved over the repeats (the order rotates
# per repeat), under each load:
#
#   none       nothing moves pages
#   numab      kernel.numa_balancing = 2 (memory tiering: promotion on hint
#              faults) and demotion_enabled = true, both reset after the
#              arm: what a user turns on
#   numab-pol  the same, and the pool given a shared memory policy that
#              NUMA balancing scans (build/pool_policy, experiments/
#              pool_policy.c: MPOL_BIND over every node with
#              MPOL_F_NUMA_BALANCING, set on the pool's shmem object)
#   damon      DAMON through its sysfs interface, operations paddr: one
#              kdamond watches nodes 2-3 with a migrate_hot scheme to node
#              0, another watches nodes 0-1 with a migrate_cold scheme to
#              node 2; every setting written is kept in
#              DIR/damon-settings.txt
#   mp2        the extension's worker, mp2.policy = tier (fast nodes 0-1,
#              slow 2-3, mp2.fast_fraction 0.25, naptime 1 s)
#
# The extension is preloaded in every arm; its policy is on only in mp2.
# Each arm starts its server unbound (no numactl: NUMA balancing honours
# a bind and would move nothing), reads the tables into the pool
# (pg_prewarm) and then moves the whole pool to the slow tier with
# mp2_interleave_pool('{2,3}'), checked before the load starts.  The
# tables: pgbench_accounts at scale 2 (A, about 26 MB), tiering_b, a copy
# of it (B), and tiering_cold (about 60 MB), in a 256 MB pool.  The load,
# pgbench with 2 clients: for the first half of --seconds a script on A;
# then the hot set moves: the same script on B for the second half.  The
# cold table is never read while the load runs.  Two loads (--loads):
#
#   skewed   experiments/pgbench/tier-hot.sql: ranges of 2000 rows read,
#            rows picked by a zipfian distribution updated
#   uniform  experiments/pgbench/tier-uniform.sql: one row read, picked
#            evenly (pgbench -S): each of the table's pages is read only
#            every few seconds
#
# NUMA balancing's scanner (task_numa_work) passes over a mapping whose
# memory policy lacks MPOL_F_MOF (vma_policy_mof()): a shared memory
# mapping without a shared policy, such as PostgreSQL's pool
# (MAP_SHARED | MAP_ANONYMOUS, shmem), is never scanned, so it takes no
# hint fault and nothing of it is promoted (arm numab); arm numab-pol
# sets such a policy.  numa_pte_updates in the samples shows whether
# anything was scanned.
#
# Every 2 s at most (a sample takes longer under load in TCG) a sampler
# records the share of the current hot table's pages on nodes 0-1, the
# counters of /proc/vmstat (promotions, demotions, migrations, NUMA PTE
# updates and hint faults, as deltas from the start of the load),
# the CPU time of the movers (kdamonds, the mp2 worker) and the system
# time of all the server's processes (NUMA hint faults are handled
# there), and the guest's CPU time, all of it and in the kernel
# (/proc/stat: NUMA balancing scans and takes hint faults in every
# process it scans, pgbench's too).  mp2_relation_nodes() reads every page it locates, which DAMON
# sees as an access: so the other hot table and the cold table are
# located only every 10 s (their columns are empty in between).  pgbench
# logs every transaction: TPS and the 99th percentile of the latency per
# second.
#
# NUMA balancing's CPU, measured in the kernel: in every arm, ftrace's
# function profiler times, from pgbench's start to its end, the
# functions where it spends CPU: task_numa_work (the scanner, run as task
# work on the way back to user space), handle_mm_fault (every page
# fault's handler, the sampler's too; do_numa_page, a hint fault's
# handling, is inlined in it), migrate_misplaced_folio (a promotion's
# migration, within handle_mm_fault) and task_numa_fault (a hint fault's
# accounting): their calls and time summed over the CPUs, children
# included (graph-time 1), time blocked not (sleep-time 0).  The profiler
# is on for the whole run, in every arm, and read at the load's start and
# end; its options are restored at the end.  summary.md
# gives NUMA balancing's kernel time as task_numa_work and
# handle_mm_fault of an arm above handle_mm_fault of arm none; the
# fault's entry and exit, outside handle_mm_fault, are not timed.
#
# The emulated nodes have equal latency (QEMU), so TPS cannot gain from
# the placement; placement, churn (pages migrated) and CPU can be compared.
#
#   experiments/tiering.sh [--repeats N] [--seconds S] [--out DIR] [--pg VERSION]
#                          [--arms "ARM..."] [--loads "LOAD..."]
#
# Defaults: 1 repeat of 120 s, every arm, both loads, PostgreSQL 15.
# Installs the extension into PostgreSQL VERSION (default 15) and boots
# the patched kernel (cached).  Writes DIR/samples.csv, DIR/tps.csv,
# DIR/placement.csv (the pool's pages per node at the start of each
# arm), DIR/kernel-time.csv (per arm, load and repeat each profiled
# function's calls and ms), DIR/damon-settings.txt, DIR/damon-stats.csv,
# DIR/numab-settings.txt, DIR/summary.md, and per load DIR/placement-LOAD.png,
# DIR/migrations-LOAD.png and DIR/tps-LOAD.png (default results/tiering).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=tiering
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=1
seconds=120
out=results/tiering
pg=15
inside=0
ALL_ARMS="none numab numab-pol damon mp2"
ALL_LOADS="skewed uniform"
arms=$ALL_ARMS
loads=$ALL_LOADS
exp_options "repeats:number seconds:number out:text pg:number arms:text loads:text inside:flag" "$@"
[ "$seconds" -ge 10 ] || { echo "$EXP: --seconds wants at least 10, got $seconds (try --help)" >&2; exit 2; }
out=$(exp_out "$out")
# words_in WHAT LIST ALLOWED: every word of LIST is one of ALLOWED, or exit 2.
words_in() {
	local w
	[ -n "$2" ] || { echo "$EXP: --$1 is empty (one or more of: $3)" >&2; exit 2; }
	for w in $2; do
		case " $3 " in *" $w "*) ;; *)
			echo "$EXP: --$1: unknown '$w' (one or more of: $3)" >&2
			exit 2 ;;
		esac
	done
}
words_in arms "$arms" "$ALL_ARMS"
words_in loads "$loads" "$ALL_LOADS"
read -ra ARMS <<<"$arms"
read -ra LOADS <<<"$loads"
# The sampler's period, and every how many samples the tables other than
# the current hot one are located.
PERIOD=2
FULL_EVERY=5

if [ "$inside" = 0 ]; then
	start=$SECONDS
	mkdir -p build
	cc -std=c11 -O2 -Wall -Wextra -Werror experiments/pool_policy.c -lnuma -o build/pool_policy
	exp_in_guest 4 1024 $((600 + repeats * ${#ARMS[@]} * ${#LOADS[@]} * (seconds + 240))) "$out" \
		"${PG_CONFIG:-$(exp_pg_config "$pg")}" -- \
		experiments/tiering.sh --inside --repeats "$repeats" --seconds "$seconds" --out "$out" \
		--arms "$arms" --loads "$loads"
	{
		exp_measured 4
		echo "by: experiments/tiering.sh --repeats $repeats --seconds $seconds --pg $pg --arms '$arms' --loads '$loads'"
		echo "wall time of the guest run: $((SECONDS - start)) s"
	} >"$out/machine.txt"
	experiments/tiering-plot.sh "$out"
	cat "$out/summary.md"
	rm -f build/pool_policy
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

DIR=/tmp/mp2-tiering-exp
DAMON=/sys/kernel/mm/damon/admin
T=/sys/kernel/tracing
# The functions where NUMA balancing spends CPU, timed in every arm: the
# scanner (task work), every page fault's handler (do_numa_page, the hint
# fault's handling, is inlined in it), a promotion's migration (within
# handle_mm_fault) and the hint fault's accounting.
PROF_FUNCTIONS="task_numa_work handle_mm_fault migrate_misplaced_folio task_numa_fault"
HZ=$(getconf CLK_TCK)
half=$((seconds / 2))

pg_cluster_init "$DIR/pg" >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = 256MB
mp2.naptime = '1s'
mp2.fast_nodes = '0-1'
mp2.slow_nodes = '2-3'
mp2.fast_fraction = 0.25
mp2.max_pages_per_round = 0
CONF

start_server() {
	# CAP_SYS_NICE: mp2_interleave_pool moves pages every backend maps.
	as_pg_cap "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" \
		-w -t 300 start >"$PGTMP/pg_ctl.log" 2>&1
}

phase "tiering: the tables"
start_server
psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null
as_pg "$PGBIN/pgbench" -i -s 2 -q postgres >/dev/null 2>&1
psql_q "CREATE TABLE tiering_b (LIKE pgbench_accounts INCLUDING ALL);
        INSERT INTO tiering_b SELECT * FROM pgbench_accounts;
        CREATE TABLE tiering_cold AS
          SELECT g, md5(g::text) || repeat('x', 400) AS pad
            FROM generate_series(1, 120000) g" >/dev/null
psql_q "VACUUM ANALYZE" >/dev/null
sizes=$(psql_q "SELECT string_agg(c || ' ' || pg_relation_size(c) / 8192, ' ')
                  FROM unnest('{pgbench_accounts,tiering_b,tiering_cold}'::regclass[]) c")
echo "tiering: 8 kB blocks: $sizes"
echo "table,blocks" >"$out/tables.csv"
read -ra sz <<<"$sizes"
for i in 0 2 4; do echo "${sz[i]},${sz[i + 1]}" >>"$out/tables.csv"; done
pg_stop

# Where postgres can read them, whoever owns the tree: per load, the script
# on A and on B.
for load in skewed uniform; do
	src=$TOP/experiments/pgbench/tier-hot.sql
	[ "$load" = uniform ] && src=$TOP/experiments/pgbench/tier-uniform.sql
	install -m 644 "$src" "$DIR/$load-a.sql"
	sed 's/pgbench_accounts/tiering_b/g' "$src" >"$DIR/$load-b.sql"
	chmod 644 "$DIR/$load-b.sql"
done
chown "$PG_USER": "$DIR"

echo "arm,load,repeat,t,hot_table,hot_share_fast,other_share_fast,a_fast,a_pages,b_fast,b_pages,cold_fast,cold_pages,pgpromote_success,pgdemote,pgmigrate_success,numa_hint_faults,numa_pte_updates,kdamond_cpu_s,worker_cpu_s,worker_moved,server_stime_s,guest_cpu_s,guest_sys_s" >"$out/samples.csv"
echo "arm,load,repeat,t,tps,p99_ms" >"$out/tps.csv"
echo "arm,load,repeat,round,slice,slices,nodes_ms,history_ms,buffers,survey_ms,located,locate_ms,moves_ms,demoted,promoted,skipped,refresh" >"$out/rounds.csv"
echo "arm,load,repeat,node,os_pages" >"$out/placement.csv"
echo "arm,load,repeat,function,hits,time_ms" >"$out/kernel-time.csv"
echo "arm,load,repeat,kdamond,scheme,action,nr_tried,sz_tried,nr_applied,sz_applied,qt_exceeds,cpu_s" >"$out/damon-stats.csv"
: >"$out/damon-settings.txt"
: >"$out/numab-settings.txt"

# ---- measurements ------------------------------------------------------

# vmstat: pgpromote_success, the pgdemote_* counters summed,
# pgmigrate_success, numa_hint_faults and numa_pte_updates (the PTEs NUMA
# balancing's scanner made fault), separated by spaces.
vmstat() {
	awk '$1 == "pgpromote_success" { p = $2 } $1 ~ /^pgdemote_/ { d += $2 }
	     $1 == "pgmigrate_success" { m = $2 } $1 == "numa_hint_faults" { h = $2 }
	     $1 == "numa_pte_updates" { u = $2 }
	     END { print p + 0, d + 0, m + 0, h + 0, u + 0 }' /proc/vmstat
}

# cpu_s PID...: the CPU seconds (user + system) the processes used.
cpu_s() {
	local pid t=0 s
	for pid in "$@"; do
		s=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
		t=$((t + s))
	done
	awk -v t="$t" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }'
}

kdamond_pids() {
	local k
	for k in "$DAMON"/kdamonds/[0-9]*; do
		[ -e "$k/pid" ] && [ "$(cat "$k/pid")" -gt 0 ] && cat "$k/pid"
	done
	return 0
}

# The system time of all the server's processes: the postmaster's own,
# that of its children that have exited (cstime) and of those alive.
server_stime() {
	local pm k files=()
	pm=$(head -n 1 "$PGDATA/postmaster.pid")
	for k in $(pgrep -P "$pm"); do
		[ -e "/proc/$k/stat" ] && files+=("/proc/$k/stat")
	done
	# A child may exit between the test and the read: cat goes on.
	{
		awk '{ print $15 + $17 }' "/proc/$pm/stat"
		[ ${#files[@]} = 0 ] || cat "${files[@]}" 2>/dev/null | awk '{ print $15 }'
	} | awk -v hz="$HZ" '{ s += $1 } END { printf "%.2f", s / hz }'
}

# guest_cpu: the CPU seconds of the whole guest, busy (all but idle and
# iowait) and in the kernel (system, irq, softirq), separated by a space.
guest_cpu() {
	awk -v hz="$HZ" '$1 == "cpu" { printf "%.2f %.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / hz, ($4 + $7 + $8) / hz }' /proc/stat
}

worker_pid() {
	psql_q "SELECT pid FROM mp2_worker_info()"
}

# pages_sql TABLE: "fast,pages" of TABLE: its OS pages on nodes 0-1, all
# its OS pages (located by mp2_relation_nodes, which reads them).
pages_sql() {
	echo "(SELECT coalesce(sum(os_pages) FILTER (WHERE node IN (0, 1)), 0) || ',' ||
	              coalesce(sum(os_pages) FILTER (WHERE node IS NOT NULL), 0)
	         FROM mp2_relation_nodes('$1'))"
}

# sample HOT FULL: "a_fast,a_pages,b_fast,b_pages,cold_fast,cold_pages"
# (the tables other than HOT left empty unless FULL is 1), then
# ",worker_moved".
sample() {
	local a=",," b=",," c=",,"
	if [ "$1" = a ] || [ "$2" = 1 ]; then a="$(pages_sql pgbench_accounts) || ','"; fi
	if [ "$1" = b ] || [ "$2" = 1 ]; then b="$(pages_sql tiering_b) || ','"; fi
	[ "$2" = 1 ] && c="$(pages_sql tiering_cold) || ','"
	[ "$a" = ",," ] && a="',,'"
	[ "$b" = ",," ] && b="',,'"
	[ "$c" = ",," ] && c="',,'"
	psql_q "SELECT $a || $b || $c || (SELECT coalesce(pages_moved, 0) FROM mp2_worker_info())"
}

# ---- NUMA balancing's kernel time --------------------------------------

# prof_stats: "FUNCTION HITS US" per traced function, the function
# profiler's tables summed over the CPUs (0 for a function not hit).
prof_stats() {
	cat "$T"/trace_stat/function* |
		awk -v want="${PROF_TRACED[*]}" '
			BEGIN { n = split(want, f, " "); for (i = 1; i <= n; i++) w[f[i]] = 1 }
			($1 in w) { h[$1] += $2; t[$1] += $4 == "ms" ? $3 * 1000 : $4 == "s" ? $3 * 1e6 : $3 }
			END { for (i = 1; i <= n; i++) printf "%s %d %.3f\n", f[i], h[f[i]], t[f[i]] }'
}

# prof_setup: tracefs mounted, PROF_TRACED set to the functions of
# PROF_FUNCTIONS the kernel can trace (a warning for the others), and the
# profiler on for them, with the children's time and without the time
# blocked, for the whole run.  It is turned on once, before any server
# runs, and never toggled between arms: turning it on or off rewrites the
# traced functions' entries, and under TCG a CPU that runs one of them
# meanwhile (handle_mm_fault, every page fault) has been seen to take
# the breakpoint of the rewrite as an Oops.  The arms subtract readings.
prof_setup() {
	local f
	[ -e "$T/function_profile_enabled" ] || mount -t tracefs nodev "$T"
	[ -e "$T/function_profile_enabled" ] || { echo "$EXP: no function profiler in this kernel" >&2; exit 1; }
	echo 0 >"$T/function_profile_enabled"
	echo nop >"$T/current_tracer"
	PROF_TRACED=()
	: >"$T/set_ftrace_filter"
	for f in $PROF_FUNCTIONS; do
		if grep -qE "^$f( |$)" "$T/available_filter_functions" &&
			echo "$f" >>"$T/set_ftrace_filter" 2>/dev/null; then
			PROF_TRACED+=("$f")
		else
			echo "$EXP: WARNING: $f cannot be traced: not in kernel-time.csv" >&2
		fi
	done
	[ ${#PROF_TRACED[@]} -gt 0 ] || return 0
	echo "tiering: profiling ${PROF_TRACED[*]}"
	PROF_OPTIONS="$(cat "$T/options/sleep-time") $(cat "$T/options/graph-time")"
	echo 0 >"$T/options/sleep-time"
	echo 1 >"$T/options/graph-time"
	echo 1 >"$T/function_profile_enabled"
}

# prof_end: the profiler off, its filter and options as they were.
prof_end() {
	local sleep graph
	[ ${#PROF_TRACED[@]} -gt 0 ] || return 0
	echo 0 >"$T/function_profile_enabled"
	read -r sleep graph <<<"$PROF_OPTIONS"
	echo "$sleep" >"$T/options/sleep-time"
	echo "$graph" >"$T/options/graph-time"
	: >"$T/set_ftrace_filter"
}

# prof_read FILE: the profiler's tables now into FILE.
prof_read() {
	[ ${#PROF_TRACED[@]} -gt 0 ] || return 0
	prof_stats >"$1"
}

# prof_record ARM LOAD REPEAT: each traced function's calls and ms between
# the readings at the load's start and end ($DIR/prof0, $DIR/prof1) into
# kernel-time.csv.
prof_record() {
	[ ${#PROF_TRACED[@]} -gt 0 ] || return 0
	awk -v pre="$1,$2,$3" 'NR == FNR { h[$1] = $2; t[$1] = $3; next }
		{ printf "%s,%s,%d,%.3f\n", pre, $1, $2 - h[$1], ($3 - t[$1]) / 1000 }' "$DIR/prof0" "$DIR/prof1" >>"$out/kernel-time.csv"
}

# ---- the arms' movers --------------------------------------------------

# damon_w FILE VALUE: VALUE into DAMON's sysfs file FILE (below admin/),
# and into damon-settings.txt.
damon_w() {
	echo "$2" >"$DAMON/$1"
	echo "$1 = $2" >>"$out/damon-settings.txt"
}

# node_ranges "NODE...": the physical address ranges of the nodes'
# memory, "START END" per line, from their zones in /proc/zoneinfo
# (spans, holes included: DAMON skips what is not memory), adjacent ones
# joined.
node_ranges() {
	awk -v want=" $1 " -v ps="$(getconf PAGESIZE)" '
		/^Node/ { n = $2; sub(",", "", n) }
		$1 == "spanned" { sp = $2 }
		$1 == "start_pfn:" && sp > 0 && index(want, " " n " ") {
			printf "%.0f %.0f\n", $2 * ps, ($2 + sp) * ps }' /proc/zoneinfo |
		sort -n | awk 'NR > 1 && $1 == e { e = $2; next }
		               NR > 1 { printf "%.0f %.0f\n", s, e }
		               { s = $1; e = $2 }
		               END { if (NR) printf "%.0f %.0f\n", s, e }'
}

# The DAMON settings (DAMOS in Documentation/mm/damon/design.rst, the
# files in Documentation/admin-guide/mm/damon/usage.rst of 6.12).
# Intervals: the kernel's defaults are 5 ms / 100 ms / 1 s; under TCG a
# sampling check costs far more, so 20 ms sampling and 1 s aggregation
# (50 checks a region per aggregation, the hot threshold below in them).
DAMON_SAMPLE_US=20000
DAMON_AGGR_US=1000000
DAMON_UPDATE_US=1000000
# Regions: the kernel's default minimum (10), a maximum of 200 (default
# 1000) to bound kdamond's CPU: 2 GB per context, regions of 10 MB and
# more.
DAMON_NR_MIN=10
DAMON_NR_MAX=200
# migrate_hot: seen accessed in at least 2 of the 50 checks of an
# aggregation (DAMON_LRU_SORT's default threshold, half the maximum, sees
# nothing of a table whose pages are read about twice a second each),
# any age.  migrate_cold: no access seen for 10 s (10 aggregations;
# DAMON_LRU_SORT's default minimum age is 120 s, for longer runs).
HOT_NR_MIN=2
COLD_AGE_MIN=10
# Quotas, both schemes: 100 ms of kdamond's time and 32 MiB per second,
# whichever is hit first; priorities by access frequency for migrate_hot
# (as DAMON_LRU_SORT weighs), by age for migrate_cold (as DAMON_RECLAIM).
QUOTA_MS=100
QUOTA_BYTES=$((32 << 20))
QUOTA_RESET_MS=1000
ULONG_MAX=18446744073709551615
UINT_MAX=4294967295

# damon_kdamond K NODES ACTION TARGET_NID NR_MIN NR_MAX AGE_MIN W_NR W_AGE:
# kdamond K set up, not started: one paddr context over the memory of
# NODES (a list like "2 3"), one scheme.
damon_kdamond() {
	local k=$1 nodes=$2 action=$3 nid=$4 nr_min=$5 nr_max=$6 age_min=$7 w_nr=$8 w_age=$9
	local c=kdamonds/$k/contexts/0 s i=0 start end
	damon_w "kdamonds/$k/contexts/nr_contexts" 1
	grep -qw paddr "$DAMON/$c/avail_operations" || { echo "$EXP: DAMON has no paddr operations" >&2; return 1; }
	damon_w "$c/operations" paddr
	damon_w "$c/monitoring_attrs/intervals/sample_us" "$DAMON_SAMPLE_US"
	damon_w "$c/monitoring_attrs/intervals/aggr_us" "$DAMON_AGGR_US"
	damon_w "$c/monitoring_attrs/intervals/update_us" "$DAMON_UPDATE_US"
	damon_w "$c/monitoring_attrs/nr_regions/min" "$DAMON_NR_MIN"
	damon_w "$c/monitoring_attrs/nr_regions/max" "$DAMON_NR_MAX"
	damon_w "$c/targets/nr_targets" 1
	echo "# kdamond $k: the memory of nodes $nodes" >>"$out/damon-settings.txt"
	damon_w "$c/targets/0/regions/nr_regions" "$(node_ranges "$nodes" | wc -l)"
	while read -r start end; do
		damon_w "$c/targets/0/regions/$i/start" "$start"
		damon_w "$c/targets/0/regions/$i/end" "$end"
		i=$((i + 1))
	done < <(node_ranges "$nodes")
	damon_w "$c/schemes/nr_schemes" 1
	s=$c/schemes/0
	damon_w "$s/action" "$action"
	damon_w "$s/target_nid" "$nid"
	damon_w "$s/apply_interval_us" 0
	damon_w "$s/access_pattern/sz/min" 4096
	damon_w "$s/access_pattern/sz/max" "$ULONG_MAX"
	damon_w "$s/access_pattern/nr_accesses/min" "$nr_min"
	damon_w "$s/access_pattern/nr_accesses/max" "$nr_max"
	damon_w "$s/access_pattern/age/min" "$age_min"
	damon_w "$s/access_pattern/age/max" "$UINT_MAX"
	damon_w "$s/quotas/ms" "$QUOTA_MS"
	damon_w "$s/quotas/bytes" "$QUOTA_BYTES"
	damon_w "$s/quotas/reset_interval_ms" "$QUOTA_RESET_MS"
	damon_w "$s/quotas/weights/sz_permil" 0
	damon_w "$s/quotas/weights/nr_accesses_permil" "$w_nr"
	damon_w "$s/quotas/weights/age_permil" "$w_age"
	damon_w "$s/watermarks/metric" none
	damon_w "$s/filters/nr_filters" 0
}

damon_start() {
	local max=$((DAMON_AGGR_US / DAMON_SAMPLE_US))
	: >"$out/damon-settings.txt"
	damon_w kdamonds/nr_kdamonds 2
	damon_kdamond 0 "2 3" migrate_hot 0 "$HOT_NR_MIN" "$max" 0 1000 0
	damon_kdamond 1 "0 1" migrate_cold 2 0 0 "$COLD_AGE_MIN" 0 1000
	damon_w kdamonds/0/state on
	damon_w kdamonds/1/state on
}

# damon_stop ARM LOAD REPEAT: the schemes' statistics and the kdamonds' CPU
# into damon-stats.csv, then the kdamonds stopped and removed.
damon_stop() {
	local k s pid cpu
	for k in 0 1; do
		pid=$(cat "$DAMON/kdamonds/$k/pid")
		cpu=$(cpu_s "$pid")
		echo update_schemes_stats >"$DAMON/kdamonds/$k/state"
		s=$DAMON/kdamonds/$k/contexts/0/schemes/0
		echo "$1,$2,$3,$k,0,$(cat "$s/action"),$(cat "$s/stats/nr_tried"),$(cat "$s/stats/sz_tried"),$(cat "$s/stats/nr_applied"),$(cat "$s/stats/sz_applied"),$(cat "$s/stats/qt_exceeds"),$cpu" >>"$out/damon-stats.csv"
		echo off >"$DAMON/kdamonds/$k/state"
	done
	echo 0 >"$DAMON/kdamonds/nr_kdamonds"
}

numab_start() {
	local f
	echo 2 >/proc/sys/kernel/numa_balancing
	echo true >/sys/kernel/mm/numa/demotion_enabled
	{
		echo "kernel.numa_balancing = $(cat /proc/sys/kernel/numa_balancing)"
		echo "/sys/kernel/mm/numa/demotion_enabled = $(cat /sys/kernel/mm/numa/demotion_enabled)"
		for f in /proc/sys/kernel/numa_balancing_*; do
			if [ -r "$f" ]; then echo "kernel.${f##*/} = $(cat "$f")"; fi
		done
		# The scan tunables live in debugfs; the kernel's defaults otherwise.
		mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
		for f in /sys/kernel/debug/sched/numa_balancing/*; do
			if [ -r "$f" ]; then echo "debugfs sched/numa_balancing/${f##*/} = $(cat "$f")"; fi
		done
	} >"$out/numab-settings.txt"
}

# pool_policy: the pool given a policy NUMA balancing scans
# (experiments/pool_policy.c), as the postmaster's numa_maps shows it,
# into numab-settings.txt.
pool_policy() {
	local pm
	pm=$(head -n 1 "$PGDATA/postmaster.pid")
	"$TOP/build/pool_policy" "$pm" | tee -a "$out/numab-settings.txt"
	grep -E '^[0-9a-f]+ bind=balancing:.*(dev/zero|anon_hugepage)' "/proc/$pm/numa_maps" |
		cut -d' ' -f1-3 | sed 's/^/numa_maps of the postmaster: /' | tee -a "$out/numab-settings.txt"
}

numab_stop() {
	echo 0 >/proc/sys/kernel/numa_balancing
	echo false >/sys/kernel/mm/numa/demotion_enabled
}

# tier_rounds ARM LOAD REPEAT LINE0: the worker's DEBUG1 line per tier
# round, in the server log after line LINE0, into rounds.csv (where each
# round's time went; whether it skipped its survey, and whether it
# located the refresh share because something else moved pages).
tier_rounds() {
	tail -n +"$(($4 + 1))" "$PGTMP/server.log" |
		awk -v pre="$1,$2,$3" 'sub(/.*mp2 worker: tier round, slice /, "") {
			skipped = /survey skipped/ ? 1 : 0; refresh = /refresh on/ ? 1 : 0
			gsub(/[^0-9.]+/, ","); sub(/,$/, "")
			print pre "," ++n "," $0 "," skipped "," refresh }' >>"$out/rounds.csv"
}

# ---- the arms ----------------------------------------------------------

# per_second ARM LOAD REPEAT T0 LOG...: TPS and p99 latency per second of
# pgbench's transaction logs, as tps.csv's rows.
per_second() {
	local arm=$1 load=$2 r=$3 t0=$4
	shift 4
	cat "$@" | "$TOP/experiments/stats.py" tiering-tps "$arm,$load" "$r" "$t0" >>"$out/tps.csv" ||
		echo "$EXP: no transaction log of $arm, $load load, repeat $r" >&2
}

# since_f T0, since T0: the seconds since T0 (seconds since the epoch),
# with decimals, and whole.
since_f() {
	awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'
}

since() {
	awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%d", a - b }'
}

# sample_row ARM LOAD REPEAT T HOT ROW: samples.csv's row from sample's
# ROW and the counters now, against those at the start of the load (in
# the caller's variables).
sample_row() {
	local pgp pgd pgm hint pte kcpu gcpu gsys
	read -r pgp pgd pgm hint pte <<<"$(vmstat)"
	read -r gcpu gsys <<<"$(guest_cpu)"
	# shellcheck disable=SC2046
	kcpu=$(cpu_s $(kdamond_pids))
	echo "$6" | awk -F, -v pre="$1,$2,$3,$4,$5" -v hot="$5" -v m0="$moved0" \
		-v rest="$((pgp - pgp0)),$((pgd - pgd0)),$((pgm - pgm0)),$((hint - hint0)),$((pte - pte0)),$kcpu" \
		-v w="$(cpu_s "$wpid")" -v w0="$wcpu0" -v st="$(server_stime)" -v st0="$stime0" \
		-v gc="$gcpu" -v gc0="$gcpu0" -v gs="$gsys" -v gs0="$gsys0" '
		function share(f, p) { return p == "" ? "" : sprintf("%.4f", p > 0 ? f / p : 0) }
		{ h = hot == "a" ? share($1, $2) : share($3, $4)
		  o = hot == "a" ? share($3, $4) : share($1, $2)
		  printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.2f,%d,%.2f,%.2f,%.2f\n", pre, h, o, $1, $2, $3, $4, $5, $6,
		         rest, w - w0, $7 - m0, st - st0, gc - gc0, gs - gs0 }' >>"$out/samples.csv"
}

run_arm() {
	local arm=$1 load=$2 r=$3 t0 now n=0 hot full row moved0 wcpu0
	local pgp0 pgd0 pgm0 hint0 pte0 stime0 gcpu0 gsys0 wpid bg log0

	phase "tiering: repeat $r, $load load, arm $arm"
	start_server
	psql_q "SELECT pg_prewarm(c) FROM unnest('{tiering_cold,pgbench_accounts,pgbench_accounts_pkey,tiering_b,tiering_b_pkey}'::regclass[]) c" >/dev/null
	psql_q "SELECT 'interleave_pool: ' || moved || ' moved of ' || requested || ', ' || round(elapsed_ms) || ' ms'
	          FROM mp2_interleave_pool('{2,3}')"
	psql_q "SELECT '$arm,$load,$r,' || coalesce(node::text, 'none') || ',' || os_pages FROM mp2_buffer_nodes()" |
		tee -a "$out/placement.csv" >"$DIR/placement"
	awk -F, '$4 == 2 || $4 == 3 { s += $5 } $4 != "none" { t += $5 }
	         END { printf "tiering: %d of %d pool pages on nodes 2-3\n", s, t
	               if (s < 0.9 * t) { print "tiering: WARNING: less than 90% of the pool on the slow tier" } }' "$DIR/placement"

	case "$arm" in
	numab) numab_start ;;
	numab-pol)
		numab_start
		pool_policy
		;;
	damon) damon_start ;;
	mp2)
		log0=$(wc -l <"$PGTMP/server.log")
		psql_q "ALTER SYSTEM SET mp2.policy = 'tier'" >/dev/null
		psql_q "ALTER SYSTEM SET log_min_messages = debug1" >/dev/null
		psql_q "SELECT pg_reload_conf()" >/dev/null
		;;
	esac

	wpid=$(worker_pid)
	read -r pgp0 pgd0 pgm0 hint0 pte0 <<<"$(vmstat)"
	stime0=$(server_stime)
	read -r gcpu0 gsys0 <<<"$(guest_cpu)"
	wcpu0=$(cpu_s "$wpid")
	moved0=$(psql_q "SELECT coalesce(pages_moved, 0) FROM mp2_worker_info()")
	rm -f "$DIR"/pgbench_log.* "$DIR"/prof1
	prof_read "$DIR/prof0"
	t0=$(date +%s.%N)
	(
		cd "$DIR" &&
			as_pg "$PGBIN/pgbench" -n -c 2 -j 2 -T "$half" -D rows=200000 -l --log-prefix=pgbench_log.a \
				-f "$DIR/$load-a.sql" postgres >"$DIR/pgbench-a.log" 2>&1
		as_pg "$PGBIN/pgbench" -n -c 2 -j 2 -T "$((seconds - half))" -D rows=200000 -l --log-prefix=pgbench_log.b \
			-f "$DIR/$load-b.sql" postgres >"$DIR/pgbench-b.log" 2>&1
		# The load is over: so is the profile.
		prof_read "$DIR/prof1"
	) &
	bg=$!
	while kill -0 "$bg" 2>/dev/null; do
		now=$(since "$t0")
		hot=a
		[ "$now" -ge "$half" ] && hot=b
		full=0
		[ $((n % FULL_EVERY)) = 0 ] && full=1
		row=$(sample "$hot" "$full")
		sample_row "$arm" "$load" "$r" "$now" "$hot" "$row"
		n=$((n + 1))
		# The next sample PERIOD s after this one began, or at once when
		# this one took longer (it does under load: every sample is a new
		# psql session, and locating reads every page).
		sleep "$(awk -v a="$(since_f "$t0")" -v b="$now" -v p="$PERIOD" \
			'BEGIN { s = b + p - a; printf "%.2f", (s > 0 ? s : 0) }')"
	done
	wait "$bg" || true
	prof_record "$arm" "$load" "$r"
	# The last placement, of every table.
	row=$(sample x 1)
	sample_row "$arm" "$load" "$r" "$(since "$t0")" b "$row"

	case "$arm" in
	numab | numab-pol) numab_stop ;;
	damon) damon_stop "$arm" "$load" "$r" ;;
	mp2)
		psql_q "ALTER SYSTEM RESET mp2.policy" >/dev/null
		psql_q "ALTER SYSTEM RESET log_min_messages" >/dev/null
		psql_q "SELECT pg_reload_conf()" >/dev/null
		tier_rounds "$arm" "$load" "$r" "$log0"
		;;
	esac
	grep -hE 'failed|tps = ' "$DIR/pgbench-a.log" "$DIR/pgbench-b.log" | sed "s/^/$arm: /"
	per_second "$arm" "$load" "$r" "$t0" "$DIR"/pgbench_log.*
	pg_stop
}

prof_setup
for r in $(seq 1 "$repeats"); do
	for load in "${LOADS[@]}"; do
		for k in "${!ARMS[@]}"; do
			run_arm "${ARMS[$(((k + r - 1) % ${#ARMS[@]}))]}" "$load" "$r"
		done
	done
done
prof_end
{
	echo "page_size $(getconf PAGESIZE)"
	echo "tiers $(for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
		[ -e "$t/nodelist" ] && echo -n "${t##*/}=$(cat "$t/nodelist") "
	done)"
	echo "seconds $seconds"
	echo "shift $half"
	echo "period $PERIOD"
	echo "clients 2"
	echo "shared_buffers_mb 256"
	echo "repeats $repeats"
	echo "loads ${LOADS[*]}"
	echo "postgresql $PG_MAJOR"
} >"$out/conditions.txt"
