#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian packages, end to end, as a DBA meets them:
#
#   build       scripts/build-deb.sh (dpkg-buildpackage, pg_buildext)
#   lintian     no errors on the .changes
#   install     apt-get install of the .deb files into this system
#   use         a program built with pkg-config against libmp2-dev, the
#               manual pages, mp2bench
#   installcheck  a fresh cluster of the packaged PostgreSQL with mp2
#               preloaded, started the way the packaged systemd drop-in
#               starts it, and "make installcheck" against it
#   purge       apt-get purge, and nothing of mp2 is left
#
# Whatever "make install" put into the same places is set aside first, so
# that only the packaged files can be found, and put back at the end.
# Prints TAP, opened by "# suite: deb".  Needs root.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/build/deb
PGV=${MP2_DEB_PG:-15}
export PG_CONFIG=/usr/lib/postgresql/$PGV/bin/pg_config
# The tree's uninstalled mp2.pc must not be found: only the packaged one.
unset PKG_CONFIG_PATH

if [ "$(id -u)" -ne 0 ]; then
	echo "# suite: deb"
	echo "1..0 # SKIP needs root (apt-get install, and a server run as postgres)"
	exit 0
fi
if [ ! -x "$PG_CONFIG" ]; then
	echo "# suite: deb"
	echo "not ok 1 - no $PG_CONFIG (postgresql-server-dev-$PGV)"
	echo "1..1"
	exit 1
fi
# shellcheck source=../scripts/pglib.sh
. "$TOP/scripts/pglib.sh"
suite_begin deb

PKGS=(libmp2-0 libmp2-dev mp2bench "postgresql-$PGV-mp2")
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PKGLIB=$("$PG_CONFIG" --pkglibdir)
EXTDIR=$("$PG_CONFIG" --sharedir)/extension
WORK=$(mktemp -d /tmp/mp2-deb.XXXXXX)
chmod 755 "$WORK"
ASIDE=$WORK/aside
mkdir -p "$ASIDE"

# What "make install" may have put where the packages install, or where
# the loader or pkg-config would find it before them.
installed_by_source() {
	local f
	for f in "$PKGLIB"/mp2.so "$EXTDIR"/mp2.control "$EXTDIR"/mp2--*.sql \
		/usr/local/lib/libmp2.* /usr/local/lib/pkgconfig/mp2.pc \
		/usr/local/include/mp2.h /usr/local/include/mp2_kabi.h /usr/local/bin/mp2bench \
		/usr/local/share/man/man3/libmp2.3 /usr/local/share/man/man3/mp2_*.3 \
		/usr/local/share/man/man1/mp2bench.1; do
		[ -e "$f" ] || [ -L "$f" ] && echo "$f"
	done
}

restore() {
	pg_stop 2>/dev/null
	if dpkg-query -W -f='${Status}\n' "${PKGS[@]}" 2>/dev/null | grep -q 'ok installed'; then
		apt-get purge -y -q "${PKGS[@]}" >/dev/null 2>&1
	fi
	if [ -d "$ASIDE/root" ]; then
		cp -a "$ASIDE/root/." /
		ldconfig
	fi
	rm -rf "$WORK"
}
trap restore EXIT

phase "build: scripts/build-deb.sh"
if scripts_out=$("$TOP/scripts/build-deb.sh" "$OUT" 2>&1); then
	ok "build: dpkg-buildpackage made $(ls "$OUT"/*.deb | wc -l) packages"
else
	echo "$scripts_out" | tail -n 40 | sed "s/^/# /"
	not_ok "build: dpkg-buildpackage"
	suite_end
	exit 1
fi
for p in "${PKGS[@]}"; do
	check "build: $p is among them" compgen -G "$OUT/${p}_*.deb"
done

