#!/bin/bash
# SPDX-License-Identifier: MIT
# What a release of the tree promises, checked:
#
#   license   every source file names its license in an SPDX line: GPL-2.0
#             under kernel/, MIT elsewhere (LICENSE)
#   version   core/mp2.h, META.json, debian/changelog, mp2.control, the man
#             pages and the README agree
#   meta      META.json is valid PGXN metadata (tests/check_meta.py)
#   docs      the figures the docs take from results/ match their files,
#             every relative link resolves (scripts/check-doc-figures.py),
#             and every test the docs name exists
#   abi       libmp2.so exports exactly the calls mp2.h declares, under
#             the soname libmp2.so.0
#   install   make install DESTDIR=... puts every file where it belongs,
#             and its mp2.pc builds a program
#   dist      make dist makes the PGXN archive from git, which builds as a
#             PGXN client builds it
#   deps      in that build, no two files of libmp2 or of the extension
#             use each other's functions or variables in a circle
#             (scripts/file-cycles.py)
#
# Prints TAP, opened by "# suite: tree".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
# shellcheck source=../scripts/pglib.sh
PG_CONFIG=${PG_CONFIG:-pg_config}
. "$TOP/scripts/pglib.sh"
suite_begin tree
WORK=$(mktemp -d /tmp/mp2-tree.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
not() { ! "$@"; }

phase "license"
# Source files: what is compiled, run or loaded.  Not data (results/,
# expected/ has it through sql/), not prose.
spdx_of() { head -n 3 "$1" | sed -n 's/.*SPDX-License-Identifier: \([^ */]*\).*/\1/p' | head -n 1; }
missing=()
wrong=()
while IFS= read -r f; do
	case "$f" in
	*.c | *.h | *.sh | *.sql | *.py | *.pl | *.pm | *.map | *.in | *.control | *.conf | *.[1-8] | \
		Makefile | */Makefile | .ci/run | debian/rules | kernel/config.fragment) ;;
	*) continue ;;
	esac
	[ -f "$f" ] || continue
	# A manual page that is only a link to another (".so man3/libmp2.3").
	[ "$(grep -cv '^\.so ' "$f")" -eq 0 ] && continue
	lic=$(spdx_of "$f")
	case "$f" in
	kernel/*) want='GPL-2.0|GPL-2.0-only|Linux-man-pages-copyleft' ;;
	*) want=MIT ;;
	esac
	if [ -z "$lic" ]; then
		missing+=("$f")
	elif ! [[ "$lic" =~ ^($want)$ ]]; then
		wrong+=("$f ($lic)")
	fi
done < <(git ls-files --cached --others --exclude-standard)
[ ${#missing[@]} -eq 0 ] || printf '  no SPDX line: %s\n' "${missing[@]}"
[ ${#wrong[@]} -eq 0 ] || printf '  wrong license: %s\n' "${wrong[@]}"
check "license: every source file has an SPDX line" [ ${#missing[@]} -eq 0 ]
check "license: MIT outside kernel/, GPL-2.0 in it" [ ${#wrong[@]} -eq 0 ]
check "license: LICENSE and kernel/COPYING exist" [ -s LICENSE -a -s kernel/COPYING ]

phase "version"
v=$(sed -n 's/^#define MP2_VERSION[[:space:]]*"\(.*\)"/\1/p' core/mp2.h)
echo "core/mp2.h: $v"
check "version: META.json has $v" [ "$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])' <META.json)" = "$v" ]
check "version: META.json provides mp2 $v" [ "$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["provides"]["mp2"]["version"])' <META.json)" = "$v" ]
check "version: debian/changelog has $v" [ "$(dpkg-parsechangelog -S Version)" = "$v" ]
check "version: the extension's default_version is ${v%.*}" \
	grep -qx "default_version = '${v%.*}'" pg_extension/mp2.control
check "version: META.json names the extension script of ${v%.*}" \
	grep -q "\"file\": \"pg_extension/mp2--${v%.*}.sql\"" META.json
check "version: man/libmp2.3 documents mp2 $v" \
	grep -q "^\.TH libmp2 3 [0-9-]* \"mp2 $v\"" man/libmp2.3
check "version: man/mp2bench.1 documents mp2 $v" \
	grep -q "^\.TH mp2bench 1 [0-9-]* \"mp2 $v\"" man/mp2bench.1
# The synopsis of libmp2(3) shows the macros of mp2.h as they are.
for m in MAJOR MINOR PATCH; do
	n=$(sed -n "s/^#define MP2_VERSION_${m}[[:space:]]*\([0-9]*\)$/\1/p" core/mp2.h)
	check "version: man/libmp2.3 shows MP2_VERSION_$m $n" \
		grep -qx "\.B \"#define MP2_VERSION_$m  $n\"" man/libmp2.3
done
check "version: man/libmp2.3 shows MP2_VERSION \"$v\"" \
	grep -qxF ".B \"#define MP2_VERSION        \\[dq]$v\\[dq]\"" man/libmp2.3
IFS=. read -r vmaj vmin vpat <<<"$v"
vnum=$((vmaj * 10000 + vmin * 100 + vpat))
check "version: man/libmp2.3 shows MP2_VERSION_NUM $vnum" \
	grep -qx "\.B \"#define MP2_VERSION_NUM    $vnum\"" man/libmp2.3
check "version: the README names the library file libmp2.so.0.${v#*.}" \
	grep -qF "(file \`libmp2.so.0.${v#*.}\`)" README.md
check "version: the README's status names release $v and extension ${v%.*}" \
	grep -qF "| release | $v (extension ${v%.*}," README.md
check "version: the DBA's guide installs the packages of $v" \
	grep -qF "postgresql-15-mp2_${v}_amd64.deb" docs/postgresql.md
check "version: the DBA's guide unpacks the archive of $v" \
	grep -qF "unzip mp2-$v.zip && cd mp2-$v" docs/postgresql.md

phase "meta"
check "meta: META.json is valid PGXN Meta Spec 1.0.0" tests/check_meta.py META.json
# The validator must see a bad file as bad.
sed 's/"mit",$/"MIT License",/' META.json >"$WORK/bad.json"
rejects_license() { ! tests/check_meta.py "$WORK/bad.json" >"$WORK/bad.out" && grep -q '^[^:]*: license:' "$WORK/bad.out"; }
check "meta: the validator rejects an unknown license" rejects_license

phase "docs"
check "docs: every checked figure matches its file, every link resolves" \
	scripts/check-doc-figures.py
# `test_name` in the docs: a test of tests/ or kernel/tests/, a suite, or a
# test program of the Makefile.
missing=()
for t in $(grep -oh '`test_[a-z0-9_]*`' README.md docs/*.md | tr -d '`' | sort -u); do
	[ -e "tests/$t.c" ] || grep -rqw -- "$t" tests kernel/tests Makefile || missing+=("$t")
done
[ ${#missing[@]} -eq 0 ] || printf '  no such test: %s\n' "${missing[@]}"
check "docs: every test the docs name exists" [ ${#missing[@]} -eq 0 ]
# The checker must see a wrong figure, and a link to nothing, as wrong.
row=$(sed -n 2p results/rate/summary.csv | cut -d, -f1-3)
IFS=, read -r mix clients method <<<"$row"
tps=$(sed -n 2p results/rate/summary.csv | cut -d, -f8)
fig="<!-- fig: results/rate/summary.csv | mix=$mix,clients=$clients,method=$method | tps -->"
echo "$tps TPS $fig" >"$WORK/right.md"
echo "$(awk -v t="$tps" 'BEGIN { printf "%.3f", t + 1 }') TPS $fig" >"$WORK/wrong.md"
echo "[runs](results/rate/no-such-file.csv)" >"$WORK/link.md"
check "docs: the checker accepts a figure that matches its file" \
	scripts/check-doc-figures.py "$WORK/right.md"
check "docs: ... and rejects one that does not" \
	not scripts/check-doc-figures.py "$WORK/wrong.md"
check "docs: ... and a link to a missing file" \
	not scripts/check-doc-figures.py "$WORK/link.md"

phase "abi"
declared=$(grep -oE '^[a-z][a-z0-9_ ]*[ *](mp2_[a-z0-9_]+)\(' core/mp2.h | grep -oE 'mp2_[a-z0-9_]+' | sort)
exported=$(nm -D --defined-only build/libmp2.so | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort)
diff <(echo "$declared") <(echo "$exported") | sed 's/^/  /'
check "abi: libmp2.so exports the $(echo "$declared" | wc -l) calls of mp2.h, nothing else" \
	[ "$declared" = "$exported" ]
# Each release that adds calls adds a version node; the nodes never change.
nodes=$(grep -oE '^MP2_[0-9.]+' core/libmp2.map | paste -sd'|')
check "abi: every export has a version node of core/libmp2.map ($nodes)" \
	not grep -vE "@@($nodes)\$" <(nm -D --defined-only build/libmp2.so | awk '$2 == "T" {print $3}')
check "abi: release 1.4.0's 20 calls keep the version MP2_0" \
	[ "$(nm -D --defined-only build/libmp2.so | grep -c '@@MP2_0$')" = 20 ]
check "abi: soname libmp2.so.0" grep -q 'SONAME.*\[libmp2.so.0\]' <(readelf -d build/libmp2.so)
check "abi: the library needs nothing undefined" \
	not grep -q 'undefined symbol' <(ldd -r build/libmp2.so 2>&1)

phase "install"
D=$WORK/dest
make -s install-lib install-tools DESTDIR="$D" PREFIX=/usr LIBDIR=/usr/lib/mp2test >"$WORK/install.log" 2>&1
check "install: make install-lib install-tools DESTDIR=... PREFIX=/usr" [ $? -eq 0 ]
for f in /usr/lib/mp2test/libmp2.so.0 /usr/lib/mp2test/libmp2.so /usr/lib/mp2test/libmp2.a \
	/usr/include/mp2.h /usr/include/mp2_kabi.h /usr/lib/mp2test/pkgconfig/mp2.pc /usr/bin/mp2bench \
	/usr/share/man/man3/libmp2.3 /usr/share/man/man3/mp2_migrate.3 /usr/share/man/man1/mp2bench.1; do
	check "install: $f" [ -e "$D$f" ]
done
check "install: mp2.pc says where it was installed" \
	grep -qx 'libdir=/usr/lib/mp2test' "$D/usr/lib/mp2test/pkgconfig/mp2.pc"
check "install: mp2.pc's version is $v" \
	[ "$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$D/usr/lib/mp2test/pkgconfig" pkg-config --modversion mp2)" = "$v" ]

phase "dist"
make -s dist >"$WORK/dist.log" 2>&1
zip=build/mp2-$v.zip
check "dist: make dist made $zip" [ -s "$zip" ]
if [ -s "$zip" ]; then
	unzip -Z1 "$zip" >"$WORK/dist.list"
	check "dist: META.json at the top of mp2-$v/" grep -qx "mp2-$v/META.json" "$WORK/dist.list"
	check "dist: the extension, its tests and the library are in it" \
		grep -qx "mp2-$v/pg_extension/mp2.control" "$WORK/dist.list"
	check "dist: nothing built is in it" not grep -qE '\.(o|so|a|deb)$|/build/' "$WORK/dist.list"
	check "dist: every entry is under mp2-$v/" not grep -qv "^mp2-$v/" "$WORK/dist.list"
	# As a PGXN client installs it: unpack, make, make install.
	unzip -q "$zip" -d "$WORK/unpacked"
	make -s -C "$WORK/unpacked/mp2-$v" PG_CONFIG="$PG_CONFIG" >"$WORK/dist-build.log" 2>&1 &&
		make -s -C "$WORK/unpacked/mp2-$v" install-lib install-tools DESTDIR="$WORK/dist-dest" \
			>>"$WORK/dist-build.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || tail -n 20 "$WORK/dist-build.log" | sed "s/^/# /"
	check "dist: the archive builds and installs with make, make install" [ "$rc" -eq 0 ]
	check "dist: ... the extension too" [ -f "$WORK/unpacked/mp2-$v/pg_extension/mp2.so" ]

	phase "deps"
	u=$WORK/unpacked/mp2-$v
	for part in build/core pg_extension; do
		check "deps: no two files of $part call each other in a circle" \
			scripts/file-cycles.py "$u/$part/"*.o
	done
fi
suite_end
