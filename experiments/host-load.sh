#!/bin/bash
# SPDX-License-Identifier: MIT
# Run a benchmark command and record how busy the host was meanwhile:
# other QEMU guests and builds skew the numbers of an emulated guest, so
# every result folder says what else ran.  Writes FILE: the host, then the
# load average and the number of QEMU guests at the start, once a minute,
# and at the end.  Exits with the command's status.
#
# usage: experiments/host-load.sh FILE -- COMMAND [ARGS...]
set -uo pipefail

file=${1:?usage: host-load.sh FILE -- COMMAND [ARGS...]}
shift
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "host-load.sh: no command" >&2; exit 2; }

guests() { pgrep -fc '^qemu-system-x86_64 ' || true; }
{
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "started $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg); other QEMU guests: $(guests)"
} | tee "$file"
start=$(date +%s)
"$@" &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null && sleep 1; done
	echo "$(date -u '+%T') load $(cut -d' ' -f1-3 /proc/loadavg); QEMU guests: $(guests)" >>"$file"
done
rc=0
wait "$pid" || rc=$?
echo "ended $(date -u '+%F %T') UTC after $(($(date +%s) - start)) s (QEMU guests counted include this one)" | tee -a "$file"
exit "$rc"
