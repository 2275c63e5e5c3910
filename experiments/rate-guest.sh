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
# With --warm the worker keeps the pool mapped (mp2.warm_mapping) and has
# mapped the tables before the first run; the methods are move_pages2
# (the relocator's own page tables) and auto (through the worker's).
#
# Two more kinds of arm tell what the queries wait on: --nice N adds each
# method again with the relocator's backend at nice N, and --burn US adds
# "burn": a backend that moves nothing but spins US microseconds for every
# batch of pages the rate asks for, the CPU a relocator spends (and with
# --nice, burn at nice N too).  Every run counts the faults that waited
# for a migration to end or for a folio lock, and the time they waited
# (ftrace's function profiler), and the TLB shootdown interrupts.
#
# usage: experiments/rate-guest.sh OUTDIR [--every LIST] [--clients LIST]
#        [--mixes LIST] [--batch LIST] [--seconds N] [--repeats N] [--rows N]
#        [--warm] [--methods LIST] [--nice N] [--burn US]
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
EXP="rate-guest.sh"
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"
# shellcheck source=ycsb-server.sh
. "$TOP/experiments/ycsb-server.sh"

out=${1:?usage: rate-guest.sh OUTDIR [options]}
shift
every=8,4,2,0
clients=2,4
mixes=c
batch=256
seconds=8
repeats=3
rows=100000
warm=0
methods=""
nice=0
burn=0
exp_options "every:text clients:text mixes:text batch:text seconds:number repeats:number rows:number warm:flag methods:text nice:whole burn:whole" "$@"
[ "$nice" -le 19 ] || { echo "$EXP: --nice wants 0 to 19, got $nice" >&2; exit 2; }
IFS=, read -r -a EVERY_LIST <<<"$every"
IFS=, read -r -a CLIENT_LIST <<<"$clients"
IFS=, read -r -a MIX_LIST <<<"${mixes,,}"
IFS=, read -r -a BATCH_LIST <<<"$batch"

# method:mode:every:nice:batch; "none" runs pgbench without relocation,
# "burn" spins instead of moving (in bursts of the first batch).
if [ -z "$methods" ]; then
	if [ "$warm" = 1 ]; then methods=move_pages2,auto; else methods=move_pages,move_pages2; fi
fi
IFS=, read -r -a METHOD_LIST <<<"$methods"
[ "$burn" = 0 ] || METHOD_LIST+=(burn)
NICE_LIST=(0)
[ "$nice" = 0 ] || NICE_LIST+=("$nice")
SETTINGS=("none:-:-:0:${BATCH_LIST[0]}")
for e in "${EVERY_LIST[@]}"; do
	for m in "${METHOD_LIST[@]}"; do
		case "$m" in
		move_pages) mode=sync ;;
		move_pages2 | auto) mode=async ;;
		burn)
			[ "$e" != 0 ] || continue
			mode=-
			;;
		*) echo "$EXP: unknown method '$m' in --methods (move_pages, move_pages2, auto)" >&2; exit 2 ;;
		esac
		for ni in "${NICE_LIST[@]}"; do
			for b in "${BATCH_LIST[@]}"; do
				SETTINGS+=("$m:$mode:$e:$ni:$b")
				[ "$m" != burn ] || break
			done
		done
	done
done

work=/tmp/mp2-rate
ycsb_server "$work" "$rows"
pages=$(psql_q "SELECT sum(os_pages) FROM mp2_relation_nodes('ycsb') UNION ALL
		SELECT sum(os_pages) FROM mp2_relation_nodes('ycsb_pkey')" |
	awk '{ s += $1 } END { print s }')
log "ycsb and ycsb_pkey: $pages OS pages"
if [ "$warm" = 1 ]; then
	log "the warm mapping: mp2.warm_mapping = on, waiting for the worker to map the pool"
	psql_q "ALTER SYSTEM SET mp2.warm_mapping = on" >/dev/null
	psql_q "SELECT pg_reload_conf()" >/dev/null
	[ -n "$(psql_q "SELECT pid FROM mp2_worker_info()")" ] ||
		psql_q "SELECT mp2_worker_start()" >/dev/null
	in_use=$(psql_q "SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL")
	mapped() { [ "$(psql_q "SELECT coalesce(mapper_pages, -1) >= $in_use FROM mp2_info()")" = t ]; }
	wait_for 120 mapped || { log "the worker did not map the pool in 120 s"; exit 1; }
fi

entry_wait_setup
csv=$out/runs.csv
echo "mix,clients,method,mode,batch,every_s,rate,repeat,seconds,tps,lat_p50_ms,lat_p95_ms,lat_p99_ms,failed_tx,moves,pages_moved,pages_per_s,reloc_cpu_s,cpu_us_per_page,entry_waits,entry_wait_ms,lock_waits,lock_wait_ms,tlb_shootdowns" >"$csv"
runs=$((repeats * ${#MIX_LIST[@]} * ${#CLIENT_LIST[@]} * ${#SETTINGS[@]}))
n=0
for rep in $(seq 1 "$repeats"); do
	for mix in "${MIX_LIST[@]}"; do
		for c in "${CLIENT_LIST[@]}"; do
			for s in "${SETTINGS[@]}"; do
				IFS=: read -r method mode every_s ni b <<<"$s"
				label=$method
				[ "${#BATCH_LIST[@]}" = 1 ] || [ "$method" = none ] || [ "$method" = burn ] ||
					label="$label batch $b"
				[ "$ni" = 0 ] || label="$label nice $ni"
				rate=0
				[ "$every_s" != - ] && [ "$every_s" != 0 ] && rate=$(((pages + every_s - 1) / every_s))
				n=$((n + 1))
				log "run $n/$runs: repeat $rep, mix ${mix^^}, $c clients, $label $mode, every ${every_s}s ($rate pages/s)"
				ycsb_run "$work/run$n" "$mix" "$c" "$seconds" "$rows" \
					"$method" "$mode" "$b" 0 "$rate" "$ni" "$burn"
				cpp=$(awk -v p="$MOVED" -v c="$RELOC_CPU_S" 'BEGIN { printf("%.1f", (p > 0) ? c * 1e6 / p : 0) }')
				echo "${mix^^},$c,$label,$mode,$b,$every_s,$rate,$rep,$seconds,$TPS,$LAT,$FAILED,$MOVES,$MOVED,$PAGES_PER_S,$RELOC_CPU_S,$cpp,$ENTRY_WAITS,$ENTRY_WAIT_MS,$LOCK_WAITS,$LOCK_WAIT_MS,$TLB_SHOOTDOWNS" | tee -a "$csv"
			done
		done
	done
done
log "done: $csv"
