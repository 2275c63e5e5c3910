#!/bin/bash
# SPDX-License-Identifier: MIT
# Placement over time with policy tier, against interleave and no policy,
# in the four-node guest (nodes 0-1 with CPUs: the fast tier; 2-3 memory
# only: the slow tier).
#
# The server starts in the worst place a server can start: every process
# runs under numactl --membind=2,3, so the whole pool is first touched on
# the slow nodes.  The working set (pgbench_accounts at scale 2, about
# 30 MB: ranges of 2000 rows read, rows picked by a zipfian distribution
# updated) fits the fast tier's
# cap (mp2.fast_fraction 0.25 of a 256 MB pool); a cold table of about
# 60 MB is read once, before the run.  For each policy, in a server of its
# own, pgbench runs for --seconds with 2 clients while a sampler records
# every 2 s which share of the working set's pages is on the fast nodes,
# the pool's pages there, and the worker's pages moved; pgbench reports
# its TPS every second, and the sampler the worker's CPU time.  Policies
# are interleaved over the repeats.
#
# The emulated nodes have equal latency (QEMU), so this shows placement
# and what relocation costs in TPS, not a speed-up from the placement.
#
#   experiments/tier.sh [--repeats N] [--seconds S] [--out DIR]
#
# Builds the patched kernel (cached) and installs the extension into
# PostgreSQL 15.  Writes DIR/samples.csv, DIR/tps.csv, DIR/summary.md and
# DIR/placement.png, DIR/tps.png (default results/tier).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=tier
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=1
seconds=60
out=results/tier
inside=0
exp_options "repeats:number seconds:number out:text inside:flag" "$@"
out=$(exp_out "$out")

POLICIES=(tier interleave off)

if [ "$inside" = 0 ]; then
	exp_in_guest 4 1024 $((600 + repeats * 3 * (seconds + 120))) "$out" \
		"${PG_CONFIG:-$(exp_pg_config 15)}" -- \
		experiments/tier.sh --inside --repeats "$repeats" --seconds "$seconds" --out "$out"
	experiments/tier-plot.sh "$out"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

DIR=/tmp/mp2-tier-exp
pg_cluster_init "$DIR/pg" >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = 256MB
mp2.naptime = '1s'
mp2.fast_fraction = 0.25
mp2.max_pages_per_round = 0
CONF

start_slow() {
	as_pg_cap numactl --membind=2,3 "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" \
		-w -t 300 -o "-c mp2.policy=$1" start >"$PGTMP/pg_ctl.log" 2>&1
}

phase "tier: the tables"
start_slow off
psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null
as_pg "$PGBIN/pgbench" -i -s 2 -q postgres >/dev/null 2>&1
psql_q "CREATE TABLE tier_cold AS
          SELECT g, md5(g::text) || repeat('x', 400) AS pad
            FROM generate_series(1, 120000) g" >/dev/null
pg_stop

# Where postgres can read it, whoever owns the tree.
install -m 644 "$TOP/experiments/pgbench/tier-hot.sql" "$DIR/"

echo "policy,repeat,t,hot_share_fast,pool_pages_fast,pool_pages,moved,worker_cpu_s" >"$out/samples.csv"
echo "policy,repeat,t,tps,lat_ms" >"$out/tps.csv"

# CPU seconds (user + system) the relocation worker has used.
worker_cpu() {
	local pid
	pid=$(psql_q "SELECT pid FROM mp2_worker_info()")
	[ -n "$pid" ] && awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null || echo 0
}

sample() {
	psql_q "SELECT
	  (SELECT coalesce(sum(os_pages) FILTER (WHERE node IN (0, 1)), 0)::float8 /
	          greatest(sum(os_pages) FILTER (WHERE node IS NOT NULL), 1)
	     FROM mp2_relation_nodes('pgbench_accounts')) || ',' ||
	  (SELECT coalesce(sum(os_pages) FILTER (WHERE node IN (0, 1)), 0) || ',' ||
	          coalesce(sum(os_pages) FILTER (WHERE node IS NOT NULL), 0)
	     FROM mp2_buffer_nodes()) || ',' ||
	  (SELECT coalesce(pages_moved, 0) FROM mp2_worker_info())"
}

for r in $(seq 1 "$repeats"); do
	for k in 0 1 2; do
		p=${POLICIES[$(((k + r - 1) % 3))]}
		phase "tier: repeat $r, policy $p"
		start_slow "$p"
		psql_q "SELECT pg_prewarm('tier_cold'), pg_prewarm('pgbench_accounts'),
		               pg_prewarm('pgbench_accounts_pkey')" >/dev/null
		as_pg "$PGBIN/pgbench" -n -c 2 -j 2 -T "$seconds" -P 1 -D rows=200000 \
			-f "$DIR/tier-hot.sql" postgres \
			>"$DIR/pgbench.log" 2>&1 &
		bg=$!
		t0=$SECONDS
		while kill -0 "$bg" 2>/dev/null; do
			echo "$p,$r,$((SECONDS - t0)),$(sample),$(worker_cpu)" >>"$out/samples.csv"
			sleep 2
		done
		wait "$bg" || true
		# "progress: 5.0 s, 123.4 tps, lat 16.2 ms stddev ..."
		sed -n 's/^progress: \([0-9.]*\) s, \([0-9.]*\) tps, lat \([0-9.]*\) ms.*/\1 \2 \3/p' "$DIR/pgbench.log" |
			while read -r t tps lat; do echo "$p,$r,$t,$tps,$lat"; done >>"$out/tps.csv"
		grep -E 'failed|tps = ' "$DIR/pgbench.log" | sed "s/^/$p: /"
		pg_stop
	done
done
