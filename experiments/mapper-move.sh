#!/bin/bash
# SPDX-License-Identifier: MIT
# What the worker's warm mapping (mp2.warm_mapping) costs a move: a table
# moved between the nodes of the two-node guest by mp2_migrate(), each
# move in a new session, with the warm mapping off (the worker restarted,
# so it maps none of the pool) and on (the worker has mapped every page in
# use: one more mapping per page), interleaved over the repeats, in one
# boot and one server with CAP_SYS_NICE (moves use MPOL_MF_MOVE_ALL).
#
# For each move: pages moved, wall time of the call, and the moving
# backend's page faults (minflt, from /proc, before and after: today's
# path faults into the mover what it moves).  The table's contents are
# hashed before and after all moves.
#
#   experiments/mapper-move.sh [--repeats N] [--table MB] [--pg VERSION]
#                              [--out DIR]
#
# Defaults: 5 repeats (each moves the table to node 1 and back with the
# mapping off, then on, or the other way round), a table of 128 MB in a
# 256 MB pool, PostgreSQL 15, results/mapper-move.  Installs the
# extension into that PostgreSQL and boots the cached guest kernel.
# Writes DIR/runs.csv and DIR/summary.md.  Needs root.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
EXP=mapper-move
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=5
table=128
pg=15
out=results/mapper-move
inside=0
exp_options "repeats:number table:number pg:number out:text inside:flag" "$@"
out=$(exp_out "$out")
pool=$((table * 2))

if [ "$inside" = 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "$EXP: needs root (make install, the guest)" >&2; exit 1; }
	exp_in_guest 2 2048 $((900 + repeats * 300)) "$out" "$(exp_pg_config "$pg")" -- \
		experiments/mapper-move.sh --inside --repeats "$repeats" --table "$table" --out "$out"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

pg_cluster_init /tmp/mp2-mapper-move/pg >/dev/null
echo "shared_buffers = ${pool}MB" >>"$PGDATA/postgresql.conf"
pg_start cap
psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null
psql_q "CREATE TABLE mp2_t AS SELECT g AS id, repeat('m', 1000) AS pad
        FROM generate_series(1, $table * 896) g" >/dev/null
psql_q "SELECT pg_prewarm('mp2_t')" >/dev/null
hash() { psql_q "SELECT sum(hashtext(t::text)::bigint), count(*) FROM mp2_t t"; }
hash0=$(hash)

worker_pid() { psql_q "SELECT pid FROM mp2_worker_info()"; }
worker_up() { [ -n "$(worker_pid)" ]; }

# warm on|off: the worker in the state the next moves need.
warm() {
	local in_use
	psql_q "ALTER SYSTEM SET mp2.warm_mapping = $1" >/dev/null
	psql_q "SELECT pg_reload_conf()" >/dev/null
	# A new worker maps nothing of the pool until the warm mapping is on.
	psql_q "SELECT mp2_worker_stop()" >/dev/null
	psql_q "SELECT mp2_worker_start()" >/dev/null
	wait_for 30 worker_up
	[ "$1" = on ] || return 0
	in_use=$(psql_q "SELECT sum(os_pages) FROM mp2_relation_nodes('mp2_t') WHERE node IS NOT NULL")
	mapped() {
		[ "$(psql_q "SELECT coalesce(mapper_pages, -1) >= $in_use FROM mp2_info()")" = t ]
	}
	wait_for 120 mapped || { echo "$EXP: the worker did not map the table in 120 s" >&2; exit 1; }
}

# move REPEAT WARM NODE: the table to NODE in a session of its own.
move() {
	local r=$1 w=$2 node=$3 row shm
	shm=$(awk '/^RssShmem:/ { print $2 }' "/proc/$(worker_pid)/status")
	row=$(as_pg "$PGBIN/psql" -X -q -At -F, -d postgres <<EOF
CREATE TEMP TABLE f AS
SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 10)::bigint AS minflt,
       clock_timestamp() AS t0;
CREATE TEMP TABLE m AS SELECT * FROM mp2_migrate('mp2_t', $node);
SELECT m.moved, m.requested,
       round(extract(epoch FROM clock_timestamp() - f.t0) * 1000, 1),
       split_part(pg_read_file('/proc/self/stat'), ' ', 10)::bigint - f.minflt
  FROM m, f;
EOF
)
	echo "$r,$w,$node,$row,$shm"
}

echo "repeat,warm,to_node,moved,requested,ms,mover_minflt,worker_shmem_kb" >"$out/runs.csv"
for r in $(seq 1 "$repeats"); do
	if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
	for w in $order; do
		warm "$w"
		phase "repeat $r, warm mapping $w"
		move "$r" "$w" 1 | tee -a "$out/runs.csv"
		move "$r" "$w" 0 | tee -a "$out/runs.csv"
	done
done
hash1=$(hash)
psql_q "SELECT method, migrations, moved, failed_busy, failed_shared FROM mp2_stats()"
pg_stop

{
	echo "Guest, 2 nodes, patched 6.12, PostgreSQL $PG_MAJOR, CAP_SYS_NICE, $(($(getconf PAGESIZE) / 1024)) kB pages, a ${table} MB table in a ${pool} MB pool, idle server, each move in a new session, $repeats repeats of a move to node 1 and back per setting, interleaved."
	echo
	"$TOP/experiments/stats.py" mapper-move "$out/runs.csv"
	if [ "$hash0" = "$hash1" ]; then
		echo "The table's contents are the same after all moves ($hash1)."
	else
		echo "THE TABLE'S CONTENTS CHANGED: $hash0 before, $hash1 after."
	fi
} >"$out/summary.md"
cat "$out/summary.md"
