#!/bin/bash
# PID 1 of the mp2 QEMU guest started by kernel/run-guest.sh.
#
# The root file system is the host's, read-only over virtio-9p.  This script
# makes the writable places a test (and PostgreSQL) needs, mounts the shared
# directories, runs the command described in the control share
# (/run/mp2-ctl/run.sh, written by run-guest.sh), writes its exit status to
# /run/mp2-ctl/status and reboots, which makes QEMU exit (-no-reboot).
#
# Its own messages go to /dev/console (ttyS0, the host's console log); the
# command's output goes to ttyS1 (the host's stdout).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022

CTL=/run/mp2-ctl
OUT=/dev/ttyS1
NINEP_OPTS=trans=virtio,version=9p2000.L,msize=262144

say() { echo "guest-init: $*"; }

# Reboot the guest; QEMU runs with -no-reboot, so this ends QEMU.
finish() {
	sync
	# reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART)
	perl -e 'syscall(169, 0xfee1dead, 672274793, 0x01234567, 0)' 2>/dev/null
	echo b >/proc/sysrq-trigger 2>/dev/null
	sleep 10
	exit 1
}

fatal() {
	say "FATAL: $*"
	finish
}

mounted() { grep -q "^[^ ]* $1 " /proc/mounts 2>/dev/null; }

# $1 is $2 or below it
inside() { [ "$1" = "$2" ] || [ "${1#"$2"/}" != "$1" ]; }

# ---- kernel file systems ----------------------------------------------------
mounted /proc || mount -t proc proc /proc || fatal "cannot mount /proc"
mounted /sys || mount -t sysfs sysfs /sys || fatal "cannot mount /sys"
mounted /dev || mount -t devtmpfs devtmpfs /dev || fatal "cannot mount /dev"
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts || say "no devpts"
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || fatal "cannot mount /dev/shm"
mount -t hugetlbfs hugetlbfs /dev/hugepages || say "no hugetlbfs"
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr

# ---- control share: what to run ---------------------------------------------
mount -t tmpfs -o mode=755 tmpfs /run || fatal "cannot mount /run"
mkdir -p "$CTL"
mount -t 9p -o "$NINEP_OPTS" mp2ctl "$CTL" || fatal "cannot mount the control share"
# Sets MP2_CWD MP2_USER MP2_TTY MP2_CAPS MP2_SHARES MP2_CMD MP2_HOSTNAME.
# shellcheck source=/dev/null
. "$CTL/run.sh" || fatal "cannot read $CTL/run.sh"

# ---- writable places ----------------------------------------------------------
# tmpfs on these, except where that would hide the host's working directory
# (then that directory stays visible, read-only, unless it is shared).
mkdir -p /run/lock /run/user
chmod 1777 /run/lock
for d in /tmp /var/tmp /var/log /var/cache /var/lib/postgresql /home /root; do
	case "$d" in
	/home | /root)
		if inside "$MP2_CWD" "$d"; then
			say "not mounting tmpfs on $d: it holds the working directory $MP2_CWD"
			continue
		fi
		;;
	esac
	[ -d "$d" ] || continue
	case "$d" in
	/tmp | /var/tmp) mode=1777 ;;
	/root) mode=700 ;;
	*) mode=755 ;;
	esac
	mount -t tmpfs -o "mode=$mode" tmpfs "$d" || fatal "cannot mount tmpfs on $d"
done
[ -L /var/run ] || { mounted /var/run || mount -t tmpfs -o mode=755 tmpfs /var/run; }
if getent passwd postgres >/dev/null; then
	mkdir -p /run/postgresql /var/log/postgresql
	chown postgres:postgres /run/postgresql /var/log/postgresql
	[ -d /var/lib/postgresql ] && chown postgres:postgres /var/lib/postgresql
	chmod 2775 /run/postgresql
fi

# ---- shared directories (read-write) -----------------------------------------
# Parents before children, whatever order they were given in.
i=0
declare -A share_tag=()
for s in "${MP2_SHARES[@]}"; do
	share_tag["$s"]="mp2s$i"
	i=$((i + 1))
done
if [ ${#MP2_SHARES[@]} -gt 0 ]; then
	while IFS= read -r -d '' s; do
		mkdir -p "$s" 2>/dev/null
		mount -t 9p -o "$NINEP_OPTS,cache=mmap" "${share_tag[$s]}" "$s" ||
			fatal "cannot mount the share $s"
	done < <(printf '%s\0' "${MP2_SHARES[@]}" | LC_ALL=C sort -z)
fi

# ---- network, host name --------------------------------------------------------
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null || say "cannot bring up lo"
hostname "${MP2_HOSTNAME:-mp2-guest}" 2>/dev/null || echo "${MP2_HOSTNAME:-mp2-guest}" >/proc/sys/kernel/hostname

# ---- the command's output channel --------------------------------------------
exec 3<>"$OUT" || fatal "cannot open $OUT"
stty raw -echo <&3 || say "stty on $OUT failed"

# ---- environment and user ------------------------------------------------------
# shellcheck source=/dev/null
. "$CTL/env.sh" || fatal "cannot read $CTL/env.sh"
export MP2_GUEST=1 PAGER=cat SYSTEMD_PAGER=cat
[ "$MP2_TTY" = 1 ] || export TERM=dumb

runner=()
if [ -n "$MP2_USER" ]; then
	pw="$(getent passwd "$MP2_USER")" || fatal "no user $MP2_USER"
	IFS=: read -r uname _ uid gid _ uhome ushell <<<"$pw"
	if [ ! -d "$uhome" ]; then
		mkdir -p "$uhome" 2>/dev/null && chown "$uid:$gid" "$uhome" || uhome=/tmp
	fi
	export HOME="$uhome" USER="$uname" LOGNAME="$uname" SHELL="${ushell:-/bin/sh}"
	runner=(setpriv --reuid="$uid" --regid="$gid" --init-groups)
	if [ ${#MP2_CAPS[@]} -gt 0 ]; then
		capl="$(printf '+%s,' "${MP2_CAPS[@]}")"
		capl="${capl%,}"
		runner+=(--inh-caps="$capl" --ambient-caps="$capl")
	fi
	runner+=(--)
else
	export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
fi

if ! cd "$MP2_CWD" 2>/dev/null; then
	echo "mp2 guest: cannot enter $MP2_CWD (hidden by a guest tmpfs? use --share); running in /" >&3
	cd /
fi

# ---- run ----------------------------------------------------------------------------
cut -d' ' -f1 /proc/uptime >"$CTL/started"
say "running as ${MP2_USER:-root} in $PWD: ${MP2_CMD[*]}"
if [ "$MP2_TTY" = 1 ]; then
	"${runner[@]}" "${MP2_CMD[@]}" </dev/null >&3 2>&3 3>&-
	rc=$?
else
	# A pipe, not the terminal: copy it to the serial port.
	mkfifo /run/mp2-out
	cat </run/mp2-out >&3 &
	copier=$!
	"${runner[@]}" "${MP2_CMD[@]}" </dev/null >/run/mp2-out 2>&1 3>&-
	rc=$?
	# Daemons the command left behind may keep the pipe open: give the copier
	# a moment to drain, then stop it.
	for _ in $(seq 50); do
		kill -0 "$copier" 2>/dev/null || break
		sleep 0.1
	done
	kill "$copier" 2>/dev/null
	wait "$copier" 2>/dev/null
fi
say "command exited with status $rc"
echo "$rc" >"$CTL/status.tmp" && mv "$CTL/status.tmp" "$CTL/status"
# The last close of the serial port waits until its output has been sent.
exec 3>&-
finish
