#!/bin/bash
# SPDX-License-Identifier: MIT
# Build PostgreSQL 17 or 18 from Debian's source package (the upstream
# tarball it ships), cached; PostgreSQL 15 is Debian 12's own binary package.
# Prints the pg_config path as the last line on stdout; progress goes to
# stderr.
set -euo pipefail
umask 022

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
ENVLIB="$(dirname "$SELF")/build-env.sh"
# shellcheck source=build-env.sh
. "$ENVLIB"
# Where Debian's source packages come from: trixie has postgresql-17, sid
# has postgresql-18.  Only this private apt configuration sees these suites.
SUITES=(trixie sid)
MIRROR=http://deb.debian.org/debian
CONTRIB=(amcheck pg_buffercache pg_prewarm)
# Bump when the layout of the cache or of an install changes.
CACHE_FORMAT=1
KEEP_KEYS=2
TAG=build-pg

usage() {
	cat <<EOF
Usage: scripts/build-pg.sh [--jobs N] [--help] VERSION

Prints the path of the pg_config of PostgreSQL VERSION as the last line on
stdout, building that PostgreSQL first if need be.  VERSION is one of:

  15      Debian 12's packages (postgresql-15, postgresql-server-dev-15):
          nothing is built, /usr/lib/postgresql/15/bin/pg_config is checked
          and printed.
  17, 18  built from Debian's source package postgresql-VERSION, the newest
          that Debian's suites ${SUITES[*]} offer (deb-src lines in a private
          apt configuration in the cache; the system's sources are left
          alone).  The upstream tarball of that package (.orig.tar.*) is
          checked against the .dsc and built without Debian's patches:
            ./configure --prefix=<cache>/install --enable-debug --without-icu
                        --enable-tap-tests
                        [--with-libnuma for 18]
            make; make install; contrib ${CONTRIB[*]}
          The install has initdb, pg_ctl, postgres, psql, pgbench, the
          headers and PGXS with pg_regress and PostgreSQL::Test::Cluster.
  16      refused (exit 2): Debian's suites ${SUITES[*]} have no source
          package postgresql-16.

Builds are cached as
  <cache>/pg/VERSION/<key>/install/bin/pg_config
where <cache> is \$MP2_CACHE_DIR if set, else /var/lib/mp2 for root (not its
home, which a server run as postgres cannot reach, nor /var/cache, which the
QEMU guest hides under a tmpfs) and \$HOME/.cache/mp2 for others,
and <key> is the sha256 of the source package's version, this script,
scripts/build-env.sh and the versions of the compiler and of the packages
the build reads (build-essential's toolchain and the -dev packages below).
The build runs with a fixed environment (scripts/build-env.sh): an outer
make's MAKEFLAGS/MAKELEVEL, or CC and CFLAGS, do not reach it.
An unchanged input set returns the cached build at once ("pg-VERSION: cached
<path>" on stderr).  Builds run in a temporary directory and are moved into
place only when complete; they are serialised with flock on pg/.lock in the
cache.  At most $KEEP_KEYS builds are kept per VERSION.  The package lists are
refreshed at every run; without the network the previous lists are used.

Run it as root or as any user; a server run by another user than the one who
built (as root runs it as postgres) needs every directory above the cache to
be searchable by that user: then set MP2_CACHE_DIR, e.g. /var/lib/mp2.

Options:
  -j, --jobs N    parallel make jobs (default: nproc = $(nproc))
  -h, --help      this text

Needs the packages of scripts/setup-deps.sh (build-essential, bison, flex, libipc-run-perl,
zlib1g-dev, libreadline-dev, libnuma-dev).
Output: progress on stderr ("pg-VERSION: ..."); pg_config's path is the last
line on stdout.  Exit 0 on success, 1 when a build fails, 2 for a bad
argument or a version that cannot be had (no source package, or the
mirror does not have its files).
Log: <cache>/pg/VERSION/<key>/build.log; a failed build keeps its log in
<cache>/pg/VERSION/.build-<key>/build.log and its tail is printed.
EOF
}

JOBS="$(nproc)"
VERSION=
while [ $# -gt 0 ]; do
	case "$1" in
	-*)
		build_option "$@" || build_usage_error "unknown option '$1' (try --help)"
		shift "$BUILD_SHIFT"
		;;
	*)
		[ -z "$VERSION" ] || build_usage_error "one VERSION only, got '$VERSION' and '$1' (try --help)"
		VERSION="$1"
		shift
		;;
	esac
