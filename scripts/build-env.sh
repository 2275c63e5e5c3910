# SPDX-License-Identifier: MIT
# Sourced by the cached builds (scripts/build-pg.sh, kernel/build-kernel.sh):
# what makes a cached artefact one that a fresh machine would rebuild the
# same, and the steps every such build takes (below).
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

# ---- the steps of a cached build ----------------------------------------------
# A build logs "$TAG: ..." on stderr, writes its tools' output to $BUILDLOG,
# and measures its time from $T0.

build_log() { echo "$TAG: $*" >&2; }

build_usage_error() {
	echo "$TAG: error: $*" >&2
	exit 2
}

# build_fail MESSAGE: exit ${FAIL_RC:-1}, saying why and showing the end
# of $BUILDLOG.
build_fail() {
	echo "$TAG: error: $*" >&2
	if [ -s "${BUILDLOG:-}" ]; then
		echo "----- last 40 lines of $BUILDLOG -----" >&2
		tail -n 40 "$BUILDLOG" >&2
		echo "----- end of $BUILDLOG -----" >&2
	fi
	exit "${FAIL_RC:-1}"
}

# build_option ARG...: the options every build takes, for its option
# loop: "-h"/"--help" (the script's usage, exit 0), and "-j N", "--jobs N"
# or "--jobs=N", which set JOBS.  Sets BUILD_SHIFT to the words it took;
# returns 1 for any other option.
build_option() {
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--jobs=*)
		JOBS=${1#*=}
		BUILD_SHIFT=1
		;;
	-j | --jobs)
		[ $# -ge 2 ] || build_usage_error "$1 needs a number (try --help)"
		JOBS=$2
		BUILD_SHIFT=2
		;;
	*) return 1 ;;
	esac
	[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || build_usage_error "--jobs wants a positive number, got '$JOBS'"
}

# build_lock FILE WHAT: hold the lock FILE (on fd 9) until the build
# exits, saying so when another WHAT build holds it first.
build_lock() {
	exec 9>"$1"
	if ! flock -n 9; then
		build_log "waiting for another $2 build to finish (lock $1)"
		flock 9
	fi
}

# build_run DESCRIPTION COUNT_RE COMMAND...: COMMAND with its output
# appended to $BUILDLOG, saying every minute how many of its lines match
# COUNT_RE (the files compiled so far).  An INT or TERM stops COMMAND and
# exits 130.
build_run() {
	local desc=$1 count_re=$2 last=$SECONDS rc=0 n
	shift 2
	build_log "$desc"
	echo "+ $*" >>"$BUILDLOG"
	"$@" >>"$BUILDLOG" 2>&1 &
	BUILD_CHILD=$!
	trap build_interrupted INT TERM
	while kill -0 "$BUILD_CHILD" 2>/dev/null; do
		sleep 1
		if [ $((SECONDS - last)) -ge 60 ]; then
			last=$SECONDS
			n=$(grep -cE -- "$count_re" "$BUILDLOG" || true)
			build_log "  $((SECONDS - T0))s: $n files compiled"
		fi
	done
	wait "$BUILD_CHILD" || rc=$?
	BUILD_CHILD=
	trap - INT TERM
	return "$rc"
}

build_interrupted() {
	kill "$BUILD_CHILD" 2>/dev/null || true
	wait "$BUILD_CHILD" 2>/dev/null || true
	exit 130
}

# build_prune KEEP STAMP WHAT DIR...: remove all but the KEEP DIRs whose
# file STAMP (a path inside each) was touched last.
build_prune() {
	local keep=$1 stamp=$2 what=$3 d
	shift 3
	for d in "$@"; do
		d=${d%/}
		[ -d "$d" ] || continue
		printf '%s %s\n' "$(stat -c %Y "$d/$stamp" 2>/dev/null || echo 0)" "$d"
	done | sort -rn | tail -n +$((keep + 1)) | cut -d' ' -f2- |
		while IFS= read -r d; do
			build_log "removing the old $what $d"
			rm -rf "$d"
		done
}
