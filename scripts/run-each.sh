#!/bin/bash
# SPDX-License-Identifier: MIT
# run-each.sh COMMAND...
#
# Runs each test program given, in turn, each argument one command split
# into words at spaces.  Before each it prints "# suite: NAME" (NAME is
# the program's file name), which opens its TAP stream for
# scripts/tap-sum.  Exits 1 if any program failed, after running all;
# kselftest's exit status 4 ("skipped") is not a failure.
rc=0
for cmd in "$@"; do
	prog=${cmd%% *}
	echo "# suite: ${prog##*/}"
	# shellcheck disable=SC2086
	$cmd
	st=$?
	[ "$st" -eq 0 ] || [ "$st" -eq 4 ] || rc=1
done
exit $rc