done
[ -n "$VERSION" ] || build_usage_error "which PostgreSQL? give VERSION: 15, 17 or 18 (try --help)"
case "$VERSION" in
15 | 16 | 17 | 18) ;;
*) build_usage_error "PostgreSQL '$VERSION' is not supported: VERSION is 15, 17 or 18 (16 has no Debian source package; try --help)" ;;
esac
TAG="pg-$VERSION"

# ---- 15: Debian 12's binary packages ---------------------------------------
if [ "$VERSION" = 15 ]; then
	PGCONFIG=/usr/lib/postgresql/15/bin/pg_config
	[ -x "$PGCONFIG" ] ||
		build_fail "$PGCONFIG is missing: install postgresql-15 and postgresql-server-dev-15 (run scripts/setup-deps.sh)"
	build_log "Debian package $("$PGCONFIG" --version)"
	echo "$PGCONFIG"
	exit 0
fi

# ---- what the build needs ----------------------------------------------------
NEED_PKGS=(build-essential bison flex zlib1g-dev libreadline-dev libipc-run-perl)
[ "$VERSION" -ge 18 ] && NEED_PKGS+=(libnuma-dev)
missing=()
for p in "${NEED_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for c in apt-get apt-cache flock tar bzip2 xz sha256sum readelf; do
	command -v "$c" >/dev/null || missing+=("(command $c)")
done
[ ${#missing[@]} -eq 0 ] ||
	build_fail "missing: ${missing[*]} (run scripts/setup-deps.sh)"

# Root builds for servers run as postgres, so not under /root (mode 700);
# and for the guest, which mounts a tmpfs on /var/cache.
if [ -n "${MP2_CACHE_DIR:-}" ]; then
	PGCACHE="$MP2_CACHE_DIR/pg"
elif [ "$(id -u)" -eq 0 ]; then
	PGCACHE=/var/lib/mp2/pg
else
	PGCACHE="$HOME/.cache/mp2/pg"
fi
VDIR="$PGCACHE/$VERSION"
APTDIR="$PGCACHE/apt"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" ||
	build_fail "cannot create the cache in $PGCACHE (set MP2_CACHE_DIR to a writable directory)"

# ---- Debian's source package -------------------------------------------------
printf "deb-src $MIRROR %s main\n" "${SUITES[@]}" >"$APTDIR/sources.list.new"
mv -f "$APTDIR/sources.list.new" "$APTDIR/sources.list"
APT_OPTS=(
	-o "Dir::Etc::SourceList=$APTDIR/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::Cache=$APTDIR/cache"
	-o Acquire::Retries=2
)
SRCPKG="postgresql-$VERSION"

# The package lists are shared by all versions: one apt at a time.  (This
# lock is never held while waiting for the build lock.)
exec 8>"$PGCACHE/.apt-lock"
flock 8
if ! apt-get "${APT_OPTS[@]}" -q update >"$APTDIR/update.log" 2>&1 ||
	grep -qE '^(E: |W: (Failed to fetch|Some index files failed))' "$APTDIR/update.log"; then
	if compgen -G "$APTDIR/lists/*_Sources*" >/dev/null; then
		build_log "warning: could not refresh Debian's source package lists (see $APTDIR/update.log); using those of $(date -r "$APTDIR/lists" '+%F %R')"
	else
		tail -n 5 "$APTDIR/update.log" >&2
		build_fail "could not fetch Debian's source package lists from $MIRROR (see $APTDIR/update.log; is the network up?)"
	fi
fi
SRCVER=
while read -r v; do
	if [ -z "$SRCVER" ] || dpkg --compare-versions "$v" gt "$SRCVER"; then
		SRCVER="$v"
	fi
done < <(apt-cache "${APT_OPTS[@]}" showsrc "$SRCPKG" 2>/dev/null |
	awk -v p="$SRCPKG" '/^Package: /{pkg = $2} /^Version: / && pkg == p {print $2}')
if [ -z "$SRCVER" ]; then
	have="$(for f in "$APTDIR"/lists/*_Sources*; do
		/usr/lib/apt/apt-helper cat-file "$f" 2>/dev/null
	done | sed -n 's/^Package: \(postgresql-[0-9][0-9]*\)$/\1/p' | sort -uV | paste -sd' ')"
	echo "$TAG: error: Debian's suites ${SUITES[*]} have no source package $SRCPKG (they have: ${have:-none})," >&2
	echo "$TAG: so PostgreSQL $VERSION cannot be built from Debian's sources; use 15, 17 or 18" >&2
	exit 2
fi
flock -u 8
mkdir -p "$VDIR"

TOOLCHAIN="$(build_env_fingerprint "${BUILD_ENV_TOOLCHAIN[@]}" "${NEED_PKGS[@]}")"
KEY="$(
	{
		printf 'format %s\nsource %s %s\narch %s\n' "$CACHE_FORMAT" "$SRCPKG" "$SRCVER" "$(dpkg --print-architecture)"
		printf 'script %s\n' "$(wc -c <"$SELF")"
		cat "$SELF"
		printf 'envlib %s\n' "$(wc -c <"$ENVLIB")"
		cat "$ENVLIB"
		echo "$TOOLCHAIN"
	} | sha256sum | cut -d' ' -f1
)"
OUTDIR="$VDIR/$KEY"
PREFIX="$OUTDIR/install"
PGCONFIG="$PREFIX/bin/pg_config"

