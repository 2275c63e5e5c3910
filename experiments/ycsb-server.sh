#!/bin/bash
# SPDX-License-Identifier: MIT
# Shared by the pgbench experiments inside the guest (guest-run.sh,
# rate-guest.sh): the server, the ycsb table, the relocator's SQL, one run
# of pgbench beside the relocator and the latency percentiles.  Sourced;
# needs root.

# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

log() { echo "[$(date +%T)] $*"; }

# ycsb_server WORKDIR ROWS: start PostgreSQL with mp2 preloaded and
# CAP_SYS_NICE (as systemd's AmbientCapabilities would give it), load ROWS
# rows into ycsb, read it and its index into shared buffers, and gather
# the pool on node 0.  The server stops when the calling shell exits.
ycsb_server() {
	local work=$1 rows=$2

	log "starting PostgreSQL (shared_buffers 128MB, mp2 preloaded, CAP_SYS_NICE)"
	pg_cluster_init "$work/pg"
	cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = 128MB
max_connections = 20
CONF
	pg_start cap
	trap pg_stop EXIT

	log "loading $rows rows into ycsb"
	psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null
	as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -v rows="$rows" \
		-f "$TOP/experiments/pgbench/ycsb-load.sql" >/dev/null
	psql_q "SELECT pg_prewarm('ycsb'), pg_prewarm('ycsb_pkey')" >/dev/null
	psql_q "SELECT mp2_migrate_pool(0)" >/dev/null
	psql_q "SELECT node, buffers, os_pages FROM mp2_buffer_nodes()"
}

# The backend's user + system CPU time from /proc/self/stat, in ticks of
# 1/100 s (USER_HZ; its system calls count as system time), as SQL.
CPU_TICKS="(SELECT f[12]::bigint + f[13]::bigint
	  FROM string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') f)"

# relocate_sql METHOD MODE BATCH SECONDS PAUSE_MS RATE: a DO block that
# moves ycsb and ycsb_pkey to the other node, again and again, until
# SECONDS have passed, at most RATE pages a second (0: no limit), pausing
# PAUSE_MS between moves, and then prints "relocated MOVES PAGES SECONDS
# CPU_SECONDS", CPU_SECONDS the relocator backend's CPU_TICKS / 100.
relocate_sql() {
	local method=$1 mode=$2 batch=$3 secs=$4 pause_ms=$5 rate=$6
	cat <<SQL
DO \$\$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '$secs seconds';
	t0 timestamptz := clock_timestamp();
	target int := 1;
	moves bigint := 0;
	pages bigint := 0;
	left_ms int;
	cpu0 bigint;
	r record;
BEGIN
	cpu0 := $CPU_TICKS;
	WHILE clock_timestamp() < deadline LOOP
		FOR r IN SELECT m.moved FROM unnest(ARRAY['ycsb', 'ycsb_pkey']::regclass[]) AS rel,
			LATERAL mp2_migrate(rel, target, method => '$method',
					    mode => '$mode', batch_size => $batch,
					    max_rate => $rate,
					    max_ms => greatest(1, extract(epoch FROM deadline - clock_timestamp()) * 1000)::int) AS m
		LOOP
			pages := pages + r.moved;
		END LOOP;
		moves := moves + 1;
		target := 1 - target;
		PERFORM pg_sleep($pause_ms / 1000.0);
	END LOOP;
	RAISE NOTICE 'relocated % % % %', moves, pages,
		extract(epoch FROM clock_timestamp() - t0),
		($CPU_TICKS - cpu0)::float8 / 100;
END
\$\$;
SQL
}

