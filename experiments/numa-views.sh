#!/bin/bash
# SPDX-License-Identifier: MIT
# Where is the buffer pool?  mp2_buffer_nodes() side by side with
# PostgreSQL 18's own pg_buffercache_numa and pg_shmem_allocations_numa,
# by default in the two-node guest with pools of 128 MB and 1 GB of
# which half is faulted in (a table read with pg_prewarm), or on this
# host (--host: any number of nodes).
#
# Methods (--methods): mp2 (the backend locates the pool itself, faulting
# in what it looks at), mp2_warm (mp2.warm_mapping = on: the backend
# locates the pool through the worker's page tables, once the worker has
# mapped every page in use), buffercache, shmem.
#
# Each measurement runs in a server started for it, because the two
# views of PostgreSQL 18 read (and so fault in) every page of the pool,
# which changes what the next one would see.  For each: wall time of the
# query in a new session (psql \timing), and the peak private memory of
# its backend (pglib.sh's run_measured: VmHWM less the file and shared
# pages, plus page tables).  Methods are interleaved over the repeats;
# medians are reported, with each method's time against
# pg_buffercache_numa's.
#
# Agreement: in one more server per pool and fill, mp2_buffer_nodes()
# first, then pg_buffercache_numa.  On every node the count of pages must
# match, except that pg_buffercache_numa also counts the pages it faulted
# in itself, on the node of its backend: there the difference must be
# the pages mp2 reported as not faulted in.
#
#   experiments/numa-views.sh [--host] [--sizes "MB ..."] [--fills "PCT ..."]
#                             [--methods "M ..."] [--repeats N] [--out DIR]
#
# Defaults: --sizes "128 1024" --fills 50 --methods "mp2 buffercache
# shmem" --repeats 3 --out results/numa-views.  Builds PostgreSQL 18
# (scripts/build-pg.sh, cached) and, for the guest, the patched kernel
# (cached); installs the extension into that PostgreSQL.  Writes
# DIR/runs.csv and DIR/summary.md.  Needs root.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=numa-views
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=3
out=results/numa-views
sizes="128 1024"
fills=50
methods="mp2 buffercache shmem"
host=0
inside=0
exp_options "repeats:number sizes:text fills:text methods:text out:text host:flag inside:flag" "$@"
# num_list OPTION VALUE...: at least one value, each a whole number.
num_list() {
	local opt=$1 v
	shift
	[ $# -gt 0 ] || exp_number "$opt" ""
	for v in "$@"; do exp_number "$opt" "$v"; done
}
num_list --sizes $sizes
num_list --fills $fills
for f in $fills; do
	[ "$f" -le 100 ] || { echo "numa-views.sh: --fills are percentages of the pool, got '$f'" >&2; exit 2; }
done
for m in $methods; do
	case "$m" in
	mp2 | mp2_warm | buffercache | shmem) ;;
	*) echo "numa-views.sh: unknown method '$m' (mp2, mp2_warm, buffercache, shmem)" >&2; exit 2 ;;
	esac
done
where=guest
[ "$host" = 1 ] && where=host

out=$(exp_out "$out")
pass=(--repeats "$repeats" --sizes "$sizes" --fills "$fills" --methods "$methods" --out "$out")
[ "$where" = host ] && pass+=(--host)

if [ "$inside" = 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "numa-views.sh: needs root (make install, the server as postgres)" >&2; exit 1; }
	echo "numa-views: PostgreSQL 18 (built from Debian's source package, cached)"
	PG_CONFIG=$(exp_pg_config 18)
	export PG_CONFIG
	if [ "$where" = host ]; then
		exp_install "$PG_CONFIG"
		mkdir -p "$out"
		echo "numa-views: on this host ($(uname -r))"
		"$0" --inside "${pass[@]}"
	else
		exp_in_guest 2 2048 5000 "$out" "$PG_CONFIG" -- \
			experiments/numa-views.sh --inside "${pass[@]}"
	fi
	cat "$out/summary.md"
	exit 0
fi

# ---- where the measurement runs: the guest, or the host with --host -----
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

