# SPDX-License-Identifier: MIT
# A target node that runs out of memory: node 1 is filled with huge pages
# reserved by hugetlbfs until less of it is free than the pool holds,
# while pgbench runs.  Moving the pool there is a partial result with
# failed_nomem counted (move_pages2 and move_pages alike), nothing is
# killed, the worker backs off, pgbench loses no transaction and the
# database is as without moves (table hashes, pg_amcheck, pg_checksums).
# Source pglib.sh and load.sh first, then call nomem_tests LABEL with the
# cluster stopped; it starts and stops the server itself.

NOMEM_POOL_MB=128
# What node 1 keeps free, in MB: well under the pool.
NOMEM_FREE_MB=24

node_free_mb() {
	awk '/MemFree:/ { print int($4 / 1024) }' "/sys/devices/system/node/node$1/meminfo"
}

oom_kills() {
	awk '$1 == "oom_kill" { print $2 }' /proc/vmstat
}

nomem_hp() {
	echo "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
}

# Fill node 1 with 2 MiB huge pages, then give NOMEM_FREE_MB of them
# back.  Asking for all of the node makes the kernel reclaim its page
# cache for them too; counting MemFree alone left that cache, which a
# move reclaims in turn (measured: 51 MB free, yet 81 MB of the pool
# moved there and none refused).
# The machine's clean page cache is dropped and memory compacted first.
# Measured without it, in one guest boot: 917 huge pages reserved where
# other boots reserved 968-980, then 11118 pages of the pool moved into
# the 22 MB left free with none refused.  That the moves reclaimed page
# cache in the gaps is the likely reason; it was not measured.
drop_clean_cache() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/compact_memory
}

squeeze_node1() {
	local all
	drop_clean_cache
	echo 1024 >"$(nomem_hp)"
	all=$(cat "$(nomem_hp)")
	echo $((all > NOMEM_FREE_MB / 2 ? all - NOMEM_FREE_MB / 2 : 0)) >"$(nomem_hp)"
}

