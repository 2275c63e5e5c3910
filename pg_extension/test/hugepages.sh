# SPDX-License-Identifier: MIT
# huge_pages = on: the pool lives in 2 MiB pages, each the unit of
# locating and moving.  Source pglib.sh first, then call huge_tests LABEL
# with the cluster stopped; it reserves huge pages on every node, starts
# the server with huge_pages = on and CAP_SYS_NICE, and stops it again.

HUGE_PER_NODE=${MP2_HUGE_PER_NODE:-48}

hp_dir() {
	echo "/sys/devices/system/node/node$1/hugepages/hugepages-2048kB"
}

# Huge pages in use on node $1.
hp_used() {
	local d
	d=$(hp_dir "$1")
	echo $(($(cat "$d/nr_hugepages") - $(cat "$d/free_hugepages")))
}

hp_reserve() {
	local n
	for n in 0 1; do
		echo "$1" >"$(hp_dir "$n")/nr_hugepages" || return 1
	done
}

huge_tests() {
	local label=$1 n r moved used0 used1 aft0 aft1 ps

	if [ ! -d "$(hp_dir 1)" ]; then
		skip "huge pages: no node 1 or no 2 MiB huge pages in this kernel"
		suite_end "$label"
		return 0
	fi
	hp_reserve "$HUGE_PER_NODE"
	for n in 0 1; do
		check "huge pages: $HUGE_PER_NODE reserved on node $n" \
			[ "$(cat "$(hp_dir "$n")/nr_hugepages")" = "$HUGE_PER_NODE" ]
	done
	if ! pg_start cap -o "-c huge_pages=on"; then
		not_ok "huge pages: server starts with huge_pages = on"
		hp_reserve 0
		suite_end "$label"
		return 1
	fi
	ok "huge pages: server starts with huge_pages = on"

	psql_q "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2" >/dev/null
	check "huge pages: mp2 sees 2 MiB pages" \
		[ "$(psql_q "SELECT huge_pages AND page_size = 2097152 FROM mp2_info()")" = t ]

	# Looking allocates nothing: on a fresh server most huge pages of the
	# pool were never faulted in, and must stay so.
	used0=$(hp_used 0)
	used1=$(hp_used 1)
	r=$(psql_q "SELECT node, os_pages FROM mp2_buffer_nodes()" | tr '\n' ' ')
	aft0=$(hp_used 0)
	aft1=$(hp_used 1)
	echo "fresh pool: $r; huge pages in use: node 0 $used0 -> $aft0, node 1 $used1 -> $aft1"
	check "huge pages: mp2_buffer_nodes() faults nothing in (node 0 $used0 -> $aft0, node 1 $used1 -> $aft1)" \
		[ "$aft0" = "$used0" -a "$aft1" = "$used1" ]
	check "huge pages: pages never faulted in are reported so (node NULL)" \
		[ "$(psql_q "SELECT os_pages > 0 FROM mp2_buffer_nodes() WHERE node IS NULL")" = t ]
	used0=$(hp_used 0)
	used1=$(hp_used 1)
	psql_q "SELECT count(*) FROM mp2_relation_nodes('pg_class')" >/dev/null
	check "huge pages: mp2_relation_nodes() faults nothing in" \
		[ "$(hp_used 0)" = "$used0" -a "$(hp_used 1)" = "$used1" ]
	psql_q "CREATE TABLE mp2_h AS
	        SELECT g AS id, repeat('h', 200) AS pad FROM generate_series(1, 30000) g" >/dev/null
	psql_q "SELECT count(*) FROM mp2_h" >/dev/null
	psql_q "SELECT * FROM mp2_buffer_nodes()"
	check "huge pages: every page counted in 2 MiB units" \
		[ "$(psql_q "SELECT sum(os_pages) = (SELECT pool_pages FROM mp2_info())
		              AND bool_and(page_size = 2097152) FROM mp2_buffer_nodes()")" = t ]

	# The huge pages that exist may all be on node 1 already (where the
	# table's writer ran): gather them on node 0 first, so that each move
	# below has pages to move.
	psql_q "SELECT * FROM mp2_migrate_pool(0, mode => 'sync')" >/dev/null
	for n in 1 0; do
		used0=$(hp_used 0)
		used1=$(hp_used 1)
		r=$(psql_q "SELECT moved, already, failed_busy, failed_shared, not_tried, page_size
		              FROM mp2_migrate_pool($n, mode => 'sync')")
		echo "whole pool to node $n: moved|already|busy|shared|not_tried|page_size = $r"
		moved=${r%%|*}
		ps=${r##*|}
		aft0=$(hp_used 0)
		aft1=$(hp_used 1)
		echo "huge pages in use: node 0 $used0 -> $aft0, node 1 $used1 -> $aft1"
		check "huge pages: reported in 2 MiB pages (to node $n)" [ "$ps" = 2097152 ]
		check "huge pages: some moved to node $n" [ "${moved:-0}" -gt 0 ]
		if [ "$n" = 1 ]; then
			check "huge pages: node 1 gained the $moved moved pages" [ $((aft1 - used1)) -eq "$moved" ]
			check "huge pages: node 0 gave them up" [ $((used0 - aft0)) -eq "$moved" ]
		else
			check "huge pages: node 0 gained the $moved moved pages" [ $((aft0 - used0)) -eq "$moved" ]
			check "huge pages: node 1 gave them up" [ $((used1 - aft1)) -eq "$moved" ]
		fi
		check "huge pages: mp2_buffer_nodes() shows the pool on node $n" \
			[ "$(psql_q "SELECT coalesce(sum(os_pages) FILTER (WHERE node <> $n), 0) = 0
			              FROM mp2_buffer_nodes()")" = t ]
	done

	# One relation: the huge pages that hold its buffers.
	r=$(psql_q "SELECT moved > 0 AND page_size = 2097152 FROM mp2_migrate('mp2_h', 1, mode => 'sync')")
	check "huge pages: a relation's huge pages move" [ "$r" = t ]
	check "huge pages: the relation is on node 1" \
		[ "$(psql_q "SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM 1), 0) = 0
		              FROM mp2_relation_nodes('mp2_h')")" = t ]
	check "huge pages: data intact" [ "$(psql_q "SELECT count(*) FROM mp2_h")" = 30000 ]
	psql_q "DROP TABLE mp2_h" >/dev/null

	pg_stop
	hp_reserve 0
	suite_end "$label"
}

