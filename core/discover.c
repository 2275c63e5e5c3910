// SPDX-License-Identifier: MIT
/*
 * move_pages2 discovery: read the syscall number and ABI version that a
 * kernel with move_pages2 publishes in sysfs.  Done once per process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "mp2.h"
#include "mp2_internal.h"

static pthread_once_t discover_once = PTHREAD_ONCE_INIT;
static long discovered_nr = -1;
static int discovered_version;

/*
 * Read one non-negative decimal from a sysfs file; -1 if absent or bad.
 * No stdio: an allocation failing here would hide move_pages2 for good.
 */
static long read_sysfs_long(const char *path)
{
	char buf[32];
	char *end;
	long val;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	val = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0') || val < 0 ||
	    val == LONG_MAX)
		return -1;
	return val;
}

static void discover(void)
{
	long nr = read_sysfs_long(MP2_SYSFS_SYSCALL_NR);
	long version = read_sysfs_long(MP2_SYSFS_VERSION);

	if (nr <= 0 || version != MP2_KABI_VERSION)
		return;
	discovered_nr = nr;
	discovered_version = (int)version;
}

int mp2_kernel_has_move_pages2(long *syscall_nr, int *version)
{
	pthread_once(&discover_once, discover);
	if (discovered_nr < 0)
		return 0;
	if (syscall_nr)
		*syscall_nr = discovered_nr;
	if (version)
		*version = discovered_version;
	return 1;
}
