#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot the mp2 kernel under QEMU (TCG) with several NUMA nodes and run one
# command in it.  See --help.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
KDIR="$(dirname "$SELF")"
PROG=kernel/run-guest.sh

usage() {
	cat <<EOF
Usage: $PROG [options] -- COMMAND [ARGS...]

Boots the mp2 guest kernel under qemu-system-x86_64 (q35, -cpu max, TCG) with
NUMA nodes, the host's root file system as the guest's root (read-only,
virtio-9p), and runs COMMAND in the host's current directory.

Options:
  --nodes N           NUMA nodes (default 2).  CPUs go to nodes 0 and 1 only;
                      nodes 2.. have memory and no CPUs, and an ACPI HMAT
                      describes them as slower (a CXL-like lower memory
                      tier in the guest kernel).
  --mem-per-node MiB  memory of each node (default 1024)
  --cpus N            CPUs in total (default 2), split over the CPU nodes
  --huge-1g N         reserve N 1 GiB huge pages on every node at boot
                      (default 0; they must leave room in --mem-per-node)
  --user NAME         run COMMAND as NAME (setpriv; no capabilities unless
                      --cap), with HOME etc. from the passwd entry
  --cap CAP           with --user: give COMMAND this capability as an ambient
                      capability, e.g. --cap sys_nice (repeatable)
  --share DIR         mount host DIR read-write at the same path in the guest
                      (repeatable; DIR is created on the host if missing)
  --env NAME=VALUE    set a variable in the guest (repeatable)
  --timeout SEC       hard limit for the guest, boot included (default 1200);
                      a kernel build before the boot does not count
  --kernel BZIMAGE    kernel to boot (default: kernel/build-kernel.sh's, built
                      or taken from its cache)
  --console-log FILE  also keep the guest kernel's console log in FILE
  -v, --verbose       progress (boot and command times) on stderr
  -h, --help          this text

Guest: writable tmpfs on /tmp /var/tmp /run (= /var/run) /run/lock /var/log
/var/cache /home /root /dev/shm, and owned by postgres on /var/lib/postgresql
/run/postgresql /var/log/postgresql; /home and /root stay the host's
(read-only) when the working directory is in them.  hugetlbfs on
/dev/hugepages; lo is up; host name mp2-guest.
Passed from the host: PATH LD_LIBRARY_PATH MP2_* PG* LANG LANGUAGE LC_* TZ
TERM; the guest also sets MP2_GUEST=1 and PAGER=cat.  COMMAND's stdin is
/dev/null; its stdout and stderr go (merged) to this script's stdout as they
are written; COMMAND sees a terminal exactly when this script's stdout is one.
The guest kernel's console goes to a log file, printed (last 60 lines) on
stderr when the command fails, the guest dies or the run times out.

Exit status: COMMAND's exit status; 124 on timeout (QEMU is killed);
125 when no exit status came back (the guest never reached the command, or
its kernel died while the command ran); 2 for bad usage.

Examples:
  $PROG --nodes 4 -- numactl --hardware
  $PROG --user postgres --share /tmp/pg -- ./tests/pg_smoke.sh
EOF
}

die_usage() {
	echo "run-guest: error: $*" >&2
	echo "run-guest: try '$PROG --help'" >&2
	exit 2
}
die() {
	echo "run-guest: error: $*" >&2
	exit 125
}

NODES=2
MEM=1024
CPUS=2
HUGE_1G=0
RUN_USER=
TIMEOUT=1200
KERNEL=
CONSOLE_COPY=
VERBOSE=0
SHARES=()
CAPS=()
ENVS=()

need_arg() { [ "$2" -ge 2 ] || die_usage "$1 needs a value"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--nodes) need_arg "$1" $#; NODES="$2"; shift 2 ;;
	--mem-per-node) need_arg "$1" $#; MEM="$2"; shift 2 ;;
	--cpus) need_arg "$1" $#; CPUS="$2"; shift 2 ;;
	--huge-1g) need_arg "$1" $#; HUGE_1G="$2"; shift 2 ;;
	--user) need_arg "$1" $#; RUN_USER="$2"; shift 2 ;;
	--cap) need_arg "$1" $#; CAPS+=("$2"); shift 2 ;;
	--share) need_arg "$1" $#; SHARES+=("$2"); shift 2 ;;
	--env) need_arg "$1" $#; ENVS+=("$2"); shift 2 ;;
	--timeout) need_arg "$1" $#; TIMEOUT="$2"; shift 2 ;;
	--kernel) need_arg "$1" $#; KERNEL="$2"; shift 2 ;;
	--console-log) need_arg "$1" $#; CONSOLE_COPY="$2"; shift 2 ;;
	--nodes=* | --mem-per-node=* | --cpus=* | --huge-1g=* | --user=* | --cap=* | --share=* | --env=* | --timeout=* | --kernel=* | --console-log=*)
		opt="${1%%=*}"
		val="${1#*=}"
		shift
		set -- "$opt" "$val" "$@"
		;;
	-v | --verbose) VERBOSE=1; shift ;;
	--)
		shift
		break
		;;
	-*) die_usage "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die_usage "no COMMAND given (put it after --)"

