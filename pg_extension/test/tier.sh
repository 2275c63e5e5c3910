# SPDX-License-Identifier: MIT
# Policy tier's tests.  Source pglib.sh and worker.sh first.
#
#   tier_settings_tests LABEL   any machine, against the running cluster:
#                               bad settings are refused at reload and the
#                               previous ones kept
#   tier_tests LABEL            the four-node guest (nodes 0-1 with CPUs,
#                               2-3 memory only), a cluster of its own

sighups_above() {
	[ "$(grep -c 'received SIGHUP' "$PGTMP/server.log")" -gt "$1" ]
}

# reload_with NAME VALUE: put NAME = 'VALUE' in postgresql.conf, reload,
# and wait until the postmaster has read it.
reload_with() {
	local n0
	n0=$(grep -c 'received SIGHUP' "$PGTMP/server.log")
	echo "$1 = '$2'" >>"$PGDATA/postgresql.conf"
	psql_q "SELECT pg_reload_conf()" >/dev/null
	wait_for 30 sighups_above "$n0"
	sleep 1
}

# Take the lines reload_with added out again.
reload_clean() {
	local n0
	n0=$(grep -c 'received SIGHUP' "$PGTMP/server.log")
	sed -i '/^mp2\.\(fast_nodes\|slow_nodes\|fast_fraction\) = /d' "$PGDATA/postgresql.conf"
	psql_q "SELECT pg_reload_conf()" >/dev/null
	wait_for 30 sighups_above "$n0"
	sleep 1
}

last_error_has() {
	psql_q "SELECT last_error FROM mp2_worker_info()" | grep -q -- "$1"
}

# refused NAME VALUE KEPT MESSAGE...: reloading with NAME = VALUE is
# refused, each MESSAGE is in the server log, and NAME stays KEPT.
refused() {
	local name=$1 value=$2 kept=$3 m
	shift 3
	reload_with "$name" "$value"
	for m in "$@"; do
		check "tier: $name = '$value' is refused at reload: $m" log_has "$m"
	done
	check "tier: ... and $name stays '$kept'" \
		[ "$(psql_q "SHOW $name")" = "$kept" ]
	reload_clean
}

tier_settings_tests() {
	local label=$1 nodes
	phase "tier: settings"
	reload_clean
	check "tier: mp2.fast_fraction is 1 by default" [ "$(psql_q "SHOW mp2.fast_fraction")" = 1 ]
	refused mp2.fast_nodes 9 "" 'invalid value for parameter "mp2.fast_nodes": "9"' \
		"Node 9 does not exist or has no memory."
	refused mp2.fast_nodes "0-" "" 'invalid value for parameter "mp2.fast_nodes": "0-"' \
		"A node list looks like"
	refused mp2.fast_fraction 0 1 'invalid value for parameter "mp2.fast_fraction": 0' \
		"more than 0, at most 1"
	refused mp2.fast_fraction 1.5 1 \
		'1.5 is outside the valid range for parameter "mp2.fast_fraction" (0 .. 1)'
	# A node in both lists: node 0 has CPUs, so it is a fast node by default.
	refused mp2.slow_nodes 0 "" 'invalid value for parameter "mp2.slow_nodes": "0"' \
		'Node 0 is also a fast node (mp2.fast_nodes is "the nodes with CPUs").'
	reload_with mp2.fast_nodes 0
	check "tier: mp2.fast_nodes = '0' is taken" [ "$(psql_q "SHOW mp2.fast_nodes")" = 0 ]
	reload_with mp2.slow_nodes 0
	check "tier: then mp2.slow_nodes = '0' is refused" [ -z "$(psql_q "SHOW mp2.slow_nodes")" ]
	check "tier: ... saying node 0 is a fast node" \
		log_has 'Node 0 is also a fast node (mp2.fast_nodes is "0").'
	reload_clean

	check "tier: mp2_tier_info() is not for PUBLIC" \
		[ "$(psql_q "SELECT has_function_privilege('public', 'mp2_tier_info()', 'EXECUTE')")" = f ]
	nodes=$(psql_q "SELECT count(*) FROM mp2_numa_nodes() WHERE cpus = ''")
	if [ "$nodes" -eq 0 ]; then
		# Every node has CPUs: the round says there is no slow tier.
		set_and_reload "mp2.policy = 'tier'" "mp2.naptime = '1s'"
		check "tier: without memory-only nodes a round fails, saying why" \
			wait_for 30 last_error_has 'policy tier has no slow nodes'
		check "tier: ... and mp2_tier_info() has no rows" \
			[ "$(psql_q "SELECT count(*) FROM mp2_tier_info()")" = 0 ]
		set_and_reload "mp2.policy = 'off'"
	else
		skip "tier: a round without memory-only nodes (this machine has some)"
		skip "tier: mp2_tier_info() before a round"
	fi
	suite_end "$label"
}

