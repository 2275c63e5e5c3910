#!/bin/bash
# SPDX-License-Identifier: MIT
# Where policy tier's worker spends its CPU in rounds that move nothing,
# by function: perf's CPU-clock samples of the worker, in the four-node
# guest (nodes 0-1 the fast tier, 2-3 the slow one; TCG has no PMU, so
# the software clock).
#
# A 256 MB pool holds pgbench_accounts at scale 6 (about 80 MB), read in
# with pg_prewarm and moved to nodes 2-3 (mp2_interleave_pool); then
# mp2.policy = tier (naptime 1 s).  Nothing reads the table, so no page
# becomes hot and every round moves nothing.  After --settle seconds,
# perf records the worker for --seconds; the report (self time per
# shared object and symbol) and mp2_tier_progress() before and after are
# kept.
#
#   experiments/tier-perf.sh [--seconds S] [--settle S] [--out DIR] [--pg VERSION]
#
# Defaults: 40 s recorded after 15 s, PostgreSQL 15.  Installs the
# extension into that PostgreSQL and boots the patched kernel (cached).
# Writes DIR/report.txt (perf report), DIR/progress.txt (the rounds the
# worker had run, before and after) and DIR/machine.txt (default
# results/tier-perf).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=tier-perf
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

seconds=40
settle=15
out=results/tier-perf
pg=15
inside=0
exp_options "seconds:number settle:number out:text pg:number inside:flag" "$@"
out=$(exp_out "$out")

if [ "$inside" = 0 ]; then
	command -v perf >/dev/null || { echo "$EXP: perf is missing (scripts/setup-deps.sh installs it)" >&2; exit 1; }
	exp_in_guest 4 1024 $((600 + settle + seconds)) "$out" \
		"${PG_CONFIG:-$(exp_pg_config "$pg")}" -- \
		experiments/tier-perf.sh --inside --seconds "$seconds" --settle "$settle" --out "$out"
	{
		exp_measured 4
		echo "by: experiments/tier-perf.sh --seconds $seconds --settle $settle --pg $pg"
		echo "mp2 at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
	} >"$out/machine.txt"
	head -n 30 "$out/report.txt"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

pg_cluster_init /tmp/mp2-tier-perf/pg >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = 256MB
mp2.fast_nodes = '0-1'
mp2.slow_nodes = '2-3'
mp2.max_pages_per_round = 0
CONF
pg_start cap
psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null
as_pg "$PGBIN/pgbench" -i -s 6 -q postgres >/dev/null 2>&1
echo "$EXP: pg_prewarm read $(psql_q "SELECT pg_prewarm('pgbench_accounts')") blocks"
echo "$EXP: $(psql_q "SELECT moved FROM mp2_interleave_pool('{2,3}')") pages moved to nodes 2-3"
psql_q "ALTER SYSTEM SET mp2.policy = 'tier'" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
sleep "$settle"
wpid=$(psql_q "SELECT pid FROM mp2_worker_info()")
progress="SELECT rounds, pages_moved, buffers_read, pages_located, round_ms FROM mp2_tier_progress()"
{
	echo "rounds|pages_moved|buffers_read|pages_located|round_ms"
	psql_q "$progress"
} >"$out/progress.txt"
phase "$EXP: perf records the worker (pid $wpid) for $seconds s"
perf record -q -F 499 -e cpu-clock -p "$wpid" -o /tmp/mp2-tier-perf/perf.data -- sleep "$seconds"
psql_q "$progress" >>"$out/progress.txt"
perf report -i /tmp/mp2-tier-perf/perf.data --no-children --sort dso,symbol --stdio \
	>"$out/report.txt" 2>/dev/null
pg_stop
