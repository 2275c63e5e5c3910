#!/bin/bash
# SPDX-License-Identifier: MIT
# mp2bench migrate and ycsb with move_pages and move_pages2 side by side
# (modes async, sync_light, sync; kernel batches 64, 256, 512, 1024),
# sized for the emulated two-node guest.  CSV files go to OUTDIR; the
# medians and ratios are printed.
#
# Usage: kernel/run-guest.sh --share DIR -- scripts/bench-guest.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench-guest.sh OUTDIR}
sweep=(--methods move_pages,move_pages2 --modes async,sync_light,sync
	--kernel-batch 64,256,512,1024)

numactl --hardware
echo
echo "== mp2bench migrate: 32 MiB there and back, 3 interleaved repeats"
build/mp2bench migrate --mib 32 --repeats 3 "${sweep[@]}" \
	--pages-per-call 64,512 --csv "$out/migrate.csv"
echo
echo "== mp2bench ycsb: mix C, r = 0.25, 2 query threads, 3 interleaved repeats"
build/mp2bench ycsb --mix C --keys 1000000 --slices 32 --r 0.25 \
	--seconds 3 --repeats 3 "${sweep[@]}" --csv "$out/ycsb.csv"
