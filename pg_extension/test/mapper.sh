# SPDX-License-Identifier: MIT
# The worker's warm mapping (mapper.c, mp2.warm_mapping).  Source pglib.sh first.
#
#   mapper_tests LABEL   any machine, against the running cluster (mp2
#                        preloaded): a backend locates the pool through the
#                        worker's page tables without faulting the pool into
#                        its own, gets the answer it would get alone, and
#                        falls back to faulting when the worker is gone

MAP_DB=mp2_mapper

# The pool pages that exist, as mp2_buffer_nodes() counts them.
pool_pages_located() {
	psql_q -d $MAP_DB "SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL"
}

warm_mapping_on() {
	[ "$(psql_q "SHOW mp2.warm_mapping")" = on ]
}

# Whether the worker's last full pass mapped at least $1 pages.
mapper_mapped_at_least() {
	[ "$(psql_q -d $MAP_DB "SELECT coalesce(mapper_pages, -1) >= $1 FROM mp2_info()")" = t ]
}

# look_in_new_session: in one new session, the node counts of
# mp2_buffer_nodes() ("node:pages,..."), then how many kB of shared memory
# the call faulted into that backend (RssShmem after less before).
look_in_new_session() {
	as_pg "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d $MAP_DB <<'EOF'
CREATE TEMP TABLE rss AS
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\s+(\d+) kB')::bigint AS kb;
SELECT string_agg(coalesce(node::text, 'none') || ':' || os_pages, ',' ORDER BY node)
  FROM mp2_buffer_nodes();
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\s+(\d+) kB')::bigint - kb
  FROM rss;
EOF
}

# counts_agree A B SLACK: two "node:pages,..." lists name the same nodes,
# the same pages in all, and per node differ by at most SLACK pages (a
# live server writes new pages between two looks: on PostgreSQL 18, 2).
counts_agree() {
	[ -n "$1" ] && [ -n "$2" ] || return 1
	awk -v a="$1" -v b="$2" -v slack="$3" 'BEGIN {
		na = split(a, x, ","); nb = split(b, y, ",")
		if (na != nb) exit 1
		for (i = 1; i <= na; i++) {
			split(x[i], p, ":"); split(y[i], q, ":")
			if (p[1] != q[1]) exit 1
			d = p[2] - q[2]; if (d < 0) d = -d
			if (d > slack) exit 1
			ta += p[2]; tb += q[2]
		}
		exit ta != tb
	}'
}

mapper_tests() {
	local label=$1 pages page_kb with without grown pid
	phase "$label"
	psql_q "DROP DATABASE IF EXISTS $MAP_DB WITH (FORCE)" >/dev/null
	psql_q "CREATE DATABASE $MAP_DB" >/dev/null
	psql_q -d $MAP_DB "CREATE EXTENSION mp2" >/dev/null
	check "$label: mp2.warm_mapping is off by default, and then there is no mapper" \
		[ "$(psql_q -d $MAP_DB "SELECT current_setting('mp2.warm_mapping') || (mapper_pid IS NULL)::text FROM mp2_info()")" = offtrue ]
	echo "mp2.warm_mapping = on" >>"$PGDATA/postgresql.conf"
	psql_q "SELECT pg_reload_conf()" >/dev/null
	wait_for 30 warm_mapping_on
	if [ -z "$(psql_q -d $MAP_DB "SELECT mapper_pid FROM mp2_info()")" ]; then
		psql_q -d $MAP_DB "SELECT mp2_worker_start()" >/dev/null
	fi
	# About 24 MB of buffers that exist (shared_buffers is 128 MB).
	psql_q -d $MAP_DB "CREATE TABLE mapped AS SELECT g AS id, repeat('x', 200) AS pad
		FROM generate_series(1, 100000) g; SELECT count(*) FROM mapped" >/dev/null
	pages=$(pool_pages_located)
	page_kb=$(($(psql_q -d $MAP_DB "SELECT page_size FROM mp2_info()") / 1024))
	pid=$(psql_q -d $MAP_DB "SELECT pid FROM mp2_worker_info()")
	check "$label: mp2_info() names the worker ($pid) as the mapper" \
		[ "$(psql_q -d $MAP_DB "SELECT mapper_pid FROM mp2_info()")" = "$pid" ]
	check "$label: the worker maps the $pages pages that exist within 30 s" \
		wait_for 30 mapper_mapped_at_least "$pages"

	mapfile -t with < <(look_in_new_session)
	echo "# through the worker: ${with[0]}, ${with[1]} kB faulted in"
	check "$label: a new session locates the pool faulting in under a tenth of it (${with[1]} of $((pages * page_kb)) kB)" \
		[ "${with[1]:-999999999}" -lt $((pages * page_kb / 10)) ]

	# Without the worker, the backend faults in what it locates.
	check "$label: mp2_worker_stop()" [ "$(psql_q -d $MAP_DB "SELECT mp2_worker_stop()")" = t ]
	check "$label: mp2_info() has no mapper without the worker" \
		[ "$(psql_q -d $MAP_DB "SELECT mapper_pid IS NULL FROM mp2_info()")" = t ]
	mapfile -t without < <(look_in_new_session)
	echo "# in the backend: ${without[0]}, ${without[1]} kB faulted in"
	grown=$(( ${without[1]:-0} - ${with[1]:-0} ))
	check "$label: alone, a new session faults in over half of the pool (${without[1]} kB)" \
		[ "${without[1]:-0}" -ge $((pages * page_kb / 2)) ]
	check "$label: both ways count the same pages per node, but for pages written in between (${with[0]}; ${without[0]})" \
		counts_agree "${with[0]}" "${without[0]}" 64
	echo "# faulting in the pool alone cost $grown kB more than through the worker"

	psql_q -d $MAP_DB "SELECT mp2_worker_start()" >/dev/null
	sed -i '/^mp2\.warm_mapping = /d' "$PGDATA/postgresql.conf"
	psql_q "SELECT pg_reload_conf()" >/dev/null
	psql_q "DROP DATABASE IF EXISTS $MAP_DB WITH (FORCE)" >/dev/null
	suite_end "$label"
}