# failed_round_gaps N: the seconds between the ends of N + 1 failed
# rounds in a row, as the worker reports them.  Naptime 1 s and rounds of
# constant length R give gaps of R + 1, R + 2, R + 4, ... (or later terms)
# with the back-off, R + 1 each without (measured: 4.4 8.4 16.4 32.4).
failed_round_gaps() {
	local n=$1 f last prev="" gaps="" end=$((SECONDS + 240)) t
	f=$(psql_q -d mp2nomem "SELECT failed_rounds FROM mp2_worker_info()")
	while [ "$(wc -w <<<"$gaps")" -lt "$n" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
		last=$(psql_q -d mp2nomem "SELECT failed_rounds || ' ' || extract(epoch FROM last_round)
		                             FROM mp2_worker_info()")
		[ "${last%% *}" -gt "$f" ] || continue
		f=${last%% *}
		t=${last#* }
		[ -n "$prev" ] && gaps="$gaps $(awk -v a="$prev" -v b="$t" 'BEGIN { printf "%.1f", b - a }')"
		prev=$t
	done
	echo "${gaps# }"
}

nomem_round_failed() {
	[ -n "$(psql_q -d mp2nomem "SELECT last_error FROM mp2_worker_info()")" ]
}

# The worker, interleaving the pool onto both nodes while node 1 has no
# room at all: each round fails for want of memory, and the rounds back
# off (naptime 1 s, then 2, 4, ...).
nomem_worker_tests() {
	local f0 r
	f0=$(psql_q -d mp2nomem "SELECT failed_rounds FROM mp2_worker_info()")
	drop_clean_cache
	echo 1024 >"$(nomem_hp)"
	echo "out of memory: node 1 has $(node_free_mb 1) MB free, $(cat "$(nomem_hp)") huge pages reserved, before the worker interleaves"
	# Unbounded rounds: each tries every page, so each meets the ones that
	# do not fit.
	echo "ALTER SYSTEM SET mp2.policy = 'interleave';
	      ALTER SYSTEM SET mp2.max_pages_per_round = 0; SELECT pg_reload_conf();" |
		as_pg "$PGBIN/psql" -X -q -At -d postgres -f - >/dev/null
	if wait_for 180 nomem_round_failed; then
		ok "out of memory: a worker round fails"
	else
		not_ok "out of memory: a worker round fails"
		echo "out of memory: node 1 has $(node_free_mb 1) MB free"
		psql_q -d mp2nomem "SELECT * FROM mp2_worker_info()"
		psql_q -d mp2nomem "SELECT * FROM mp2_stats()"
		grep 'mp2' "$PGTMP/server.log" | tail -20
	fi
	r=$(psql_q -d mp2nomem "SELECT failed_rounds - $f0, last_error FROM mp2_worker_info()")
	check "out of memory: ... counted as a failed round, naming the cause ($r)" \
		grep -qE '^[1-9][0-9]*\|[0-9]+ pages not moved: their target nodes are out of memory$' <<<"$r"
	r=$(failed_round_gaps 3)
	echo "out of memory: seconds between failed rounds: $r"
	check "out of memory: the worker backs off: the 3rd gap between failed rounds is 3 s longer than the 1st ($r)" \
		awk -v g="$r" 'BEGIN { n = split(g, a, " "); exit !(n == 3 && a[3] - a[1] >= 3) }'
	check "out of memory: logged once" \
		[ "$(grep -c 'pages not moved: their target nodes are out of memory' "$PGTMP/server.log")" = 1 ]
	echo "ALTER SYSTEM RESET mp2.policy; ALTER SYSTEM RESET mp2.max_pages_per_round;
	      SELECT pg_reload_conf();" |
		as_pg "$PGBIN/psql" -X -q -At -d postgres -f - >/dev/null
}

nomem_tests() {
	local label=$1 out=$PGTMP/nomem bench r m pm0 oom0 free ref_h load_h
	mkdir -p "$out"
	chown "$PG_USER": "$out"
	if [ ! -e "$(nomem_hp)" ]; then
		skip "out of memory: no node 1 or no 2 MiB huge pages in this kernel"
		suite_end "$label"
		return 0
	fi
	# The server allocates on node 0 only, so that only the moves fill
	# node 1: with its processes allocating there too (tmpfs pages of the
	# WAL under pgbench), the room left there was gone before a move came
	# (measured: 0 pages moved, 21830 refused).
	if ! as_pg_cap numactl --membind=0 "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" \
		-w -t 300 -o "-c shared_buffers=${NOMEM_POOL_MB}MB -c mp2.naptime=1s" start \
		>"$PGTMP/pg_ctl.log" 2>&1; then
		cat "$PGTMP/pg_ctl.log"
		not_ok "out of memory: the server starts under numactl --membind=0"
		suite_end "$label"
		return 1
	fi
	psql_q "DROP DATABASE IF EXISTS mp2nomem" >/dev/null 2>&1
	psql_q "CREATE DATABASE mp2nomem" >/dev/null
	as_pg "$PGBIN/pgbench" -i -q -s "$LOAD_SCALE" mp2nomem >"$out/init.log" 2>&1 ||
		cat "$out/init.log"
	psql_q -d mp2nomem "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm;
	                    SELECT pg_prewarm('pgbench_accounts')" >/dev/null
	psql_q -d mp2nomem "SELECT moved FROM mp2_migrate_pool(0, mode => 'sync')" >/dev/null
	pm0=$(psql_q "SELECT pg_postmaster_start_time()")
	oom0=$(oom_kills)

	squeeze_node1
	free=$(node_free_mb 1)
	echo "out of memory: node 1 has $free MB free, $(cat "$(nomem_hp)") huge pages reserved there"
	check "out of memory: node 1 has less free ($free MB) than the pool ($NOMEM_POOL_MB MB)" \
		[ "$free" -lt $((NOMEM_POOL_MB / 2)) ]

	pgbench_run mp2nomem -R "$LOAD_RATE" >"$out/bench.log" 2>&1 &
	bench=$!
	sleep 1
	for m in move_pages2 move_pages; do
		if [ "$m" = move_pages2 ] && [ ! -e /sys/kernel/mm/move_pages2/version ]; then
			skip "out of memory: the kernel has no move_pages2"
			continue
		fi
		squeeze_node1
		echo "out of memory: node 1 has $(node_free_mb 1) MB free"
		r=$(psql_q -d mp2nomem "
			SELECT requested, moved, failed_nomem, not_tried
			  FROM mp2_migrate_pool(1, method => '$m', mode => 'sync')" 2>&1)
		echo "out of memory: whole pool to node 1 with $m: requested|moved|failed_nomem|not_tried = $r"
		check "out of memory: $m is a result, not an error, with every page tried and failed_nomem counted ($r)" \
			[ "$(echo "$r" | awk -F'|' 'NF == 4 && $3 > 0 && $4 == 0 { print "yes" }')" = yes ]
		# How many pages fit is not asserted: with 21 to 33 MB free on
		# node 1, runs moved from 0 to 8929 of them, with either method
		# (why so few at times was not measured).
		psql_q -d mp2nomem "SELECT moved FROM mp2_migrate_pool(0, mode => 'sync')" >/dev/null
	done
	nomem_worker_tests

	wait "$bench"
	check "out of memory: pgbench exited 0" [ $? -eq 0 ]
	grep -E '^(number of (transactions|failed)|tps)' "$out/bench.log"
	check "out of memory: pgbench reports 0 failed transactions" [ "$(failed_tx "$out/bench.log")" = 0 ]
	check "out of memory: all transactions done" \
		grep -q "^number of transactions actually processed: $((2 * LOAD_TX))/$((2 * LOAD_TX))" "$out/bench.log"
	check "out of memory: no process was OOM-killed ($oom0 -> $(oom_kills))" [ "$(oom_kills)" = "$oom0" ]
	check "out of memory: the server never restarted" \
		[ "$(psql_q "SELECT pg_postmaster_start_time()")" = "$pm0" ]
	echo 0 >"$(nomem_hp)"

	ref_h=${MP2_LOAD_REF:-}
	load_h=$(table_hashes mp2nomem | tr '\n' ';')
	echo "out of memory: hashes $load_h"
	check "out of memory: every table's hash equals the run without moves" [ -n "$ref_h" -a "$ref_h" = "$load_h" ]
	amcheck_clean "out of memory: pg_amcheck clean" mp2nomem "$out/amcheck.log"
	pg_stop
	if as_pg "$PGBIN/pg_checksums" --check -D "$PGDATA" >"$out/checksums.log" 2>&1; then
		ok "out of memory: pg_checksums clean"
	else
		cat "$out/checksums.log"
		not_ok "out of memory: pg_checksums clean"
	fi
	pg_start && psql_q "DROP DATABASE mp2nomem" >/dev/null
	pg_stop
	suite_end "$label"
}
