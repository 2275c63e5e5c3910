#!/bin/bash
# SPDX-License-Identifier: MIT
# The mp2 extension's tests inside the two-node QEMU guest
# (kernel/run-guest.sh, the patched kernel with move_pages2):
#
#   pg_regress-guest-cap-V    ../sql with a server that has CAP_SYS_NICE
#   pg_load-guest-V           pgbench while the whole pool moves back and forth
#   pg_worker-guest-V         the relocation worker
#   pg_regress-guest-nocap-V  ../sql with a server without the capability
#   pg_hugepages-guest-V      huge_pages = on
#   pg_hugepages_1g-guest-V   huge_page_size = 1GB, in a second guest that
#                             reserves a 1 GiB page on each node at boot
#   pg_capability-guest-V     CAP_SYS_NICE effective only in the system
#                             calls; a failure to lower it
#   pg_nomem-guest-V          a target node out of memory under pgbench
#   pg_thp-guest-V            mp2.pool_thp: the pool in 2 MiB shmem THP
#   pg_bounded-guest-V        cancel and statement_timeout midway; private
#                             memory with 128 MB and 1 GB of shared_buffers
#   pg_tier-guest-V           policy tier, in a second guest with four nodes
#                             (0-1 with CPUs, 2-3 memory only)
#
# against the PostgreSQL of $PG_CONFIG (default: pg_config in PATH), major
# version V.  On the host it installs the extension into that PostgreSQL
# (the guest's root file system is the host's, read-only), boots the guest
# and runs itself there with --inside; then it prints one closing line
# "NAME-V: N passed, N failed, N skipped" per part.  Exits non-zero when a
# test failed or the guest did not report.  Needs root.
#
# MP2_PG_GUEST_PARTS="cap load worker nocap huge thp bounded capability
# nomem tier huge1g" (the default) selects the parts to run.
# "check-guest.sh --count" prints how many parts it would run, and so
# closing lines it would print, and runs nothing.
set -uo pipefail

ALL_PARTS="cap load worker nocap huge thp bounded capability nomem tier huge1g"
GUEST_PARTS=${MP2_PG_GUEST_PARTS:-$ALL_PARTS}
if [ "${1:-}" = --count ]; then
	wc -w <<<"$GUEST_PARTS"
	exit 0
