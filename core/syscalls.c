// SPDX-License-Identifier: MIT
/*
 * The kernel calls libmp2 makes: move_pages(2) through libnuma, and
 * move_pages2 through syscall(2) with the number found in sysfs.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mp2_internal.h"

uint64_t mp2_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t mp2_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

long mp2_sys_query(pid_t pid, size_t n, void **pages, int *status)
{
	long ret = numa_move_pages(pid, n, pages, NULL, status, 0);

	return ret < 0 ? -errno : ret;
}

long mp2_sys_move_pages(pid_t pid, size_t n, void **pages, const int *nodes,
			int *status, bool move_all)
{
	/* libnuma's prototype lacks const; the kernel only reads nodes. */
	long ret = numa_move_pages(pid, n, pages, (int *)nodes, status,
				   move_all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE);

	return ret < 0 ? -errno : ret;
}

long mp2_sys_move_pages2(long nr, size_t n, void **pages, const int *nodes,
			 int *status, enum mp2_mode mode, bool move_all,
			 unsigned int kernel_batch)
{
	unsigned int flags = (unsigned int)mode |
			     (move_all ? MP2_KFLAG_MOVE_ALL : 0);
	long ret = syscall(nr, (unsigned long)n, pages, nodes, status, flags,
			   kernel_batch);

	return ret < 0 ? -errno : ret;
}