phase "lintian"
changes=$(ls "$OUT"/*.changes)
lintian --fail-on error --suppress-tags-from-file /dev/null "$changes" >"$WORK/lintian.log" 2>&1
lrc=$?
sed "s/^/# /" "$WORK/lintian.log"
echo "lintian: $(grep -c '^E:' "$WORK/lintian.log") errors, $(grep -c '^W:' "$WORK/lintian.log") warnings"
check "lintian: no errors" [ "$lrc" -eq 0 ]

phase "install: setting aside what make install put in the same places"
mapfile -t from_source < <(installed_by_source)
for f in "${from_source[@]}"; do
	mkdir -p "$ASIDE/root$(dirname "$f")"
	mv "$f" "$ASIDE/root$f"
done
ldconfig
echo "set aside: ${#from_source[@]} files"
check "install: no mp2 file left outside the packages" [ -z "$(installed_by_source)" ]

if apt-get install -y -q "$OUT"/*.deb >"$WORK/apt.log" 2>&1; then
	ok "install: apt-get install of ${PKGS[*]}"
else
	tail -n 20 "$WORK/apt.log" | sed "s/^/# /"
	not_ok "install: apt-get install"
	suite_end
	exit 1
fi
not_needs_lib() { [ -x "$WORK/consumer-$1" ] && ! needs_lib "$1"; }
owner_is() { [ "$(dpkg-query -S "$1" 2>/dev/null | cut -d: -f1)" = "$2" ]; }
check "install: $PKGLIB/mp2.so belongs to postgresql-$PGV-mp2" owner_is "$PKGLIB/mp2.so" "postgresql-$PGV-mp2"
check "install: the control file belongs to postgresql-$PGV-mp2" owner_is "$EXTDIR/mp2.control" "postgresql-$PGV-mp2"
check "install: libmp2.so.0 belongs to libmp2-0" owner_is "/usr/lib/$MA/libmp2.so.0" "libmp2-0"
check "install: mp2.so loads the packaged libmp2.so.0" \
	grep -qE "libmp2.so.0 => (/usr)?/lib/$MA/libmp2.so.0" <(ldd "$PKGLIB/mp2.so")
check "install: the systemd drop-in is there as an example" \
	[ -f "/usr/share/doc/postgresql-$PGV-mp2/examples/systemd-cap-sys-nice.conf" ]
guide_installed() { compgen -G "/usr/share/doc/postgresql-$PGV-mp2/postgresql.md*" >/dev/null; }
check "install: the DBA's guide is there" guide_installed
security_installed() { compgen -G "/usr/share/doc/postgresql-$PGV-mp2/security.md*" >/dev/null; }
check "install: the security notes are there" security_installed

phase "use: a program built with pkg-config against libmp2-dev"
cat >"$WORK/consumer.c" <<'EOF'
#define _POSIX_C_SOURCE 200809L
#include <mp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Moves a page to the node it is on and checks its bytes. */
int main(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct mp2_options o;
	struct mp2_stats st;
	char *p;
	void *pages[1];
	int status;

	if (mp2_version() < MP2_VERSION_NUM)
		return 2;
	if (posix_memalign((void **)&p, psz, psz))
		return 3;
	memset(p, 0x6d, psz);
	pages[0] = p;
	mp2_options_init(&o);
	if (mp2_migrate(pages, 1, NULL, 0, &o, &status, &st) != 0)
		return 4;
	for (long i = 0; i < psz; i++)
		if (p[i] != 0x6d)
			return 5;
	printf("%s %d %zu\n", MP2_VERSION, status, st.requested);
	return st.requested == 1 ? 0 : 6;
}
EOF
libdir=$(pkg-config --variable=libdir mp2)
# shellcheck disable=SC2046
cc_consumer() {
	cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags mp2) "$WORK/consumer.c" \
		-o "$WORK/consumer-$1" "${@:2}" 2>"$WORK/cc.log" || { sed "s/^/# /" "$WORK/cc.log"; return 1; }
}
run_consumer() {
	local out rc
	out=$("$WORK/consumer-$1")
	rc=$?
	echo "consumer-$1: $out (exit $rc)"
	[ "$rc" -eq 0 ]
}
# shellcheck disable=SC2046
check "use: cc \$(pkg-config --cflags --libs mp2)" cc_consumer shared $(pkg-config --libs mp2)
check "use: that program runs and keeps the bytes" run_consumer shared
# shellcheck disable=SC2046
check "use: static, libmp2.a \$(pkg-config --static --libs mp2)" cc_consumer static \
	"$libdir/libmp2.a" $(pkg-config --static --libs mp2 | sed 's/-lmp2//')