# burn_sql BATCH SECONDS RATE US: a DO block that moves nothing but spends
# the CPU a relocator would: US microseconds of spinning for every BATCH
# pages of RATE pages a second, until SECONDS have passed, and then
# prints "relocated BURSTS 0 SECONDS CPU_SECONDS" as relocate_sql does.
# The spin is an empty loop, its length calibrated at the start: reading
# the clock while spinning would make it a different load (in the guest a
# clock read may leave for the emulator).
burn_sql() {
	local batch=$1 secs=$2 rate=$3 us=$4
	cat <<SQL
DO \$\$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '$secs seconds';
	t0 timestamptz := clock_timestamp();
	period interval := make_interval(secs => $batch::float8 / $rate);
	next timestamptz := clock_timestamp();
	calibrated timestamptz;
	spins int;
	bursts bigint := 0;
	cpu0 bigint;
BEGIN
	FOR i IN 1..200000 LOOP
	END LOOP;
	calibrated := clock_timestamp();
	FOR i IN 1..1000000 LOOP
	END LOOP;
	spins := greatest(1, round(1000000.0 * $batch * $us /
		(extract(epoch FROM clock_timestamp() - calibrated) * 1e6)))::int;
	cpu0 := $CPU_TICKS;
	WHILE clock_timestamp() < deadline LOOP
		FOR i IN 1..spins LOOP
		END LOOP;
		bursts := bursts + 1;
		next := next + period;
		PERFORM pg_sleep(greatest(0, extract(epoch FROM next - clock_timestamp())));
	END LOOP;
	RAISE NOTICE 'relocated % 0 % %', bursts,
		extract(epoch FROM clock_timestamp() - t0),
		($CPU_TICKS - cpu0)::float8 / 100;
END
\$\$;
SQL
}

# What the queries wait on during a run, counted by ftrace's function
# profiler where the kernel has it: the calls of, and the time in,
# migration_entry_wait_on_locked (a fault on a page whose migration is
# under way sleeps there until it ends) and __folio_lock (the slow path of
# a folio lock: a fault that first maps a page the migration holds
# locked); and the TLB shootdown interrupts (/proc/interrupts).
T=/sys/kernel/tracing
ENTRY_WAIT_FN=migration_entry_wait_on_locked
LOCK_WAIT_FN=__folio_lock
entry_wait_setup() {
	[ -e "$T/function_profile_enabled" ] || mount -t tracefs nodev "$T" 2>/dev/null || true
	if [ -e "$T/function_profile_enabled" ] &&
		grep -qx "$ENTRY_WAIT_FN" "$T/available_filter_functions" 2>/dev/null &&
		grep -qx "$LOCK_WAIT_FN" "$T/available_filter_functions" 2>/dev/null; then
		echo 0 >"$T/function_profile_enabled"
		echo nop >"$T/current_tracer"
		echo "$ENTRY_WAIT_FN" >"$T/set_ftrace_filter"
		echo "$LOCK_WAIT_FN" >>"$T/set_ftrace_filter"
		ENTRY_WAIT_PROFILE=1
	else
		log "no function profiler for $ENTRY_WAIT_FN and $LOCK_WAIT_FN here: waits not counted"
		ENTRY_WAIT_PROFILE=0
	fi
}

