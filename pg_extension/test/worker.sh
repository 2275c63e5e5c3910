# SPDX-License-Identifier: MIT
# The relocation worker's tests, against a running cluster started by
# pglib.sh with mp2 preloaded (so its worker runs in database postgres).
# Source pglib.sh first, then call worker_tests LABEL.
#
# On one node every placement check holds trivially; on several it shows
# that the policy took effect.

# psql_s: run the SQL on stdin statement by statement (ALTER SYSTEM).
psql_s() {
	as_pg "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres -f -
}

w_info() {
	psql_q "SELECT $1 FROM mp2_worker_info()"
}

# The worker has ended more than $1 rounds.
rounds_past() {
	[ "$(w_info rounds)" -ge "$1" ]
}

# The worker's last error contains $1 ("": there is none).
last_error_has() {
	local e
	e=$(w_info last_error)
	if [ -z "$1" ]; then [ -z "$e" ]; else [[ "$e" == *"$1"* ]]; fi
}

# The worker reports a policy once a round under it has ended.
policy_is() {
	[ "$(w_info policy)" = "$1" ]
}

w_running() {
	[ -n "$(w_info pid)" ]
}

set_and_reload() {
	{
		for s in "$@"; do
			echo "ALTER SYSTEM SET $s;"
		done
		echo "SELECT pg_reload_conf();"
	} | psql_s >/dev/null
}

# The interleave policy is in effect: every node holds its share of the
# pages that exist, within 2% (pages busy in a round are moved later).
interleaved() {
	[ "$(psql_q "
		WITH b AS (SELECT node, os_pages FROM mp2_buffer_nodes()
		            WHERE node IS NOT NULL),
		     t AS (SELECT sum(os_pages)::float8 AS s, count(*) AS n FROM b)
		SELECT bool_and(abs(os_pages - s / n) <= 0.02 * s / n + 8)
		  FROM b, t")" = t ]
}

# All pages that exist are on node $1, but for 1% (busy ones).
all_on() {
	[ "$(psql_q "
		SELECT coalesce(sum(os_pages) FILTER (WHERE node <> $1), 0) <=
		       0.01 * sum(os_pages) + 8
		  FROM mp2_buffer_nodes() WHERE node IS NOT NULL")" = t ]
}

relation_on() {
	[ "$(psql_q "
		SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM $2), 0) = 0
		   AND sum(os_pages) > 0
		  FROM mp2_relation_nodes('$1')")" = t ]
}

# Processes of the relocation worker (it is in no database, so not in
# pg_stat_activity).
worker_procs() {
	pgrep -fc 'postgres: mp2 relocation worker' || true
}

no_worker_procs() {
	[ "$(worker_procs)" = 0 ]
}

log_has() {
	grep -q -- "$1" "$PGTMP/server.log"
}

# The worker has moved more than $1 pages in all.  The count is taken
# before the policy that moves them is set: a round of one page a call
# can end within the 2 s a check before and after it would take.
moved_past() {
	local b
	b=$(w_info pages_moved)
	[ -n "$b" ] && [ "$b" -gt "$1" ]
}