# A server run as another user (root runs it as postgres) must reach the
# install: every directory above it must be searchable by others.
check_reachable() {
	local d="$PREFIX"
	[ "$(id -u)" -eq 0 ] || return 0
	while [ "$d" != / ] && [ -n "$d" ]; do
		d="$(dirname "$d")"
		if [ -d "$d" ] && [ "$(($(stat -c '%#a' "$d") & 1))" -eq 0 ]; then
			build_log "warning: $d (mode $(stat -c %a "$d")) is not searchable by other users, so a server run as postgres cannot use $PREFIX; set MP2_CACHE_DIR to a directory they can reach, e.g. MP2_CACHE_DIR=/var/lib/mp2"
			return 0
		fi
	done
}

cached() {
	touch "$OUTDIR/stamp"
	build_log "cached $PGCONFIG ($SRCPKG $SRCVER)"
	check_reachable
	echo "$PGCONFIG"
	exit 0
}
[ -x "$PGCONFIG" ] && cached

build_lock "$PGCACHE/.lock" PostgreSQL
# Somebody else may have built the same key while we waited.
[ -x "$PGCONFIG" ] && cached

# ---- build -------------------------------------------------------------------
T0=$SECONDS
WORK="$VDIR/.build-$KEY"
# Left-overs of interrupted or failed builds (no build runs: we hold the lock).
rm -rf "$VDIR"/.build-*
mkdir -p "$WORK/dl" "$WORK/src" "$WORK/dest"
BUILDLOG="$WORK/build.log"
: >"$BUILDLOG"
ok=0

cleanup() {
	if [ "$ok" = 0 ] && [ -d "$WORK" ]; then
		# Keep the log of a failed build, nothing else.
		rm -rf "$WORK/dl" "$WORK/src" "$WORK/dest" "$WORK/out"
	fi
}
trap cleanup EXIT

# run DESCRIPTION COMMAND...: COMMAND with its output in the log, saying
# every minute how many files it compiled.
run() {
	build_run "$1" ' -c -o ' "${@:2}"
}

in_dir() {
	cd "$1" && shift && "$@"
}

build_log "building $SRCPKG $SRCVER (key ${KEY:0:16}…), log $BUILDLOG"

flock 8
if ! run "downloading $SRCPKG $SRCVER" in_dir "$WORK/dl" \
	apt-get "${APT_OPTS[@]}" -q source --download-only "$SRCPKG=$SRCVER"; then
	if grep -q '404 *Not Found' "$BUILDLOG"; then
		FAIL_RC=2 build_fail "Debian's package lists name $SRCPKG $SRCVER, but $MIRROR answers 404 Not Found for its files: PostgreSQL $VERSION cannot be built from Debian's sources from this mirror"
	fi
	build_fail "could not download the source package $SRCPKG $SRCVER from $MIRROR (is the network up?)"
fi
flock -u 8

DSC="$WORK/dl/${SRCPKG}_${SRCVER#*:}.dsc"
[ -f "$DSC" ] || build_fail "apt-get source did not fetch $(basename "$DSC")"
read -r ORIG_SUM ORIG_NAME < <(
	awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0}
		f && $3 ~ /\.orig\.tar\.(gz|bz2|xz)$/ {print $1, $3}' "$DSC"
) || build_fail "$(basename "$DSC") names no upstream tarball (.orig.tar.*)"
ORIG="$WORK/dl/$ORIG_NAME"
[ -f "$ORIG" ] || build_fail "the upstream tarball $ORIG_NAME was not downloaded"
echo "$ORIG_SUM  $ORIG" | sha256sum -c --quiet >>"$BUILDLOG" 2>&1 ||
	build_fail "$ORIG_NAME does not match the sha256 of $(basename "$DSC")"
