#!/bin/bash
# SPDX-License-Identifier: MIT
# Where is the buffer pool?  mp2_buffer_nodes() side by side with
# PostgreSQL 18's own pg_buffercache_numa and pg_shmem_allocations_numa,
# in the two-node guest, with pools of 128 MB and 1 GB of which half is
# faulted in (a table of half the pool's size, read with pg_prewarm).
#
# Each measurement runs in a server started for it, because the two
# views of PostgreSQL 18 read (and so fault in) every page of the pool,
# which changes what the next one would see.  For each: wall time of the
# query (psql \timing), and the peak private memory of its backend
# (pglib.sh's run_measured: VmHWM less the file and shared pages, plus
# page tables).  Methods are interleaved over the repeats; medians are
# reported, with mp2's speed-up.
#
# Agreement: in one more server, mp2_buffer_nodes() first, then
# pg_buffercache_numa.  On every node the count of pages must match,
# except that pg_buffercache_numa also counts the pages it faulted in
# itself, on the node of its backend: there the difference must be the
# pages mp2 reported as not faulted in.
#
#   experiments/numa-views.sh [--repeats N] [--out DIR]
#
# Builds PostgreSQL 18 (scripts/build-pg.sh, cached) and the patched
# kernel (cached), installs the extension into that PostgreSQL.  Writes
# DIR/runs.csv and DIR/summary.md (default results/numa-views).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

usage() {
	sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'
}

repeats=3
out=results/numa-views
inside=0
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--repeats)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "numa-views.sh: --repeats wants a number" >&2; exit 2; }
		repeats=$2
		shift
		;;
	--out) out=${2:?--out needs a folder}; shift ;;
	--inside) inside=1 ;;
	*) echo "numa-views.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

case "$out" in
/*) ;;
*) out="$TOP/$out" ;;
esac

if [ "$inside" = 0 ]; then
	echo "numa-views: PostgreSQL 18 (built from Debian's source package, cached)"
	PG_CONFIG=$(scripts/build-pg.sh 18 | tail -n 1)
	echo "numa-views: installing the extension into $("$PG_CONFIG" --pkglibdir)"
	make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
	kernel/build-kernel.sh >/dev/null
	mkdir -p "$out"
	echo "numa-views: booting a 2-node guest (2 GB per node)"
	kernel/run-guest.sh --nodes 2 --mem-per-node 2048 --share "$out" \
		--timeout 5000 --env "PG_CONFIG=$PG_CONFIG" -- \
		experiments/numa-views.sh --inside --repeats "$repeats" --out "$out"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../pg_extension/test/pglib.sh
. "$TOP/pg_extension/test/pglib.sh"

QUERY_mp2="SELECT * FROM mp2_buffer_nodes()"
QUERY_buffercache="SELECT numa_node, count(DISTINCT os_page_num) FROM pg_buffercache_numa GROUP BY 1"
QUERY_shmem="SELECT numa_node, size FROM pg_shmem_allocations_numa WHERE name = 'Buffer Blocks'"
METHODS=(mp2 buffercache shmem)

pg_cluster_init /tmp/mp2-numa-views/pg >/dev/null

# start_half MB: a server with a pool of MB, half of it faulted in.
start_half() {
	local mb=$1
	pg_start cap -o "-c shared_buffers=${mb}MB" || return 1
	psql_q "SET client_min_messages = warning;
	        CREATE EXTENSION IF NOT EXISTS mp2;
	        CREATE EXTENSION IF NOT EXISTS pg_buffercache;
	        CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
	# Blocks of 8 kB: half the pool.
	psql_q "SELECT pg_prewarm('mp2_half', 'buffer', 'main', 0, $((mb * 64 - 1)))" >/dev/null
}

echo "size_mb,repeat,method,ms,peak_kb" >"$out/runs.csv"
phase "numa-views: a table of 512 MB to fault pools in with"
pg_start cap -o "-c shared_buffers=128MB"
psql_q "CREATE TABLE mp2_half AS
        SELECT g AS id, repeat('h', 1000) AS pad FROM generate_series(1, 512 * 896) g" >/dev/null
pg_stop

tmp=$(mktemp)
for r in $(seq 1 "$repeats"); do
	for mb in 128 1024; do
		# Interleaved: the order of the methods turns with the repeat.
		for k in 0 1 2; do
			m=${METHODS[$(((k + r) % 3))]}
			q=QUERY_$m
			start_half "$mb" || exit 1
			peak=$(run_measured "nv_$m" "\\timing on
${!q}" "$tmp")
			ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$tmp" | head -n 1)
			echo "$mb,$r,$m,$ms,$peak" >>"$out/runs.csv"
			echo "pool ${mb} MB, repeat $r, $m: $ms ms, peak $peak kB"
			pg_stop
		done
	done
done

# Agreement, per pool size.
agree=""
for mb in 128 1024; do
	start_half "$mb" || exit 1
	m=$(psql_q "SELECT coalesce(node::text, 'none') || ':' || os_pages FROM mp2_buffer_nodes()" | tr '\n' ' ')
	b=$(psql_q "SELECT numa_node || ':' || count(DISTINCT os_page_num)
	            FROM pg_buffercache_numa GROUP BY numa_node ORDER BY 1" | tr '\n' ' ')
	verdict=$(awk -v m="$m" -v b="$b" 'BEGIN {
		n = split(m, a, " "); none = 0
		for (i = 1; i <= n; i++) { split(a[i], kv, ":"); if (kv[1] == "none") none = kv[2]; else mp[kv[1]] = kv[2] }
		n = split(b, c, " ")
		for (i = 1; i <= n; i++) { split(c[i], kv, ":"); bc[kv[1]] = kv[2] }
		ok = 1; extra = 0
		for (k in bc) { d = bc[k] - mp[k]; if (d != 0) { extra += d; if (d < 0) ok = 0 } }
		for (k in mp) if (!(k in bc) && mp[k] > 0) ok = 0
		# Only pages mp2 saw as not faulted in may differ.
		if (extra > none) ok = 0
		print (ok ? "agree" : "DIFFER") " (mp2: " m "| pg_buffercache_numa: " b ")"
	}')
	echo "pool ${mb} MB: $verdict"
	agree="$agree- pool ${mb} MB: $verdict"$'\n'
	pg_stop
done
rm -f "$tmp"

# Medians and ratios.
{
	echo "| pool | method | median ms | median peak kB | time vs mp2 |"
	echo "|---:|---|---:|---:|---:|"
	for mb in 128 1024; do
		base=""
		for m in mp2 buffercache shmem; do
			med_ms=$(awk -F, -v s="$mb" -v m="$m" '$1 == s && $3 == m { print $4 }' "$out/runs.csv" | sort -n |
				awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
			med_kb=$(awk -F, -v s="$mb" -v m="$m" '$1 == s && $3 == m { print $5 }' "$out/runs.csv" | sort -n |
				awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
			[ "$m" = mp2 ] && base=$med_ms
			name=$m
			[ "$m" = mp2 ] && name='mp2_buffer_nodes()'
			[ "$m" = buffercache ] && name='pg_buffercache_numa'
			[ "$m" = shmem ] && name='pg_shmem_allocations_numa'
			echo "| ${mb} MB | $name | $med_ms | $med_kb | $(awk -v a="$med_ms" -v b="$base" 'BEGIN { printf "%.1fx", a / b }') |"
		done
	done
	echo
	echo "Agreement:"
	echo
	printf '%s' "$agree"
} >"$out/summary.md"
