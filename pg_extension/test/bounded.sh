# SPDX-License-Identifier: MIT
# Work-sized memory and cancel: a whole-pool migration is stopped by a
# query cancel and by statement_timeout between two system calls, with
# the counters of what moved kept; and the private memory of a backend
# that looks at or moves the whole pool does not grow with
# shared_buffers.  Source pglib.sh first, then call bounded_tests LABEL
# with the cluster stopped; it starts and stops the server itself.

# The table that fills part of the pool in both runs, in MB.
BOUNDED_TABLE_MB=${MP2_BOUNDED_TABLE_MB:-48}

# stop_mid_migration LABEL HOW: a whole-pool migration that takes seconds
# (one page per move_pages call), stopped after 0.3 s by HOW: cancel
# (pg_cancel_backend) or timeout (statement_timeout).
stop_mid_migration() {
	local label=$1 how=$2 out bg pid set="" msg r pages
	out=$(mktemp)
	psql_q "SELECT * FROM mp2_migrate_pool(0, mode => 'sync')" >/dev/null
	psql_q "SELECT mp2_stats_reset()" >/dev/null
	pages=$(psql_q "SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL")
	[ "$how" = timeout ] && set="SET statement_timeout = '300ms';"
	msg="canceling statement due to user request"
	[ "$how" = timeout ] && msg="canceling statement due to statement timeout"
	PGAPPNAME=mp2_stop as_pg "$PGBIN/psql" -X -q -At -d postgres \
		-c "$set SELECT * FROM mp2_migrate_pool(1, method => 'move_pages', batch_size => 1)" \
		>"$out" 2>&1 &
	bg=$!
	if [ "$how" = cancel ]; then
		pid=""
		while [ -z "$pid" ] && kill -0 "$bg" 2>/dev/null; do
			pid=$(backend_of mp2_stop)
		done
		sleep 0.3
		check "$label: pg_cancel_backend() reaches it" \
			[ "$(psql_q "SELECT pg_cancel_backend($pid)")" = t ]
	fi
	wait "$bg"
	cat "$out"
	check "$label: $how stops it with \"$msg\"" grep -q "ERROR:  $msg" "$out"
	check "$label: the error's context says what moved" \
		grep -qE "CONTEXT:  mp2_migrate_pool stopped after [0-9]+ of [0-9]+ pages: [1-9][0-9]* moved" "$out"
	r=$(psql_q "SELECT migrations, moved > 0, not_tried > 0, moved < $pages
	              FROM mp2_stats() WHERE method = 'move_pages'")
	check "$label: counters kept: one migration, some moved, the rest not tried ($r)" \
		[ "$r" = "1|t|t|t" ]
	rm -f "$out"
}

bounded_tests() {
	local label=$1 sb out peak_look peak_move last
	declare -A look move
	out=$(mktemp)

	for sb in 128 1024; do
		phase "bounded: shared_buffers = ${sb}MB"
		if ! pg_start cap -o "-c shared_buffers=${sb}MB"; then
			not_ok "$label: server starts with shared_buffers = ${sb}MB"
			continue
		fi
		psql_q "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2;
		        CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
		if [ -z "$(psql_q "SELECT 1 FROM pg_class WHERE relname = 'mp2_fill'")" ]; then
			psql_q "CREATE TABLE mp2_fill AS
			        SELECT g AS id, repeat('f', 1000) AS pad
			          FROM generate_series(1, $BOUNDED_TABLE_MB * 896) g" >/dev/null
		fi
		psql_q "SELECT pg_prewarm('mp2_fill')" >/dev/null
		psql_q "SELECT * FROM mp2_migrate_pool(0, mode => 'sync')" >/dev/null
		last=$(psql_q "SELECT max(node) FROM mp2_numa_nodes()")

		look[$sb]=$(run_measured mp2_look "SELECT * FROM mp2_buffer_nodes()" "$out")
		echo "mp2_buffer_nodes(): $(tr '\n' ' ' <"$out")"
		move[$sb]=$(run_measured mp2_move \
			"SELECT requested, moved, already, not_present, not_tried
			   FROM mp2_migrate_pool($last, method => 'move_pages', batch_size => 64)" "$out")
		echo "mp2_migrate_pool($last): $(cat "$out")"
		echo "shared_buffers ${sb}MB: peak private memory of the backend: looking ${look[$sb]} kB, moving ${move[$sb]} kB"

		if [ "$sb" = 128 ]; then
			if [ "$last" -gt 0 ]; then
				stop_mid_migration "$label" cancel
				stop_mid_migration "$label" timeout
			else
				skip "$label: stopping a migration midway needs two nodes"
			fi
		fi
		pg_stop
	done
	rm -f "$out"

	# The old code held several arrays with an entry per page of the pool:
	# 2 MB and more for 1 GB of 4 kB pages.
	check "$label: the backends were measured" \
		[ "${look[128]:-0}" -gt 0 -a "${look[1024]:-0}" -gt 0 -a \
		  "${move[128]:-0}" -gt 0 -a "${move[1024]:-0}" -gt 0 ]
	peak_look=$((${look[1024]:-0} - ${look[128]:-0}))
	peak_move=$((${move[1024]:-0} - ${move[128]:-0}))
	check "$label: looking at a 1 GB pool takes no more private memory than at 128 MB (+${peak_look} kB)" \
		[ "$peak_look" -le 512 ]
	check "$label: moving a 1 GB pool takes no more private memory than 128 MB (+${peak_move} kB)" \
		[ "$peak_move" -le 512 ]
	suite_end "$label"
}
