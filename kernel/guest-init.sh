#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# PID 1 of the mp2 QEMU guest started by kernel/run-guest.sh.
#
# The root file system is the host's, read-only over virtio-9p.  This script
# makes the writable places a test (and PostgreSQL) needs, mounts the shared
# directories, runs the command described in the control share
# (/run/mp2-ctl/run.sh, written by run-guest.sh), writes its exit status to
# /run/mp2-ctl/status and reboots, which ends QEMU (it runs with -no-reboot).
#
# Its own messages go to /dev/console (ttyS0, the host's console log); the
# command's output goes to ttyS1 (the host's stdout).
#
# Every program started costs a lot under TCG, so this script uses bash
# built-ins where it can and mounts everything with two "mount -a" calls.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C # for bash itself (sorting); not exported
umask 022

CTL=/run/mp2-ctl
OUT=/dev/ttyS1
NINEP=trans=virtio,version=9p2000.L,msize=262144

say() {
	local up _
	read -r up _ 2>/dev/null </proc/uptime
	echo "[${up:-?}] guest-init: $*"
}

# Reboot at once: QEMU runs with -no-reboot, so this ends QEMU.
finish() {
	echo b >/proc/sysrq-trigger 2>/dev/null
	# reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART)
	perl -e 'syscall(169, 0xfee1dead, 672274793, 0x01234567, 0)' 2>/dev/null
	exit 1
}

fatal() {
	say "FATAL: $*"
	finish
}

# $1 is $2 or below it
inside() { [ "$1" = "$2" ] || [ "${1#"$2"/}" != "$1" ]; }

# fstab field: spaces, tabs, newlines and backslashes as octal escapes
fsesc() {
	local s="${1//\\/\\134}"
	s="${s// /\\040}"
	s="${s//$'\t'/\\011}"
	printf '%s' "${s//$'\n'/\\012}"
}

# passwd entry of $1 (name or uid) -> PW_NAME PW_UID PW_GID PW_HOME PW_SHELL
getpw() {
	local IFS=: n u g h s
	while read -r n _ u g _ h s; do
		if [ "$n" = "$1" ] || [ "$u" = "$1" ]; then
			PW_NAME=$n PW_UID=$u PW_GID=$g PW_HOME=$h PW_SHELL=$s
			return 0
		fi
	done </etc/passwd
	return 1
}

# is something mounted on $1?
mounted() {
	local dir _
	while read -r _ dir _; do
		[ "$dir" = "$1" ] && return 0
	done </proc/self/mounts
	return 1
}

# ---- kernel file systems and the control share --------------------------------
# Until this runs, /proc is the host's, seen through 9p.
mount -t proc proc /proc || fatal "cannot mount /proc"
say "started"
# The kernel normally has mounted devtmpfs on /dev (CONFIG_DEVTMPFS_MOUNT).
mounted /dev || mount -t devtmpfs devtmpfs /dev || fatal "cannot mount /dev"
# Helpers that need nothing else run beside the mounting (2 CPUs).
ip link set lo up &
lo_pid=$!
{
	echo "sysfs /sys sysfs defaults 0 0"
	echo "tmpfs /run tmpfs mode=755 0 0"
	echo "mp2ctl $CTL 9p $NINEP,X-mount.mkdir 0 0"
	echo "devpts /dev/pts devpts gid=5,mode=620,ptmxmode=666,X-mount.mkdir 0 0"
	echo "tmpfs /dev/shm tmpfs mode=1777,X-mount.mkdir 0 0"
	echo "hugetlbfs /dev/hugepages hugetlbfs X-mount.mkdir 0 0"
} >/dev/.mp2-fstab
mount -a -T /dev/.mp2-fstab || fatal "mounting the kernel file systems or the control share failed"
# /dev/fd, /dev/stdin, ... (symbolic links made by run-guest.sh)
cp -a "$CTL/dev/." /dev/ &
devlinks_pid=$!

# Sets MP2_CWD MP2_USER MP2_TTY MP2_CAPS MP2_SHARES MP2_CMD MP2_HOSTNAME.
# shellcheck source=/dev/null
. "$CTL/run.sh" || fatal "cannot read $CTL/run.sh"

