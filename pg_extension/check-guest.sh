#!/bin/bash
# SPDX-License-Identifier: MIT
# The mp2 extension's tests inside the two-node QEMU guest
# (kernel/run-guest.sh, the patched kernel with move_pages2):
#
#   pg_regress-guest-cap-V    ../sql with a server that has CAP_SYS_NICE
#   pg_load-guest-V           pgbench while the whole pool moves back and forth
#   pg_load_warm-guest-V      the same through the worker's warm mapping,
#                             the worker stopped while the moves run
#   pg_worker-guest-V         the relocation worker (t/001_worker.pl, a
#                             cluster of its own with CAP_SYS_NICE)
#   pg_mapper-guest-V         locating and moving through the worker's warm
#                             mapping (t/004_mapper.pl, with CAP_SYS_NICE)
#   pg_regress-guest-nocap-V  ../sql with a server without the capability
#   pg_hugepages-guest-V      huge_pages = on, with 2 MiB pages reserved
#                             on each node here (as root) around the suite
#   pg_hugepages_1g-guest-V   huge_page_size = 1GB, in a second guest that
#                             reserves a 1 GiB page on each node at boot
#   pg_capability-guest-V     CAP_SYS_NICE effective only in the system
#                             calls; a failure to lower it
#   pg_nomem-guest-V          a target node out of memory under pgbench
#   pg_thp-guest-V            mp2.pool_thp: the pool in 2 MiB shmem THP, run
#                             twice with shmem_enabled written here (as
#                             root) before each run: advise, then never
#   pg_bounded-guest-V        cancel and statement_timeout midway; private
#                             memory with 128 MB and 1 GB of shared_buffers
#   pg_tier-guest-V           policy tier (t/005_tier.pl), in a second guest
#                             with four nodes (0-1 with CPUs, 2-3 memory only)
#
# against the PostgreSQL of $PG_CONFIG (default: pg_config in PATH), major
# version V.  On the host it installs the extension into that PostgreSQL
# (the guest's root file system is the host's, read-only), boots the guest
# and runs itself there with --inside.  Each part prints its TAP, opened
# by "# suite: NAME-V" (scripts/tap-sum counts them); a part that did not
# report from the guest is printed here as one failed test, and at the
# end the parts' counts, as comments.  Exits non-zero when a test failed
# or the guest did not report.  Needs root.
#
# MP2_PG_GUEST_PARTS="cap load loadwarm worker mapper nocap huge thp
# bounded capability nomem tier huge1g" (the default) selects the parts to
# run.
set -uo pipefail

ALL_PARTS="cap load loadwarm worker mapper nocap huge thp bounded capability nomem tier huge1g"
GUEST_PARTS=${MP2_PG_GUEST_PARTS:-$ALL_PARTS}
export MP2_PG_GUEST_PARTS=$GUEST_PARTS

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"
V=$PG_MAJOR
declare -A PART_LABEL=([cap]=pg_regress-guest-cap-$V [load]=pg_load-guest-$V
	[loadwarm]=pg_load_warm-guest-$V
	[worker]=pg_worker-guest-$V [mapper]=pg_mapper-guest-$V
	[nocap]=pg_regress-guest-nocap-$V
	[huge]=pg_hugepages-guest-$V [thp]=pg_thp-guest-$V [bounded]=pg_bounded-guest-$V
	[tier]=pg_tier-guest-$V [huge1g]=pg_hugepages_1g-guest-$V
	[capability]=pg_capability-guest-$V [nomem]=pg_nomem-guest-$V)
PARTS=()
for p in $GUEST_PARTS; do
	if [ -z "${PART_LABEL[$p]:-}" ]; then
		echo "check-guest: unknown part '$p' ($ALL_PARTS)"
		exit 2
	fi
	PARTS+=("${PART_LABEL[$p]}")
done

want() {
	case " $GUEST_PARTS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
COMMON_TESTS=(mp2_setup mp2_upgrade mp2_api mp2_badinput mp2_privilege mp2_worker mp2_security)
# Without the capability only what differs is run again.
NOCAP_TESTS=(mp2_setup mp2_guest_nocap)

# The root steps of t/011_nomem.pl, which it asks for with mp2_root:
# node 1 filled with 2 MiB huge pages, reserved by hugetlbfs.
NOMEM_HP=/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
# What nomem_squeeze leaves free on node 1, in MB: well under the pool
# (128 MB).
NOMEM_FREE_MB=24

# The machine's clean page cache is dropped and memory compacted before
# node 1 is filled.  Measured without it, in one guest boot: 917 huge
# pages reserved where other boots reserved 968-980, then 11118 pages of
# the pool moved into the 22 MB left free with none refused.  That the
# moves reclaimed page cache in the gaps is the likely reason; it was not
# measured.
nomem_drop_clean_cache() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/compact_memory
}

