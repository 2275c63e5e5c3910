/* SPDX-License-Identifier: MIT */
/*
 * Facts of the running machine that mp2's C tests depend on, read from the
 * kernel, so that a test asserts the exact outcome for this machine instead
 * of the outcome of the machine it was written on.
 */
#ifndef MP2_TEST_HOST_H
#define MP2_TEST_HOST_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

/*
 * What a read of private anonymous memory mapped: the shared zero page
 * (which move_pages(2) reports as -EFAULT: 6.12 and 6.18 measured, 6.1
 * by its source), or a
 * page of its own (reported on its node like any other; THP "always" with
 * use_zero_page 0 does that for the 2 MiB-aligned part of a mapping).  Told
 * by the page's frame in /proc/self/pagemap and its KPF_ZERO_PAGE flag in
 * /proc/kpageflags, which need CAP_SYS_ADMIN; without it the answer is
 * HOST_PAGE_UNKNOWN.
 */
enum host_page_kind {
	HOST_PAGE_UNKNOWN,
	HOST_PAGE_ZERO,
	HOST_PAGE_OWN,
};

#define HOST_KPF_ZERO_PAGE	24	/* include/uapi/linux/kernel-page-flags.h */

static inline uint64_t host_read_u64(const char *path, uint64_t index, bool *ok)
{
	uint64_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*ok = fd >= 0 && pread(fd, &v, sizeof(v), (off_t)(index * sizeof(v))) ==
				 (ssize_t)sizeof(v);
	if (fd >= 0)
		close(fd);
	return v;
}

static inline enum host_page_kind host_page_kind(const void *addr)
{
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE), entry, pfn, flags;
	bool ok;

	entry = host_read_u64("/proc/self/pagemap", (uintptr_t)addr / psz, &ok);
	if (!ok || !(entry >> 63))			/* not present */
		return HOST_PAGE_UNKNOWN;
	pfn = entry & ((1ull << 55) - 1);
	if (pfn == 0)					/* hidden: no CAP_SYS_ADMIN */
		return HOST_PAGE_UNKNOWN;
	flags = host_read_u64("/proc/kpageflags", pfn, &ok);
	if (!ok)
		return HOST_PAGE_UNKNOWN;
	return flags >> HOST_KPF_ZERO_PAGE & 1 ? HOST_PAGE_ZERO : HOST_PAGE_OWN;
}

#endif /* MP2_TEST_HOST_H */
