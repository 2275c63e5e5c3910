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
EXP="guest-run.sh"
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"
# shellcheck source=ycsb-server.sh
. "$TOP/experiments/ycsb-server.sh"

out=${1:?usage: guest-run.sh OUTDIR [options]}
shift
full=0
seconds=6
repeats=3
rows=100000
clients=2
pause_ms=0
exp_options "full:flag seconds:whole repeats:whole rows:whole clients:whole pause-ms:whole" "$@"

MIXES=(c a e)
# method:mode:batch; "none" runs pgbench without relocation.
if [ "$full" = 1 ]; then
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
ycsb_server "$work" "$rows"

csv=$out/runs.csv
echo "mix,method,mode,batch,repeat,seconds,tps,lat_p50_ms,lat_p95_ms,lat_p99_ms,failed_tx,moves,pages_moved,pages_per_s" >"$csv"
runs=$((repeats * ${#MIXES[@]} * ${#SETTINGS[@]}))
n=0
for rep in $(seq 1 "$repeats"); do
	for mix in "${MIXES[@]}"; do
		for s in "${SETTINGS[@]}"; do
			IFS=: read -r method mode batch <<<"$s"
			n=$((n + 1))
			log "run $n/$runs: repeat $rep, mix ${mix^^}, $method $mode $batch"
			ycsb_run "$work/run$n" "$mix" "$clients" "$seconds" "$rows" \
				"$method" "$mode" "$batch" "$pause_ms" 0
			echo "${mix^^},$method,$mode,$batch,$rep,$seconds,$TPS,$LAT,$FAILED,$MOVES,$MOVED,$PAGES_PER_S" | tee -a "$csv"
		done
	done
done
psql_q "SELECT method, migrations, moved, failed_busy, failed_shared FROM mp2_stats()" || true
log "done: $csv"
