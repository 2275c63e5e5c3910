#!/bin/bash
# mp2's main job: boot the patched kernel with two NUMA nodes under QEMU and
# compare move_pages with move_pages2 there (mp2bench migrate and ycsb).
# The CSV files land in results/demo/; the tables are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

out=results/demo
mkdir -p "$out"
if [ ! -x kernel/run-guest.sh ]; then
	echo "demo: no QEMU rig in this tree; running on the host"
	exec scripts/bench-guest.sh "$out"
fi
echo "demo: building the patched kernel (cached after the first build)"
kernel/build-kernel.sh >/dev/null
echo "demo: booting a 2-node guest and running the benchmarks in it"
kernel/run-guest.sh --nodes 2 --share "$PWD/$out" -- scripts/bench-guest.sh "$out"
echo "demo: CSV files are in $out/"
