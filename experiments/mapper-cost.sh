#!/bin/bash
# SPDX-License-Identifier: MIT
# What the worker's warm mapping (mp2.warm_mapping) costs the worker: its
# page tables (VmPTE) and the shared pages it maps (RssShmem), before and
# after it has mapped a pool of which every buffer is in use, for pools of
# 1 and 2 GB, in 4 kB pages (huge_pages = off) and in 2 MB pages
# (huge_pages = on, the huge pages reserved here for the run and given
# back after).
#
# On the host (any number of nodes), with the PostgreSQL of $PG_CONFIG
# (default pg_config in PATH), into which the extension is installed.
# One cluster, restarted per pool size and page kind; a table larger
# than the pool read with pg_prewarm puts every buffer in use.
#
#   experiments/mapper-cost.sh [--sizes "1024 2048"] [--out FILE]
#
# Writes FILE (default results/mapper/pte-host.csv): one row per pool
# size and page kind.  Needs root.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

usage() {
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
}

sizes="1024 2048"
out=results/mapper/pte-host.csv
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--sizes) sizes=${2:?--sizes needs a list of MB}; shift ;;
	--out) out=${2:?--out needs a file}; shift ;;
	*) echo "mapper-cost.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
for s in $sizes; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || { echo "mapper-cost.sh: --sizes wants MB numbers, got '$s'" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "mapper-cost.sh: needs root (huge pages, the server as postgres)" >&2; exit 1; }

# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

echo "mapper-cost: PostgreSQL $PG_MAJOR ($PG_CONFIG); installing the extension"
make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

work=$(mktemp -d /tmp/mp2-mapcost.XXXXXX)
chmod 755 "$work"
hp_before=$(cat /proc/sys/vm/nr_hugepages)
cleanup() {
	pg_stop || true
	echo "$hp_before" >/proc/sys/vm/nr_hugepages
	rm -rf "$work"
}
trap cleanup EXIT

# A port of its own, beside the test suites' 54329.
PGPORT=${PGPORT:-54391} pg_cluster_init "$work/pg" >/dev/null
max=0
for s in $sizes; do [ "$s" -gt "$max" ] && max=$s; done

# field PID NAME: a kB field of /proc/PID/status.
field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

mkdir -p "$(dirname "$out")"
echo "kernel,pg_major,page_kind,shared_buffers_mb,pages_in_use,mapper_pages,pte_kb_before,pte_kb_after,shmem_kb_before,shmem_kb_after,pte_kb_per_gb" >"$out"
for kind in 4k 2m; do
	for sb in $sizes; do
		hp=off
		if [ "$kind" = 2m ]; then
			hp=on
			# The pool and the rest of shared memory, with room to spare.
			echo $((sb / 2 + 64)) >/proc/sys/vm/nr_hugepages
		fi
		echo "mapper-cost: $kind pages, shared_buffers ${sb}MB"
		pg_start -o "-c shared_buffers=${sb}MB -c huge_pages=$hp"
		psql_q "CREATE EXTENSION IF NOT EXISTS mp2; CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
		if [ -z "$(psql_q "SELECT 1 FROM pg_class WHERE relname = 'mp2_fill'")" ]; then
			echo "mapper-cost: a table of $((max + 256)) MB"
			psql_q "CREATE TABLE mp2_fill AS SELECT g AS id, repeat('f', 1000) AS pad
			          FROM generate_series(1, $(((max + 256) * 896))) g" >/dev/null
		fi
		psql_q "SELECT pg_prewarm('mp2_fill')" >/dev/null
		worker_up() { [ -n "$(psql_q "SELECT pid FROM mp2_worker_info()")" ]; }
		wait_for 30 worker_up
		pid=$(psql_q "SELECT pid FROM mp2_worker_info()")
		in_use=$(psql_q "SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL")
		pte0=$(field "$pid" VmPTE)
		shm0=$(field "$pid" RssShmem)
		psql_q "ALTER SYSTEM SET mp2.warm_mapping = on" >/dev/null
		psql_q "SELECT pg_reload_conf()" >/dev/null
		mapped() {
			[ "$(psql_q "SELECT coalesce(mapper_pages, -1) >= $in_use FROM mp2_info()")" = t ]
		}
		wait_for 120 mapped || echo "mapper-cost: the worker did not map $in_use pages in 120 s" >&2
		mapper=$(psql_q "SELECT mapper_pages FROM mp2_info()")
		pte1=$(field "$pid" VmPTE)
		shm1=$(field "$pid" RssShmem)
		psql_q "ALTER SYSTEM RESET mp2.warm_mapping" >/dev/null
		echo "$(uname -r),$PG_MAJOR,$kind,$sb,$in_use,$mapper,$pte0,$pte1,$shm0,$shm1,$(((pte1 - pte0) * 1024 / sb))" | tee -a "$out"
		pg_stop
	done
done
echo "mapper-cost: wrote $out"
