#!/bin/bash
# SPDX-License-Identifier: MIT
# Run mp2's test suites and sum their results.
#
#   scripts/check.sh host    suites that run on this machine
#   scripts/check.sh guest   suites that run inside the multi-node QEMU guest
#   scripts/check.sh all     both (what "make check" runs)
#   scripts/check.sh --fresh [--dir DIR] [--keep]
#                            "make check" as CI runs it on a new machine: in a
#                            clean clone of HEAD with every cache empty
#
# The extension's suites run against each PostgreSQL of
# MP2_PG_VERSIONS (host, default "15 18") and MP2_PG_GUEST_VERSIONS
# (guest, default "15 18").
#
# Every suite reports in TAP, opened by "# suite: NAME" (the C suites and
# the kselftest through scripts/run-each.sh, the PostgreSQL suites under
# prove through scripts/pglib.sh).  This script shows each suite's output
# and keeps it in build/check/; then scripts/tap-sum counts every suite:
# one line "LABEL/NAME: N passed, N failed, N skipped" each, every failed
# test ("not ok") with the diagnostics around it, and one total line.  It
# exits non-zero when a test failed, a suite reported fewer tests than it
# planned, or a command failed with no failed test.
#
# --fresh clones HEAD (committed work only) into DIR/mp2 (default
# build/fresh/mp2; not under /tmp or /var/tmp, which the guest hides),
# removes what an earlier "make install" or "make check" left in the
# system (libmp2 under /usr/local, the extension in PostgreSQL 15, the
# Debian packages), and runs "make check" there with MP2_CACHE_DIR=DIR/cache,
# an empty directory: the kernel and PostgreSQL 18 are built from scratch,
# the Debian packages too.  The Debian packages of scripts/setup-deps.sh
# stay installed.  The log is DIR/check.log; the last line gives the wall
# time.  DIR is emptied first, and the clone and the cache are removed at
# the end unless --keep is given.
set -uo pipefail

cd "$(dirname "$0")/.."

usage() {
	sed -n '3,34p' "$0" | sed 's/^# \{0,1\}//'
}

