#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Check that the patch in kernel/patches/ that adds the kselftest
# tools/testing/selftests/mm/move_pages2.c adds exactly
# kernel/tests/move_pages2.c, so that the test built here is the test the
# patch series carries.
set -euo pipefail

cd "$(dirname "$0")/../.."
src=kernel/tests/move_pages2.c
path=tools/testing/selftests/mm/move_pages2.c

if ! patch=$(grep -lx -- "+++ b/$path" kernel/patches/*.patch); then
	echo "check-selftest-patch: no patch in kernel/patches/ adds $path" >&2
	exit 1
fi
# The new file is the "+" lines of its diff.
if ! awk -v hdr="+++ b/$path" '
	$0 == hdr { on = 1; next }
	on && /^diff --git / { exit }
	on && /^\+/ { print substr($0, 2) }
' "$patch" | cmp -s - "$src"; then
	echo "check-selftest-patch: $patch does not add $src as it is now;" >&2
	echo "  update the patch (see kernel/README.md, Tests)" >&2
	exit 1
fi
