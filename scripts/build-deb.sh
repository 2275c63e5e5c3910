#!/bin/bash
# SPDX-License-Identifier: MIT
# Build mp2's Debian packages (debian/) with Debian's own tools:
# dpkg-buildpackage, debhelper and pg_buildext, one postgresql-V-mp2 per
# PostgreSQL version debian/pgversions names and the machine supports.
#
#   scripts/build-deb.sh [OUTDIR]     default build/deb
#
# The tree is copied first (the files git tracks, and new ones it does not
# ignore), so the build starts clean and leaves the tree as it was.  Prints
# the .changes file last; lintian checks the result (scripts/check-deb.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-build/deb}")
for t in dpkg-buildpackage dh pg_buildext; do
	if ! command -v "$t" >/dev/null; then
		echo "build-deb: $t is missing (scripts/setup-deps.sh installs it)" >&2
		exit 1
	fi
done

version=$(dpkg-parsechangelog -S Version)
rm -rf "$OUT"
src="$OUT/mp2-$version"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 -I{} sh -c '[ -e "$1" ] && cp --parents -a "$1" "$2" || :' _ {} "$src"
echo "build-deb: building mp2 $version in $src"
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log"
	echo "build-deb: dpkg-buildpackage failed, log in $OUT/build.log" >&2
	exit 1
}
ls "$OUT"/*.deb
ls "$OUT"/*.changes
