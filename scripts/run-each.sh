#!/bin/bash
# SPDX-License-Identifier: MIT
# Run each given command in turn; exit 1 if any failed, after running all.
# Each argument is one command, split into words at spaces.
rc=0
for cmd in "$@"; do
	echo "-- $cmd"
	# shellcheck disable=SC2086
	$cmd || rc=1
done
exit $rc