worker_tests() {
	local label=$1 last pool bound r0 r1 pid pid2 t0 t1 failed0 rounds0 m0 m1 secs

	psql_q "CREATE EXTENSION IF NOT EXISTS mp2" >/dev/null
	psql_q "CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null
	psql_q "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
	psql_q "DROP TABLE IF EXISTS mp2_w" >/dev/null 2>&1
	psql_q "CREATE TABLE mp2_w AS
	        SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 120000) g" >/dev/null
	psql_q "SELECT pg_prewarm('mp2_w')" >/dev/null
	psql_q "CREATE INDEX mp2_w_id ON mp2_w (id)" >/dev/null
	last=$(psql_q "SELECT max(node) FROM mp2_numa_nodes()")
	pool=$(psql_q "SELECT pool_pages FROM mp2_info()")

	check "worker: the preloaded worker runs" wait_for 30 w_running
	pid=$(w_info pid)

	# Interleave within a bounded number of naptimes.  A round moves at
	# most 4096 pages, so ceil(pool / 4096) rounds reach every page,
	# plus 3 for pages that were busy or came into use meanwhile.
	bound=$(((pool + 4095) / 4096 + 3))
	psql_q "SELECT * FROM mp2_migrate_pool(0)" >/dev/null
	r0=$(w_info rounds)
	set_and_reload "mp2.policy = 'interleave'" "mp2.naptime = '1s'" \
		"mp2.max_pages_per_round = 4096" "mp2.interleave_nodes = ''"
	if wait_for $((bound * 3 + 20)) interleaved; then
		r1=$(w_info rounds)
		check "worker: interleave in effect after $((r1 - r0)) rounds (bound $bound)" \
			[ $((r1 - r0)) -le "$bound" ]
	else
		not_ok "worker: interleave not in effect within $((bound * 3 + 20)) s"
		psql_q "SELECT * FROM mp2_buffer_nodes()"
		psql_q "SELECT * FROM mp2_worker_info()"
	fi
	check "worker: policy interleave reported" wait_for 10 policy_is interleave

	phase "worker: SIGHUP"
	# SIGHUP: a new node list is followed.
	set_and_reload "mp2.interleave_nodes = '$last'"
	check "worker: SIGHUP change followed (all pages on node $last)" \
		wait_for $((bound * 3 + 20)) all_on "$last"
	check "worker: reload logged" log_has "mp2 worker: reloaded"
	check "worker: same process after reload" [ "$(w_info pid)" = "$pid" ]

	# A node without memory is refused when it is set, not once a round
	# (a failed round is tested with the rules below).
	check "worker: mp2.interleave_nodes naming a node without memory is refused" \
		psql_fails "ALTER SYSTEM SET mp2.interleave_nodes = '63'" \
		"Node 63 is not a NUMA node with memory"
	check "worker: ... and the setting stays" \
		[ "$(psql_q "SHOW mp2.interleave_nodes")" = "$last" ]
	set_and_reload "mp2.interleave_nodes = ''"

	phase "worker: mp2.max_rate"
	if [ "$last" -gt 0 ]; then
		# The whole pool to move again (half of its pages: 4096 with 32 MB),
		# at 200 pages a second at most: 6 s allow well under half.
		set_and_reload "mp2.policy = 'off'"
		psql_q "SELECT * FROM mp2_migrate_pool(0)" >/dev/null
		# libmp2 paces each move from its start, whose first call goes at
		# once: at most 200 pages a second plus one call (mp2.batch_size
		# pages) a round.
		set_and_reload "mp2.max_pages_per_round = 0" "mp2.max_rate = 200" \
			"mp2.batch_size = 32"
		m0=$(w_info pages_moved)
		r0=$(w_info rounds)
		t0=$(date +%s%N)
		set_and_reload "mp2.policy = 'interleave'"
		sleep 6
		m1=$(w_info pages_moved)
		r1=$(w_info rounds)
		t1=$(date +%s%N)
		secs=$(((t1 - t0) / 1000000))
		echo "# $((m1 - m0)) pages in $secs ms, $((r1 - r0)) rounds"
		check "worker: mp2.max_rate = 200 moves pages" [ "$m1" -gt "$m0" ]
		check "worker: ... at most 200 a second, a call a round aside ($((m1 - m0)) in $secs ms)" \
			[ $(((m1 - m0) * 1000)) -le $((200 * secs + 32000 * (r1 - r0 + 1))) ]
		set_and_reload "mp2.max_rate = 0" "mp2.max_pages_per_round = 4096" \
			"mp2.batch_size = DEFAULT"
	else
		skip "worker: mp2.max_rate (one node: nothing to move)"
		skip "worker: mp2.max_rate bound (one node)"
	fi

	phase "worker: rules"
	# Rules: the buffers of mp2_w go to the last node; rules naming a node
	# without memory or a dropped table are skipped.
	psql_q "SELECT count(*) FROM mp2_w" >/dev/null
	psql_q "SELECT * FROM mp2_migrate('mp2_w', 0)" >/dev/null
	psql_q "CREATE TABLE mp2_gone (a int); INSERT INTO mp2_rules VALUES ('mp2_gone', 0)" >/dev/null
	psql_q "DROP TABLE mp2_gone" >/dev/null
	psql_q "INSERT INTO mp2_rules VALUES ('mp2_w', $last)" >/dev/null
	check "worker: a rule naming node 99 is refused when written" \
		psql_fails "INSERT INTO mp2_rules VALUES ('pg_class', 99)" \
		"node 99 is not a NUMA node with memory"
	# Rules that became wrong after they were written: a node gone (the
	# trigger, disabled here, refuses to write one), a writer who may no
	# longer read the relation, a rule from before 1.4 with no writer.
	psql_q "CREATE ROLE regress_w_mover; GRANT mp2_mover TO regress_w_mover;
	        CREATE TABLE mp2_w_lost AS SELECT 1 AS a;
	        GRANT SELECT ON mp2_w_lost TO regress_w_mover;
	        SET ROLE regress_w_mover;
	        INSERT INTO mp2_rules VALUES ('mp2_w_lost', 0);
	        RESET ROLE;
	        REVOKE SELECT ON mp2_w_lost FROM regress_w_mover;
	        CREATE TABLE mp2_w_old AS SELECT 1 AS a;
	        ALTER TABLE mp2_rules DISABLE TRIGGER mp2_rules_write;
	        INSERT INTO mp2_rules VALUES ('pg_class', 99, current_user::text::regrole),
	                                     ('mp2_w_old', 0, NULL);
	        ALTER TABLE mp2_rules ENABLE TRIGGER mp2_rules_write" >/dev/null
	check "worker: the writer of the rule is recorded" \
		[ "$(psql_q "SELECT added_by FROM mp2_rules WHERE rel = 'mp2_w_lost'::regclass")" = regress_w_mover ]
	set_and_reload "mp2.policy = 'rules'"
	check "worker: rules put mp2_w on node $last" wait_for 60 relation_on mp2_w "$last"
	check "worker: skipped rules named once, each with its reason" wait_for 10 log_has \
		"rules skipped: mp2_w_lost (its writer may not read it); mp2_w_old (no writer recorded: write the rule again); pg_class (node 99 has no memory)"
	# The log line above comes from within the round that then reports.
	check "worker: policy rules reported" wait_for 10 policy_is rules
	r0=$(w_info rounds)
	check "worker: two more rules rounds" wait_for 20 rounds_past $((r0 + 2))
	check "worker: ... and the skipped rules not logged again in them" \
		[ "$(log_count "rules skipped:")" = 1 ]
	psql_q "DELETE FROM mp2_rules WHERE rel IN ('mp2_w_lost'::regclass, 'pg_class'::regclass, 'mp2_w_old'::regclass);
	        DROP TABLE mp2_w_lost, mp2_w_old; DROP ROLE regress_w_mover" >/dev/null

	# mp2_rules altered by its owner: columns added or dropped change
	# nothing (1.3 deformed each row into two slots: 20 more columns wrote
	# past them in the rules worker); a retyped column fails the round with
	# one clear error; no crash, no restart.
	pm0=$(psql_q "SELECT pg_postmaster_start_time()")
	cols=$(for i in $(seq 1 20); do printf 'ADD COLUMN c%d text DEFAULT %s,' "$i" "'x'"; done)
	psql_q "ALTER TABLE mp2_rules ${cols%,}" >/dev/null
	r0=$(w_info rounds)
	f0=$(w_info failed_rounds)
	check "worker: rules rounds go on with 20 columns added" \
		wait_for 20 rounds_past $((r0 + 2))
	check "worker: ... and none failed" [ "$(w_info failed_rounds)" = "$f0" ]
	psql_q "ALTER TABLE mp2_rules $(for i in $(seq 1 20); do printf 'DROP COLUMN c%d,' "$i"; done | sed 's/,$//')" >/dev/null
	r0=$(w_info rounds)
	check "worker: rules rounds go on with them dropped" wait_for 20 rounds_past $((r0 + 2))
	psql_q "ALTER TABLE mp2_rules ALTER COLUMN node TYPE bigint" >/dev/null
	check "worker: a retyped column fails the round, saying why" \
		wait_for 20 log_has "made it: its column node is of type bigint, not integer; no rules applied"
	check "worker: ... shown as the last error" \
		wait_for 10 last_error_has "its column node is of type bigint"
	psql_q "ALTER TABLE mp2_rules ALTER COLUMN node TYPE int" >/dev/null
	check "worker: rounds succeed again once it is given back" \
		wait_for 60 last_error_has ""
	check "worker: the server never restarted" \
		[ "$(psql_q "SELECT pg_postmaster_start_time()")" = "$pm0" ]
	rules_wedge_tests
	psql_q "DELETE FROM mp2_rules" >/dev/null

	phase "worker: long rounds"
	# Long rounds: one page per move_pages call (the slowest way) and no
	# bound, the pool on one node first so that interleaving has half of
	# it to move.
	psql_q "SELECT * FROM mp2_migrate_pool(0)" >/dev/null
	m0=$(w_info pages_moved)
	set_and_reload "mp2.policy = 'interleave'" "mp2.batch_size = 1" \
		"mp2.method = 'move_pages'" "mp2.mode = 'sync'" \
		"mp2.max_pages_per_round = 0"
	if [ "$last" -gt 0 ]; then
		check "worker: moving one page a call" wait_for 30 moved_past "$m0"
	else
		skip "worker: mid-round moves need two nodes"
	fi

	phase "worker: kill -9"
	# kill -9 during or right after a round: the postmaster reinitializes, the
	# server is healthy afterwards, the worker comes back.
	kill -9 "$pid"
	sleep 2
	check "worker: server back after kill -9" wait_for 120 pg_ready
	check "worker: worker restarted" wait_for 60 w_running
	pid2=$(w_info pid)
	check "worker: new worker process" [ -n "$pid2" -a "$pid2" != "$pid" ]
	check "worker: kill logged" log_has "was terminated by signal 9"
	check "worker: data intact (count)" [ "$(psql_q "SELECT count(*) FROM mp2_w")" = 120000 ]
	check "worker: index intact (amcheck)" index_ok mp2_w_id
	check "worker: heap clean" [ "$(psql_q "SELECT count(*) FROM verify_heapam('mp2_w')")" = 0 ]

	phase "worker: SIGTERM"
	# SIGTERM during or right after a round: it stops cleanly and soon, and is
	# not restarted.  The new shared memory after the crash holds only the
	# pages used since: read the table and gather the pool on node 0 with
	# the policy off, so that the worker does not race the gathering and
	# its next round, once the policy is back, has half of them to move.
	set_and_reload "mp2.policy = 'off'"
	wait_for 10 policy_is off
	psql_q "SELECT pg_prewarm('mp2_w')" >/dev/null
	psql_q "SELECT * FROM mp2_migrate_pool(0)" >/dev/null
	m0=$(w_info pages_moved)
	set_and_reload "mp2.policy = 'interleave'"
	if [ "$last" -gt 0 ]; then
		check "worker: moving again" wait_for 60 moved_past "$m0"
	fi
	t0=$(date +%s)
	# The slot is stopped, not a pid: the worker that came back after the
	# crash is the one that ends.
	check "worker: mp2_worker_stop() stops it" [ "$(psql_q "SELECT mp2_worker_stop()")" = t ]
	check "worker: the restarted worker (pid $pid2) is gone" wait_for 10 not_alive "$pid2"
	t1=$(date +%s)
	check "worker: stopped within 10 s" [ $((t1 - t0)) -le 10 ]
	check "worker: stop logged" log_has "mp2 worker stopping"
	sleep 7
	check "worker: not restarted after a clean stop" [ -z "$(w_info pid)" ]
	check "worker: no worker process" [ "$(worker_procs)" = 0 ]

	# On demand again, then stopped.
	check "worker: mp2_worker_start()" [ -n "$(psql_q "SELECT mp2_worker_start()")" ]
	check "worker: runs" wait_for 10 w_running
	check "worker: stopped again" [ "$(psql_q "SELECT mp2_worker_stop()")" = t ]

	lifecycle_tests

	psql_s >/dev/null <<'EOF'
