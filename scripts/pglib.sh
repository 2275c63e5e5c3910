# SPDX-License-Identifier: MIT
# Shell functions shared by pg_extension/check-host.sh and check-guest.sh,
# scripts/check-deb.sh and the experiments: a throw-away PostgreSQL
# cluster run by the unprivileged user postgres, psql helpers, TAP
# output for suites written in bash, and run_tap for the TAP suites of
# pg_extension/t.  Every suite's TAP opens with "# suite: NAME", which
# scripts/tap-sum counts by.
#
# Source it with TOP set to the top of the mp2 tree.  Runs as root (it
# switches to postgres for everything PostgreSQL does).

PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
# The major version, which every suite's name ends with (pg_regress-15).
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
PG_REGRESS="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress"
# PostgreSQL::Test::Cluster and its kin, for the TAP suites in ../t.
PG_PERL="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/perl"
PG_USER=${MP2_PG_USER:-postgres}

# Test counters of the current suite.
T_PASS=0
T_FAIL=0
T_SKIP=0

# as_pg CMD...: run CMD as the postgres user, without capabilities.
as_pg() {
	setpriv --reuid "$PG_USER" --regid "$PG_USER" --init-groups -- "$@"
}

# as_pg_cap CMD...: the same with CAP_SYS_NICE in its permitted, effective
# and ambient sets, as systemd's AmbientCapabilities=CAP_SYS_NICE gives it.
as_pg_cap() {
	setpriv --reuid "$PG_USER" --regid "$PG_USER" --init-groups \
		--inh-caps +sys_nice --ambient-caps +sys_nice -- "$@"
}

# ok, not_ok, skip DESC: one test's result, a TAP line.
ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok $((T_PASS + T_FAIL + T_SKIP)) - $*"
}

not_ok() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $((T_PASS + T_FAIL + T_SKIP)) - $*"
}

skip() {
	T_SKIP=$((T_SKIP + 1))
	echo "ok $((T_PASS + T_FAIL + T_SKIP)) - $* # SKIP"
}

# check DESC CMD...: one test, passed when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# phase TEXT: a heading with the time, to see where the time goes.
phase() {
	echo "== $(date +%T) $*"
}

# suite_begin NAME: open the TAP stream of suite NAME, counters at zero.
suite_begin() {
	echo "# suite: $1"
	T_PASS=0
	T_FAIL=0
	T_SKIP=0
}

# suite_end: print the TAP plan of the suite.  Returns non-zero when a
# test failed.
suite_end() {
	echo "1..$((T_PASS + T_FAIL + T_SKIP))"
	[ "$T_FAIL" -eq 0 ]
}

# suite_failed NAME WHY: suite NAME as one failed test, for a suite that
# could not run (returns 1); suite_skipped NAME WHY: skipped as a whole.
suite_failed() {
	suite_begin "$1"
	not_ok "$2"
	suite_end
}

suite_skipped() {
	echo "# suite: $1"
	echo "1..0 # SKIP $2"
}

# pg_cluster_init DIR: initdb a cluster in DIR/data, owned by postgres,
# listening only on a unix socket in DIR.  Sets PGDATA PGHOST PGPORT.
pg_cluster_init() {
	PGTMP=$1
	mkdir -p "$PGTMP"
	chown "$PG_USER": "$PGTMP"
	chmod 700 "$PGTMP"
	export PGDATA="$PGTMP/data" PGHOST="$PGTMP" PGPORT=${PGPORT:-54329}
	export PGUSER=$PG_USER PGDATABASE=postgres
	if ! as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -E UTF8 --locale=C \
		--data-checksums --no-sync >"$PGTMP/initdb.log" 2>&1; then
		cat "$PGTMP/initdb.log"
		return 1
	fi
	cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PGTMP'
port = $PGPORT
shared_preload_libraries = 'mp2'
fsync = off
synchronous_commit = off
max_worker_processes = 16
log_line_prefix = '%m [%p] '
mp2.naptime = '1s'
# The pool in base pages, as the regression outputs count it, whatever
# huge pages the machine has reserved (t/014_hugepages.pl turns them on).
huge_pages = off
EOF
}

# pg_start [cap] [-o OPTIONS]: start the cluster, with CAP_SYS_NICE if
# the first argument is "cap".
pg_start() {
	local runner=as_pg
	if [ "${1:-}" = cap ]; then
		runner=as_pg_cap
		shift
	fi
	if ! $runner "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" -w \
		-t 300 "$@" start >"$PGTMP/pg_ctl.log" 2>&1; then
		cat "$PGTMP/pg_ctl.log"
		tail -n 40 "$PGTMP/server.log"
		return 1
	fi
}

