#!/bin/bash
# SPDX-License-Identifier: MIT
# What a round of policy tier costs against the size of the pool, with
# the round bounded by mp2.tier_slice and without (the whole pool one
# slice, as before 1.6), in the four-node guest (nodes 0-1 with CPUs: the
# fast tier; 2-3 memory only).
#
# For each pool size (--pools, GB of shared_buffers) and each slice
# (--slice MB, and the pool itself), in a server of its own: the server
# runs under numactl --interleave=all, so every page of the pool is first
# touched on one of the four nodes in turn; a relation as large as the
# pool fills it, so that every page of the pool exists; pgbench runs on
# pgbench_accounts (scale 2, about 30 MB), half of it on the slow nodes at
# start, while policy tier (mp2.fast_fraction 1, naptime 1 s) brings it to
# the fast nodes.  Every round is sampled from mp2_tier_progress(): its
# slice, buffer headers read, pages located and moved, its time, and the
# worker's CPU time; and the share of pgbench_accounts on the fast nodes.
# A server runs until 90% of the table is on the fast nodes and --rounds
# more rounds have ended, or --seconds.
#
# The relation that fills the pool is a sparse file of zeros: PostgreSQL
# reads an all-zero block as a new, empty page (checksums pass), so
# pg_prewarm fills the pool without the guest holding a table of that
# size in its tmpfs as well.  Its pages are never used, so never hot.
#
#   experiments/tier-slice.sh [--pools "1 2 4 8"] [--slice MB] [--rounds N]
#                             [--seconds S] [--out DIR]
#
# Builds the patched kernel (cached) and installs the extension into
# PostgreSQL 15.  Writes DIR/rounds.csv, DIR/runs.csv and DIR/summary.md
# (default results/tier-slice).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=tier-slice
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

pools="1 2 4 8"
slice=1024
rounds=5
seconds=420
out=results/tier-slice
inside=0
exp_options "pools:text slice:number rounds:number seconds:number out:text inside:flag" "$@"
out=$(exp_out "$out")
for p in $pools; do
	exp_number --pools "$p"
done

if [ "$inside" = 0 ]; then
	max=0
	for p in $pools; do
		[ "$p" -gt "$max" ] && max=$p
	done
	# A quarter of the largest pool on each node, and room beside it.
	mib=$((max * 256 + 1536))
	n=$(wc -w <<<"$pools")
	exp_in_guest 4 "$mib" $((900 + n * 2 * (seconds + 180))) "$out" \
		"${PG_CONFIG:-$(exp_pg_config 15)}" -- \
		experiments/tier-slice.sh --inside --pools "$pools" --slice "$slice" \
		--rounds "$rounds" --seconds "$seconds" --out "$out"
	"$TOP/experiments/stats.py" tier-slice "$out" >"$out/summary.md"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

DIR=/tmp/mp2-tier-slice
install -d -m 755 "$DIR"
install -m 644 "$TOP/experiments/pgbench/tier-hot.sql" "$DIR/"
echo "pool_gb,slice_mb,t,round,slice,slices,buffers_read,pages_located,pages_moved,round_ms,worker_cpu_ms,hot_share_fast" >"$out/rounds.csv"
echo "pool_gb,slice_mb,pool_pages,seconds_to_90,rounds_to_90,passes_to_90" >"$out/runs.csv"

# CPU milliseconds (user + system) process PID has used.
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

hot_share() {
	psql_q "SELECT round(coalesce(sum(os_pages) FILTER (WHERE node IN (0, 1)), 0)::numeric /
	                     greatest(sum(os_pages) FILTER (WHERE node IS NOT NULL), 1), 4)
	          FROM mp2_relation_nodes('pgbench_accounts')"
}

