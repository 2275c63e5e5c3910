# SPDX-License-Identifier: MIT
# Integrity under load: pgbench runs while the whole buffer pool is moved
# back and forth between two nodes.  Source pglib.sh first, then call
# load_tests LABEL against a running cluster whose server has
# CAP_SYS_NICE.
#
# The pgbench run is deterministic (fixed seed, fixed number of
# transactions per client), and TPC-B's updates commute, so the same run
# without any moves must leave every table with the same contents.  Those
# hashes are taken before the moves: by load_reference on the host
# (check-guest.sh passes them in MP2_LOAD_REF, one table per ';'), or
# else on a copy of the database in the same cluster.

LOAD_SCALE=${MP2_LOAD_SCALE:-5}
LOAD_TX=${MP2_LOAD_TX:-600}
# The run under moves is held to this many transactions per second, so
# that it lasts (at least 2 * LOAD_TX / LOAD_RATE seconds) while the pool
# moves, however fast the machine.  Throttling draws from its own random
# state in pgbench, so the transactions stay the same.
LOAD_RATE=${MP2_LOAD_RATE:-60}
LOAD_MOVES=${MP2_LOAD_MOVES:-10}

# table_hashes DB: one line per pgbench table: name, rows, hash of the
# contents (history without its timestamp, whose values differ per run).
table_hashes() {
	psql_q -d "$1" "
		SELECT 'accounts', count(*), sum(hashtext(t::text)::bigint) FROM pgbench_accounts t
		UNION ALL
		SELECT 'branches', count(*), sum(hashtext(t::text)::bigint) FROM pgbench_branches t
		UNION ALL
		SELECT 'tellers', count(*), sum(hashtext(t::text)::bigint) FROM pgbench_tellers t
		UNION ALL
		SELECT 'history', count(*), sum(hashtext(t::text)::bigint)
		  FROM (SELECT tid, bid, aid, delta FROM pgbench_history) t"
}

# pgbench_run DB [OPTIONS]
pgbench_run() {
	local db=$1
	shift
	as_pg "$PGBIN/pgbench" -n -c 2 -j 2 -t "$LOAD_TX" --random-seed=4242 "$@" "$db"
}

# What pgbench reports as its number of failed transactions (15+), or
# "none" when it does not say.
failed_tx() {
	sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$1" | head -n 1
}

# load_reference: in the running cluster, the hashes of a run without
# moves, as one line.
load_reference() {
	psql_q "DROP DATABASE IF EXISTS mp2ref" >/dev/null 2>&1
	psql_q "CREATE DATABASE mp2ref" >/dev/null
	as_pg "$PGBIN/pgbench" -i -q -s "$LOAD_SCALE" mp2ref >/dev/null 2>&1 &&
		pgbench_run mp2ref >/dev/null 2>&1 &&
		table_hashes mp2ref | tr '\n' ';'
	psql_q "DROP DATABASE mp2ref" >/dev/null
}

