#!/bin/bash
# SPDX-License-Identifier: MIT
# Install every Debian package mp2 needs (Debian 12 "bookworm").
# Idempotent: packages already present are left alone, and the
# bookworm-backports suite is added only when it is missing.
set -euo pipefail

BASE_PKGS=(
	build-essential pkg-config git
	libnuma-dev numactl
	libcap-dev libcap2-bin
	postgresql-15 postgresql-server-dev-15 postgresql-client-15
	gnuplot-nox
	# The Debian packages (make deb), PGXN metadata (make dist), their checks.
	debhelper dpkg-dev postgresql-server-dev-all lintian man-db unzip
	python3 python3-jsonschema
	# The extension's TAP suites (PostgreSQL::Test::Cluster, prove).
	libipc-run-perl
	# PostgreSQL 17 and 18 from Debian's source packages (scripts/build-pg.sh).
	bison flex bzip2 zlib1g-dev libreadline-dev
)
# What the kernel build and the QEMU NUMA guest need.
KERNEL_PKGS=(
	bc bison flex libelf-dev libssl-dev xz-utils lz4 cpio kmod
	qemu-system-x86
)
BACKPORTS_PKGS=(linux-source-6.12)

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

want=()
for p in "${BASE_PKGS[@]}" "${KERNEL_PKGS[@]}" "${BACKPORTS_PKGS[@]}"; do
	case " ${want[*]} " in
	*" $p "*) continue ;; # listed twice
	esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		want+=("$p")
	fi
done

if [ ${#want[@]} -eq 0 ]; then
	echo "setup-deps: all packages present"
	exit 0
fi

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "setup-deps: adding the bookworm-backports suite"
	echo "deb http://deb.debian.org/debian bookworm-backports main" |
		$SUDO tee /etc/apt/sources.list.d/mp2-bookworm-backports.list >/dev/null
fi

echo "setup-deps: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
base=()
bp=()
for p in "${want[@]}"; do
	case " ${BACKPORTS_PKGS[*]} " in
	*" $p "*) bp+=("$p") ;;
	*) base+=("$p") ;;
	esac
done
if [ ${#base[@]} -gt 0 ]; then
	$SUDO apt-get install -y -q --no-install-recommends "${base[@]}"
fi
if [ ${#bp[@]} -gt 0 ]; then
	$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports "${bp[@]}"
fi
echo "setup-deps: done"
