#!/bin/bash
# SPDX-License-Identifier: MIT
# What the buffer pool's page size costs a move of the whole pool: the
# same table in pools of 4 kB pages, of 2 MiB transparent huge pages
# (mp2.pool_thp = on) and of 2 MiB hugetlb pages (huge_pages = on), in
# one boot of the two-node guest.
#
# Each repeat starts one server per pool kind (the order turns with the
# repeat), reads the table into the pool with pg_prewarm, gathers the
# pool on node 0, then moves it to node 1 and back --moves times with
# mp2_migrate_pool() (method auto, mode async, 512 pages a call).  What
# the pool got is checked, not assumed: mp2_info() and the kernel's
# per-node ShmemHugePages and HugePages_Total - HugePages_Free, before
# and after the moves.  A memcpy between the nodes in the same boot
# (mp2bench migrate, 64 MiB) gives the copy speed for reference.
#
#   experiments/pool-pages.sh [--repeats N] [--moves N] [--pool MB]
#                             [--table MB] [--pg VERSION] [--out DIR]
#
# Defaults: 3 repeats, 4 moves, a 256 MB pool, a table of 160 MB,
# PostgreSQL 15, results/pool-pages.  Installs the extension into that
# PostgreSQL and boots the cached guest kernel; run it under the guest
# lock.  Writes DIR/runs.csv, DIR/pools.csv, DIR/mp2bench.csv and
# DIR/summary.md.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=pool-pages
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=3
moves=4
pool=256
table=160
pg=15
out=results/pool-pages
inside=0
exp_options "repeats:number moves:number pool:number table:number pg:number out:text inside:flag" "$@"

out=$(exp_out "$out")
args=(--repeats "$repeats" --moves "$moves" --pool "$pool" --table "$table" --out "$out")

if [ "$inside" = 0 ]; then
	exp_in_guest 2 2048 3000 "$out" "$(exp_pg_config "$pg")" -- \
		experiments/pool-pages.sh --inside "${args[@]}"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

KINDS=(4k thp hugetlb)
THP_ENABLED=/sys/kernel/mm/transparent_hugepage/shmem_enabled
# hugetlb pages per node: the whole pool fits on either node, with room.
HUGE_PER_NODE=$((pool / 2 + 32))

node_kb() {
	awk -v k="$2:" '$3 == k { print $4 }' "/sys/devices/system/node/node$1/meminfo"
}
# 2 MiB pages on node $1: shared memory THP, and hugetlb pages in use.
thp_on() { echo $(($(node_kb "$1" ShmemHugePages) / 2048)); }
huge_on() {
	local d=/sys/devices/system/node/node$1/hugepages/hugepages-2048kB
	echo $(($(cat "$d/nr_hugepages") - $(cat "$d/free_hugepages")))
}
kernel_pages() {
	echo "thp $(thp_on 0)+$(thp_on 1) hugetlb $(huge_on 0)+$(huge_on 1)"
}

echo advise >"$THP_ENABLED"
for n in 0 1; do
	echo "$HUGE_PER_NODE" >/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
done
{
	echo "kernel: $(uname -r)"
	echo "PostgreSQL: $("$PG_CONFIG" --version)"
	echo "shmem_enabled: $(cat "$THP_ENABLED")"
	echo "hugetlb pages per node: $(cat /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages | xargs)"
	echo "move_pages2: $(cat /sys/kernel/mm/move_pages2/version 2>/dev/null || echo none)"
} >"$out/guest.txt"
cat "$out/guest.txt"

pg_cluster_init /tmp/mp2-pool-pages/pg >/dev/null
echo "mp2.start_worker = off" >>"$PGDATA/postgresql.conf"

# start_kind KIND: a server with a pool of that kind, the table read in.
start_kind() {
	local opts="-c shared_buffers=${pool}MB"
	case "$1" in
	4k) opts="$opts -c huge_pages=off -c mp2.pool_thp=off" ;;
	thp) opts="$opts -c huge_pages=off -c mp2.pool_thp=on" ;;
	hugetlb) opts="$opts -c huge_pages=on -c mp2.pool_thp=off" ;;
	esac
	pg_start cap -o "$opts" || return 1
	psql_q "SELECT pg_prewarm('mp2_pp')" >/dev/null
}

phase "pool-pages: a table of $table MB"
pg_start cap -o "-c shared_buffers=${pool}MB -c huge_pages=off"
psql_q "SET client_min_messages = warning;
        CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm;
        CREATE TABLE mp2_pp AS
          SELECT g AS id, repeat('p', 1000) AS pad
            FROM generate_series(1, $table * 7 * 128) g" >/dev/null
psql_q "SELECT pg_size_pretty(pg_relation_size('mp2_pp'))"
pg_stop

echo "kind,repeat,move,to,requested,moved,already,failed,page_size,elapsed_ms" >"$out/runs.csv"
echo "kind,repeat,page_size,pool_thp,pool_thp_pages,kernel_before,kernel_after" >"$out/pools.csv"
for r in $(seq 1 "$repeats"); do
	for k in 0 1 2; do
		kind=${KINDS[$(((k + r - 1) % 3))]}
		phase "repeat $r: $kind pool"
		start_kind "$kind" || exit 1
		info=$(psql_q "SELECT page_size || ',' || pool_thp || ',' || coalesce(pool_thp_pages::text, '') FROM mp2_info()")
		psql_q "SELECT moved FROM mp2_migrate_pool(0)" >/dev/null
		before=$(kernel_pages)
		for m in $(seq 1 "$moves"); do
			to=$((m % 2))
			row=$(psql_q "SELECT requested || ',' || moved || ',' || already || ',' ||
			                     (failed_busy + failed_shared + failed_nomem + failed_other) || ',' ||
			                     page_size || ',' || elapsed_ms
			                FROM mp2_migrate_pool($to)")
			echo "$kind,$r,$m,$to,$row" >>"$out/runs.csv"
			echo "$kind pool, repeat $r, move $m to node $to: $row"
		done
		after=$(kernel_pages)
		echo "$kind,$r,$info,$before,$after" >>"$out/pools.csv"
		echo "$kind pool: page_size,pool_thp,pool_thp_pages = $info; kernel: $before -> $after"
		pg_stop
	done
done

phase "pool-pages: memcpy between the nodes (mp2bench migrate)"
"$TOP/build/mp2bench" migrate --mib 64 --repeats "$repeats" --methods move_pages2 \
	--page-kind 4k,thp,hugetlb --csv "$out/mp2bench.csv" --summary "$out/mp2bench-summary.csv" \
	2>"$out/mp2bench.txt" || echo "mp2bench migrate failed: $(tail -n 3 "$out/mp2bench.txt")"

# Medians over every move of every repeat; GB/s of the bytes moved.
"$TOP/experiments/stats.py" pool-pages "$out" >"$out/summary.md"
