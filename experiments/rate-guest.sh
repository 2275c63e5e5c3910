#!/bin/bash
# SPDX-License-Identifier: MIT
# Inside the multi-node guest: the pgbench experiment at fixed relocation
# rates.  Like guest-run.sh, but the relocator moves the ycsb table and its
# index back and forth at a set rate (mp2_migrate's max_rate), so that the
# methods are compared at equal work, and flat out as one more row.  The
# rates are given as the seconds one relocation of the table and its index
# may take: with P their pages, "every S" is P / S pages a second, and 0
# is flat out.  One CSV row per run goes to OUTDIR/runs.csv, with the
# relocator backend's CPU time.  Run by experiments/rate.sh; needs root.
#
# usage: experiments/rate-guest.sh OUTDIR [--every LIST] [--clients LIST]
#        [--mixes LIST] [--batch N] [--seconds N] [--repeats N] [--rows N]
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=ycsb-server.sh
. "$TOP/experiments/ycsb-server.sh"

OUT=${1:?usage: rate-guest.sh OUTDIR [options]}
shift
EVERY=8,4,2,0
CLIENTS=2,4
MIXES=c
BATCH=256
SECONDS_RUN=8
REPEATS=3
ROWS=100000
while [ $# -gt 0 ]; do
	case "$1" in
	--every) EVERY=$2; shift ;;
	--clients) CLIENTS=$2; shift ;;
	--mixes) MIXES=$2; shift ;;
	--batch) BATCH=$2; shift ;;
	--seconds) SECONDS_RUN=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--rows) ROWS=$2; shift ;;
	*) echo "rate-guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
IFS=, read -r -a EVERY_LIST <<<"$EVERY"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a MIX_LIST <<<"${MIXES,,}"

work=/tmp/mp2-rate
ycsb_server "$work" "$ROWS"
pages=$(psql_q "SELECT sum(os_pages) FROM mp2_relation_nodes('ycsb') UNION ALL
		SELECT sum(os_pages) FROM mp2_relation_nodes('ycsb_pkey')" |
	awk '{ s += $1 } END { print s }')
log "ycsb and ycsb_pkey: $pages OS pages"

# method:mode:every; "none" runs pgbench without relocation.
SETTINGS=(none:-:-)
for e in "${EVERY_LIST[@]}"; do
	SETTINGS+=("move_pages:sync:$e" "move_pages2:async:$e")
done

csv=$OUT/runs.csv
echo "mix,clients,method,mode,batch,every_s,rate,repeat,seconds,tps,lat_p50_ms,lat_p95_ms,lat_p99_ms,failed_tx,moves,pages_moved,pages_per_s,reloc_cpu_s,cpu_us_per_page" >"$csv"
runs=$((REPEATS * ${#MIX_LIST[@]} * ${#CLIENT_LIST[@]} * ${#SETTINGS[@]}))
n=0
for rep in $(seq 1 "$REPEATS"); do
	for mix in "${MIX_LIST[@]}"; do
		for c in "${CLIENT_LIST[@]}"; do
			for s in "${SETTINGS[@]}"; do
				IFS=: read -r method mode every <<<"$s"
				rate=0
				[ "$every" != - ] && [ "$every" != 0 ] && rate=$(((pages + every - 1) / every))
				n=$((n + 1))
				log "run $n/$runs: repeat $rep, mix ${mix^^}, $c clients, $method $mode, every ${every}s ($rate pages/s)"
				psql_q "SELECT mp2_migrate('ycsb', 0), mp2_migrate('ycsb_pkey', 0)" >/dev/null
				rundir=$work/run$n
				mkdir -p "$rundir"
				chown "$PG_USER": "$rundir"
				reloc=
				if [ "$method" != none ]; then
					relocate_sql "$method" "$mode" "$BATCH" "$SECONDS_RUN" 0 "$rate" >"$rundir/reloc.sql"
					as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
						-f "$rundir/reloc.sql" >"$rundir/reloc.log" 2>&1 &
					reloc=$!
				fi
				(cd "$rundir" && as_pg "$PGBIN/pgbench" -n -c "$c" -j "$c" \
					-T "$SECONDS_RUN" -D rows="$ROWS" --log --log-prefix=tx \
					-f "$TOP/experiments/pgbench/ycsb-$mix.sql" >"$rundir/pgbench.log" 2>&1)
				moves=0 moved=0 secs=$SECONDS_RUN cpu=0
				if [ -n "$reloc" ]; then
					wait "$reloc" || { cat "$rundir/reloc.log"; exit 1; }
					read -r moves moved secs cpu < <(sed -n 's/.*relocated \([0-9]*\) \([0-9]*\) \([0-9.]*\) \([0-9.]*\).*/\1 \2 \3 \4/p' "$rundir/reloc.log")
				fi
				tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$rundir/pgbench.log" | head -n 1)
				failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$rundir/pgbench.log")
				lat=$(percentiles "$rundir"/tx.*)
				read -r pps cpp < <(awk -v p="$moved" -v s="$secs" -v c="$cpu" 'BEGIN {
					printf("%.0f %.1f\n", (s > 0) ? p / s : 0, (p > 0) ? c * 1e6 / p : 0) }')
				echo "${mix^^},$c,$method,$mode,$BATCH,$every,$rate,$rep,$SECONDS_RUN,$tps,$lat,${failed:-0},$moves,$moved,$pps,$cpu,$cpp" | tee -a "$csv"
				rm -rf "$rundir"
			done
		done
	done
done
log "done: $csv"
