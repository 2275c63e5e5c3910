#!/bin/bash
# SPDX-License-Identifier: MIT
# Run mp2's test suites and sum their closing lines.
#
#   scripts/check.sh host    suites that run on this machine
#   scripts/check.sh guest   suites that run inside the multi-node QEMU guest
#   scripts/check.sh all     both (what "make check" runs)
#
# The extension's suites run against each PostgreSQL of
# MP2_PG_VERSIONS (host, default "15 18") and MP2_PG_GUEST_VERSIONS
# (guest, default "15 18").
#
# Every suite ends with "NAME: N passed, N failed, N skipped"; the
# move_pages2 kselftest reports in TAP, which scripts/tap-suite.sh counts
# into that line.  This script prints each suite's output, then one total
# line.  It exits non-zero when a test failed or a suite did not reach its
# closing line.
set -uo pipefail

cd "$(dirname "$0")/.."
part=${1:-all}
case "$part" in
host | guest | all) ;;
-h | --help)
	sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "check.sh: unknown part '$part' (expected host, guest or all)" >&2
	exit 2
	;;
esac

B=build
LOG=$B/check
mkdir -p "$LOG"
: >"$LOG/summary"
broken=0

# The PostgreSQL versions the extension's suites run against: 15 from
# Debian's packages, the others built from Debian's source packages by
# scripts/build-pg.sh (cached).
PG_HOST_VERSIONS=${MP2_PG_VERSIONS:-15 18}
PG_GUEST_VERSIONS=${MP2_PG_GUEST_VERSIONS:-15 18}
declare -A PG_CONFIGS=()

# pg_config_of V: the pg_config of PostgreSQL V, built if need be; a
# failed build counts as a failed suite.
pg_config_of() {
	local v=$1 out
	if [ -z "${PG_CONFIGS[$v]:-}" ]; then
		if out=$(scripts/build-pg.sh "$v" | tail -n 1) && [ -x "$out" ]; then
			PG_CONFIGS[$v]=$out
		else
			echo "check: could not build PostgreSQL $v (scripts/build-pg.sh $v)"
			echo "pg-build-$v: 0 passed, 1 failed, 0 skipped" >>"$LOG/summary"
			PG_CONFIGS[$v]=none
		fi
	fi
	[ "${PG_CONFIGS[$v]}" != none ]
}

summary_re='^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$'

# run_suite LABEL EXPECTED_SUITES COMMAND...
# Runs COMMAND, shows its output, and records every closing line in it,
# prefixed with LABEL.  EXPECTED_SUITES closing lines must appear.
run_suite() {
	local label=$1 expect=$2 log found rc
	shift 2
	log="$LOG/${label//\//_}.log"
	echo "== $label: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	found=$(grep -cE "$summary_re" "$log")
	grep -E "$summary_re" "$log" | sed "s|^|$label/|" >>"$LOG/summary"
	if [ "$found" -lt "$expect" ]; then
		echo "check: $label reported $found of $expect suite results (exit $rc)"
		broken=$((broken + 1))
	elif [ "$rc" -ne 0 ] && ! grep -E "$summary_re" "$log" | grep -qvE ' 0 failed'; then
		echo "check: $label exited $rc although no test failed"
		broken=$((broken + 1))
	fi
}

host_suites() {
	run_suite host 1 scripts/check-tree.sh
	run_suite host 1 "$B/test_core"
	run_suite host 1 "$B/test_core_san"
	run_suite host 1 "$B/test_nomem"
	run_suite host 1 "$B/test_bench"
	run_suite host 1 "$B/test_bench_migrate"
	run_suite host 1 "$B/test_bench_ycsb"
	if [ -x "$B/move_pages2_test" ]; then
		run_suite host 1 scripts/tap-suite.sh move_pages2 "$B/move_pages2_test"
	fi
	if [ -x pg_extension/check-host.sh ]; then
		for v in $PG_HOST_VERSIONS; do
			echo "== host: PostgreSQL $v"
			pg_config_of "$v" &&
				run_suite "host-pg$v" 4 env PG_CONFIG="${PG_CONFIGS[$v]}" \
					pg_extension/check-host.sh
		done
	fi
	# Builds, installs, tests and purges the Debian packages.
	run_suite host 1 scripts/check-deb.sh
}

guest_suites() {
	local guest=kernel/run-guest.sh
	if [ ! -x "$guest" ]; then
		echo "guest: 0 passed, 0 failed, 1 skipped" >>"$LOG/summary"
		echo "== guest: skipped, $guest is missing"
		return
	fi
	local tests=("$B/test_core" "$B/test_nomem")
	[ -x "$B/move_pages2_test" ] &&
		tests=("scripts/tap-suite.sh move_pages2 $B/move_pages2_test" "${tests[@]}")
	local n=${#tests[@]}
	echo "== guest: booting the patched kernel with 2 NUMA nodes"
	run_suite guest2 "$n" "$guest" --nodes 2 -- scripts/run-each.sh "${tests[@]}"
	# Again without CAP_SYS_NICE: move_all must be refused.
	run_suite guest2-nocap 1 "$guest" --nodes 2 -- setpriv --inh-caps -sys_nice \
		--bounding-set -sys_nice -- "$B/test_core"
	echo "== guest: booting the patched kernel with 4 NUMA nodes"
	run_suite guest4 "$n" "$guest" --nodes 4 -- scripts/run-each.sh "${tests[@]}"
	if [ -x pg_extension/check-guest.sh ]; then
		for v in $PG_GUEST_VERSIONS; do
			echo "== guest: PostgreSQL $v"
			pg_config_of "$v" &&
				run_suite "guest-pg$v" "$(wc -w <<<"${MP2_PG_GUEST_PARTS:-cap load worker nocap huge thp bounded tier}")" \
					env PG_CONFIG="${PG_CONFIGS[$v]}" \
					pg_extension/check-guest.sh
		done
	fi
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
cat "$LOG/summary"
awk -v broken="$broken" '
{
	for (i = 1; i <= NF; i++) {
		v = $i; gsub(/,/, "", $(i + 1))
		if ($(i + 1) == "passed") p += v
		else if ($(i + 1) == "failed") f += v
		else if ($(i + 1) == "skipped") s += v
	}
}
END {
	f += broken
	printf "%d passed, %d failed, %d skipped\n", p, f, s
	exit f > 0
}' "$LOG/summary"