# ---- writable places and shared directories ------------------------------------
# tmpfs on these, except /home and /root when that would hide the host's
# working directory (it stays visible, read-only, unless it is shared).
tmpfs_dirs=()
{
	for d in /tmp /var/tmp /var/log /var/cache /home /root; do
		case "$d" in
		/home | /root)
			if inside "$MP2_CWD" "$d"; then
				say "no tmpfs on $d: it holds the working directory $MP2_CWD" >&2
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
		echo "tmpfs $d tmpfs mode=$mode 0 0"
		tmpfs_dirs+=("$d")
	done
	echo "tmpfs /run/lock tmpfs mode=1777,X-mount.mkdir 0 0"
	if getpw postgres; then
		o="uid=$PW_UID,gid=$PW_GID"
		if [ -d /var/lib/postgresql ]; then
			echo "tmpfs /var/lib/postgresql tmpfs mode=755,$o 0 0"
			tmpfs_dirs+=(/var/lib/postgresql)
		fi
		echo "tmpfs /run/postgresql tmpfs mode=2775,$o,X-mount.mkdir 0 0"
		echo "tmpfs /var/log/postgresql tmpfs mode=1775,$o,X-mount.mkdir 0 0"
	fi
	# The user's home, when it would sit (missing) in one of the tmpfs above.
	if [ -n "$MP2_USER" ] && getpw "$MP2_USER"; then
		for d in "${tmpfs_dirs[@]}"; do
			if inside "$PW_HOME" "$d" && [ "$PW_HOME" != "$d" ]; then
				echo "tmpfs $(fsesc "$PW_HOME") tmpfs mode=755,uid=$PW_UID,gid=$PW_GID,X-mount.mkdir 0 0"
				break
			fi
		done
	fi
	# Shares, parents before children (sorted), each on its own 9p device.
	sorted=()
	for s in "${MP2_SHARES[@]}"; do
		i=${#sorted[@]}
		while [ "$i" -gt 0 ] && [[ "$s" < "${sorted[$((i - 1))]}" ]]; do
			sorted[$i]="${sorted[$((i - 1))]}"
			i=$((i - 1))
		done
		sorted[$i]="$s"
	done
	for s in "${sorted[@]}"; do
		for i in "${!MP2_SHARES[@]}"; do
			if [ "${MP2_SHARES[$i]}" = "$s" ]; then
				echo "mp2s$i $(fsesc "$s") 9p $NINEP,cache=mmap,X-mount.mkdir 0 0"
			fi
		done
	done
} >/run/mp2-fstab
mount -a -T /run/mp2-fstab || fatal "mounting tmpfs or the shares failed (see /run/mp2-fstab above)"

# ---- network, host name, output channel ----------------------------------------------
wait "$lo_pid" || say "cannot bring up lo"
wait "$devlinks_pid" || say "cannot make /dev/fd and /dev/std*"
echo "${MP2_HOSTNAME:-mp2-guest}" >/proc/sys/kernel/hostname
exec 3<>"$OUT" || fatal "cannot open $OUT"
stty raw -echo <&3 || say "stty on $OUT failed"
say "ready"

# ---- environment and user ------------------------------------------------------
# shellcheck source=/dev/null
. "$CTL/env.sh" || fatal "cannot read $CTL/env.sh"
export MP2_GUEST=1 PAGER=cat SYSTEMD_PAGER=cat
[ "$MP2_TTY" = 1 ] || export TERM=dumb

runner=()
if [ -n "$MP2_USER" ]; then
	getpw "$MP2_USER" || fatal "no user $MP2_USER in /etc/passwd"
	export HOME="$PW_HOME" USER="$PW_NAME" LOGNAME="$PW_NAME" SHELL="${PW_SHELL:-/bin/sh}"
	runner=(setpriv --reuid="$PW_UID" --regid="$PW_GID" --init-groups)
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
read -r up _ </proc/uptime
echo "$up" >"$CTL/started"
say "running as ${MP2_USER:-root} in $PWD: ${MP2_CMD[*]}"
if [ "$MP2_TTY" = 1 ]; then
	"${runner[@]}" "${MP2_CMD[@]}" </dev/null >&3 2>&3 3>&-
	rc=$?
else
	# A pipe, not the terminal: copy it to the serial port.
	exec 4> >(exec cat >&3)
	copier=$!
	"${runner[@]}" "${MP2_CMD[@]}" </dev/null >&4 2>&4 3>&- 4>&-
	rc=$?
	exec 4>&-
	# Daemons the command left behind may keep the pipe open: give the copier
	# a moment to drain, then stop it.
	(sleep 5 && kill "$copier") 2>/dev/null &
	killer=$!
	wait "$copier" 2>/dev/null
	kill "$killer" 2>/dev/null
fi
say "command exited with status $rc"
echo "$rc" >"$CTL/status"
# Shares are mounted cache=mmap: write back what was written through mmap.
[ ${#MP2_SHARES[@]} -eq 0 ] || sync
# The last close of the serial port waits until its output has been sent.
exec 3>&-
finish
