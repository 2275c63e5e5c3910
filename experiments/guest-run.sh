#!/bin/bash
# SPDX-License-Identifier: MIT
# Inside the multi-node guest: the pgbench YCSB experiment.
#
# Starts PostgreSQL with mp2 preloaded and CAP_SYS_NICE (as systemd's
# AmbientCapabilities would give it), loads the ycsb table, and then, for
# every repeat, mix and setting in turn (interleaved), runs pgbench for a
# fixed time while a relocator moves the table's and its index's buffers
# between node 0 and node 1 back and forth with that setting.  One CSV row
# per run goes to OUTDIR/runs.csv.  Run by experiments/run.sh; needs root.
#
# usage: experiments/guest-run.sh OUTDIR [--full] [--seconds N]
#        [--repeats N] [--rows N] [--clients N] [--pause-ms N]
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=ycsb-server.sh
. "$TOP/experiments/ycsb-server.sh"

OUT=${1:?usage: guest-run.sh OUTDIR [options]}
shift
FULL=0
SECONDS_RUN=6
REPEATS=3
ROWS=100000
CLIENTS=2
PAUSE_MS=0
while [ $# -gt 0 ]; do
	case "$1" in
	--full) FULL=1 ;;
	--seconds) SECONDS_RUN=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--rows) ROWS=$2; shift ;;
	--clients) CLIENTS=$2; shift ;;
	--pause-ms) PAUSE_MS=$2; shift ;;
	*) echo "guest-run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

MIXES=(c a e)
# method:mode:batch; "none" runs pgbench without relocation.
if [ "$FULL" = 1 ]; then
	SETTINGS=(none:-:0)
	for b in 64 256 512 1024; do
		SETTINGS+=("move_pages:sync:$b")
		for m in async sync_light sync; do
			SETTINGS+=("move_pages2:$m:$b")
		done
	done
else
	SETTINGS=(none:-:0 move_pages:sync:512 move_pages2:async:64
		move_pages2:async:512)
fi

work=/tmp/mp2-experiment
ycsb_server "$work" "$ROWS"

csv=$OUT/runs.csv
echo "mix,method,mode,batch,repeat,seconds,tps,lat_p50_ms,lat_p95_ms,lat_p99_ms,failed_tx,moves,pages_moved,pages_per_s" >"$csv"
runs=$((REPEATS * ${#MIXES[@]} * ${#SETTINGS[@]}))
n=0
for rep in $(seq 1 "$REPEATS"); do
	for mix in "${MIXES[@]}"; do
		for s in "${SETTINGS[@]}"; do
			IFS=: read -r method mode batch <<<"$s"
			n=$((n + 1))
			log "run $n/$runs: repeat $rep, mix ${mix^^}, $method $mode $batch"
			psql_q "SELECT mp2_migrate('ycsb', 0), mp2_migrate('ycsb_pkey', 0)" >/dev/null
			rundir=$work/run$n
			mkdir -p "$rundir"
			chown "$PG_USER": "$rundir"
			reloc=
			if [ "$method" != none ]; then
				relocate_sql "$method" "$mode" "$batch" "$SECONDS_RUN" \
					"$PAUSE_MS" 0 >"$rundir/reloc.sql"
				as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
					-f "$rundir/reloc.sql" >"$rundir/reloc.log" 2>&1 &
				reloc=$!
			fi
			(cd "$rundir" && as_pg "$PGBIN/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" \
				-T "$SECONDS_RUN" -D rows="$ROWS" --log --log-prefix=tx \
				-f "$TOP/experiments/pgbench/ycsb-$mix.sql" >"$rundir/pgbench.log" 2>&1)
			moves=0 pages=0 secs=$SECONDS_RUN
			if [ -n "$reloc" ]; then
				wait "$reloc" || { cat "$rundir/reloc.log"; exit 1; }
				read -r moves pages secs _ < <(sed -n 's/.*relocated \([0-9]*\) \([0-9]*\) \([0-9.]*\) \([0-9.]*\).*/\1 \2 \3 \4/p' "$rundir/reloc.log")
			fi
			tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$rundir/pgbench.log" | head -n 1)
			failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$rundir/pgbench.log")
			lat=$(percentiles "$rundir"/tx.*)
			pps=$(awk -v p="$pages" -v s="$secs" 'BEGIN { printf("%.0f", (s > 0) ? p / s : 0) }')
			echo "${mix^^},$method,$mode,$batch,$rep,$SECONDS_RUN,$tps,$lat,${failed:-0},$moves,$pages,$pps" | tee -a "$csv"
			rm -rf "$rundir"
		done
	done
done
psql_q "SELECT method, migrations, moved, failed_busy, failed_shared FROM mp2_stats()" || true
log "done: $csv"