# profiled_waits FUNCTION: "CALLS MS" of FUNCTION since the profiler was
# turned on (the graph profiler's time, sleep included, is in us).
profiled_waits() {
	cat "$T"/trace_stat/function* |
		awk -v f="$1" '$1 == f { n += $2; t += ($4 == "ms" ? $3 * 1000 : $3) }
			END { printf "%d %.1f\n", n, t / 1000 }'
}
tlb_shootdowns() { awk '$1 == "TLB:" { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts; }

# renice_backend APPNAME NICE: the backend of the session that calls
# itself APPNAME to nice NICE, as its owner or root could with renice(1).
renice_backend() {
	local pid=""
	for _ in $(seq 1 50); do
		pid=$(psql_q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || { log "no session $1 to renice"; exit 1; }
	renice -n "$2" -p "$pid" >/dev/null
}

# ycsb_run DIR MIX CLIENTS SECONDS ROWS METHOD MODE BATCH PAUSE_MS RATE
#          [NICE [BURN_US]]:
# one run, in DIR (removed after): ycsb and its index back on node 0, then
# pgbench (experiments/pgbench/ycsb-MIX.sql, CLIENTS clients, SECONDS s)
# while a relocator moves them as relocate_sql says (METHOD none: no
# relocator; burn: burn_sql with BURN_US, moving nothing), its backend at
# nice NICE (default 0).  Sets TPS, LAT (p50,p95,p99 ms), FAILED
# (transactions), MOVES, MOVED (pages), RELOC_S (the relocator's seconds,
# else SECONDS), RELOC_CPU_S, PAGES_PER_S (MOVED / RELOC_S), and over the
# load ENTRY_WAITS, ENTRY_WAIT_MS, LOCK_WAITS, LOCK_WAIT_MS (empty without
# entry_wait_setup's profiler) and TLB_SHOOTDOWNS.
# shellcheck disable=SC2034 # the variables are the caller's
ycsb_run() {
	local dir=$1 mix=$2 clients=$3 secs=$4 rows=$5 method=$6 mode=$7
	local batch=$8 pause_ms=$9 rate=${10} nice=${11:-0} burn_us=${12:-0} reloc="" tlb0
	psql_q "SELECT mp2_migrate('ycsb', 0), mp2_migrate('ycsb_pkey', 0)" >/dev/null
	mkdir -p "$dir"
	chown "$PG_USER": "$dir"
	[ "${ENTRY_WAIT_PROFILE:-0}" = 1 ] && echo 1 >"$T/function_profile_enabled"
	tlb0=$(tlb_shootdowns)
	if [ "$method" != none ]; then
		if [ "$method" = burn ]; then
			burn_sql "$batch" "$secs" "$rate" "$burn_us" >"$dir/reloc.sql"
		else
			relocate_sql "$method" "$mode" "$batch" "$secs" "$pause_ms" "$rate" >"$dir/reloc.sql"
		fi
		PGAPPNAME=mp2-reloc as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
			-f "$dir/reloc.sql" >"$dir/reloc.log" 2>&1 &
		reloc=$!
		[ "$nice" = 0 ] || renice_backend mp2-reloc "$nice"
	fi
	(cd "$dir" && as_pg "$PGBIN/pgbench" -n -c "$clients" -j "$clients" \
		-T "$secs" -D rows="$rows" --log --log-prefix=tx \
		-f "$TOP/experiments/pgbench/ycsb-$mix.sql" >"$dir/pgbench.log" 2>&1)
	MOVES=0 MOVED=0 RELOC_S=$secs RELOC_CPU_S=0
	if [ -n "$reloc" ]; then
		wait "$reloc" || { cat "$dir/reloc.log"; exit 1; }
		read -r MOVES MOVED RELOC_S RELOC_CPU_S < <(sed -n 's/.*relocated \([0-9]*\) \([0-9]*\) \([0-9.]*\) \([0-9.]*\).*/\1 \2 \3 \4/p' "$dir/reloc.log")
	fi
	TLB_SHOOTDOWNS=$(($(tlb_shootdowns) - tlb0))
	ENTRY_WAITS="" ENTRY_WAIT_MS="" LOCK_WAITS="" LOCK_WAIT_MS=""
	if [ "${ENTRY_WAIT_PROFILE:-0}" = 1 ]; then
		echo 0 >"$T/function_profile_enabled"
		read -r ENTRY_WAITS ENTRY_WAIT_MS < <(profiled_waits "$ENTRY_WAIT_FN")
		read -r LOCK_WAITS LOCK_WAIT_MS < <(profiled_waits "$LOCK_WAIT_FN")
	fi
	TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/pgbench.log" | head -n 1)
	FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$dir/pgbench.log")
	FAILED=${FAILED:-0}
	LAT=$(percentiles "$dir"/tx.*)
	PAGES_PER_S=$(awk -v p="$MOVED" -v s="$RELOC_S" 'BEGIN { printf("%.0f", (s > 0) ? p / s : 0) }')
	rm -rf "$dir"
}

# The latency percentiles (ms) of pgbench's per-transaction logs:
# p50,p95,p99.
percentiles() {
	cat "$@" | awk '{ print $3 / 1000.0 }' | sort -n | awk '
		function at(q,  i) { i = int(NR * q) + 1; return v[i < NR ? i : NR] }
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print ",,"; exit }
			printf "%.3f,%.3f,%.3f\n", at(0.50), at(0.95), at(0.99)
		}'
}
