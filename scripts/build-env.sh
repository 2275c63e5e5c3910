# SPDX-License-Identifier: MIT
# Sourced by the cached builds (scripts/build-pg.sh, kernel/build-kernel.sh):
# what makes a cached artefact one that a fresh machine would rebuild the
# same.
#
# A build runs under "${BUILD_ENV[@]}", which gives it a fixed environment: an
# outer make's MAKEFLAGS, MAKELEVEL (PostgreSQL's makefiles generate their
# headers only at MAKELEVEL 0) and command-line variables (make check's
# WERROR=1), or a caller's CC, CFLAGS, ARCH, KCFLAGS, KBUILD_OUTPUT and the
# like, never reach it.  What the build still depends on, the toolchain, is
# named in its cache key by build_env_fingerprint.

BUILD_ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# "${BUILD_ENV[@]}" COMMAND...: COMMAND with nothing but a fixed PATH, HOME,
# TMPDIR and locale in its environment (env execs it: same pid, so a
# background build can be killed by its $!).
BUILD_ENV=(env -i PATH="$BUILD_ENV_PATH" HOME="${HOME:-/}"
	TMPDIR="${TMPDIR:-/tmp}" LC_ALL=C)

# build_env_fingerprint PACKAGE...: one line per Debian package (name and
# version, "absent" when not installed), and the compiler's own version.
build_env_fingerprint() {
	local p v
	for p in "$@"; do
		v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || v=absent
		printf 'package %s %s\n' "$p" "${v:-absent}"
	done
	printf 'cc %s\n' "$(PATH=$BUILD_ENV_PATH gcc --version 2>/dev/null | head -n 1)"
}

# The Debian packages whose files every C build reads: compiler, assembler
# and linker, C library headers, make.
BUILD_ENV_TOOLCHAIN=(gcc cpp binutils libc6-dev make)