fi
export MP2_PG_GUEST_PARTS=$GUEST_PARTS

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/pglib.sh
. "$TOP/pg_extension/test/pglib.sh"
V=$PG_MAJOR
declare -A PART_LABEL=([cap]=pg_regress-guest-cap-$V [load]=pg_load-guest-$V
	[worker]=pg_worker-guest-$V [nocap]=pg_regress-guest-nocap-$V
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

summary_re='^([A-Za-z0-9_./-]+): ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'

inside() {
	# shellcheck source=test/worker.sh
	. "$TOP/pg_extension/test/worker.sh"
	# shellcheck source=test/load.sh
	. "$TOP/pg_extension/test/load.sh"
	# shellcheck source=test/hugepages.sh
	. "$TOP/pg_extension/test/hugepages.sh"
	# shellcheck source=test/thp.sh
	. "$TOP/pg_extension/test/thp.sh"
	# shellcheck source=test/tier.sh
	. "$TOP/pg_extension/test/tier.sh"
	# shellcheck source=test/nomem.sh
	. "$TOP/pg_extension/test/nomem.sh"

	local work=/tmp/mp2-pgguest status=0
	local nodes
	export MP2_DIFF_LINES=2000
	nodes=$(cat /sys/devices/system/node/has_memory 2>/dev/null)
	echo "guest: nodes with memory $nodes, move_pages2 $(cat /sys/kernel/mm/move_pages2/version 2>/dev/null || echo none)"

	mkdir -p "$work/in"
	cp -r "$TOP/sql" "$TOP/expected" "$work/in/"
	chown -R "$PG_USER": "$work/in"
	if ! pg_cluster_init "$work/pg"; then
		for p in "${PARTS[@]}"; do echo "$p: 0 passed, 1 failed, 0 skipped"; done
		return 1
	fi
	# A pool small enough that pgbench -s 5 fills it (see load.sh).
	echo "shared_buffers = 32MB" >>"$PGDATA/postgresql.conf"

	if want cap || want load || want worker; then
		if pg_start cap; then
			if want cap; then
				phase "with CAP_SYS_NICE: pg_regress"
				run_regress "${PART_LABEL[cap]}" "$work/in" "$work/out-cap" \
					"${COMMON_TESTS[@]}" mp2_guest_cap || status=1
			fi
			if want load; then
				phase "with CAP_SYS_NICE: integrity under load"
				load_tests "${PART_LABEL[load]}" || status=1
			fi
			if want worker; then
				# The static worker again (mp2_worker stopped it).
				phase "with CAP_SYS_NICE: the worker"
				pg_stop
				pg_start cap || status=1
				PG_START_CAP=cap worker_tests "${PART_LABEL[worker]}" || status=1
			fi
			pg_stop
		else
			status=1
		fi
	fi

	if want nocap; then
		phase "without CAP_SYS_NICE: pg_regress"
		if pg_start; then
			run_regress "${PART_LABEL[nocap]}" "$work/in" "$work/out-nocap" \
				"${NOCAP_TESTS[@]}" || status=1
			# The hint of the WARNING about shared pages names this binary.
			if ! grep -qF "HINT:  Grant CAP_SYS_NICE to the PostgreSQL server: User=postgres and AmbientCapabilities=CAP_SYS_NICE in its systemd service, or \"setcap cap_sys_nice+p $PGBIN/postgres\"." \
				"$PGTMP/server.log"; then
				echo "not ok 1 - the WARNING's hint in the server log names $PGBIN/postgres"
				echo "1..1"
				echo "${PART_LABEL[nocap]}: 0 passed, 1 failed, 0 skipped"
				status=1
			fi
			pg_stop
		else
			status=1
		fi
	fi

	if want huge; then
		phase "huge_pages = on"
		huge_tests "${PART_LABEL[huge]}" || status=1
	fi

	if want thp; then
		phase "mp2.pool_thp"
		thp_tests "${PART_LABEL[thp]}" || status=1
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
		nomem_tests "${PART_LABEL[nomem]}" || status=1
	fi

	if want tier; then
		phase "policy tier"
		pg_stop
		tier_tests "${PART_LABEL[tier]}" || status=1
	fi

	if want huge1g; then
		phase "huge_page_size = 1GB"
		huge_1g_tests "${PART_LABEL[huge1g]}" || status=1
	fi
	phase "done"

	if [ "$status" -ne 0 ]; then
		echo "---- server log (last 80 lines)"
		tail -n 80 "$PGTMP/server.log"
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
	echo "check-guest: kernel/run-guest.sh is missing"
	echo "pg_guest-$V: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "check-guest: needs root (make install, and running the server as $PG_USER)"
	echo "pg_guest-$V: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

echo "check-guest: PostgreSQL $V ($PG_CONFIG); installing the extension into $("$PG_CONFIG" --pkglibdir)"
mkdir -p "$TOP/build/check"
if ! make -s -C "$TOP" install PG_CONFIG="$PG_CONFIG" >"$TOP/build/pg_install.log" 2>&1; then
	tail -n 30 "$TOP/build/pg_install.log"
	echo "pg_guest-$V: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The cap_set_proc() that fails on demand, which t/013_capability.pl
# preloads into its server.
if want capability &&
	! cc -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC \
		-o "$TOP/build/check/capfail.so" "$TOP/pg_extension/t/capfail.c" -ldl -lcap; then
	echo "pg_capability-guest-$V: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

# The hashes of the pgbench run without moves (see test/load.sh), taken
# on a throw-away cluster here, where it is fast.
# shellcheck source=test/load.sh
. "$TOP/pg_extension/test/load.sh"
host_reference() {
	local dir
	dir=$(mktemp -d /tmp/mp2-pgref.XXXXXX)
	chmod 755 "$dir"
	(
		pg_cluster_init "$dir/pg" >/dev/null &&
			echo "shared_buffers = 32MB" >>"$PGDATA/postgresql.conf" &&
			pg_start >/dev/null && load_reference
		pg_stop
	)
	rm -rf "$dir"
}
if want load || want nomem; then
	echo "check-guest: the pgbench run without moves, on the host"
	MP2_LOAD_REF=$(host_reference)
	export MP2_LOAD_REF
	echo "check-guest: $MP2_LOAD_REF"
fi

raw="$TOP/build/check/pg_guest_$V.raw"
: >"$raw"
cd "$TOP" || exit 1
# run_guest NODES PARTS [RUN-GUEST-OPTIONS...]: the parts in a guest with
# that many nodes.  The closing lines from inside are shown renamed and
# counted once, below.
run_guest() {
	local nodes=$1 parts=$2
	shift 2
	MP2_PG_GUEST_PARTS=$parts kernel/run-guest.sh --nodes "$nodes" --mem-per-node 2048 "$@" \
		--timeout "${MP2_PG_GUEST_TIMEOUT:-1500}" --env "PG_CONFIG=$PG_CONFIG" -- \
		"$TOP/pg_extension/check-guest.sh" --inside 2>&1 | stdbuf -oL tr -d '\r' |
		tee -a "$raw" | sed -u -E "s/$summary_re/[guest] \\1 - \\2 passed, \\3 failed, \\4 skipped/"
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
	run_guest 2 huge1g --huge-1g 1 --mem-per-node 4096 || rc=$?
fi

status=0
for p in "${PARTS[@]}"; do
	line=$(grep -E "^$p: " "$raw" | grep -E "$summary_re" | tail -n 1)
	if [ -n "$line" ]; then
		echo "$line"
		echo "$line" | grep -q ' 0 failed' || status=1
	else
		echo "check-guest: $p did not report (guest exit status $rc)"
		echo "$p: 0 passed, 1 failed, 0 skipped"
		status=1
	fi
done
[ "$rc" -eq 0 ] || status=1
exit $status
