#!/bin/bash
# SPDX-License-Identifier: MIT
# What relocating PostgreSQL's buffers at a fixed rate costs the queries
# beside it, per method, at equal work: pgbench (YCSB mix C by default,
# 2 and 4 clients) while a relocator moves the ycsb table and its index
# between the two nodes of the guest at set rates (mp2_migrate's
# max_rate), and flat out.  Installs the extension, boots the 2-node guest
# (kernel cached), runs experiments/rate-guest.sh there, then writes
# medians, a Markdown table and plots (experiments/rate-report.sh), and
# how busy the host was meanwhile (host.txt).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=rate
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

usage() {
	cat <<EOF
usage: experiments/rate.sh [--out DIR] [--every LIST] [--clients LIST]
                           [--mixes LIST] [--batch LIST] [--seconds N]
                           [--repeats N] [--rows N] [--warm]
                           [--methods LIST] [--nice N] [--burn US]

  --out DIR       results folder (default results/rate)
  --every LIST    relocation rates, as the seconds one move of the table
                  and its index may take; 0 is flat out (default 8,4,2,0)
  --clients LIST  pgbench clients (default 2,4)
  --mixes LIST    YCSB mixes among c, a, e (default c)
  --batch LIST    pages per system call, every method (default 256); with
                  more than one, each method runs once per batch
  --seconds N     length of each pgbench run (default 8)
  --repeats N     interleaved repeats, medians reported (default 3)
  --rows N        rows of the ycsb table (default 100000, about 16 MB)
  --warm          mp2.warm_mapping on, the worker mapping the tables
                  before the runs; the methods are then move_pages2
                  (through the relocator's own page tables) and auto
                  (through the worker's: move_pages with its pid)
  --methods LIST  the methods, among move_pages, move_pages2 and auto
                  (default move_pages,move_pages2; with --warm
                  move_pages2,auto)
  --nice N        each method once more with the relocator's backend at
                  nice N (1-19)
  --burn US       one more arm per rate, "burn": a backend that moves
                  nothing but spins US microseconds for every batch of
                  pages the rate asks for, as the relocator spends CPU

Every run also counts the page faults that waited for a migration to end
or for a folio lock and the time they waited (ftrace's function profiler
on migration_entry_wait_on_locked and __folio_lock), and the TLB
shootdown interrupts.

Methods: move_pages, and move_pages2 async with the same batch.  About
15 minutes with the defaults.
EOF
}

out=results/rate
args=()
list_re='^[0-9]+(,[0-9]+)*$'
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--out) out=${2:?--out needs a folder}; shift ;;
	--every | --clients)
		[[ ${2:-} =~ $list_re ]] || {
			echo "rate.sh: $1 wants numbers separated by commas, e.g. 4,2" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	--mixes)
		[[ ${2:-} =~ ^[aceACE](,[aceACE])*$ ]] || {
			echo "rate.sh: --mixes wants c, a or e, separated by commas" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	--batch)
		[[ ${2:-} =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || {
			echo "rate.sh: --batch wants pages a call, separated by commas, e.g. 256,64" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	--seconds | --repeats | --rows)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
			echo "rate.sh: $1 wants a positive number" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	--warm) args+=("$1") ;;
	--methods)
		[[ ${2:-} =~ ^(move_pages|move_pages2|auto)(,(move_pages|move_pages2|auto))*$ ]] || {
			echo "rate.sh: --methods wants move_pages, move_pages2 or auto, separated by commas" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	--nice)
		[[ ${2:-} =~ ^([1-9]|1[0-9])$ ]] || {
			echo "rate.sh: --nice wants a niceness from 1 to 19" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	--burn)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
			echo "rate.sh: --burn wants microseconds a page, e.g. 60" >&2
			exit 2
		}
		args+=("$1" "$2"); shift ;;
	*) echo "rate.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

exp_pgbench "$(exp_out "$out")" rate-guest.sh rate-report.sh "${args[@]}"