is_uint "$NODES" && [ "$NODES" -ge 1 ] && [ "$NODES" -le 8 ] || die_usage "--nodes wants 1..8, got '$NODES'"
is_uint "$MEM" && [ "$MEM" -ge 128 ] || die_usage "--mem-per-node wants MiB >= 128, got '$MEM'"
CPU_NODES=$((NODES < 2 ? NODES : 2))
is_uint "$CPUS" && [ "$CPUS" -ge "$CPU_NODES" ] && [ "$CPUS" -le 8 ] ||
	die_usage "--cpus wants $CPU_NODES..8 (at least one per CPU node), got '$CPUS'"
is_uint "$HUGE_1G" && [ $((HUGE_1G * 1024 + 256)) -le "$MEM" ] ||
	die_usage "--huge-1g wants a count whose GiB leave 256 MiB of --mem-per-node ($MEM), got '$HUGE_1G'"
is_uint "$TIMEOUT" && [ "$TIMEOUT" -ge 1 ] || die_usage "--timeout wants seconds >= 1, got '$TIMEOUT'"
if [ -n "$RUN_USER" ]; then
	getent passwd "$RUN_USER" >/dev/null || die_usage "--user: no user '$RUN_USER' on this host (the guest uses the host's /etc/passwd)"
fi
if [ ${#CAPS[@]} -gt 0 ] && [ -z "$RUN_USER" ]; then
	die_usage "--cap only makes sense with --user (root has all capabilities)"
fi
for i in "${!CAPS[@]}"; do
	c="${CAPS[$i],,}"
	c="${c#cap_}"
	[[ "$c" =~ ^[a-z_]+$ ]] || die_usage "--cap: bad capability '${CAPS[$i]}'"
	CAPS[$i]="$c"
done
for e in "${ENVS[@]}"; do
	[[ "$e" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die_usage "--env wants NAME=VALUE, got '$e'"
done
# The guest mounts tmpfs over these; a working directory below one of them
# would be hidden, so it is shared (read-write) unless a share covers it.
cwd="$(pwd -P)"
case "$cwd" in
/tmp/* | /var/tmp/* | /var/log/* | /var/cache/* | /run/*)
	covered=0
	for s in "${SHARES[@]}"; do
		s="$(cd -- "$s" 2>/dev/null && pwd -P)" || continue
		case "$cwd/" in "$s"/*) covered=1 ;; esac
	done
	[ "$covered" = 1 ] || SHARES+=("$cwd")
	;;
esac
for i in "${!SHARES[@]}"; do
	s="${SHARES[$i]}"
	mkdir -p -- "$s" || die_usage "--share: cannot create '$s'"
	s="$(cd -- "$s" && pwd -P)"
	[ "$s" != / ] || die_usage "--share /: the root is already visible (read-only)"
	case "$s" in
	/proc | /proc/* | /sys | /sys/* | /dev | /dev/*) die_usage "--share $s: not a shareable directory" ;;
	*,*) die_usage "--share $s: QEMU cannot export a path with a comma" ;;
	esac
	SHARES[$i]="$s"
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup-deps.sh)"

vlog() { if [ "$VERBOSE" = 1 ]; then echo "run-guest: $*" >&2; fi; }

if [ -z "$KERNEL" ]; then
	KERNEL="$("$KDIR/build-kernel.sh" | tail -n 1)" || die "building the kernel failed"
fi
[ -f "$KERNEL" ] && [ -r "$KERNEL" ] || die "no readable kernel image at '$KERNEL'"
case "$KERNEL" in *,*) die "QEMU cannot take a kernel path with a comma: $KERNEL" ;; esac

# ---- per-run directory: control share and logs ------------------------------
RUN="$(mktemp -d "${TMPDIR:-/tmp}/mp2-guest.XXXXXX")"
case "$RUN" in *,*) die "TMPDIR must not contain a comma: $RUN" ;; esac
CTL="$RUN/ctl"
CONSOLE="$RUN/console.log"
QEMU_LOG="$RUN/qemu.log"
mkdir -p "$CTL/dev"
ln -s /proc/self/fd "$CTL/dev/fd"
ln -s /proc/self/fd/0 "$CTL/dev/stdin"
ln -s /proc/self/fd/1 "$CTL/dev/stdout"
ln -s /proc/self/fd/2 "$CTL/dev/stderr"

OUT_IS_TTY=0
if [ -t 1 ]; then OUT_IS_TTY=1; fi
{
	printf 'MP2_CWD=%q\n' "$PWD"
	printf 'MP2_USER=%q\n' "$RUN_USER"
	printf 'MP2_TTY=%q\n' "$OUT_IS_TTY"
	printf 'MP2_HOSTNAME=mp2-guest\n'
	printf 'MP2_CAPS=('
	for c in "${CAPS[@]}"; do printf ' %q' "$c"; done
	printf ' )\nMP2_SHARES=('
	for s in "${SHARES[@]}"; do printf ' %q' "$s"; done
	printf ' )\nMP2_CMD=('
	for a in "$@"; do printf ' %q' "$a"; done
	printf ' )\n'
} >"$CTL/run.sh"
{
	while IFS= read -r name; do
		case "$name" in
		PATH | LD_LIBRARY_PATH | MP2_* | PG* | LANG | LANGUAGE | LC_* | TZ | TERM)
			printf 'export %s=%q\n' "$name" "${!name}"
			;;
		esac
	done < <(compgen -e)
	for e in "${ENVS[@]}"; do
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
} >"$CTL/env.sh"

# ---- QEMU command line ---------------------------------------------------------
# The CPU node nearest to memory-only node N, its HMAT initiator.
initiator_of() {
	echo $((($1 - CPU_NODES) % CPU_NODES))
}

# hmat_entries: the HMAT's latencies and bandwidths, which make the guest
# kernel put the memory-only nodes in a lower memory tier than the CPU
# nodes (/sys/devices/virtual/memory_tiering), as on a machine with CXL
# memory.  A CPU node's own memory: 100 ns, 20 GB/s; the other CPU node's:
# 150 ns, 15 GB/s; a memory-only node from its initiator 250 ns, 8 GB/s,
# from the other CPU node 300 ns, 6 GB/s.  Under TCG every node is as fast
# as any other: these numbers only tell the kernel which nodes are slow.
hmat_entries() {
	local i t lat bw
	for ((i = 0; i < CPU_NODES; i++)); do
		for ((t = 0; t < NODES; t++)); do
			if [ "$t" -eq "$i" ]; then
				lat=100 bw=20G
			elif [ "$t" -lt "$CPU_NODES" ]; then
				lat=150 bw=15G
			elif [ "$(initiator_of "$t")" -eq "$i" ]; then
				lat=250 bw=8G
			else
				lat=300 bw=6G
			fi
			numa+=(-numa "hmat-lb,initiator=$i,target=$t,hierarchy=memory,data-type=access-latency,latency=$lat"
				-numa "hmat-lb,initiator=$i,target=$t,hierarchy=memory,data-type=access-bandwidth,bandwidth=$bw")
		done
	done
}

TOTAL=$((NODES * MEM))
smp="$CPUS"
if [ $((CPUS % CPU_NODES)) -eq 0 ]; then
	smp="$CPUS,sockets=$CPU_NODES,cores=$((CPUS / CPU_NODES)),threads=1"
fi
numa=()
first=0
for ((n = 0; n < NODES; n++)); do
	numa+=(-object "memory-backend-ram,id=m$n,size=${MEM}M")
	if [ "$n" -lt "$CPU_NODES" ]; then
		cnt=$((CPUS / CPU_NODES + (n < CPUS % CPU_NODES ? 1 : 0)))
		numa+=(-numa "node,nodeid=$n,cpus=$first-$((first + cnt - 1)),memdev=m$n")
		first=$((first + cnt))
	else
		numa+=(-numa "node,nodeid=$n,memdev=m$n,initiator=$(initiator_of "$n")")
	fi
done
MACHINE=q35,i8042=off,sata=off,smbus=off,vmport=off
if [ "$NODES" -gt "$CPU_NODES" ]; then
	MACHINE+=,hmat=on
	hmat_entries
fi

NINEP="trans=virtio,version=9p2000.L,msize=262144"
APPEND="console=ttyS0,115200 root=mp2root rootfstype=9p rootflags=$NINEP,cache=loose ro"
APPEND+=" init=$KDIR/guest-init.sh panic=-1 tsc=reliable"
if [ "$HUGE_1G" -gt 0 ]; then
	APPEND+=" hugepagesz=1G hugepages=$(seq -s , -f "%g:$HUGE_1G" 0 $((NODES - 1)))"
fi

fsdevs=(
	-fsdev "local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=fsroot,mount_tag=mp2root"
	-fsdev "local,id=fsctl,path=$CTL,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=fsctl,mount_tag=mp2ctl"
)
for i in "${!SHARES[@]}"; do
	fsdevs+=(
		-fsdev "local,id=fss$i,path=${SHARES[$i]},security_model=none,multidevs=remap"
		-device "virtio-9p-pci,fsdev=fss$i,mount_tag=mp2s$i"
	)
done

# shellcheck disable=SC2054 # commas belong to QEMU option values
QEMU=(
	qemu-system-x86_64
	-machine "$MACHINE" -accel tcg,thread=multi -cpu max
	-smp "$smp" -m "${TOTAL}M" "${numa[@]}"
	-nodefaults -display none -vga none -net none -no-reboot
	-chardev "file,id=con,path=$CONSOLE" -serial chardev:con
	-chardev stdio,id=out,signal=off -serial chardev:out
	-kernel "$KERNEL" -append "$APPEND"
	"${fsdevs[@]}"
)
printf '%q ' "${QEMU[@]}" >"$RUN/qemu.cmd"
echo >>"$RUN/qemu.cmd"

# ---- run with a hard time limit -------------------------------------------------
QPID=
finished=0
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill -TERM "$QPID" 2>/dev/null || true
		sleep 1
		kill -KILL "$QPID" 2>/dev/null || true
	fi
	if [ "$finished" = 1 ]; then
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'echo "run-guest: interrupted; stopping QEMU (logs in $RUN)" >&2; exit 130' INT
trap 'echo "run-guest: terminated; stopping QEMU (logs in $RUN)" >&2; exit 143' TERM

show_console() {
	local why="$1"
	echo "run-guest: $why" >&2
	if [ -s "$QEMU_LOG" ]; then
		echo "----- QEMU stderr ($QEMU_LOG) -----" >&2
		tail -n 20 "$QEMU_LOG" >&2
	fi
	echo "----- last 60 lines of the guest console ($CONSOLE) -----" >&2
	tail -n 60 "$CONSOLE" >&2 2>/dev/null || true
	echo "----- end of guest console -----" >&2
}

vlog "booting $KERNEL: $NODES node(s) x ${MEM} MiB, $CPUS CPU(s); run dir $RUN"
T0=$(date +%s.%N)
"${QEMU[@]}" </dev/null 2>"$QEMU_LOG" &
QPID=$!
timed_out=0
deadline=$((SECONDS + TIMEOUT))
while kill -0 "$QPID" 2>/dev/null; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		timed_out=1
		kill -TERM "$QPID" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$QPID" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$QPID" 2>/dev/null || true
		break
	fi
	sleep 0.1
done
qrc=0
wait "$QPID" 2>/dev/null || qrc=$?
QPID=
T1=$(date +%s.%N)

if [ -n "$CONSOLE_COPY" ]; then
	cp -- "$CONSOLE" "$CONSOLE_COPY" 2>/dev/null ||
		echo "run-guest: warning: could not copy the console log to $CONSOLE_COPY" >&2
fi

if [ -f "$CTL/started" ]; then
	vlog "command started $(cat "$CTL/started") s after the guest kernel started"
fi
vlog "QEMU ran for $(echo "$T1 - $T0" | bc) s (exit $qrc)"

problems=
if grep -qE 'Kernel panic|BUG:|Oops|WARNING:|Call Trace:' "$CONSOLE" 2>/dev/null; then
	problems=1
fi

if [ "$timed_out" = 1 ]; then
	show_console "timed out after $TIMEOUT s; QEMU killed (logs kept in $RUN)"
	exit 124
fi
if [ -f "$CTL/status" ]; then
	rc="$(cat "$CTL/status")"
	is_uint "$rc" || die "bad exit status '$rc' from the guest (logs in $RUN)"
	if [ "$rc" -ne 0 ]; then
		show_console "command exited with status $rc (logs kept in $RUN)"
	elif [ -n "$problems" ]; then
		show_console "command succeeded, but the guest kernel logged a problem (logs kept in $RUN)"
	else
		finished=1
	fi
	exit "$rc"
fi
if grep -q 'Kernel panic' "$CONSOLE" 2>/dev/null; then
	why="guest kernel panic"
elif [ -f "$CTL/started" ]; then
	why="the guest died while the command ran (QEMU exit $qrc)"
else
	why="the guest never reached the command (QEMU exit $qrc)"
fi
show_console "$why; logs kept in $RUN"
exit 125
