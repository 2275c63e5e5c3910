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

echo "experiment: installing the extension into $(pg_config --pkglibdir)"
make -s install >/dev/null
echo "experiment: building the patched kernel (cached after the first build)"
kernel/build-kernel.sh >/dev/null
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/runs.csv
echo "experiment: booting a 2-node guest; every run is logged below"
experiments/host-load.sh "$out/host.txt" -- \
	kernel/run-guest.sh --nodes 2 --share "$out" --timeout 5000 -- \
	experiments/guest-run.sh "$out" "${args[@]}"
{
	echo "Measured $(date -u +%Y-%m-%d) in the 2-node QEMU guest (TCG, no KVM) on"
	echo "a $(nproc)-core host ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
	echo "by: experiments/run.sh ${args[*]}"
} >"$out/machine.txt"
echo
cat "$out/machine.txt"
experiments/report.sh "$out"
echo "experiment: CSV, table and plots are in $out/"