# Pages of relation $1 (or of the pool, without $1) on nodes $2 (a list
# such as "0,1"), and in all.
pages_on() {
	local src="mp2_buffer_nodes()"
	[ -n "$1" ] && src="mp2_relation_nodes('$1')"
	psql_q "SELECT coalesce(sum(os_pages) FILTER (WHERE node IN ($2)), 0) || ' ' ||
	               coalesce(sum(os_pages) FILTER (WHERE node IS NOT NULL), 0)
	          FROM $src"
}

# share_on REL NODES MIN: at least MIN (0..1) of REL's pages are on NODES.
share_on() {
	local on all
	read -r on all <<<"$(pages_on "$1" "$2")"
	[ "$all" -gt 0 ] && awk -v a="$on" -v b="$all" -v m="$3" 'BEGIN { exit !(a >= m * b) }'
}

tier_row() {
	psql_q "SELECT $2 FROM mp2_tier_info() WHERE tier = '$1'"
}

tier_rounds() {
	psql_q "SELECT rounds FROM mp2_worker_info()"
}

# Wait for the next round of the worker to end.
next_round() {
	local r0
	r0=$(tier_rounds)
	for _ in $(seq 1 120); do
		[ "$(tier_rounds)" -gt "$r0" ] && return 0
		sleep 0.5
	done
	return 1
}

# The fast tier holds no more than its cap, by the worker's count (as its
# last round found it) and by the kernel's (the pool's pages on nodes 0
# and 1, now).
within_cap() {
	local cap fast on all
	cap=$(tier_row fast cap_pages)
	fast=$(tier_row fast pages)
	read -r on all <<<"$(pages_on "" "0,1")"
	[ -n "$cap" ] && [ "$fast" -le "$cap" ] && [ "$on" -le "$cap" ] || {
		echo "# over the cap: cap $cap, worker counts $fast, kernel $on"
		return 1
	}
}