pg_stop() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 300 stop >/dev/null 2>&1
}

# psql_q [-d DB] SQL: run SQL, print unaligned tuples only.
psql_q() {
	local db=postgres
	if [ "$1" = -d ]; then
		db=$2
		shift 2
	fi
	as_pg "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}

# wait_for SECONDS CMD...: retry CMD every half second until it succeeds,
# for at most SECONDS of wall time.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

pg_ready() {
	as_pg "$PGBIN/psql" -X -At -d postgres -c 'SELECT 1' >/dev/null 2>&1
}

# run_regress LABEL INPUTDIR OUTDIR TEST...: pg_regress against the
# running cluster, as suite LABEL: its output as comments, then a TAP line
# for each test.
run_regress() {
	local label=$1 indir=$2 outdir=$3 rc name
	shift 3
	suite_begin "$label"
	mkdir -p "$outdir"
	chown "$PG_USER": "$outdir"
	# --use-existing creates no database.
	psql_q "DROP DATABASE IF EXISTS contrib_regression" >/dev/null &&
		psql_q "CREATE DATABASE contrib_regression" >/dev/null
	as_pg "$PG_REGRESS" --use-existing --bindir="$PGBIN" \
		--host="$PGHOST" --port="$PGPORT" --user="$PG_USER" \
		--inputdir="$indir" --outputdir="$outdir" \
		--dbname=contrib_regression "$@" >"$outdir/pg_regress.log" 2>&1
	rc=$?
	sed 's/^/# /' "$outdir/pg_regress.log"
	if [ -s "$outdir/regression.diffs" ]; then
		echo "# ---- regression.diffs (first ${MP2_DIFF_LINES:-300} lines)"
		head -n "${MP2_DIFF_LINES:-300}" "$outdir/regression.diffs" | sed 's/^/# /'
	fi
	# Each test's result: "test x ... ok" up to 15, TAP ("ok 1 - x")
	# from 16 on.
	for name in "$@"; do
		if grep -qE "^(test|     ) +$name +\.\.\. ok( |$)|^ok [0-9]+ +- $name( |$)" \
			"$outdir/pg_regress.log"; then
			ok "$name"
		else
			not_ok "$name"
		fi
	done
	[ "$rc" -eq 0 ] || [ "$T_FAIL" -gt 0 ] || not_ok "pg_regress exited $rc"
	suite_end
}

# run_tap LABEL FILE [cap] [VAR=VALUE...]: the TAP suite
# pg_extension/t/FILE under prove, run as postgres (with CAP_SYS_NICE
# ambient if "cap") from a copy postgres can read, in a directory of its
# own; the test's own clusters (PostgreSQL::Test::Cluster) use the
# binaries of $PG_CONFIG, and pg_ctl waits for them as long as pg_start
# does (PGCTLTIMEOUT).  The suite gets the caller's environment (MP2_*
# included) and each VAR=VALUE: that is how check-guest.sh tells a suite
# what it set up as root before it (huge pages reserved, a sysfs knob
# written), which the suite, run as postgres, cannot do itself.
#
# TAP_ROOT_ACTIONS="FUNC..." (set for the call) offers the suite those
# shell functions of the caller, to be run as root in its middle, where a
# step needs root (reserving huge pages, dropping the page cache): the
# suite asks for one by name with Mp2Test's mp2_root, through two FIFOs in
# a directory only root can change, passed as MP2_ROOT (tap_root_serve).
#
# Prints "# suite: LABEL" and then prove's output.  The suite's logs go to
# build/check/tap/LABEL/ where the tree is writable, and their ends are
# shown (as comments) when a test failed.
run_tap() {
	local label=$1 file=$2 dir rc root="" server="" vars=()
	local runner=(setpriv --reuid "$PG_USER" --regid "$PG_USER" --init-groups)
	shift 2
	if [ "${1:-}" = cap ]; then
		runner+=(--inh-caps +sys_nice --ambient-caps +sys_nice)
		shift
	fi
	vars=("$@")
	if [ -n "${TAP_ROOT_ACTIONS:-}" ]; then
		root=$(mktemp -d /tmp/mp2-tap-root.XXXXXX)
		chmod 711 "$root"
		mkfifo -m 600 "$root/req" "$root/rep"
		chown "$PG_USER": "$root/req" "$root/rep"
		# shellcheck disable=SC2086
		tap_root_serve "$root" $TAP_ROOT_ACTIONS &
		server=$!
		vars+=(MP2_ROOT="$root")
	fi
	dir=$(mktemp -d /tmp/mp2-tap.XXXXXX)
	chmod 755 "$dir"
	mkdir -p "$dir/top/docs" "$dir/top/tests" "$dir/top/experiments/pgbench"
	cp -r "$TOP/pg_extension/t" "$dir/"
	cp "$TOP/docs/postgresql.md" "$dir/top/docs/" 2>/dev/null
	cp "$TOP/tests/docs_sql.py" "$dir/top/tests/"
	cp "$TOP/experiments/pgbench/tier-hot.sql" "$dir/top/experiments/pgbench/"
	chown -R "$PG_USER": "$dir"
	echo "# suite: $label"
	(
		cd "$dir" &&
			"${runner[@]}" -- env PATH="$PGBIN:$PATH" \
				PERL5LIB="$PG_PERL" TESTDIR="$dir" MP2_TOP="$dir/top" \
				PG_REGRESS="$PG_REGRESS" PGCTLTIMEOUT=300 "${vars[@]}" \
				prove -v -I t "t/$file"
	)
	rc=$?
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null
		wait "$server" 2>/dev/null
		rm -rf "$root"
	fi
	# Shown from the run's own directory: in the guest the tree is
	# read-only, and the copy below fails.
	if [ "$rc" -ne 0 ]; then
		for f in "$dir"/tmp_check/log/regress_log_* "$dir"/tmp_check/log/*.log; do
			[ -f "$f" ] || continue
			echo "# ---- $label: $(basename "$f") (last 60 lines)"
			tail -n 60 "$f" | sed 's/^/# /'
		done
	fi
	rm -rf "$TOP/build/check/tap/$label" 2>/dev/null
	mkdir -p "$(dirname "$TOP/build/check/tap/$label")" 2>/dev/null &&
		cp -r "$dir/tmp_check/log" "$TOP/build/check/tap/$label" 2>/dev/null
	rm -rf "$dir"
	return "$rc"
}

# tap_root_serve DIR FUNC...: run_tap's root side.  For each line the
# suite writes to DIR/req, the name of one of the FUNCs, runs it as root
# and writes what it printed to DIR/rep, then "exit STATUS"; anything
# else is refused.  Runs until killed.
tap_root_serve() {
	local dir=$1 line
	shift
	while :; do
		read -r line <"$dir/req" || continue
		{
			if [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*$ && " $* " == *" $line "* ]]; then
				"$line" 2>&1
				echo "exit $?"
			else
				echo "not a root action here: $line (only: $*)"
				echo "exit 127"
			fi
		} >"$dir/rep"
	done
}

# The backend whose session runs with application_name $1.
backend_of() {
	psql_q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"
}

# run_measured NAME SQL OUT: run SQL in a session of its own and print
# the peak private memory of its backend in kB while SQL ran: the peak
# resident set (VmHWM, reset right before SQL through clear_refs) less
# the file and shared pages it maps at the end (they only grow, so they
# were no larger at the peak), plus its page tables.  Shared buffer pages
# are not in it.  The output of SQL goes to OUT.
run_measured() {
	local name=$1 sql=$2 out=$3 bg pid="" st
	{
		sleep 2
		echo "$sql;"
		echo "SELECT 'measured';"
		sleep 30
	} | PGAPPNAME=$name as_pg "$PGBIN/psql" -X -q -At -d postgres >"$out" 2>&1 &
	bg=$!
	while [ -z "$pid" ] && kill -0 "$bg" 2>/dev/null; do
		pid=$(backend_of "$name")
	done
	echo 5 >"/proc/$pid/clear_refs"
	while :; do
		st=$(psql_q "SELECT state = 'idle' AND query LIKE '%''measured''%'
		               FROM pg_stat_activity WHERE pid = $pid")
		[ "$st" = t ] && break
		sleep 0.2
	done
	awk '/^(VmHWM|VmPTE):/ { s += $2 } /^(RssFile|RssShmem):/ { s -= $2 }
	     END { print s + 0 }' "/proc/$pid/status"
	grep -E '^(VmHWM|RssAnon|RssFile|RssShmem|VmPTE):' "/proc/$pid/status" |
		tr -s ' \t\n' ' ' >&2
	echo >&2
	kill "$bg" 2>/dev/null
	wait "$bg" 2>/dev/null
	psql_q "SELECT pg_terminate_backend($pid)" >/dev/null 2>&1
}