UPSTREAM="${ORIG_NAME#"${SRCPKG}_"}"
UPSTREAM="${UPSTREAM%.orig.tar.*}"
build_log "$ORIG_NAME matches its sha256 in $(basename "$DSC")"

run "unpacking $ORIG_NAME" tar -xf "$ORIG" -C "$WORK/src" --strip-components=1 ||
	build_fail "could not unpack $ORIG_NAME"
[ -x "$WORK/src/configure" ] || build_fail "$ORIG_NAME has no configure script"

CONFIGURE=(--prefix="$PREFIX" --enable-debug --without-icu --enable-tap-tests)
[ "$VERSION" -ge 18 ] && CONFIGURE+=(--with-libnuma)
cd "$WORK/src"
run "./configure ${CONFIGURE[*]}" "${BUILD_ENV[@]}" ./configure "${CONFIGURE[@]}" ||
	build_fail "configure failed"
run "make -j$JOBS" "${BUILD_ENV[@]}" make -j"$JOBS" ||
	build_fail "make failed"
run "make install" "${BUILD_ENV[@]}" make install DESTDIR="$WORK/dest" ||
	build_fail "make install failed"
for m in "${CONTRIB[@]}"; do
	run "contrib/$m" "${BUILD_ENV[@]}" make -C "contrib/$m" -j"$JOBS" install DESTDIR="$WORK/dest" ||
		build_fail "building contrib/$m failed"
done

# ---- check the install, then move it into place ----------------------------
D="$WORK/dest$PREFIX"
# pg_config finds its directories relative to itself, so it answers for the
# install where it is now.
dpg() { "$D/bin/pg_config" "$@"; }
[ -x "$D/bin/pg_config" ] || build_fail "make install left no $D/bin/pg_config"
got="$(dpg --version)"
[[ "$got" == "PostgreSQL ${UPSTREAM%%[+~]*}"* ]] ||
	build_fail "pg_config --version says '$got', expected 'PostgreSQL $UPSTREAM'"
for b in postgres initdb pg_ctl psql pgbench; do
	[ -x "$D/bin/$b" ] || build_fail "make install left no bin/$b"
done
# psql must find this build's libpq, not the system's, once in place.
readelf -d "$D/bin/psql" | grep -qF "[$PREFIX/lib]" ||
	build_fail "bin/psql has no run path $PREFIX/lib"
regress="$(dirname "$(dpg --pgxs)")/../../src/test/regress/pg_regress"
[ -x "$regress" ] || build_fail "make install left no pg_regress at \$(pg_config --pgxs)/../../src/test/regress/pg_regress"
cluster_pm="$(dirname "$(dpg --pgxs)")/../../src/test/perl/PostgreSQL/Test/Cluster.pm"
[ -f "$cluster_pm" ] || build_fail "make install left no PostgreSQL::Test::Cluster at $cluster_pm"
for m in "${CONTRIB[@]}"; do
	[ -f "$(dpg --pkglibdir)/$m.so" ] || build_fail "contrib/$m installed no $m.so"
	[ -f "$(dpg --sharedir)/extension/$m.control" ] || build_fail "contrib/$m installed no $m.control"
done
if [ "$VERSION" -ge 18 ]; then
	dpg --configure | grep -q -- "--with-libnuma" || build_fail "pg_config --configure lacks --with-libnuma"
fi

mkdir -p "$WORK/out"
mv "$D" "$WORK/out/install"
{
	echo "source $SRCPKG $SRCVER"
	echo "upstream $ORIG_NAME $ORIG_SUM"
	echo "configure ${CONFIGURE[*]}"
	echo "contrib ${CONTRIB[*]}"
	echo "script $(sha256sum <"$SELF" | cut -d' ' -f1)"
	echo "$TOOLCHAIN"
	echo "built $(date -u '+%F %T') UTC in $((SECONDS - T0))s"
} >"$WORK/out/inputs"
cp "$BUILDLOG" "$WORK/out/build.log"
touch "$WORK/out/stamp"
cd /
rm -rf "$OUTDIR"
mv "$WORK/out" "$OUTDIR"
ok=1
rm -rf "$WORK"
build_log "built $PGCONFIG in $((SECONDS - T0))s"

# ---- keep only the newest builds of this version ------------------------------
build_prune "$KEEP_KEYS" stamp build "$VDIR"/*/

check_reachable
echo "$PGCONFIG"
