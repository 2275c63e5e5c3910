# SPDX-License-Identifier: MIT
# mp2.pool_thp: the pool in 2 MiB transparent huge pages of shared memory.
# Source pglib.sh first, then call thp_tests LABEL with the cluster
# stopped.  It sets /sys/kernel/mm/transparent_hugepage/shmem_enabled to
# advise (and back), and starts the server three times: with
# mp2.pool_thp = off, on, and on while the kernel says never.
#
# What the pool got is checked against the kernel's own count, the
# ShmemHugePages of each node's meminfo (nothing else in the guest uses
# shared memory huge pages), never assumed from the setting.

THP_ENABLED=/sys/kernel/mm/transparent_hugepage/shmem_enabled
# A table of 80 MB in a 96 MB pool: more than one window of a migration
# (16384 pages, 64 MB), so that a folio split between two windows would
# show as pages counted already there.
THP_ROWS=${MP2_THP_ROWS:-350000}

# 2 MiB shared memory huge pages on node $1, from the kernel.
thp_on_node() {
	awk '/ShmemHugePages:/ { print $4 / 2048 }' \
		"/sys/devices/system/node/node$1/meminfo"
}

thp_vmstat() {
	awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat
}

# thp_start POOL_THP: the server with a 96 MB pool and mp2.pool_thp.
thp_start() {
	pg_start cap -o "-c shared_buffers=96MB -c mp2.pool_thp=$1 -c mp2.start_worker=off" &&
		psql_q "SET client_min_messages = warning;
		        CREATE EXTENSION IF NOT EXISTS mp2;
		        CREATE EXTENSION IF NOT EXISTS pg_prewarm;
		        CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null
}

# thp_fill ROWS: a table of ROWS rows, read into the pool; prints its bytes.
thp_fill() {
	psql_q "DROP TABLE IF EXISTS mp2_thp;
	        CREATE TABLE mp2_thp AS
	          SELECT g AS id, md5(g::text) || repeat('t', 160) AS pad
	            FROM generate_series(1, $1) g;
	        ALTER TABLE mp2_thp ADD PRIMARY KEY (id)" >/dev/null
	psql_q "SELECT pg_prewarm('mp2_thp'), pg_prewarm('mp2_thp_pkey')" >/dev/null
	psql_q "SELECT pg_relation_size('mp2_thp')"
}

# thp_fault_pool: every buffer of the 96 MB pool used once, so that the
# whole pool is faulted in before anything moves.  A buffer first used
# later would fault in a new 2 MiB page on the node of the CPU that used
# it (seen on 18: 44 pages before a move to node 0, 45 after, one of them
# on node 1).  One row per page of a 101 MB table, read through the pool;
# then the test's table is read back in.
thp_fault_pool() {
	psql_q "CREATE TABLE mp2_thp_fill WITH (fillfactor = 10) AS
	          SELECT g AS id, repeat('f', 700) AS pad
	            FROM generate_series(1, 13000) g;
	        SELECT pg_prewarm('mp2_thp_fill');
	        DROP TABLE mp2_thp_fill;
	        SELECT pg_prewarm('mp2_thp'), pg_prewarm('mp2_thp_pkey')" >/dev/null
}

thp_sum() {
	psql_q "SELECT md5(string_agg(id || ':' || pad, ',' ORDER BY id)) FROM mp2_thp"
}