hp1g_dir() {
	echo "/sys/devices/system/node/node$1/hugepages/hugepages-1048576kB"
}

hp1g_used() {
	local d
	d=$(hp1g_dir "$1")
	echo $(($(cat "$d/nr_hugepages") - $(cat "$d/free_hugepages")))
}

# huge_1g_tests LABEL: huge_page_size = 1GB, in a guest that reserved one
# 1 GiB page on each node at boot (run-guest.sh --huge-1g 1).  Looking
# and moving take a whole 1 GiB page at a time, whose residency vector
# is larger than any fixed buffer.
huge_1g_tests() {
	local label=$1 n r sum0 sum1 used0 used1 on

	for n in 0 1; do
		check "1 GiB pages: one reserved on node $n at boot" \
			[ "$(cat "$(hp1g_dir "$n")/nr_hugepages" 2>/dev/null)" = 1 ]
	done
	if ! pg_start cap -o "-c huge_pages=on -c huge_page_size=1GB"; then
		not_ok "1 GiB pages: server starts with huge_page_size = 1GB"
		suite_end "$label"
		return 1
	fi
	ok "1 GiB pages: server starts with huge_page_size = 1GB"
	psql_q "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2" >/dev/null
	check "1 GiB pages: mp2 sees 1 GiB pages" \
		[ "$(psql_q "SELECT huge_pages AND page_size = 1073741824 FROM mp2_info()")" = t ]
	psql_q "CREATE TABLE mp2_g AS
	        SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g" >/dev/null
	sum0=$(psql_q "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM mp2_g")
	r=$(psql_q "SELECT node, os_pages, page_size FROM mp2_buffer_nodes()" | tr '\n' ' ')
	echo "pool: $r"
	check "1 GiB pages: mp2_buffer_nodes() counts the pool in one 1 GiB page" \
		[ "$(psql_q "SELECT sum(os_pages) = 1 AND bool_and(page_size = 1073741824)
		              FROM mp2_buffer_nodes() WHERE node IS NOT NULL")" = t ]
	check "1 GiB pages: mp2_relation_nodes() sees the table" \
		[ "$(psql_q "SELECT sum(os_pages) FROM mp2_relation_nodes('mp2_g') WHERE node IS NOT NULL")" = 1 ]
	on=$(psql_q "SELECT node FROM mp2_buffer_nodes() WHERE os_pages > 0 AND node IS NOT NULL")
	for n in $((1 - ${on:-0})) "${on:-0}"; do
		used0=$(hp1g_used 0)
		used1=$(hp1g_used 1)
		r=$(psql_q "SELECT moved, already, failed_busy, failed_nomem, page_size
		              FROM mp2_migrate_pool($n, mode => 'sync')")
		echo "whole pool to node $n: moved|already|busy|nomem|page_size = $r"
		check "1 GiB pages: the pool's page moved to node $n ($r)" [ "$r" = "1|0|0|0|1073741824" ]
		check "1 GiB pages: node $n holds it (in use: node 0 $used0 -> $(hp1g_used 0), node 1 $used1 -> $(hp1g_used 1))" \
			[ "$(hp1g_used "$n"),$(hp1g_used $((1 - n)))" = 1,0 ]
		check "1 GiB pages: mp2_buffer_nodes() shows it on node $n" \
			[ "$(psql_q "SELECT node FROM mp2_buffer_nodes() WHERE os_pages > 0 AND node IS NOT NULL")" = "$n" ]
	done
	sum1=$(psql_q "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM mp2_g")
	check "1 GiB pages: the table's bytes are unchanged" [ "${sum0:-none}" = "${sum1:-unread}" ]
	check "1 GiB pages: no backend crashed" \
		sh -c "! grep -qE 'terminated by signal|server process .* was terminated' '$PGTMP/server.log'"
	psql_q "DROP TABLE mp2_g" >/dev/null
	pg_stop
	suite_end "$label"
}
