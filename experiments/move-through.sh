#!/bin/bash
# SPDX-License-Identifier: MIT
# How a process that never touched a shared buffer should move it when
# another process keeps it mapped (mp2's worker with the warm mapping):
# touch and move its own mapping (today's path), move_pages(2) with the
# owner's pid, or ask the owner to move its mapping (move_pages2, or
# move_pages(2) as a reference), side by side in one boot of the two-node
# guest, interleaved over the repeats (build/move_through,
# experiments/move_through.c).
#
#   experiments/move-through.sh [--repeats N] [--mb N] [--mappers "N ..."]
#                               [--out DIR]
#
# Defaults: 5 repeats, a 32 MiB buffer of 4 kB pages, with 0 and 8 other
# processes that read every page (as backends that read a table), into
# results/move-through: runs.csv (a row per move) and summary.md.
# Needs root (the guest; moves use MPOL_MF_MOVE_ALL).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
EXP=move-through
# shellcheck source=guest.sh
. "$TOP/experiments/guest.sh"

repeats=5
mb=32
mappers="0 8"
out=results/move-through
inside=0
exp_options "repeats:number mb:number mappers:text out:text inside:flag" "$@"
out=$(exp_out "$out")
for m in $mappers; do
	[[ $m =~ ^[0-9]+$ ]] || { echo "$EXP: --mappers wants whole numbers, got '$m'" >&2; exit 2; }
done

if [ "$inside" = 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "$EXP: needs root (the guest)" >&2; exit 1; }
	make -s -C "$TOP" build/libmp2.a
	cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -I"$TOP/bench" -I"$TOP/core" \
		"$TOP/experiments/move_through.c" "$TOP/bench/mappers.c" \
		"$TOP/build/libmp2.a" -lnuma -lpthread -o "$TOP/build/move_through"
	exp_boot 2 1024 $((600 + repeats * 120)) "$out" -- \
		experiments/move-through.sh --inside --repeats "$repeats" --mb "$mb" \
		--mappers "$mappers" --out "$out"
	cat "$out/summary.md"
	exit 0
fi

# ---- inside the guest --------------------------------------------------
mkdir -p "$out"
echo "mappers,way,repeat,pages,moved,wall_ms,mover_cpu_ms,owner_cpu_ms,mover_minflt" >"$out/runs.csv"
for m in $mappers; do
	echo "$EXP: $m other mappers, $repeats repeats"
	"$TOP/build/move_through" --mb "$mb" --repeats "$repeats" --mappers "$m" |
		tail -n +2 | sed "s/^/$m,/" | tee -a "$out/runs.csv"
done
{
	echo "Guest, 2 nodes, patched 6.12 (TCG), $(($(getconf PAGESIZE) / 1024)) kB pages, a $mb MiB shared buffer written and kept mapped by an owner process, each move by a new process that never touched it, to the other node, $repeats repeats with the ways taking turns, one boot."
	echo
	"$TOP/experiments/stats.py" move-through "$out/runs.csv"
	echo
	echo "Every move moved every page, and the bytes were as written after all of them."
} >"$out/summary.md"
cat "$out/summary.md"