# nomem_squeeze: fill node 1 with huge pages, then give NOMEM_FREE_MB of
# them back.  Asking for all of the node makes the kernel reclaim its page
# cache for them too; counting MemFree alone left that cache, which a move
# reclaims in turn (measured: 51 MB free, yet 81 MB of the pool moved
# there and none refused).
nomem_squeeze() {
	local all
	nomem_drop_clean_cache
	echo 1024 >"$NOMEM_HP"
	all=$(cat "$NOMEM_HP")
	echo $((all > NOMEM_FREE_MB / 2 ? all - NOMEM_FREE_MB / 2 : 0)) >"$NOMEM_HP"
	echo "$(cat "$NOMEM_HP") huge pages reserved on node 1"
}

# nomem_fill: all of node 1 that can be had, no room left.
nomem_fill() {
	nomem_drop_clean_cache
	echo 1024 >"$NOMEM_HP"
	echo "$(cat "$NOMEM_HP") huge pages reserved on node 1"
}

# nomem_release: node 1's huge pages given back (check-guest.sh calls it
# after the suite too, whatever became of it).
nomem_release() {
	[ -e "$NOMEM_HP" ] && echo 0 >"$NOMEM_HP"
	echo "$(cat "$NOMEM_HP" 2>/dev/null) huge pages reserved on node 1"
}

# The TAP suites run as postgres; what they need root for is done here,
# around run_tap, and named to them in environment variables.

# 2 MiB huge pages reserved on each node for the huge part.
HUGE_PER_NODE=${MP2_HUGE_PER_NODE:-48}

# hp_reserve N: N 2 MiB huge pages on each of nodes 0 and 1.
hp_reserve() {
	local n
	for n in 0 1; do
		echo "$1" >"/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages" ||
			return 1
	done
}

# huge_part LABEL: t/014_hugepages.pl with HUGE_PER_NODE 2 MiB pages
# reserved on each node, given back after it.  Without node 1 or 2 MiB
# pages the suite skips.
huge_part() {
	local label=$1 rc=0
	if [ ! -d /sys/devices/system/node/node1/hugepages/hugepages-2048kB ]; then
		run_tap "$label" 014_hugepages.pl cap
		return
	fi
	hp_reserve "$HUGE_PER_NODE"
	run_tap "$label" 014_hugepages.pl cap MP2_HUGE_PER_NODE="$HUGE_PER_NODE" || rc=1
	hp_reserve 0
	return $rc
}

THP_ENABLED=/sys/kernel/mm/transparent_hugepage/shmem_enabled

# thp_part LABEL: t/016_thp.pl in two steps, since only root may write
# shmem_enabled: with advise (mp2.pool_thp off and on), then with never
# (the warning), as suites LABEL/advise and LABEL/never; then puts the
# knob back as it was.  Without the knob or node 1 the suite skips.
thp_part() {
	local label=$1 saved shmem rc=0
	if [ ! -w "$THP_ENABLED" ] || [ ! -d /sys/devices/system/node/node1 ]; then
		run_tap "$label" 016_thp.pl cap
		return
	fi
	saved=$(sed -E 's/.*\[([a-z_]+)\].*/\1/' "$THP_ENABLED")
	for shmem in advise never; do
		echo "$shmem" >"$THP_ENABLED"
		run_tap "$label/$shmem" 016_thp.pl cap MP2_THP_SHMEM="$shmem" || rc=1
	done
	echo "$saved" >"$THP_ENABLED"
	return $rc
}