thp_tests() {
	local label=$1 saved r bytes want sum0 n n0 n1 a0 a1 total split0 moved already other

	if [ ! -w "$THP_ENABLED" ] || [ ! -d /sys/devices/system/node/node1 ]; then
		skip "pool THP: no $THP_ENABLED or no node 1"
		suite_end "$label"
		return 0
	fi
	saved=$(sed -E 's/.*\[([a-z_]+)\].*/\1/' "$THP_ENABLED")
	echo advise >"$THP_ENABLED"

	# mp2.pool_thp = off: the pool is in 4 kB pages.
	if thp_start off; then
		ok "pool THP: server starts with mp2.pool_thp = off"
		thp_fill 50000 >/dev/null
		r=$(psql_q "SELECT pool_thp, pool_thp_pages, page_size FROM mp2_info()")
		echo "pool_thp = off: mp2_info() pool_thp|pool_thp_pages|page_size = $r; kernel: node 0 $(thp_on_node 0), node 1 $(thp_on_node 1)"
		check "pool THP off: mp2_info() says off, no 2 MiB pages, 4 kB pages" [ "$r" = "off|0|4096" ]
		check "pool THP off: the kernel has no shared memory huge pages" \
			[ $(($(thp_on_node 0) + $(thp_on_node 1))) -eq 0 ]
		pg_stop
	else
		not_ok "pool THP: server starts with mp2.pool_thp = off"
	fi

	# mp2.pool_thp = on: 2 MiB folios, which move whole and stay 2 MiB.
	if ! thp_start on; then
		not_ok "pool THP: server starts with mp2.pool_thp = on"
		echo "$saved" >"$THP_ENABLED"
		suite_end "$label"
		return 1
	fi
	ok "pool THP: server starts with mp2.pool_thp = on"
	check "pool THP: the server log says the pool was advised" \
		grep -q "mp2.pool_thp: advised transparent huge pages for [0-9]* MB of the buffer pool" \
		"$PGTMP/server.log"
	bytes=$(thp_fill "$THP_ROWS")
	thp_fault_pool
	sum0=$(thp_sum)
	r=$(psql_q "SELECT pool_thp, pool_thp_pages, page_size FROM mp2_info()")
	n0=$(thp_on_node 0)
	n1=$(thp_on_node 1)
	total=$((n0 + n1))
	# Every whole 2 MiB of the table's buffers, less one at each end.
	want=$((bytes / 2097152 - 2))
	echo "pool_thp = on: table $bytes bytes; mp2_info() pool_thp|pool_thp_pages|page_size = $r; kernel: node 0 $n0, node 1 $n1"
	check "pool THP on: mp2_info() says advised" [ "${r%%|*}" = advised ]
	check "pool THP on: the table's buffers are in 2 MiB pages (kernel: $total, at least $want)" \
		[ "$total" -ge "$want" ]
	check "pool THP on: mp2_info() counts the kernel's $total" [ "$r" = "advised|$total|4096" ]

	# Gather the pool on node 0, then move it to 1 and back.
	psql_q "SELECT * FROM mp2_migrate_pool(0)" >/dev/null
	split0=$(thp_vmstat thp_split_page)
	for n in 1 0; do
		other=$((1 - n))
		n0=$(thp_on_node 0)
		n1=$(thp_on_node 1)
		r=$(psql_q "SELECT moved, already, failed_busy + failed_shared + failed_nomem + failed_other
		              FROM mp2_migrate_pool($n)")
		moved=${r%%|*}
		already=$(echo "$r" | cut -d'|' -f2)
		a0=$(thp_on_node 0)
		a1=$(thp_on_node 1)
		echo "whole pool to node $n: moved|already|failed = $r; 2 MiB pages: node 0 $n0 -> $a0, node 1 $n1 -> $a1"
		check "pool THP: to node $n, nothing failed" [ "${r##*|}" = 0 ]
		# The pool was all on the other node.  PostgreSQL 18 still counts
		# one page as already there in each move (which one is not known);
		# the rest of a folio split between two windows would be up to 511.
		check "pool THP: to node $n, at most 8 pages counted as already there ($already)" \
			[ "${already:-999}" -le 8 ]
		check "pool THP: to node $n, every 2 MiB page moved whole ($((n0 + n1)) on node $n, 0 on node $other)" \
			[ "$(thp_on_node "$n")" -eq $((n0 + n1)) -a "$(thp_on_node "$other")" -eq 0 ]
		check "pool THP: to node $n, still $total 2 MiB pages" [ $((a0 + a1)) -eq "$total" ]
		check "pool THP: to node $n, the 512 OS pages of each 2 MiB counted moved ($moved >= $((total * 512)))" \
			[ "${moved:-0}" -ge $((total * 512)) ]
		check "pool THP: mp2_buffer_nodes() shows the pool on node $n" \
			[ "$(psql_q "SELECT coalesce(sum(os_pages) FILTER (WHERE node <> $n), 0) = 0
			              FROM mp2_buffer_nodes()")" = t ]
	done
	# Interleaving takes turns by 2 MiB: each folio moves once, whole.
	before=$(($(thp_on_node 0) + $(thp_on_node 1)))
	r=$(psql_q "SELECT failed_busy + failed_shared + failed_nomem + failed_other
	              FROM mp2_interleave_pool(ARRAY[0, 1])")
	a0=$(thp_on_node 0)
	a1=$(thp_on_node 1)
	total=$((a0 + a1))
	echo "interleaved over nodes 0 and 1: failed = $r; 2 MiB pages: node 0 $a0, node 1 $a1 ($before before)"
	check "pool THP: interleaved, nothing failed" [ "$r" = 0 ]
	check "pool THP: interleaved, no 2 MiB page lost or added ($before -> $total)" [ "$total" -eq "$before" ]
	check "pool THP: interleaved, the 2 MiB pages take turns ($a0 and $a1 of $total)" \
		[ $((a0 - a1)) -le 1 -a $((a1 - a0)) -le 1 ]
	check "pool THP: no huge page was split (thp_split_page $split0 -> $(thp_vmstat thp_split_page))" \
		[ "$(thp_vmstat thp_split_page)" = "$split0" ]
	r=$(psql_q "SELECT pool_thp_pages FROM mp2_info()")
	check "pool THP: mp2_info() counts the kernel's 2 MiB pages ($r, kernel $total)" [ "$r" = "$total" ]
	check "pool THP: the table's bytes are unchanged" [ "$(thp_sum)" = "$sum0" ]
	r=$(psql_q "SELECT (SELECT count(*) FROM verify_heapam('mp2_thp')),
	                   (SELECT bt_index_check('mp2_thp_pkey', true) IS NOT NULL)")
	check "pool THP: amcheck finds heap and index intact" [ "$r" = "0|t" ]
	psql_q "DROP TABLE mp2_thp" >/dev/null
	pg_stop

	# mp2.pool_thp = on where the kernel says never: a warning and a hint.
	echo never >"$THP_ENABLED"
	if thp_start on; then
		r=$(psql_q "SELECT pool_thp FROM mp2_info()")
		check "pool THP, shmem_enabled never: mp2_info() says why ($r)" \
			[ "$r" = "unavailable: shmem_enabled is never" ]
		check "pool THP, shmem_enabled never: the server log warns with a hint" \
			grep -q "HINT:  As root: echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled, then restart the server." \
			"$PGTMP/server.log"
		pg_stop
	else
		not_ok "pool THP: server starts with mp2.pool_thp = on and shmem_enabled never"
	fi
	echo "$saved" >"$THP_ENABLED"
	suite_end "$label"
}
