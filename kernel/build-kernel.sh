#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the mp2 guest kernel: Debian's linux-source-6.12 + kernel/patches/*.patch
# + kernel/config.fragment on top of tinyconfig.  Prints the bzImage path as the
# last line on stdout; progress goes to stderr.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
KDIR="$(dirname "$SELF")"
PKG=linux-source-6.12
TARBALL=/usr/src/linux-source-6.12.tar.xz
FRAGMENT="$KDIR/config.fragment"
PATCHDIR="$KDIR/patches"
ENVLIB="$KDIR/../scripts/build-env.sh"
# shellcheck source=../scripts/build-env.sh
. "$ENVLIB"
# The packages the kernel build reads besides the toolchain.
KBUILD_PKGS=(bc bison flex libelf-dev libssl-dev)
TAG=kernel
# Bump when the layout or bookkeeping of the build trees changes.
TREE_FORMAT=1
KEEP_TREES=2

usage() {
	cat <<EOF
Usage: kernel/build-kernel.sh [--jobs N] [--print-key] [--help]

Builds bzImage from $TARBALL (package $PKG),
the patches kernel/patches/*.patch applied in name order (git apply -p1), and
kernel/config.fragment merged on top of 'make tinyconfig'.

The result is cached as
  \${MP2_CACHE_DIR:-\$HOME/.cache/mp2}/kernel/<key>/bzImage
where <key> is the sha256 of the installed $PKG version, every patch (in order),
config.fragment, this script, scripts/build-env.sh and the versions of the
compiler and of the packages the build reads (${BUILD_ENV_TOOLCHAIN[*]} ${KBUILD_PKGS[*]}).
The build runs with a fixed environment (scripts/build-env.sh): an outer
make's MAKEFLAGS, or ARCH, KCFLAGS, KBUILD_OUTPUT and the like, do not reach it.  An unchanged input set returns the cached
image at once ("kernel: cached <path>" on stderr).  Builds are serialised with
flock on kernel/.lock in the cache, so concurrent callers wait for each other.

Build trees live in the cache under kernel/trees/ and are reused: a new patch
set is applied to the newest tree with the same package version and fragment
(only what changed is recompiled).  At most $KEEP_TREES trees are kept.

Options:
  -j, --jobs N    parallel make jobs (default: nproc = $(nproc))
  --print-key     print the cache key and exit (no build)
  -h, --help      this text

Output: progress on stderr; the bzImage path is the last line on stdout.
Logs: <cache>/kernel/<key>/build.log (its tail is printed if the build fails).
EOF
}


JOBS="$(nproc)"
PRINT_KEY=0
while [ $# -gt 0 ]; do
	case "$1" in
	--print-key)
		PRINT_KEY=1
		shift
		;;
	*)
		build_option "$@" || build_usage_error "unknown argument '$1' (try --help)"
		shift "$BUILD_SHIFT"
		;;
	esac
done

# ---- inputs and cache key -------------------------------------------------
PKG_VERSION="$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null)" ||
	build_fail "package $PKG is not installed (run scripts/setup-deps.sh)"
[ -n "$PKG_VERSION" ] || build_fail "package $PKG is not installed (run scripts/setup-deps.sh)"
[ -r "$TARBALL" ] || build_fail "$TARBALL is missing (reinstall $PKG)"
[ -r "$FRAGMENT" ] || build_fail "$FRAGMENT is missing"

# Work from a snapshot of the inputs, so that edits made while this build
# waits or runs cannot end up in a kernel cached under the old key.
SNAP="$(mktemp -d "${TMPDIR:-/tmp}/mp2-kbuild.XXXXXX")"
trap 'rm -rf "$SNAP"' EXIT
mkdir -p "$SNAP/patches"
cp "$FRAGMENT" "$SNAP/config.fragment"
FRAGMENT="$SNAP/config.fragment"
PATCHES=()
if [ -d "$PATCHDIR" ]; then
	while IFS= read -r -d '' p; do
		cp "$p" "$SNAP/patches/"
		PATCHES+=("$SNAP/patches/$(basename "$p")")
	done < <(find "$PATCHDIR" -maxdepth 1 -type f -name '*.patch' -print0 | LC_ALL=C sort -z)
fi

sha() { sha256sum | cut -d' ' -f1; }

TOOLCHAIN="$(build_env_fingerprint "${BUILD_ENV_TOOLCHAIN[@]}" "${KBUILD_PKGS[@]}")"
KEY="$(
	{
		printf 'package %s %s\n' "$PKG" "$PKG_VERSION"
		for p in "${PATCHES[@]}"; do
			printf 'patch %s %s\n' "$(basename "$p")" "$(wc -c <"$p")"
			cat "$p"
		done
		printf 'fragment %s\n' "$(wc -c <"$FRAGMENT")"
		cat "$FRAGMENT"
		printf 'script %s\n' "$(wc -c <"$SELF")"
		cat "$SELF"
		printf 'envlib %s\n' "$(wc -c <"$ENVLIB")"
		cat "$ENVLIB"
		echo "$TOOLCHAIN"
	} | sha
)"
# A build tree can be reused for any patch set with the same base.
BASE="$(
	{
		printf 'format %s\npackage %s %s\n' "$TREE_FORMAT" "$PKG" "$PKG_VERSION"
		cat "$FRAGMENT"
	} | sha
)"

if [ "$PRINT_KEY" = 1 ]; then
	echo "$KEY"
	exit 0
fi

CACHE="${MP2_CACHE_DIR:-$HOME/.cache/mp2}/kernel"
OUTDIR="$CACHE/$KEY"
IMAGE="$OUTDIR/bzImage"

if [ -f "$IMAGE" ]; then
	build_log "cached $IMAGE"
	echo "$IMAGE"
	exit 0
fi

mkdir -p "$CACHE"
build_lock "$CACHE/.lock" kernel
# Somebody else may have built the same key while we waited.
if [ -f "$IMAGE" ]; then
	build_log "cached $IMAGE"
	echo "$IMAGE"
	exit 0
fi

T0=$SECONDS
mkdir -p "$OUTDIR"
BUILDLOG="$OUTDIR/build.log"
: >"$BUILDLOG"

build_log "building key ${KEY:0:16}… ($PKG $PKG_VERSION, ${#PATCHES[@]} patch(es)), log $BUILDLOG"

# ---- build tree -----------------------------------------------------------
# Tree layout: $TREE is the kernel source; $TREE/.mp2/ holds
#   state      "clean" when applied/ describes the tree exactly
#   applied/   copies of the patches applied to the pristine source, in order
#   stamp      touched at every use (pruning keeps the newest trees)
TREES="$CACHE/trees"
TREE="$TREES/${BASE:0:16}"
META="$TREE/.mp2"
mkdir -p "$TREES"

unpack() {
	build_log "unpacking $TARBALL"
	rm -rf "$TREE" "$TREE.tmp"
	mkdir -p "$TREE.tmp"
	tar -xJf "$TARBALL" -C "$TREE.tmp" --strip-components=1 ||
		build_fail "could not unpack $TARBALL"
	mkdir -p "$TREE.tmp/.mp2/applied"
	echo clean >"$TREE.tmp/.mp2/state"
	mv "$TREE.tmp" "$TREE"
}

gitapply() {
	# Keep git from treating an enclosing repository as the one to patch.
	(cd "$TREE" && GIT_CEILING_DIRECTORIES="$(dirname "$TREE")" git apply -p1 --whitespace=nowarn "$@")
}

# What a patch changes: from its first "diff --git" on, without the "index"
# lines, so that a new commit message or base commit alone counts as no change.
patch_body() {
	if grep -q '^diff --git ' "$1"; then
		sed -n '/^diff --git /,$p' "$1" | grep -v '^index [0-9a-f]*\.\.[0-9a-f]*'
	else
		cat "$1"
	fi
}

if [ -d "$TREE" ] && [ "$(cat "$META/state" 2>/dev/null)" != clean ]; then
	build_log "discarding unusable build tree $TREE"
	rm -rf "$TREE"
fi
if [ -d "$TREE" ]; then
	build_log "reusing build tree $TREE"
else
	unpack
fi
touch "$META/stamp"

# Patches already in the tree whose changes are the same as the new ones
# (identical prefix of the series) stay; the rest are reverted newest first,
# then the new ones applied in order.  Kbuild then rebuilds only what changed.
mapfile -t OLD < <(find "$META/applied" -maxdepth 1 -type f -name '*.patch' | LC_ALL=C sort)
common=0
while [ "$common" -lt "${#OLD[@]}" ] && [ "$common" -lt "${#PATCHES[@]}" ] &&
	cmp -s <(patch_body "${OLD[$common]}") <(patch_body "${PATCHES[$common]}"); do
	rm -f "${OLD[$common]}"
	cp "${PATCHES[$common]}" "$META/applied/$(printf '%04d' "$common")-$(basename "${PATCHES[$common]}")"
	common=$((common + 1))
done

for ((i = ${#OLD[@]} - 1; i >= common; i--)); do
	build_log "reverting $(basename "${OLD[$i]}" | cut -d- -f2-)"
	echo dirty >"$META/state"
	if ! gitapply -R "${OLD[$i]}" >>"$BUILDLOG" 2>&1; then
		build_log "could not revert it; starting from a fresh tree"
		unpack
		common=0
		break
	fi
	rm -f "${OLD[$i]}"
	echo clean >"$META/state"
done
for ((i = common; i < ${#PATCHES[@]}; i++)); do
	p="${PATCHES[$i]}"
	build_log "applying $(basename "$p")"
	if ! gitapply --check "$p" >>"$BUILDLOG" 2>&1; then
		build_fail "patch $PATCHDIR/$(basename "$p") does not apply to $PKG $PKG_VERSION (+ the patches before it)"
	fi
	echo dirty >"$META/state"
	gitapply "$p" >>"$BUILDLOG" 2>&1 || build_fail "applying $PATCHDIR/$(basename "$p") failed"
	cp "$p" "$META/applied/$(printf '%04d' "$i")-$(basename "$p")"
	echo clean >"$META/state"
done
[ "$common" -eq 0 ] || build_log "$common patch(es) already in the tree with the same changes"
[ ${#PATCHES[@]} -gt 0 ] || build_log "no patches in $PATCHDIR: building the unpatched kernel"

# ---- configuration --------------------------------------------------------
build_log "configuring (tinyconfig + config.fragment)"
cd "$TREE"
if [ -f .config ]; then
	cp -p .config .config.mp2-prev
fi
{
	"${BUILD_ENV[@]}" make tinyconfig &&
		"${BUILD_ENV[@]}" scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" &&
		"${BUILD_ENV[@]}" make olddefconfig
} >>"$BUILDLOG" 2>&1 || build_fail "kernel configuration failed"
# An unchanged configuration keeps its old timestamp, so make rebuilds nothing
# because of it.
if [ -f .config.mp2-prev ]; then
	if cmp -s .config .config.mp2-prev; then
		mv -f .config.mp2-prev .config
	else
		rm -f .config.mp2-prev
	fi
fi

missing=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" .config || missing+=("$line (have: $(grep -E "^${line%%=*}=|^# ${line%%=*} is not set" .config || echo absent))")
		;;
	"# CONFIG_"*" is not set")
		sym="${line#\# }"
		sym="${sym%% *}"
		if grep -q "^$sym=" .config; then
			missing+=("$line (have: $(grep "^$sym=" .config))")
		fi
		;;
	esac
done <"$FRAGMENT"
if [ ${#missing[@]} -gt 0 ]; then
	{
		echo "kernel: error: these config.fragment settings did not survive olddefconfig"
		echo "(an unmet dependency, or something selects them); see $TREE/.config:"
		printf '  %s\n' "${missing[@]}"
	} >&2
	exit 1
fi
cp .config "$OUTDIR/config"

# ---- build ----------------------------------------------------------------
build_run "make -j$JOBS bzImage (log: $BUILDLOG)" '^  CC ' \
	"${BUILD_ENV[@]}" make -j"$JOBS" KBUILD_BUILD_USER=mp2 KBUILD_BUILD_HOST=mp2 bzImage ||
	build_fail "make bzImage failed (exit $?)"

cp arch/x86/boot/bzImage "$IMAGE.tmp"
{
	echo "package $PKG $PKG_VERSION"
	for p in "${PATCHES[@]}"; do echo "patch $(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"; done
	echo "fragment $(sha256sum <"$FRAGMENT" | cut -d' ' -f1)"
	echo "script $(sha256sum <"$SELF" | cut -d' ' -f1)"
	echo "$TOOLCHAIN"
	echo "release $(make -s kernelrelease 2>/dev/null)"
} >"$OUTDIR/inputs"
mv -f "$IMAGE.tmp" "$IMAGE"
build_log "built $IMAGE in $((SECONDS - T0))s"

# ---- keep only the newest build trees -------------------------------------
build_prune "$KEEP_TREES" .mp2/stamp "build tree" "$TREES"/*/

echo "$IMAGE"