inside() {
	local work=/tmp/mp2-pgguest status=0
	local nodes
	export MP2_DIFF_LINES=2000
	nodes=$(cat /sys/devices/system/node/has_memory 2>/dev/null)
	echo "guest: nodes with memory $nodes, move_pages2 $(cat /sys/kernel/mm/move_pages2/version 2>/dev/null || echo none)"

	mkdir -p "$work/in"
	cp -r "$TOP/sql" "$TOP/expected" "$work/in/"
	chown -R "$PG_USER": "$work/in"
	if ! pg_cluster_init "$work/pg"; then
		for p in "${PARTS[@]}"; do suite_failed "$p" "initdb in the guest"; done
		return 1
	fi
	# A pool of 32 MB for the parts on this cluster (t/010_load.pl gives
	# its own cluster the same, which pgbench -s 5 fills).
	echo "shared_buffers = 32MB" >>"$PGDATA/postgresql.conf"

	if want cap || want load; then
		if pg_start cap; then
			if want cap; then
				phase "with CAP_SYS_NICE: pg_regress"
				run_regress "${PART_LABEL[cap]}" "$work/in" "$work/out-cap" \
					"${COMMON_TESTS[@]}" mp2_guest_cap || status=1
			fi
			if want load; then
				# A cluster of its own, whose server has CAP_SYS_NICE.
				phase "with CAP_SYS_NICE: integrity under load"
				run_tap "${PART_LABEL[load]}" 010_load.pl cap || status=1
			fi
			pg_stop
		else
			status=1
		fi
	fi

	if want worker; then
		phase "with CAP_SYS_NICE: the worker"
		run_tap "${PART_LABEL[worker]}" 001_worker.pl cap || status=1
	fi

	if want loadwarm; then
		phase "with CAP_SYS_NICE: integrity under load, through the warm mapping"
		run_tap "${PART_LABEL[loadwarm]}" 010_load.pl cap MP2_LOAD_WARM=1 || status=1
	fi

	if want mapper; then
		phase "with CAP_SYS_NICE: the warm mapping"
		run_tap "${PART_LABEL[mapper]}" 004_mapper.pl cap || status=1
	fi

	if want nocap; then
		phase "without CAP_SYS_NICE: pg_regress"
		if pg_start; then
			run_regress "${PART_LABEL[nocap]}" "$work/in" "$work/out-nocap" \
				"${NOCAP_TESTS[@]}" || status=1
			# The hint of the WARNING about shared pages names this binary.
			suite_begin "${PART_LABEL[nocap]}/hint"
			check "the WARNING's hint in the server log names $PGBIN/postgres" \
				grep -qF "HINT:  Grant CAP_SYS_NICE to the PostgreSQL server: User=postgres and AmbientCapabilities=CAP_SYS_NICE in its systemd service, or \"setcap cap_sys_nice+p $PGBIN/postgres\"." \
				"$PGTMP/server.log"
			suite_end || status=1
			pg_stop
		else
			status=1
		fi
	fi

	if want huge; then
		phase "huge_pages = on"
		huge_part "${PART_LABEL[huge]}" || status=1
	fi

	if want thp; then
		phase "mp2.pool_thp"
		thp_part "${PART_LABEL[thp]}" || status=1
	fi

	if want bounded; then
		phase "cancel and memory bounds"
		run_tap "${PART_LABEL[bounded]}" 012_bounded.pl cap || status=1
	fi

	if want capability; then
		phase "CAP_SYS_NICE around the system calls"
		run_tap "${PART_LABEL[capability]}" 013_capability.pl cap \
			MP2_CAPFAIL_SO="$TOP/build/check/capfail.so" || status=1
	fi

	if want nomem; then
		phase "a target node out of memory"
		TAP_ROOT_ACTIONS="nomem_squeeze nomem_fill nomem_release" \
			run_tap "${PART_LABEL[nomem]}" 011_nomem.pl cap || status=1
		nomem_release >/dev/null
	fi

	if want tier; then
		phase "policy tier"
		# Its own cluster, started under numactl with CAP_SYS_NICE: the
		# shared one stops first, to leave the nodes' memory to it.
		pg_stop
		run_tap "${PART_LABEL[tier]}" 005_tier.pl cap || status=1
	fi

	if want huge1g; then
		phase "huge_page_size = 1GB"
		# The 1 GiB pages are reserved at boot (run_guest --huge-1g below).
		run_tap "${PART_LABEL[huge1g]}" 015_hugepages_1g.pl cap \
			MP2_HUGE_1G_PER_NODE="${MP2_HUGE_1G_PER_NODE:-1}" || status=1
	fi
	phase "done"

	if [ "$status" -ne 0 ]; then
		echo "# ---- server log (last 80 lines)"
		tail -n 80 "$PGTMP/server.log" | sed 's/^/# /'
	fi
	return $status
}

if [ "${1:-}" = --inside ]; then
	inside
	exit $?
fi
# An error that aborts the block above (a bad arithmetic expansion) must
# not fall through to the host's part.
[ "${1:-}" = --inside ] && exit 1

