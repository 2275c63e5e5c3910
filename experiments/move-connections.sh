#!/bin/bash
# SPDX-License-Identifier: MIT
# What a move costs against the server's connections.  Every backend
# inherits the pool's mapping from the postmaster, and a move's unmap and
# remap walks visit the mappings of each page it moves (the rmap walk),
# whether or not the backend ever touched the page.  In the two-node
# guest, a table is moved between the nodes by mp2_migrate() (CAP_SYS_NICE,
# MPOL_MF_MOVE_ALL) while the server has N other connections:
#
#   touched    min(N, --touched) backends that read the whole table, then
#              sit idle (each maps every page of it)
#   untouched  the rest: connected and idle, the table never read (each
#              maps the pool's range, and no page of the table)
#   pgbench    --pgbench clients of select-only pgbench on
#              pgbench_accounts (another table), at --rate transactions a
#              second in all, running while the moves run
#
# The touched backends connect first (--order first) or after the
# untouched ones (--order last).  The rmap walk of a page of the pool
# visits the postmaster's mapping, then its children's from the newest
# to the oldest (fork inserts a child's mapping right after its
# parent's), and the unmap walk ends once the page is mapped nowhere:
# so with --order last it ends before the untouched backends.
#
# For each page kind (4 kB pages, and 2 MB pages: huge_pages = on) and each
# N of --connections, interleaved over the repeats (the order of N rotates
# per repeat): the table moved to node 1 and back, each move in a new
# session, with pages moved, wall time, the guest's busy CPU time over the
# move (/proc/stat) per page; then one move there and back under ftrace's
# function profiler, counting the rmap visits (try_to_migrate_one: the
# unmap walk; remove_migration_pte: the remap walk) per page moved.  The
# timed moves run without the profiler, which slows every visit.  Once per
# page kind and N: how many processes map each page of the pool, from
# /proc/kpagecount for the pages one touched backend maps (its pagemap).
# The table's contents are hashed before and after all moves.
#
#   experiments/move-connections.sh [--repeats N] [--connections "N..."]
#       [--touched N] [--order first|last] [--pgbench N] [--rate TPS]
#       [--table MB] [--kinds "4k 2m"] [--pg VERSION] [--out DIR]
#
# Defaults: 2 repeats, connections 1 8 32 64 128, 8 touched first, 2 pgbench
# clients at 20 transactions a second, a 32 MB table in a 128 MB pool,
# both page kinds, PostgreSQL 15, results/move-connections.  Installs the
# extension into that PostgreSQL and boots the cached guest kernel.
# Writes DIR/runs.csv, DIR/mapcount.csv and DIR/summary.md.  Needs root.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
EXP=move-connections
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=2
connections="1 8 32 64 128"
touched=8
order=first
pgbench=2
rate=20
table=32
kinds="4k 2m"
pg=15
out=results/move-connections
inside=0
exp_options "repeats:number connections:text touched:number order:text pgbench:number rate:number table:number kinds:text pg:number out:text inside:flag" "$@"
out=$(exp_out "$out")
for n in $connections; do exp_number --connections "$n"; done
case $order in first | last) ;; *)
	echo "$EXP: --order: '$order' is neither first nor last" >&2
	exit 2
	;;
esac
for k in $kinds; do
	case $k in 4k | 2m) ;; *)
		echo "$EXP: --kinds: unknown page kind '$k' (4k, 2m)" >&2
		exit 2
		;;
	esac
done
pool=$((table * 4))
max_n=$(tr " " "\n" <<<"$connections" | sort -n | tail -n 1)

if [ "$inside" = 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "$EXP: needs root (make install, the guest)" >&2; exit 1; }
	start=$SECONDS
	exp_in_guest 2 2048 $((900 + repeats * 5 * 300)) "$out" "$(exp_pg_config "$pg")" -- \
		experiments/move-connections.sh --inside --repeats "$repeats" \
		--connections "$connections" --touched "$touched" --order "$order" --pgbench "$pgbench" \
		--rate "$rate" --table "$table" --kinds "$kinds" --out "$out"
	echo "wall time of the guest run: $((SECONDS - start)) s" >>"$out/summary.md"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"

T=/sys/kernel/tracing
HZ=$(getconf CLK_TCK)
DIR=/tmp/mp2-move-connections
[ -e "$T/function_profile_enabled" ] || mount -t tracefs nodev "$T"
[ -e "$T/function_profile_enabled" ] || { echo "$EXP: no function profiler in this kernel" >&2; exit 1; }
echo 0 >"$T/function_profile_enabled"
echo nop >"$T/current_tracer"
echo try_to_migrate_one >"$T/set_ftrace_filter"
echo remove_migration_pte >>"$T/set_ftrace_filter"