QUERY_mp2="SELECT * FROM mp2_buffer_nodes()"
QUERY_mp2_warm=$QUERY_mp2
QUERY_buffercache="SELECT numa_node, count(DISTINCT os_page_num) FROM pg_buffercache_numa GROUP BY 1"
QUERY_shmem="SELECT numa_node, size FROM pg_shmem_allocations_numa WHERE name = 'Buffer Blocks'"
read -ra METHODS <<<"$methods"
NM=${#METHODS[@]}

work=$(mktemp -d /tmp/mp2-numa-views.XXXXXX)
chmod 755 "$work"
trap 'pg_stop || true; rm -rf "$work"' EXIT
PGPORT=${PGPORT:-54392} pg_cluster_init "$work/pg" >/dev/null

max=0
for mb in $sizes; do [ "$mb" -gt "$max" ] && max=$mb; done

# start_filled MB PCT [WARM]: a server with a pool of MB, PCT percent of it
# faulted in; with WARM, mp2.warm_mapping = on and the worker has mapped
# every page in use.
start_filled() {
	local mb=$1 pct=$2 warm=${3:-} opts in_use
	opts="-c shared_buffers=${mb}MB"
	[ -n "$warm" ] && opts="$opts -c mp2.warm_mapping=on"
	pg_start cap -o "$opts" || return 1
	psql_q "SET client_min_messages = warning;
	        CREATE EXTENSION IF NOT EXISTS mp2;
	        CREATE EXTENSION IF NOT EXISTS pg_buffercache;
	        CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
	# Blocks of 8 kB: PCT percent of the pool.
	psql_q "SELECT pg_prewarm('mp2_fill', 'buffer', 'main', 0, $((mb * 128 * pct / 100 - 1)))" >/dev/null
	[ -n "$warm" ] || return 0
	[ -n "$(psql_q "SELECT mapper_pid FROM mp2_info()")" ] ||
		psql_q "SELECT mp2_worker_start()" >/dev/null
	# Counted through the worker's mapping, so this backend faults little in.
	in_use=$(psql_q "SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL")
	mapped() {
		[ "$(psql_q "SELECT coalesce(mapper_pages, -1) >= $in_use - 64 FROM mp2_info()")" = t ]
	}
	wait_for 300 mapped || { echo "numa-views: the worker did not map $in_use pages in 300 s" >&2; return 1; }
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "size_mb,repeat,method,ms,peak_kb,fill_pct" >"$out/runs.csv"
phase "numa-views: a table of $max MB to fault pools in with"
pg_start cap -o "-c shared_buffers=128MB"
psql_q "CREATE TABLE mp2_fill AS
        SELECT g AS id, repeat('h', 1000) AS pad FROM generate_series(1, $max * 896) g" >/dev/null
pg_stop

tmp=$(mktemp)
for r in $(seq 1 "$repeats"); do
	for mb in $sizes; do
		for pct in $fills; do
			# Interleaved: the order of the methods turns with the repeat.
			for k in $(seq 0 $((NM - 1))); do
				m=${METHODS[$(((k + r) % NM))]}
				q=QUERY_$m
				warm=""
				[ "$m" = mp2_warm ] && warm=warm
				start_filled "$mb" "$pct" $warm || exit 1
				peak=$(run_measured "nv_$m" "\\timing on
${!q}" "$tmp")
				ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$tmp" | head -n 1)
				echo "$mb,$r,$m,$ms,$peak,$pct" >>"$out/runs.csv"
				echo "pool ${mb} MB, ${pct}% in use, repeat $r, $m: $ms ms, peak $peak kB"
				pg_stop
			done
		done
	done
done

# counts SQL: "node:pages" pairs, one per row of SQL, on one line.
counts() {
	psql_q "$1" | tr '\n' ' '
}

# Agreement, per pool size and fill, for mp2 through the worker when it
# was measured, else alone.
agree=""
warm=""
case " $methods " in *" mp2_warm "*) warm=warm ;; esac
for mb in $sizes; do
	for pct in $fills; do
		start_filled "$mb" "$pct" $warm || exit 1
		m=$(counts "SELECT coalesce(node::text, 'none') || ':' || os_pages FROM mp2_buffer_nodes()")
		b=$(counts "SELECT numa_node || ':' || count(DISTINCT os_page_num)
		            FROM pg_buffercache_numa GROUP BY numa_node ORDER BY 1")
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
		echo "pool ${mb} MB, ${pct}% in use: $verdict"
		agree="$agree- pool ${mb} MB, ${pct}% in use${warm:+, mp2 through the worker}: $verdict"$'\n'
		pg_stop
	done
done
rm -f "$tmp"

{
	echo "$where ($(uname -r)), PostgreSQL $PG_MAJOR, $(($(getconf PAGESIZE) / 1024)) kB pages, each query in a new session of a server started for it, $repeats repeats; load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo
	"$TOP/experiments/stats.py" numa-views "$out/runs.csv" "$sizes" "$fills" "$methods"
	echo
	echo "Agreement:"
	echo
	printf '%s' "$agree"
} >"$out/summary.md"