load_tests() {
	local label=$1 out=$PGTMP/load bench rc moves last absent others ref_h load_h
	mkdir -p "$out"
	chown "$PG_USER": "$out"

	psql_q "DROP DATABASE IF EXISTS mp2load" >/dev/null 2>&1
	psql_q "DROP DATABASE IF EXISTS mp2ref" >/dev/null 2>&1
	psql_q "CREATE DATABASE mp2load" >/dev/null
	if ! as_pg "$PGBIN/pgbench" -i -q -s "$LOAD_SCALE" mp2load >"$out/init.log" 2>&1; then
		cat "$out/init.log"
		not_ok "load: pgbench -i -s $LOAD_SCALE"
		suite_end "$label"
		return 1
	fi
	ok "load: pgbench -i -s $LOAD_SCALE"
	if [ -z "${MP2_LOAD_REF:-}" ]; then
		psql_q "CREATE DATABASE mp2ref TEMPLATE mp2load" >/dev/null
	fi
	psql_q -d mp2load "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null

	# Every buffer in use, so every page of the pool exists before the
	# moves and none comes into being (on some node) during them.
	psql_q -d mp2load "SELECT pg_prewarm('pgbench_accounts')" >/dev/null
	absent=$(psql_q -d mp2load "SELECT os_pages FROM mp2_buffer_nodes() WHERE node IS NULL")
	check "load: the whole pool is in memory ($absent pages absent)" [ "$absent" = 0 ]

	# The reference: the same transactions, no moves.
	if [ -n "${MP2_LOAD_REF:-}" ]; then
		ref_h=$MP2_LOAD_REF
		echo "load: hashes of the run without moves, taken on the host: $ref_h"
	elif pgbench_run mp2ref >"$out/ref.log" 2>&1; then
		ok "load: reference pgbench run"
		ref_h=$(table_hashes mp2ref | tr '\n' ';')
		check "load: reference reports 0 failed transactions" [ "$(failed_tx "$out/ref.log")" = 0 ]
		psql_q "DROP DATABASE mp2ref" >/dev/null
	else
		cat "$out/ref.log"
		not_ok "load: reference pgbench run"
	fi

	# The run under moves.
	pgbench_run mp2load -R "$LOAD_RATE" >"$out/bench.log" 2>&1 &
	bench=$!
	sleep 1
	psql_q -d mp2load "
		CREATE TABLE mp2_moves AS
		SELECT i, i % 2 AS target, m.*
		  FROM generate_series(1, $LOAD_MOVES) AS i,
		       LATERAL mp2_migrate_pool(i % 2) AS m" >"$out/moves.log" 2>&1
	rc=$?
	if kill -0 "$bench" 2>/dev/null; then
		ok "load: $LOAD_MOVES moves of the whole pool while pgbench ran"
	else
		not_ok "load: pgbench ended before the $LOAD_MOVES moves did (raise MP2_LOAD_TX)"
	fi
	wait "$bench"
	check "load: pgbench exited 0" [ $? -eq 0 ]
	check "load: the moves ran" [ "$rc" -eq 0 ]
	cat "$out/moves.log"
	psql_q -d mp2load "
		SELECT i, target, requested, moved, already, failed_busy, failed_shared,
		       failed_other, not_tried, round(elapsed_ms::numeric, 1) AS ms
		  FROM mp2_moves ORDER BY i"
	check "load: every move moved pages" \
		[ "$(psql_q -d mp2load "SELECT bool_and(moved > 0) FROM mp2_moves")" = t ]
	check "load: no page refused or lost" \
		[ "$(psql_q -d mp2load "SELECT sum(failed_shared + failed_other + not_tried) FROM mp2_moves")" = 0 ]
	grep -E '^(number of (transactions|failed)|tps)' "$out/bench.log"
	check "load: pgbench reports 0 failed transactions" [ "$(failed_tx "$out/bench.log")" = 0 ]
	check "load: all transactions done" \
		grep -q "^number of transactions actually processed: $((2 * LOAD_TX))/$((2 * LOAD_TX))" "$out/bench.log"

	# The same contents as without moves.
	load_h=$(table_hashes mp2load | tr '\n' ';')
	echo "load: hashes after the moves: $load_h"
	check "load: every table's hash equals the run without moves" [ -n "$ref_h" -a "$ref_h" = "$load_h" ]
	if [ "$ref_h" != "$load_h" ]; then
		echo "load: hashes without moves: $ref_h"
	fi

	amcheck_clean "load: pg_amcheck clean" mp2load "$out/amcheck.log"

	# The pages are where the last move sent them, but for the pages
	# that move could not take (busy).
	last=$(psql_q -d mp2load "SELECT target FROM mp2_moves ORDER BY i DESC LIMIT 1")
	others=$(psql_q -d mp2load "
		SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM $last), 0) -
		       (SELECT failed_busy FROM mp2_moves ORDER BY i DESC LIMIT 1)
		  FROM mp2_buffer_nodes()")
	psql_q -d mp2load "SELECT * FROM mp2_buffer_nodes()"
	check "load: mp2_buffer_nodes() shows the pool on node $last" [ "$others" -le 0 ]

	psql_q "DROP DATABASE mp2load" >/dev/null
	suite_end "$label"
}