# fresh_check DIR KEEP: see above.
fresh_check() {
	local dir=$1 keep=$2 top=$PWD rev t0=$SECONDS rc el
	rev=$(git rev-parse --short HEAD) || {
		echo "check --fresh: $top is not a git checkout" >&2
		exit 2
	}
	case "$(realpath -m "$dir")/" in
	/tmp/* | /var/tmp/*)
		echo "check --fresh: $dir is under /tmp or /var/tmp, which the guest hides under a tmpfs; choose another --dir" >&2
		exit 2
		;;
	esac
	if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
		echo "check --fresh: uncommitted changes are not part of the check (it clones HEAD, $rev)"
	fi
	rm -rf "$dir" && mkdir -p "$dir/cache" && chmod 755 "$dir" "$dir/cache" || exit 1
	dir=$(realpath "$dir")
	git clone -q --no-hardlinks "$top" "$dir/mp2" || exit 1
	echo "check --fresh: clone of $rev in $dir/mp2, caches in $dir/cache (empty)"
	# What a new machine does not have: mp2 installed from source or from
	# the packages of an earlier run.
	if [ "$(id -u)" -eq 0 ]; then
		make -s -C "$dir/mp2" uninstall \
			PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null 2>&1
		local pkgs
		pkgs=$(dpkg-query -W -f='${Package} ${Status}\n' 'libmp2*' mp2bench \
			'postgresql-*-mp2' 2>/dev/null | awk '$NF == "installed" {print $1}')
		if [ -n "$pkgs" ]; then
			echo "check --fresh: purging the installed packages" $pkgs
			apt-get purge -y -q $pkgs >/dev/null || exit 1
		fi
	fi
	(cd "$dir/mp2" &&
		env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS MP2_CACHE_DIR="$dir/cache" \
			make check) 2>&1 | tee "$dir/check.log"
	rc=${PIPESTATUS[0]}
	el=$((SECONDS - t0))
	if [ "$keep" = 0 ]; then
		rm -rf "$dir/mp2" "$dir/cache"
	fi
	printf 'check --fresh: make check of %s exited %d after %dm%02ds on a fresh cache (log %s)\n' \
		"$rev" "$rc" $((el / 60)) $((el % 60)) "$dir/check.log" | tee -a "$dir/check.log"
	exit "$rc"
}

part=all
fresh=0
fresh_dir=build/fresh
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	host | guest | all) part=$1 ;;
	--fresh) fresh=1 ;;
	--keep) keep=1 ;;
	--dir)
		[ $# -ge 2 ] || {
			echo "check.sh: --dir needs a directory (try --help)" >&2
			exit 2
		}
		fresh_dir=$2
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "check.sh: unknown argument '$1' (expected host, guest, all or --fresh; try --help)" >&2
		exit 2
		;;
	esac
	shift
done
if [ "$fresh" = 1 ]; then
	[ "$part" = all ] || {
		echo "check.sh: --fresh runs the whole of make check; leave out '$part'" >&2
		exit 2
	}
	fresh_check "$fresh_dir" "$keep"
elif [ "$keep" = 1 ] || [ "$fresh_dir" != build/fresh ]; then
	echo "check.sh: --dir and --keep go with --fresh (try --help)" >&2
	exit 2
fi

B=build
LOG=$B/check
mkdir -p "$LOG"
rm -f "$LOG"/[0-9][0-9]-*.log
: >"$LOG/failures"
# Every suite's output, as "LABEL=FILE" for scripts/tap-sum.
LOGS=()

# new_log LABEL: sets LABEL_LOG to the file that the next output of LABEL
# goes to; it is counted at the end as LABEL's.
new_log() {
	LABEL_LOG=$(printf '%s/%02d-%s.log' "$LOG" "${#LOGS[@]}" "${1//\//_}")
	LOGS+=("$1=$LABEL_LOG")
}

# not_run LABEL SUITE OUTCOME WHY: a suite that could not run, as TAP:
# OUTCOME "skipped" or "failed".
not_run() {
	new_log "$1"
	{
		echo "# suite: $2"
		if [ "$3" = skipped ]; then
			echo "1..0 # SKIP $4"
		else
			echo "not ok 1 - $4"
			echo "1..1"
		fi
	} | tee "$LABEL_LOG"
}

# The PostgreSQL versions the extension's suites run against: 15 from
# Debian's packages, the others built from Debian's source packages by
# scripts/build-pg.sh (cached).
PG_HOST_VERSIONS=${MP2_PG_VERSIONS:-15 18}
PG_GUEST_VERSIONS=${MP2_PG_GUEST_VERSIONS:-15 18}
declare -A PG_CONFIGS=()

# pg_config_of V LABEL: the pg_config of PostgreSQL V, built if need be.
# When V cannot be had, LABEL's suites are recorded as not run: failed
# when the build failed, skipped with the reason when the mirror cannot
# serve V (build-pg.sh exit 2).
pg_config_of() {
	local v=$1 label=$2 out rc
	if [ -z "${PG_CONFIGS[$v]:-}" ]; then
		out=$(scripts/build-pg.sh "$v" | tail -n 1)
		rc=${PIPESTATUS[0]}
		if [ "$rc" -eq 0 ] && [ -x "$out" ]; then
			PG_CONFIGS[$v]=$out
		elif [ "$rc" -eq 2 ]; then
			PG_CONFIGS[$v]=unavailable
		else
			PG_CONFIGS[$v]=failed
		fi
	fi
	case "${PG_CONFIGS[$v]}" in
	unavailable)
		not_run "$label" "pg-$v" skipped "PostgreSQL $v is not available here (scripts/build-pg.sh $v)"
		return 1
		;;
	failed)
		not_run "$label" "pg-$v" failed "build PostgreSQL $v (scripts/build-pg.sh $v)"
		return 1
		;;
	esac
}

# run_suite LABEL COMMAND...
# Runs COMMAND and shows its output, which is kept for the count at the
# end: each TAP stream in it (opened by "# suite: NAME") is a suite,
# LABEL/NAME.  A COMMAND that exits non-zero with no failed test is one
# failure more.
run_suite() {
	local label=$1 log rc
	shift
	new_log "$label"
	log=$LABEL_LOG
	echo "== $label: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && scripts/tap-sum "$log" >/dev/null; then
		not_run "$label" exit failed "$* exited $rc although no test failed"
	fi
}

# The test programs of tests/ and the kselftest, on the host; the guest
# runs those that need several nodes, and what its kernel reports of its
# memory tiers.
HOST_TESTS=("$B/test_core" "$B/test_core_san" "$B/test_nomem" "$B/test_bench"
	"$B/test_bench_migrate" "$B/test_bench_ycsb")
GUEST_TESTS=("$B/test_core" "$B/test_nomem" kernel/tests/guest-tiers.sh)
if [ -x "$B/move_pages2_test" ]; then
	HOST_TESTS+=("$B/move_pages2_test")
	GUEST_TESTS=("$B/move_pages2_test" "${GUEST_TESTS[@]}")
fi

# pg_suites WHERE VERSIONS: pg_extension/check-WHERE.sh (host or guest),
# the extension's suites, against each PostgreSQL of VERSIONS.
pg_suites() {
	local where=$1 v
	[ -x "pg_extension/check-$where.sh" ] || return 0
	for v in $2; do
		echo "== $where: PostgreSQL $v"
		pg_config_of "$v" "$where-pg$v" &&
			run_suite "$where-pg$v" env PG_CONFIG="${PG_CONFIGS[$v]}" \
				"pg_extension/check-$where.sh"
	done
}

host_suites() {
	# What the host suites assert or skip depends on these (docs/testing.md,
	# "What the host suites depend on").
	echo "== host facts"
	scripts/host-facts.sh | tee "$LOG/host-facts"
	run_suite host scripts/check-tree.sh
	run_suite host scripts/run-each.sh "${HOST_TESTS[@]}"
	pg_suites host "$PG_HOST_VERSIONS"
	# Builds, installs, tests and purges the Debian packages.
	run_suite host scripts/check-deb.sh
}

guest_suites() {
	local guest=kernel/run-guest.sh
	if [ ! -x "$guest" ]; then
		not_run guest guest skipped "$guest is missing"
		return
	fi
	# The largest guest: 4 nodes of 2048 MiB (pg_extension/check-guest.sh),
	# and QEMU's own memory.
	local need=$((4 * 2048 + 1024)) have
	have=$(scripts/host-facts.sh --memory-mib)
	if [ "$have" -lt "$need" ]; then
		not_run guest guest failed "NOT RUN: the guests need $need MiB, this process may use $have MiB (RAM or cgroup limit)"
		return
	fi
	echo "== guest: booting the patched kernel with 2 NUMA nodes"
	run_suite guest2 "$guest" --nodes 2 -- scripts/run-each.sh "${GUEST_TESTS[@]}"
	# Again without CAP_SYS_NICE: move_all must be refused.
	run_suite guest2-nocap "$guest" --nodes 2 -- setpriv --inh-caps -sys_nice \
		--bounding-set -sys_nice -- scripts/run-each.sh "$B/test_core"
	echo "== guest: booting the patched kernel with 4 NUMA nodes"
	run_suite guest4 "$guest" --nodes 4 -- scripts/run-each.sh "${GUEST_TESTS[@]}"
	pg_suites guest "$PG_GUEST_VERSIONS"
}

case "$part" in
host) host_suites ;;
guest) guest_suites ;;
all)
	host_suites
	guest_suites
	;;
esac

echo
echo "== results"
scripts/tap-sum --total --failures "$LOG/failures" "${LOGS[@]}" >"$LOG/summary"
rc=$?
head -n -1 "$LOG/summary"
if [ -s "$LOG/failures" ]; then
	echo "== tests that failed"
	cat "$LOG/failures"
fi
tail -n 1 "$LOG/summary"
exit $rc
