#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# What the guest kernel reports of its memory tiers and of the kernel's
# own tiering mechanisms, in TAP: the rig (kernel/run-guest.sh) describes
# memory-only nodes as slower in an ACPI HMAT, so they must form a lower
# memory tier than the CPU nodes; NUMA balancing and demotion are built in
# and off at boot; DAMON's sysfs interface is there.  Runs in the guest
# only (MP2_GUEST=1); elsewhere it skips.
set -u

n=0
fail=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $1"
}
# check DESC GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "# got '$2', expected '$3'"
	fi
}

# expand LIST: a kernel node list ("0-1,3") as single numbers ("0,1,3").
expand() {
	local part i out=()
	for part in ${1//,/ }; do
		if [[ "$part" == *-* ]]; then
			for ((i = ${part%-*}; i <= ${part#*-}; i++)); do
				out+=("$i")
			done
		else
			out+=("$part")
		fi
	done
	local IFS=,
	echo "${out[*]}"
}

if [ "${MP2_GUEST:-}" != 1 ]; then
	echo "1..0 # SKIP not in the mp2 guest (kernel/run-guest.sh)"
	exit 0
fi

SYS=/sys/devices/system/node
TIERS=/sys/devices/virtual/memory_tiering
cpu_nodes=$(expand "$(cat "$SYS/has_cpu")")
mem_nodes=$(expand "$(cat "$SYS/has_memory")")
# The memory-only nodes: those with memory and no CPU.
slow=$(comm -23 <(tr , '\n' <<<"$mem_nodes" | sort) <(tr , '\n' <<<"$cpu_nodes" | sort) |
	sort -n | paste -sd, -)

# The tiers, top first: memory_tierN with the smallest N is the fastest.
mapfile -t tiers < <(for t in "$TIERS"/memory_tier*; do
	[ -e "$t/nodelist" ] && echo "${t##*memory_tier} $(expand "$(cat "$t/nodelist")")"
done | sort -n | cut -d' ' -f2)
echo "# CPU nodes $cpu_nodes, memory nodes $mem_nodes, memory-only ${slow:-none}; tiers, top first: ${tiers[*]:-none}"

if [ -z "$slow" ]; then
	check "one memory tier, every node in it" "${tiers[*]}" "$mem_nodes"
else
	check "two memory tiers" "${#tiers[@]}" 2
	check "the top tier holds the CPU nodes" "${tiers[0]:-}" "$cpu_nodes"
	check "the lower tier holds the memory-only nodes" "${tiers[1]:-}" "$slow"
	first=${slow%%,*}
	check "node $first's read latency from its nearest CPUs is the HMAT's (ns)" \
		"$(cat "$SYS/node$first/access0/initiators/read_latency" 2>/dev/null)" 250
fi
check "NUMA balancing is off at boot" "$(cat /proc/sys/kernel/numa_balancing 2>/dev/null)" 0
check "demotion is off at boot" "$(cat /sys/kernel/mm/numa/demotion_enabled 2>/dev/null)" false
check "DAMON's sysfs interface is there, with no kdamond" \
	"$(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds 2>/dev/null)" 0
echo "1..$n"
exit $fail