if [ ! -x "$TOP/kernel/run-guest.sh" ]; then
	suite_skipped "pg_guest-$V" "kernel/run-guest.sh is missing"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	suite_failed "pg_guest-$V" "needs root (make install, and running the server as $PG_USER)"
	exit 1
fi

echo "check-guest: PostgreSQL $V ($PG_CONFIG); installing the extension into $("$PG_CONFIG" --pkglibdir)"
mkdir -p "$TOP/build/check"
if ! make -s -C "$TOP" install PG_CONFIG="$PG_CONFIG" >"$TOP/build/pg_install.log" 2>&1; then
	tail -n 30 "$TOP/build/pg_install.log"
	suite_failed "pg_guest-$V" "make install (build/pg_install.log)"
	exit 1
fi
# The cap_set_proc() that fails on demand, which t/013_capability.pl
# preloads into its server.
if want capability &&
	! cc -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC \
		-o "$TOP/build/check/capfail.so" "$TOP/pg_extension/t/capfail.c" -ldl -lcap; then
	suite_failed "pg_capability-guest-$V" "build t/capfail.c"
	exit 1
fi

# The hashes of the pgbench run without moves (pgbench_reference of
# t/Mp2Test.pm; t/010_load.pl says why), taken on a throw-away cluster
# here, where it is fast.  The guest's suites find them in MP2_LOAD_REF.
host_reference() {
	local dir
	dir=$(mktemp -d /tmp/mp2-pgref.XXXXXX)
	chmod 755 "$dir"
	cp -r "$TOP/pg_extension/t" "$dir/"
	chown -R "$PG_USER": "$dir"
	(
		cd "$dir" &&
			as_pg env PATH="$PGBIN:$PATH" PERL5LIB="$PG_PERL:$dir/t" TESTDIR="$dir" \
				PG_REGRESS="$PG_REGRESS" perl -MMp2Test -e 'pgbench_reference($ARGV[0])' \
				"$dir/ref" >/dev/null 2>&1
	)
	cat "$dir/ref" 2>/dev/null
	rm -rf "$dir"
}
if want load || want loadwarm || want nomem; then
	echo "check-guest: the pgbench run without moves, on the host"
	MP2_LOAD_REF=$(host_reference)
	export MP2_LOAD_REF
	echo "check-guest: $MP2_LOAD_REF"
fi

raw="$TOP/build/check/pg_guest_$V.raw"
: >"$raw"
cd "$TOP" || exit 1
# run_guest NODES PARTS [RUN-GUEST-OPTIONS...]: the parts in a guest with
# that many nodes.
run_guest() {
	local nodes=$1 parts=$2
	shift 2
	MP2_PG_GUEST_PARTS=$parts kernel/run-guest.sh --nodes "$nodes" --mem-per-node 2048 "$@" \
		--timeout "${MP2_PG_GUEST_TIMEOUT:-1500}" --env "PG_CONFIG=$PG_CONFIG" -- \
		"$TOP/pg_extension/check-guest.sh" --inside 2>&1 | stdbuf -oL tr -d '\r' | tee -a "$raw"
	return "${PIPESTATUS[0]}"
}
rc=0
# 2 GB per node: room for a 1 GB pool (t/012_bounded.pl).
two=$(for p in $GUEST_PARTS; do [ "$p" != tier ] && [ "$p" != huge1g ] && echo "$p"; done | xargs)
if [ -n "$two" ]; then
	run_guest 2 "$two" || rc=$?
fi
if want tier; then
	echo "check-guest: policy tier, in a guest with four nodes"
	run_guest 4 tier || rc=$?
fi
if want huge1g; then
	echo "check-guest: huge_page_size = 1GB, in a guest with a 1 GiB page on each node"
	# 4 GiB a node: with 2 GiB, node 0 is the low 2 GiB, whose top holds
	# the firmware's reserved 128 KiB and NODE_DATA(0) (e820 and dmesg of
	# the guest), so no aligned 1 GiB of it is free and the boot reserves
	# none there; with 4 GiB it also has 4-6 GiB.
	run_guest 2 huge1g --huge-1g 1 --mem-per-node 4096 --env MP2_HUGE_1G_PER_NODE=1 || rc=$?
fi

for p in "${PARTS[@]}"; do
	grep -qE "^# suite: $p(/|$)" "$raw" ||
		suite_failed "$p" "the part reported from the guest (guest exit status $rc)" | tee -a "$raw"
done
status=0
"$TOP/scripts/tap-sum" "$raw" >"$raw.sum" || status=1
sed 's/^/# /' "$raw.sum"
[ "$rc" -eq 0 ] || status=1
exit $status
