#!/bin/bash
# SPDX-License-Identifier: MIT
# tap-suite.sh NAME COMMAND [ARGS...]
#
# Runs COMMAND, a test program that reports in TAP (a kselftest), shows its
# output, and closes with "NAME: N passed, N failed, N skipped" as every
# mp2 suite does, for scripts/check.sh.  "ok N" is passed, "ok N # SKIP"
# (or "# skip": TAP's directives ignore case) skipped, "not ok N" failed.
# A program that skips all its tests ("1..0 # SKIP why", which prove
# shows as "FILE .. skipped: why") counts as one skipped test.
# Tests of the plan ("1..N") that never reported, and an exit status other than 0 or 4 (kselftest's "skip") with
# no failure reported, count as one failure each.  Exits 1 when a test
# failed.
set -uo pipefail

name=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$@" | tee "$out"
rc=${PIPESTATUS[0]}

skip=$(grep -ciE '^ok [0-9]+( .*)?# *SKIP' "$out")
pass=$(($(grep -cE '^ok [0-9]+' "$out") - skip))
fail=$(grep -cE '^not ok [0-9]+' "$out")
plan=$(sed -nE 's/^1\.\.([0-9]+).*/\1/p' "$out" | head -n 1)
if grep -qiE '^1\.\.0 *# *SKIP|^[^ ]+ \.\. skipped: ' "$out" && [ $((pass + skip + fail)) -eq 0 ]; then
	plan=1
	skip=1
fi
missing=$((${plan:-0} - pass - skip - fail))
if [ -z "$plan" ] || [ "$missing" -gt 0 ]; then
	echo "$name: ${plan:-no} tests planned, $((pass + skip + fail)) reported"
	fail=$((fail + (missing > 0 ? missing : 1)))
fi
if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$fail" -eq 0 ]; then
	echo "$name: exit status $rc"
	fail=1
fi
echo "$name: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