pg_cluster_init "$DIR/pg" >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
shared_buffers = ${pool}MB
max_connections = $((max_n + pgbench + 20))
CONF
sed -i '/^huge_pages = off$/d' "$PGDATA/postgresql.conf"

# busy_s: the guest's busy CPU seconds (all but idle and iowait).
busy_s() {
	awk -v hz="$HZ" '$1 == "cpu" { printf "%.3f\n", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}

# visits: "unmap remap" rmap visits counted by the function profiler, all
# CPUs.
visits() {
	cat "$T"/trace_stat/function* |
		awk '$1 == "try_to_migrate_one" { u += $2 } $1 == "remove_migration_pte" { r += $2 }
		     END { print u + 0, r + 0 }'
}

hash() { psql_q "SELECT sum(hashtext(t::text)::bigint) || '|' || count(*) FROM mp2_t t"; }

# move NODE: "moved,ms" of the table moved to NODE in a new session.
move() {
	psql_q "SELECT moved || ',' || round(elapsed_ms::numeric, 1) FROM mp2_migrate('mp2_t', $1)"
}

# mapcount PID: "mapcount pages" for the pool's pages PID maps, from its
# pagemap and /proc/kpagecount (per 4 kB entry, huge pages included).
mapcount() {
	python3 - "$1" <<'PY'
import collections, struct, sys
pid = sys.argv[1]
best = (0, 0)
for line in open('/proc/%s/maps' % pid):
    f = line.split()
    if len(f) >= 6 and f[1][3] == 's' and f[5] in ('/dev/zero', '/anon_hugepage'):
        s, e = (int(x, 16) for x in f[0].split('-'))
        if e - s > best[1] - best[0]:
            best = (s, e)
hist = collections.Counter()
with open('/proc/%s/pagemap' % pid, 'rb') as pm, open('/proc/kpagecount', 'rb') as kc:
    pm.seek(best[0] // 4096 * 8)
    data = pm.read((best[1] - best[0]) // 4096 * 8)
    for (e,) in struct.iter_unpack('<Q', data):
        if e >> 63:
            kc.seek((e & ((1 << 55) - 1)) * 8)
            hist[struct.unpack('<Q', kc.read(8))[0]] += 1
for c in sorted(hist):
    print(c, hist[c])
PY
}

# connect N: N other connections up (see the head); the PIDs of the
# holders in $DIR/holders, one touched backend's PID in $DIR/touched_pid.
connect() {
	local n=$1 t i
	t=$((n < touched ? n : touched))
	: >"$DIR/holders"
	for ((i = 0; i < n; i++)); do
		# psql reads its stdin until the sleep ends: the session stays
		# open and idle after its one query (or none).
		if { [ "$order" = first ] && [ "$i" -lt "$t" ]; } ||
			{ [ "$order" = last ] && [ "$i" -ge $((n - t)) ]; }; then
			(echo "SELECT count(*) FROM mp2_t;"; exec sleep 100000) |
				as_pg "$PGBIN/psql" -X -q -At -d postgres -v application_name=touched >/dev/null &
		else
			(exec sleep 100000) | as_pg "$PGBIN/psql" -X -q -d postgres >/dev/null &
		fi
		echo $! >>"$DIR/holders"
	done
	if [ "$pgbench" -gt 0 ]; then
		as_pg "$PGBIN/pgbench" -n -S -c "$pgbench" -j 1 -R "$rate" -T 100000 postgres \
			>"$DIR/pgbench.log" 2>&1 &
		echo $! >"$DIR/pgbench_pid"
	fi
	up() {
		[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
		              WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" -ge $((n + pgbench)) ] &&
			[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
			              WHERE backend_type = 'client backend' AND state = 'idle'
			                AND query LIKE 'SELECT count(*) FROM mp2_t%'")" -ge "$t" ]
	}
	wait_for 600 up || { echo "$EXP: $n connections not up in 600 s" >&2; exit 1; }
	psql_q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM mp2_t%'
	          AND pid <> pg_backend_pid() LIMIT 1" >"$DIR/touched_pid"
}

disconnect() {
	local p
	# as_pg's subshell is the job; pgbench is its child.
	[ -s "$DIR/pgbench_pid" ] && kill "$(cat "$DIR/pgbench_pid")" 2>/dev/null
	pkill -x pgbench || true
	rm -f "$DIR/pgbench_pid"
	# Ending each holder's sleep ends its psql.
	pkill -f '^sleep 100000$' || true
	while read -r p; do wait "$p" 2>/dev/null || true; done <"$DIR/holders"
	gone() {
		[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
		              WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ]
	}
	wait_for 120 gone || echo "$EXP: connections left after 120 s" >&2
}

echo "kind,connections,touched,repeat,to_node,profiled,moved,ms,pages_per_s,busy_cpu_ms,unmap_visits,remap_visits" >"$out/runs.csv"
echo "kind,connections,mapcount,pages" >"$out/mapcount.csv"
read -ra NS <<<"$connections"
hash0=""
for kind in $kinds; do
	hp=off
	if [ "$kind" = 2m ]; then
		hp=on
		# The pool, and room for the table on either node.
		for node in 0 1; do
			echo $(((pool + table) / 2 + 16)) >/sys/devices/system/node/node$node/hugepages/hugepages-2048kB/nr_hugepages
		done
	fi
	phase "$EXP: $kind pages (huge_pages = $hp)"
	pg_start cap -o "-c huge_pages=$hp"
	if [ -z "$hash0" ]; then
		psql_q "CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm" >/dev/null
		psql_q "CREATE TABLE mp2_t AS SELECT g AS id, repeat('m', 1000) AS pad
		        FROM generate_series(1, $table * 896) g" >/dev/null
		as_pg "$PGBIN/pgbench" -i -s 1 -q postgres >/dev/null 2>&1
	fi
	psql_q "SELECT pg_prewarm('mp2_t')" >/dev/null
	# Every timed pair starts from node 0: first touch may have put the
	# table anywhere.
	move 0 >/dev/null
	[ -n "$hash0" ] || hash0=$(hash)
	psql_q "SELECT 'page_size ' || page_size FROM mp2_relation_nodes('mp2_t') LIMIT 1"
	for r in $(seq 1 "$repeats"); do
		for k in "${!NS[@]}"; do
			n=${NS[$(((k + r - 1) % ${#NS[@]}))]}
			t=$((n < touched ? n : touched))
			phase "$EXP: $kind, repeat $r, $n connections ($t touched), $pgbench pgbench clients"
			connect "$n"
			for node in 1 0; do
				b0=$(busy_s)
				row=$(move "$node")
				b1=$(busy_s)
				echo "$row" | awk -F, -v pre="$kind,$n,$t,$r,$node,0" -v b="$(awk -v a="$b0" -v z="$b1" 'BEGIN { print (z - a) * 1000 }')" \
					'{ printf "%s,%s,%s,%.0f,%.0f,,\n", pre, $1, $2, ($2 > 0 ? $1 * 1000 / $2 : 0), b }' |
					tee -a "$out/runs.csv"
			done
			for node in 1 0; do
				echo 1 >"$T/function_profile_enabled"
				row=$(move "$node")
				echo 0 >"$T/function_profile_enabled"
				read -r un re <<<"$(visits)"
				echo "$kind,$n,$t,$r,$node,1,$row,,,$un,$re" | tee -a "$out/runs.csv"
			done
			if [ "$r" = 1 ]; then
				mapcount "$(cat "$DIR/touched_pid")" | awk -v pre="$kind,$n" '{ print pre "," $1 "," $2 }' >>"$out/mapcount.csv"
			fi
			disconnect
		done
	done
	hash1=$(hash)
	[ "$hash0" = "$hash1" ] || { echo "$EXP: THE TABLE'S CONTENTS CHANGED: $hash0 before, $hash1 after" >&2; exit 1; }
	pg_stop
done

{
	echo "Guest, 2 nodes, patched 6.12 ($(uname -r), $(cat /proc/sys/kernel/version)), PostgreSQL $PG_MAJOR, CAP_SYS_NICE, a ${table} MB table in a ${pool} MB pool; per page kind and number of other connections (at most $touched of them read the table, connected $order, the rest never did; $pgbench pgbench clients select-only on pgbench_accounts at $rate TPS besides), $repeats repeats of a move to node 1 and back, each move in a new session, the numbers of connections interleaved; visits counted in one more move there and back under ftrace's function profiler."
	echo
	"$TOP/experiments/stats.py" move-connections "$out"
	echo
	echo "The table's contents are the same after all moves ($hash0)."
} >"$out/summary.md"
cat "$out/summary.md"
