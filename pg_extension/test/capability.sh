# SPDX-License-Identifier: MIT
# CAP_SYS_NICE is effective only inside the migrating system calls: not
# while a paced migration sleeps; and a failure to lower it ends the
# process's use of it (ERROR), or the process (FATAL) when even giving it
# up fails.  The failures come from test/capfail.c, preloaded into the
# server, told what to refuse through the file $CAPFAIL_MODE.
# Source pglib.sh first, then call capability_tests LABEL SHIM with the
# cluster stopped (SHIM: the built capfail.so); it starts and stops the
# server itself.

# A table of about 290 pages, which a move paced at CAP_RATE pages a
# second takes some 15 s over; the samples need 2-4 s of it.
CAP_TABLE_ROWS=5000
CAP_RATE=20
CAP_SAMPLES=20
# One page a call, CAP_RATE calls a second: the capability is effective
# for the length of a call, which in the emulated guest took up to 15% of
# a 10 ms period (3 of 20 samples at 100 calls a second).  At 20 calls a
# second that is about 3% of the time, so 5 of 20 samples is far above
# chance; a capability left effective across the sleeps shows in all 20.
CAP_MAX_RAISED=5

# cap_bit STATUS-LINE-NAME PID: 1 if CAP_SYS_NICE (bit 23) is in that set.
cap_bit() {
	local hex
	hex=$(awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status" 2>/dev/null)
	[ -n "$hex" ] || return 1
	echo $(((16#$hex >> 23) & 1))
}

# capfail_session MODE OUT: with capfail.so failing as MODE says, a
# session moves capt, then says "after" and what mp2_info() reports.
capfail_session() {
	echo "$1" >"$CAPFAIL_MODE"
	as_pg "$PGBIN/psql" -X -q -At -d postgres \
		-c "SELECT moved FROM mp2_migrate('capt', 0, batch_size => 8)" \
		-c "SELECT 'after', cap_sys_nice FROM mp2_info()" >"$2" 2>&1
	: >"$CAPFAIL_MODE"
	cat "$2"
}

# relation_on REL N: REL has pages in the pool, all of them on node N.
relation_on() {
	[ "$(psql_q "
		SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM $2), 0) = 0
		   AND sum(os_pages) > 0
		  FROM mp2_relation_nodes('$1')")" = t ]
}

capability_tests() {
	local label=$1 shim=$2 out bg pid="" raised=0 taken=0 b r sum0 sum1
	out=$(mktemp)
	CAPFAIL_MODE=$PGTMP/capfail.mode
	: >"$CAPFAIL_MODE"
	chown "$PG_USER": "$CAPFAIL_MODE"

	phase "capability: a paced move"
	if ! LD_PRELOAD=$shim MP2_CAPFAIL=$CAPFAIL_MODE pg_start cap; then
		not_ok "$label: server starts with CAP_SYS_NICE and the capfail shim"
		suite_end "$label"
		return 1
	fi
	psql_q "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2;
	        DROP TABLE IF EXISTS capt;
	        CREATE TABLE capt AS
	          SELECT g, repeat(md5(g::text), 6) AS v FROM generate_series(1, $CAP_TABLE_ROWS) g;
	        SELECT count(*) FROM mp2_migrate('capt', 0, mode => 'sync')" >/dev/null
	sum0=$(psql_q "SELECT md5(string_agg(v, ',' ORDER BY g)) FROM capt")

	PGAPPNAME=mp2_paced as_pg "$PGBIN/psql" -X -q -At -d postgres \
		-c "SELECT moved, failed_shared FROM mp2_migrate('capt', 1, batch_size => 1, max_rate => $CAP_RATE)" \
		>"$out" 2>&1 &
	bg=$!
	while [ -z "$pid" ] && kill -0 "$bg" 2>/dev/null; do
		pid=$(backend_of mp2_paced)
	done
	check "$label: the migrating backend holds CAP_SYS_NICE in its permitted set" \
		[ "$(cap_bit CapPrm "$pid")" = 1 ]
	while [ "$taken" -lt "$CAP_SAMPLES" ] && kill -0 "$bg" 2>/dev/null; do
		b=$(cap_bit CapEff "$pid") || break
		taken=$((taken + 1))
		raised=$((raised + b))
		sleep 0.1
	done
	wait "$bg"
	cat "$out"
	check "$label: $CAP_SAMPLES samples of the backend's effective set taken while it moved ($taken)" \
		[ "$taken" -eq "$CAP_SAMPLES" ]
	check "$label: CAP_SYS_NICE effective in at most $CAP_MAX_RAISED of them ($raised)" \
		[ "$raised" -le "$CAP_MAX_RAISED" ]
	r=$(head -n 1 "$out")
	check "$label: the paced move moved pages, none refused as shared ($r)" \
		grep -qE '^[1-9][0-9]*\|0$' "$out"
	check "$label: the table is on node 1 after it" relation_on capt 1

	phase "capability: lowering it fails"
	capfail_session drop "$out"
	check "$label: a failed drop is an error" \
		grep -qF "ERROR:  could not lower the capability CAP_SYS_NICE after migrating pages" "$out"
	check "$label: ... and the session has given the capability up" \
		grep -qx "after|none" "$out"
	check "$label: a new session has it again" \
		[ "$(psql_q "SELECT cap_sys_nice FROM mp2_info()")" = permitted ]

	capfail_session all "$out"
	check "$label: a failed drop that cannot give the capability up ends the session (FATAL)" \
		grep -qF "FATAL:  could not lower the capability CAP_SYS_NICE after migrating pages" "$out"
	check "$label: ... before its next statement" sh -c "! grep -q '^after' '$out'"
	check "$label: the server still serves" [ "$(psql_q "SELECT 1")" = 1 ]

	r=$(psql_q "SELECT count(*) FROM mp2_migrate('capt', 0, mode => 'sync')")
	sum1=$(psql_q "SELECT md5(string_agg(v, ',' ORDER BY g)) FROM capt")
	check "$label: the table's bytes are unchanged after the moves" \
		[ "${sum0:-none}" = "${sum1:-unread}" ]
	psql_q "DROP TABLE capt" >/dev/null
	pg_stop
	rm -f "$out"
	suite_end "$label"
}
