#!/bin/bash
# SPDX-License-Identifier: MIT
# Run a benchmark command and record how busy the host was meanwhile:
# other QEMU guests and builds skew the numbers of an emulated guest, so
# every result folder says what else ran.  Writes FILE: the host, then the
# load average and the number of QEMU guests at the start, the NOTE lines
# (such as the command that ran), once a minute the load again, and at the
# end.  Exits with the command's status.
#
# usage: experiments/host-load.sh FILE [--note NOTE]... -- COMMAND [ARGS...]
set -uo pipefail

case "${1:-}" in -h | --help) awk 'NR >= 3 && !/^#/ { exit } NR >= 3' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
file=${1:?usage: host-load.sh FILE [--note NOTE]... -- COMMAND [ARGS...]}
shift
notes=()
while [ "${1:-}" = --note ]; do
	notes+=("${2:?--note needs a line}")
	shift 2
done
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "host-load.sh: no command" >&2; exit 2; }

guests() { pgrep -fc '^qemu-system-x86_64 ' || true; }
{
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "started $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg); other QEMU guests: $(guests)"
	[ ${#notes[@]} -eq 0 ] || printf '%s\n' "${notes[@]}"
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
