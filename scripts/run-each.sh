#!/bin/bash
# SPDX-License-Identifier: MIT
# Run each given program in turn; exit 1 if any failed, after running all.
rc=0
for prog in "$@"; do
	echo "-- $prog"
	"$prog" || rc=1
done
exit $rc
