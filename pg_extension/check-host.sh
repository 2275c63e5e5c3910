#!/bin/bash
# SPDX-License-Identifier: MIT
# The mp2 extension's tests on this machine (any number of NUMA nodes):
# installs the extension into the system PostgreSQL, starts a throw-away
# cluster as the user postgres (initdb in a temporary directory, mp2 in
# shared_preload_libraries, a unix socket only), and runs, there or (the
# TAP suites of ../t, under prove) in clusters of their own,
#
#   pg_regress-V            ../sql against ../expected
#   pg_worker-V             the relocation worker (t/001_worker.pl)
#   pg_tier-V               policy tier's settings (t/002_tier_settings.pl)
#   pg_docs-V               the SQL examples of docs/postgresql.md (t/003_docs.pl)
#   pg_mapper-V             locating and moving through the worker's mapping
#                           (t/004_mapper.pl), the server without CAP_SYS_NICE
#   pg_mapper_cap-V         the same, the server with CAP_SYS_NICE
#   pg_capability-V         CAP_SYS_NICE out of the ambient set
#                           (t/013_capability.pl; its moves need two nodes)
#   pg_regress-nopreload-V  the SQL functions without shared_preload_libraries
#
# against the PostgreSQL of $PG_CONFIG (default: pg_config in PATH), major
# version V.  Each part prints its TAP, opened by "# suite: NAME-V"
# (scripts/tap-sum counts them).  Exits non-zero when a test failed.  Needs
# root (to install, and to run the server as postgres).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

mapfile -t REGRESS_TESTS < <(make -s -C "$TOP/pg_extension" --no-print-directory print-regress PG_CONFIG="$PG_CONFIG" | tr " " "\n")

if [ "$(id -u)" -ne 0 ]; then
	suite_failed "pg_host-$PG_MAJOR" "needs root (make install, and running the server as $PG_USER)"
	exit 1
fi
if ! getent passwd "$PG_USER" >/dev/null; then
	suite_failed "pg_host-$PG_MAJOR" "no user $PG_USER (install postgresql-15: scripts/setup-deps.sh)"
	exit 1
fi

echo "check-host: PostgreSQL $PG_MAJOR ($PG_CONFIG); installing the extension into $("$PG_CONFIG" --pkglibdir)"
if ! make -s -C "$TOP" install PG_CONFIG="$PG_CONFIG" >"$TOP/build/pg_install.log" 2>&1; then
	tail -n 30 "$TOP/build/pg_install.log"
	suite_failed "pg_host-$PG_MAJOR" "make install (build/pg_install.log)"
	exit 1
fi

rm -f "$TOP"/build/check/pg_host_"$PG_MAJOR"_*.diffs
WORK=$(mktemp -d /tmp/mp2-pgcheck.XXXXXX)
chmod 755 "$WORK"
# Inputs copied where postgres can read them, whoever owns the tree.
mkdir -p "$WORK/in"
cp -r "$TOP/sql" "$TOP/expected" "$WORK/in/"
chown -R "$PG_USER": "$WORK/in"

status=0
cleanup() {
	pg_stop
	mkdir -p "$TOP/build/check"
	cp "$PGTMP/server.log" "$TOP/build/check/pg_host_${PG_MAJOR}_server.log" 2>/dev/null
	for d in "$WORK"/out*; do
		[ -s "$d/regression.diffs" ] &&
			cp "$d/regression.diffs" "$TOP/build/check/pg_host_${PG_MAJOR}_$(basename "$d").diffs"
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

if ! pg_cluster_init "$WORK/pg" || ! pg_start; then
	suite_failed "pg_host-$PG_MAJOR" "initdb and start a cluster"
	exit 1
fi
echo "check-host: cluster in $PGDATA, socket $PGHOST port $PGPORT"

run_regress "pg_regress-$PG_MAJOR" "$WORK/in" "$WORK/out" "${REGRESS_TESTS[@]}" || status=1

# The TAP suites start clusters of their own.
run_tap "pg_worker-$PG_MAJOR" 001_worker.pl || status=1
run_tap "pg_tier-$PG_MAJOR" 002_tier_settings.pl || status=1
run_tap "pg_docs-$PG_MAJOR" 003_docs.pl || status=1
run_tap "pg_mapper-$PG_MAJOR" 004_mapper.pl || status=1
run_tap "pg_mapper_cap-$PG_MAJOR" 004_mapper.pl cap || status=1
run_tap "pg_capability-$PG_MAJOR" 013_capability.pl cap || status=1

# Without shared_preload_libraries.
pg_stop
if pg_start -o "-c shared_preload_libraries=''"; then
	run_regress "pg_regress-nopreload-$PG_MAJOR" "$WORK/in" "$WORK/out-nopreload" \
		mp2_nopreload || status=1
else
	suite_failed "pg_regress-nopreload-$PG_MAJOR" "start the cluster without shared_preload_libraries"
	status=1
fi
exit $status
