#!/bin/bash
# mp2bench migrate and ycsb, sized for the emulated two-node guest.
# Usage: kernel/run-guest.sh --share DIR -- scripts/bench-guest.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench-guest.sh OUTDIR}

numactl --hardware
echo
echo "== mp2bench migrate: 32 MiB there and back, 3 interleaved repeats"
build/mp2bench migrate --mib 32 --repeats 3 --modes async,sync_light,sync \
	--kernel-batch 0 --pages-per-call 512 --csv "$out/migrate.csv"
echo
echo "== mp2bench ycsb: mix C, r = 0.25, 3 interleaved repeats"
build/mp2bench ycsb --mix C --keys 200000 --slices 64 --r 0.25 \
	--seconds 2 --repeats 3 --csv "$out/ycsb.csv"