tier_tests() {
	local label=$1 dir=/tmp/mp2-tier r r0 r1 m0 m1 per hot rounds ok_cap=1 txns sum cold0 cold1 bg
	phase "tier: four nodes, the pool first touched on the slow ones (2, 3)"
	if [ "$(cat /sys/devices/system/node/has_cpu)" != "0-1" ] ||
		[ "$(cat /sys/devices/system/node/has_memory)" != "0-3" ]; then
		skip "tier: needs nodes 0-1 with CPUs and 2-3 with memory only"
		suite_end "$label"
		return 0
	fi
	pg_cluster_init "$dir" || { not_ok "tier: initdb"; suite_end "$label"; return 1; }
	cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = 256MB
mp2.naptime = '1s'
mp2.fast_fraction = 0.25
mp2.max_pages_per_round = 0
CONF
	# Every process of the server allocates on the slow nodes only: the
	# worst start a server can have.  Only mp2 moves pages to 0 and 1.
	if ! as_pg_cap numactl --membind=2,3 "$PGBIN/pg_ctl" -D "$PGDATA" \
		-l "$PGTMP/server.log" -w -t 300 start >"$PGTMP/pg_ctl.log" 2>&1; then
		cat "$PGTMP/pg_ctl.log"
		not_ok "tier: the server starts under numactl --membind=2,3"
		suite_end "$label"
		return 1
	fi
	psql_q "CREATE EXTENSION mp2; CREATE EXTENSION amcheck; CREATE EXTENSION pg_prewarm" >/dev/null
	as_pg "$PGBIN/pgbench" -i -s 1 -q postgres >"$dir/pgbench-init.log" 2>&1
	psql_q "CREATE TABLE tier_cold AS
	          SELECT g, md5(g::text) || repeat('x', 400) AS pad
	            FROM generate_series(1, 120000) g" >/dev/null
	cold0=$(psql_q "SELECT md5(string_agg(pad, '' ORDER BY g)) FROM tier_cold")
	psql_q "SELECT pg_prewarm('tier_cold'), pg_prewarm('pgbench_accounts'),
	               pg_prewarm('pgbench_accounts_pkey')" >/dev/null
	check "tier: before the policy, none of the pool is on nodes 0-1" \
		share_on "" "2,3" 1
	echo "# pool: $(pages_on "" "0,1") pages on 0-1 of all; tier_cold $(pages_on tier_cold "2,3") on 2-3"

	# Where postgres can read it, whoever owns the tree.
	install -m 644 "$TOP/experiments/pgbench/tier-hot.sql" "$dir/"
	set_and_reload "mp2.policy = 'tier'"
	# Long enough for the phases below; what is left is waited for.
	as_pg "$PGBIN/pgbench" -n -c 2 -j 2 -T 150 -D rows=100000 \
		-f "$dir/tier-hot.sql" postgres \
		>"$dir/pgbench.log" 2>&1 &
	bg=$!

	phase "tier: the hot table moves to nodes 0-1"
	r0=$(tier_rounds)
	rounds=""
	while [ $(($(tier_rounds) - r0)) -lt 60 ]; do
		next_round || break
		within_cap || ok_cap=0
		if share_on pgbench_accounts "0,1" 0.85; then
			rounds=$(($(tier_rounds) - r0))
			break
		fi
	done
	check "tier: 85% of the hot table on nodes 0-1 within 60 rounds (took ${rounds:-more})" [ -n "$rounds" ]
	echo "# hot table $(pages_on pgbench_accounts "0,1") on 0-1; $(psql_q "SELECT tier, pages, hot_pages, cap_pages, promoted_total, demoted_total, round(use_share::numeric, 3) FROM mp2_tier_info()" | tr '\n' ';')"
	check "tier: the cold table stayed on nodes 2-3" share_on tier_cold "2,3" 0.99

	phase "tier: steady load, few moves"
	r0=$(tier_rounds)
	m0=$(tier_row fast "promoted_total + demoted_total")
	while [ $(($(tier_rounds) - r0)) -lt 10 ]; do
		next_round || break
		within_cap || ok_cap=0
	done
	r1=$(tier_rounds)
	m1=$(tier_row fast "promoted_total + demoted_total")
	hot=$(tier_row fast hot_pages)
	per=$(((m1 - m0) / (r1 - r0)))
	echo "# $((m1 - m0)) pages moved in $((r1 - r0)) rounds: $per a round; $hot hot pages on the fast tier"
	check "tier: steady load moves at most 10% of the hot pages a round ($per of $hot)" \
		[ "$per" -le $((hot / 10 + 5)) ]
	check "tier: the fast tier is mostly used pages" \
		[ "$(psql_q "SELECT use_share >= 0.9 FROM mp2_tier_info() WHERE tier = 'fast'")" = t ]

	phase "tier: a lower cap is honoured"
	set_and_reload "mp2.fast_fraction = 0.01"
	for r in 1 2 3 4 5; do
		next_round || break
		within_cap && break
	done
	check "tier: within 5 rounds the fast tier is within a cap of 1%" within_cap
	check "tier: ... and holds hot pages only" \
		[ "$(tier_row fast "hot_pages = pages")" = t ]
	set_and_reload "mp2.fast_fraction = 0.25"
	check "tier: the fast tier never held more than its cap" [ "$ok_cap" -eq 1 ]

	wait "$bg"
	grep -E 'processed|failed|tps' "$dir/pgbench.log" | sed 's/^/# /'
	txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/pgbench.log")
	check "tier: pgbench ran, no failed transaction" \
		grep -q 'number of failed transactions: 0 ' "$dir/pgbench.log"
	sum=$(psql_q "SELECT sum(abalance) FROM pgbench_accounts")
	check "tier: every update is there (sum of balances $sum = $txns transactions)" \
		[ -n "$txns" -a "$sum" = "$txns" ]

	phase "tier: without load, the hot pages go cold, then back to 2-3"
	# Pages used until the end are not cold before 8 rounds without a use.
	local back=""
	r0=$(tier_rounds)
	while [ $(($(tier_rounds) - r0)) -lt 5 ]; do next_round || break; done
	check "tier: 5 rounds after the load, most of the hot table is still on 0-1" \
		share_on pgbench_accounts "0,1" 0.5
	while [ $(($(tier_rounds) - r0)) -lt 20 ]; do
		next_round || break
		if share_on pgbench_accounts "2,3" 0.99; then
			back=$(($(tier_rounds) - r0))
			break
		fi
	done
	check "tier: then it is back on 2-3 within 20 rounds (took ${back:-more})" [ -n "$back" ]
	# At 99% up to 1% of the table may still be on its way (76 pages once,
	# PostgreSQL 18): three rounds to settle, then three to count.
	r0=$(tier_rounds)
	while [ $(($(tier_rounds) - r0)) -lt 3 ]; do next_round || break; done
	r0=$(tier_rounds)
	m0=$(tier_row fast "promoted_total + demoted_total")
	while [ $(($(tier_rounds) - r0)) -lt 3 ]; do next_round || break; done
	m1=$(tier_row fast "promoted_total + demoted_total")
	# (The catalog pages the test's own queries use may still move.)
	check "tier: then next to nothing moves ($((m1 - m0)) pages in 3 rounds)" [ $((m1 - m0)) -le 64 ]

	set_and_reload "mp2.policy = 'off'"
	cold1=$(psql_q "SELECT md5(string_agg(pad, '' ORDER BY g)) FROM tier_cold")
	check "tier: the cold table's bytes are unchanged" [ "$cold0" = "$cold1" ]
	check "tier: amcheck finds the heap and index intact" \
		[ "$(psql_q "SELECT count(*) FROM verify_heapam('pgbench_accounts')")" = 0 ]
	check "tier: ... and the primary key" \
		psql_q "SELECT bt_index_check('pgbench_accounts_pkey', true)"
	check "tier: no worker round failed" [ "$(psql_q "SELECT failed_rounds FROM mp2_worker_info()")" = 0 ]
	pg_stop
	suite_end "$label"
}