ALTER SYSTEM RESET ALL;
SELECT pg_reload_conf();
DROP TABLE mp2_w;
EOF
	suite_end "$label"
}

# psql_fails SQL TEXT: SQL fails with an error that contains TEXT.
# A session that holds mp2_rules locked, and database defaults that make
# a transaction wait (serializable, read only, deferrable, while a
# serializable read-write transaction is open), do not stop the rounds or
# a reload.  Needs rules in effect and a worker with rounds 1 s apart.
rules_wedge_tests() {
	local bg r0 pid
	PGAPPNAME=mp2_locker as_pg "$PGBIN/psql" -X -q -At -d postgres \
		-c "BEGIN; LOCK TABLE mp2_rules IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" \
		>/dev/null 2>&1 &
	bg=$!
	check "worker: a session locks mp2_rules" wait_for 10 rules_locked
	check "worker: with mp2_rules locked, rounds skip the rules and say so" \
		wait_for 20 log_has "mp2_rules is locked by another session; no rules applied this round"
	check "worker: ... shown as the last error" \
		wait_for 10 last_error_has "is locked by another session"
	set_and_reload "mp2.policy = 'off'"
	check "worker: a reload to policy off takes effect while the lock is held" \
		wait_for 10 policy_is off
	set_and_reload "mp2.policy = 'rules'"
	pid=$(backend_of mp2_locker)
	psql_q "SELECT pg_terminate_backend($pid)" >/dev/null
	wait "$bg" 2>/dev/null
	check "worker: rules rounds succeed again once the lock is gone" \
		wait_for 30 last_error_has ""

	# The test's own sessions are read-write and not deferrable, so that
	# they neither fail nor wait.
	export PGOPTIONS="-c default_transaction_read_only=off -c default_transaction_deferrable=off"
	psql_q "ALTER DATABASE postgres SET default_transaction_isolation = 'serializable';
	        ALTER DATABASE postgres SET default_transaction_read_only = on;
	        ALTER DATABASE postgres SET default_transaction_deferrable = on" >/dev/null
	PGAPPNAME=mp2_serial as_pg "$PGBIN/psql" -X -q -At -d postgres \
		-c "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE; SELECT count(*) FROM mp2_rules; SELECT pg_sleep(60)" \
		>/dev/null 2>&1 &
	bg=$!
	check "worker: a serializable read-write transaction is open" \
		wait_for 10 serial_open
	r0=$(w_info rounds)
	check "worker: rules rounds go on under serializable deferrable read-only database defaults" \
		wait_for 20 rounds_past $((r0 + 2))
	check "worker: ... without an error" last_error_has ""
	psql_q "ALTER DATABASE postgres RESET default_transaction_isolation;
	        ALTER DATABASE postgres RESET default_transaction_read_only;
	        ALTER DATABASE postgres RESET default_transaction_deferrable" >/dev/null
	pid=$(backend_of mp2_serial)
	psql_q "SELECT pg_terminate_backend($pid)" >/dev/null
	wait "$bg" 2>/dev/null
	unset PGOPTIONS
}

