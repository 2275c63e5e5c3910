#!/bin/bash
# SPDX-License-Identifier: MIT
# mp2's main job: what relocating PostgreSQL's shared buffers between NUMA
# nodes costs the queries beside it, per method and setting.
#
# Builds and installs the extension, builds the patched kernel (cached),
# boots it with two NUMA nodes under QEMU, runs experiments/guest-run.sh
# there (pgbench YCSB mixes while the table's buffers move back and forth),
# then writes medians, a Markdown table and plots (experiments/report.sh),
# records the host's load meanwhile (host.txt), and prints the table.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
EXP=experiment
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

usage() {
	cat <<EOF
usage: experiments/run.sh [--full] [--out DIR] [--seconds N] [--repeats N]
                          [--rows N] [--clients N] [--pause-ms N]

  --full         every setting: move_pages and move_pages2 in modes async,
                 sync_light, sync, batches 64, 256, 512, 1024 (about 45 min)
                 instead of the short set (no migration, move_pages 512,
                 move_pages2 async 64 and 512; about 8 min)
  --out DIR      results folder (default results/pgbench)
  --seconds N    length of each pgbench run (default 6)
  --repeats N    interleaved repeats, medians reported (default 3)
  --rows N       rows of the ycsb table (default 100000, about 16 MB)
  --clients N    pgbench clients (default 2)
  --pause-ms N   pause of the relocator between moves (default 0)
EOF
}

out=results/pgbench
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--out) out=${2:?--out needs a folder}; shift ;;
	--full) args+=("$1") ;;
	--seconds | --repeats | --rows | --clients | --pause-ms)
		[[ ${2:-} =~ ^[0-9]+$ ]] || { echo "run.sh: $1 wants a number" >&2; usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

exp_pgbench "$(exp_out "$out")" guest-run.sh report.sh "${args[@]}"
