#!/bin/bash
# SPDX-License-Identifier: MIT
# Print the facts of this machine that mp2's host suites depend on, one
# "fact: value" line each, for the head of a make check log.
# docs/testing.md says what each suite does with each of them.
#
#   scripts/host-facts.sh                the facts
#   scripts/host-facts.sh --memory-mib   only the memory this process may
#                                        use, in MiB: the RAM, or the
#                                        cgroup's limit where lower
set -uo pipefail

read_or() {
	local v
	v=$(cat "$1" 2>/dev/null) || v=$2
	echo "${v:-$2}"
}

# The bracketed word of a sysfs mode file, "none" without the file.
bracketed() {
	local v
	v=$(read_or "$1" none)
	[[ "$v" =~ \[([a-z_+]*)\] ]] && v=${BASH_REMATCH[1]}
	echo "$v"
}

# The memory limit of this process's cgroup (v2, then v1) in MiB; empty
# when there is none.
cgroup_memory_mib() {
	local rel lim
	rel=$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null)
	if [ -n "$rel" ] && [ -r "/sys/fs/cgroup$rel/memory.max" ]; then
		lim=$(cat "/sys/fs/cgroup$rel/memory.max")
	else
		rel=$(sed -n 's/^[0-9]*:\(.*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)/\3/p' /proc/self/cgroup 2>/dev/null)
		lim=$(read_or "/sys/fs/cgroup/memory$rel/memory.limit_in_bytes" max)
	fi
	# cgroup v1 says "no limit" with a number near 2^63.
	if [ "$lim" != max ] && [ "${#lim}" -lt 19 ]; then
		echo $((lim / 1048576))
	fi
}

ram_mib=$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))
cg_mib=$(cgroup_memory_mib)

if [ "${1:-}" = --memory-mib ]; then
	if [ -n "$cg_mib" ] && [ "$cg_mib" -lt "$ram_mib" ]; then
		echo "$cg_mib"
	else
		echo "$ram_mib"
	fi
	exit 0
fi

cap_bit() {
	local eff
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	if (((0x$eff >> $1) & 1)); then echo yes; else echo no; fi
}

T=/sys/kernel/mm/transparent_hugepage
sizes=()
for d in /sys/kernel/mm/hugepages/hugepages-*; do
	[ -d "$d" ] || continue
	sizes+=("${d##*-}:$(cat "$d/nr_hugepages")")
done
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
mem_nodes=$(read_or /sys/devices/system/node/has_memory "?")

echo "host kernel: $(uname -r)"
echo "host THP enabled: $(bracketed $T/enabled), shmem_enabled: $(bracketed $T/shmem_enabled), use_zero_page: $(read_or $T/use_zero_page none)"
echo "host hugetlb sizes (reserved pages): ${sizes[*]:-none}"
echo "host NUMA nodes: $nodes, those with memory: $mem_nodes"
echo "host cgroup memory limit: ${cg_mib:+$cg_mib MiB}${cg_mib:-none}, RAM $ram_mib MiB"
echo "host user: $(id -un) (uid $(id -u)), CAP_SYS_ADMIN: $(cap_bit 21), CAP_SYS_NICE: $(cap_bit 23)"