rules_locked() {
	[ "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	              WHERE a.application_name = 'mp2_locker' AND l.mode = 'AccessExclusiveLock'
	                AND l.relation = 'mp2_rules'::regclass AND l.granted")" = 1 ]
}

serial_open() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
	              WHERE application_name = 'mp2_serial' AND state = 'active'
	                AND backend_xmin IS NOT NULL")" = 1 ]
}

psql_fails() {
	local out
	out=$(psql_q "$1" 2>&1) && return 1
	[[ $out == *"$2"* ]] || { echo "# got: $out"; return 1; }
}

# not_alive PID: no process PID.
not_alive() {
	! kill -0 "$1" 2>/dev/null
}

# log_count TEXT: lines of the server log that contain TEXT.
log_count() {
	grep -c -- "$1" "$PGTMP/server.log"
}

# Starts and stops that race, a dropped or missing database of the rules.
lifecycle_tests() {
	local out1 out2 started refused pid r0 fatal0

	phase "worker: concurrent starts"
	out1=$(mktemp) out2=$(mktemp)
	psql_q "SELECT mp2_worker_start()" >"$out1" 2>&1 &
	psql_q "SELECT mp2_worker_start()" >"$out2" 2>&1 &
	wait
	started=$(cat "$out1" "$out2" | grep -cE '^[0-9]+$')
	refused=$(cat "$out1" "$out2" | grep -cE 'already (running \(pid [0-9]+\)|being started)')
	check "worker: two concurrent starts start one ($(cat "$out1" "$out2" | tr '\n' ' '))" \
		[ "$started" = 1 -a "$refused" = 1 ]
	check "worker: one worker process" [ "$(worker_procs)" = 1 ]
	rm -f "$out1" "$out2"
	check "worker: stopped" [ "$(psql_q "SELECT mp2_worker_stop()")" = t ]
	check "worker: no worker process left" [ "$(worker_procs)" = 0 ]

	phase "worker: DROP DATABASE of the worker's database"
	psql_q "DROP DATABASE IF EXISTS mp2_wdb" >/dev/null 2>&1
	psql_q "CREATE DATABASE mp2_wdb" >/dev/null
	psql_q -d mp2_wdb "SET client_min_messages = warning; CREATE EXTENSION mp2;
		CREATE TABLE mp2_x AS SELECT g FROM generate_series(1, 10000) g;
		INSERT INTO mp2_rules VALUES ('mp2_x', 0)" >/dev/null
	set_and_reload "mp2.policy = 'rules'" "mp2.naptime = '1s'"
	# A stop while the leader starts its rules child: the leader, which
	# gets no SIGUSR1, used to sleep until the next wakeup (the stop's
	# WARNING after 60 s).
	out1=$(as_pg "$PGBIN/psql" -X -q -At -d mp2_wdb \
		-c "SELECT mp2_worker_start() > 0" -c "SELECT mp2_worker_stop()" 2>&1)
	check "worker: a stop right after a start ends the worker at once ($(echo $out1))" \
		[ "$out1" = "$(printf 't\nt')" ]
	check "worker: ... and leaves no worker process" wait_for 5 no_worker_procs
	pid=$(psql_q -d mp2_wdb "SELECT mp2_worker_start()")
	check "worker: started in mp2_wdb" [ -n "$pid" ]
	check "worker: rules rounds in mp2_wdb" wait_for 30 \
		test_gt "SELECT rounds FROM mp2_worker_info()" 1
	fatal0=$(log_count 'FATAL')
	check "worker: DROP DATABASE mp2_wdb succeeds while the worker runs" \
		psql_q "DROP DATABASE mp2_wdb"
	r0=$(w_info failed_rounds)
	check "worker: failed rounds counted" wait_for 30 \
		test_gt "SELECT failed_rounds FROM mp2_worker_info()" "$r0"
	check "worker: logged with a hint" wait_for 30 \
		log_has 'database "mp2_wdb" does not exist; policy rules waits for it'
	log_has 'HINT:  Create the database and the extension mp2 in it' &&
		ok "worker: the hint is in the log" || not_ok "worker: the hint is in the log"
	sleep 8
	check "worker: logged once ($(log_count 'database "mp2_wdb" does not exist;') times)" \
		[ "$(log_count 'database "mp2_wdb" does not exist;')" = 1 ]
	check "worker: same process carries on" [ "$(w_info pid)" = "$pid" ]
	check "worker: last_error names the database" \
		[ "$(w_info last_error)" = 'database "mp2_wdb" does not exist' ]
	check "worker: no FATAL loop ($(($(log_count 'FATAL') - fatal0)) new)" \
		[ $(($(log_count 'FATAL') - fatal0)) -le 1 ]
	check "worker: stopped" [ "$(psql_q "SELECT mp2_worker_stop()")" = t ]

	phase "worker: mp2.database that does not exist"
	pg_stop
	fatal0=$(log_count 'FATAL')
	# shellcheck disable=SC2086 # PG_START_CAP is empty or "cap"
	if pg_start ${PG_START_CAP:-} -o "-c mp2.database=mp2_missing -c mp2.policy=rules"; then
		check "worker: runs with a missing database" wait_for 30 w_running
		pid=$(w_info pid)
		check "worker: says the database is missing" wait_for 30 \
			log_has 'database "mp2_missing" does not exist; policy rules waits for it'
		sleep 8
		check "worker: logged once" [ "$(log_count '"mp2_missing" does not exist;')" = 1 ]
		check "worker: no FATAL, no restarts" [ "$(log_count 'FATAL')" = "$fatal0" ]
		check "worker: same process" [ "$(w_info pid)" = "$pid" ]
		check "worker: rounds counted as failed" test_gt \
			"SELECT failed_rounds FROM mp2_worker_info()" 1
		# Created meanwhile: found after a reload.
		psql_q "CREATE DATABASE mp2_missing" >/dev/null
		psql_q -d mp2_missing "SET client_min_messages = warning; CREATE EXTENSION mp2" >/dev/null
		r0=$(w_info rounds)
		set_and_reload "mp2.naptime = '1s'"
		check "worker: rounds succeed once the database exists" wait_for 30 \
			test_gt "SELECT rounds FROM mp2_worker_info()" "$r0"
		psql_q "SELECT mp2_worker_stop()" >/dev/null
		psql_q "DROP DATABASE mp2_missing" >/dev/null
		pg_stop
	else
		not_ok "worker: server starts with mp2.database = mp2_missing"
	fi
	# shellcheck disable=SC2086
	pg_start ${PG_START_CAP:-} || not_ok "worker: server restarts"
}

# test_gt SQL N: the value SQL returns is greater than N.
test_gt() {
	local v
	v=$(psql_q "$1")
	[ -n "$v" ] && [ "$v" -gt "$2" ]
}

index_ok() {
	psql_q "SELECT bt_index_check('$1', true)" >/dev/null
}

# test_empty SQL: SQL returns an empty value.
test_empty() {
	[ -z "$(psql_q "$1")" ]
}