check "use: that program runs and keeps the bytes" run_consumer static
needs_lib() { [ -x "$WORK/consumer-$1" ] && grep -q libmp2.so.0 <(ldd "$WORK/consumer-$1"); }
check "use: the static one needs no libmp2.so.0" not_needs_lib static
check "use: the shared one needs libmp2.so.0" needs_lib shared
check "use: pkg-config --modversion is the release" \
	[ "$(pkg-config --modversion mp2)" = "$(dpkg-query -W -f='${Version}' libmp2-dev)" ]
check "use: man libmp2 and man mp2_migrate" man -w libmp2 mp2_migrate
check "use: man mp2bench" man -w mp2bench
check "use: mp2bench --help" mp2bench --help

phase "installcheck: a fresh cluster from the packaged files"
# The drop-in's way to start the server: as postgres, CAP_SYS_NICE ambient.
dropin=/usr/share/doc/postgresql-$PGV-mp2/examples/systemd-cap-sys-nice.conf
dropin_ok() { grep -qx 'User=postgres' "$dropin" && grep -qx 'AmbientCapabilities=CAP_SYS_NICE' "$dropin"; }
check "installcheck: the drop-in sets User=postgres and the ambient capability" dropin_ok
PGPORT=54341
if pg_cluster_init "$WORK/pg" && pg_start cap; then
	ok "installcheck: the server starts with mp2 preloaded"
	check "installcheck: started as the drop-in starts it, it has the capability" \
		[ "$(psql_q "CREATE EXTENSION mp2; SELECT cap_sys_nice FROM mp2_info(); DROP EXTENSION mp2")" = permitted ]
	# The tests from a copy postgres can read, not from the tree.
	cp -r "$TOP/sql" "$TOP/expected" "$WORK/"
	mkdir -p "$WORK/pg_extension"
	cp "$TOP/pg_extension/Makefile" "$WORK/pg_extension/"
	chown -R "$PG_USER": "$WORK/sql" "$WORK/expected" "$WORK/pg_extension"
	as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PG_USER" \
		make -C "$WORK/pg_extension" installcheck PG_CONFIG="$PG_CONFIG" \
		>"$WORK/installcheck.log" 2>&1
	rc=$?
	sed "s/^/# /" "$WORK/installcheck.log"
	[ -s "$WORK/pg_extension/regression.diffs" ] && head -n 200 "$WORK/pg_extension/regression.diffs" | sed "s/^/# /"
	n=$(grep -cE '\.\.\. ok( |$)|^ok [0-9]+ ' "$WORK/installcheck.log")
	check "installcheck: make installcheck passed ($n tests)" [ "$rc" -eq 0 -a "$n" -gt 0 ]
	pg_stop
else
	not_ok "installcheck: the server starts with mp2 preloaded"
fi

phase "purge"
if apt-get purge -y -q "${PKGS[@]}" >"$WORK/purge.log" 2>&1; then
	ok "purge: apt-get purge"
else
	tail -n 20 "$WORK/purge.log" | sed "s/^/# /"
	not_ok "purge: apt-get purge"
fi
nothing_left() {
	[ -z "$(installed_by_source)" ] && ! compgen -G "/usr/lib/$MA/libmp2*" >/dev/null &&
		! [ -e /usr/bin/mp2bench ] && ! [ -e /usr/include/mp2.h ] &&
		! [ -e /usr/include/mp2_kabi.h ]
}
check "purge: no mp2 file is left" nothing_left
suite_end