# run POOL_GB SLICE_MB: one server, sampled round by round.
run() {
	local pool=$1 sl=$2 rel seg blocks size pid bg t0 last=-1 r90="" t90="" p90="" \
		row cpu0 cpu r0 share
	phase "tier-slice: pool $pool GB, slice $sl MB"
	rm -rf "$DIR/pg"
	pg_cluster_init "$DIR/pg" >/dev/null
	cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = ${pool}GB
mp2.naptime = '1s'
mp2.fast_fraction = 1
mp2.max_pages_per_round = 0
mp2.tier_slice = '${sl}MB'
CONF
	as_pg_cap "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" -w -t 300 start >/dev/null
	psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm;
	        CREATE TABLE filler (x int)" >/dev/null
	as_pg "$PGBIN/pgbench" -i -s 2 -q postgres >/dev/null 2>&1
	rel=$PGDATA/$(psql_q "SELECT pg_relation_filepath('filler')")
	pg_stop
	# The pool less what pgbench's tables and the catalogs take: in
	# segments of 1 GB (131072 blocks), the last one shorter.
	blocks=$((pool * 131072 - 8192))
	seg=0
	while [ "$blocks" -gt 0 ]; do
		size=$((blocks > 131072 ? 131072 : blocks))
		f=$rel
		[ "$seg" -gt 0 ] && f=$rel.$seg
		as_pg truncate -s $((size * 8192)) "$f"
		blocks=$((blocks - size))
		seg=$((seg + 1))
	done
	as_pg_cap numactl --interleave=all "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" \
		-w -t 300 start >/dev/null
	psql_q "SELECT pg_prewarm('filler'), pg_prewarm('pgbench_accounts'),
	               pg_prewarm('pgbench_accounts_pkey')" >/dev/null
	echo "tier-slice: hot table on 0-1 at start: $(hot_share)"
	as_pg "$PGBIN/pgbench" -n -c 2 -j 2 -T "$seconds" -D rows=200000 \
		-f "$DIR/tier-hot.sql" postgres >"$DIR/pgbench.log" 2>&1 &
	bg=$!
	psql_q "ALTER SYSTEM SET mp2.policy = 'tier'" >/dev/null
	psql_q "SELECT pg_reload_conf()" >/dev/null
	t0=$SECONDS
	pid=$(psql_q "SELECT pid FROM mp2_worker_info()")
	cpu0=$(cpu_ms "$pid")
	r0=0
	while kill -0 "$bg" 2>/dev/null; do
		row=$(psql_q "SELECT rounds, slice, slices, passes, buffers_read, pages_located, pages_moved, round(round_ms::numeric, 1)
		                FROM mp2_tier_progress()")
		if [ -n "$row" ] && [ "${row%%|*}" != "$last" ]; then
			cpu=$(cpu_ms "$pid")
			share=$(hot_share)
			IFS='|' read -r rnd s ss passes b l m ms <<<"$row"
			# CPU since the last sample, per round since then.
			[ "$last" -ge 0 ] && r0=$((rnd - last)) || r0=$rnd
			echo "$pool,$sl,$((SECONDS - t0)),$rnd,$s,$ss,$b,$l,$m,$ms,$(((cpu - cpu0) / (r0 > 0 ? r0 : 1))),$share" >>"$out/rounds.csv"
			cpu0=$cpu
			last=$rnd
			if [ -z "$r90" ] && awk -v s="$share" 'BEGIN { exit !(s >= 0.9) }'; then
				r90=$rnd t90=$((SECONDS - t0)) p90=$passes
			fi
			if [ -n "$r90" ] && [ "$rnd" -ge $((r90 + rounds)) ]; then
				break
			fi
		fi
		sleep 0.5
	done
	kill "$bg" 2>/dev/null || true
	wait "$bg" 2>/dev/null || true
	echo "$pool,$sl,$(psql_q "SELECT pool_pages FROM mp2_info()"),${t90:-never},${r90:-never},${p90:-never}" >>"$out/runs.csv"
	echo "tier-slice: 90% after ${t90:-never} s, round ${r90:-never}"
	pg_stop
}

for p in $pools; do
	run "$p" "$slice"
	# The whole pool one slice, as a round was before 1.6.
	run "$p" $((p * 1024))
done
