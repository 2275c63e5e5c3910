// SPDX-License-Identifier: MIT
/* Locate: the node of each page, asked of the kernel in chunks. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mp2_internal.h"

static int check_aligned(void *const *pages, size_t count)
{
	uintptr_t mask = (uintptr_t)mp2_page_size() - 1;

	for (size_t i = 0; i < count; i++)
		if ((uintptr_t)pages[i] & mask)
			return -EINVAL;
	return 0;
}

static void touch_pages(void *const *pages, size_t count)
{
	for (size_t i = 0; i < count; i++)
		(void)*(volatile const char *)pages[i];
}

/* Ask the kernel where pid's pages are, in chunks; 0 or a negative errno. */
static int query_chunks(pid_t pid, void *const *pages, size_t count, int *nodes)
{
	for (size_t done = 0; done < count; done += MP2_LOCATE_CHUNK) {
		size_t n = count - done;
		long ret;

		if (n > MP2_LOCATE_CHUNK)
			n = MP2_LOCATE_CHUNK;
		/* move_pages(2) takes a non-const array it only reads. */
		ret = mp2_sys_query(pid, n, (void **)(uintptr_t)(pages + done),
				    nodes + done);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

int mp2_locate(void *const *pages, size_t count, int *nodes, unsigned int flags)
{
	if (!pages || !nodes || count == 0 || (flags & ~MP2_LOCATE_TOUCH))
		return -EINVAL;
	if (check_aligned(pages, count))
		return -EINVAL;
	if (flags & MP2_LOCATE_TOUCH)
		touch_pages(pages, count);
	return query_chunks(0, pages, count, nodes);
}

int mp2_locate_pid(pid_t pid, void *const *pages, size_t count, int *nodes)
{
	if (pid < 0 || !pages || !nodes || count == 0)
		return -EINVAL;
	if (check_aligned(pages, count))
		return -EINVAL;
	return query_chunks(pid, pages, count, nodes);
}

int mp2_locate_range(void *addr, size_t len, int *nodes, unsigned int flags)
{
	size_t psz = mp2_page_size();
	size_t count, done;
	void *chunk[MP2_LOCATE_CHUNK];
	int ret;

	if (!addr || !nodes || len == 0 || len % psz ||
	    (uintptr_t)addr % psz || (flags & ~MP2_LOCATE_TOUCH))
		return -EINVAL;
	count = len / psz;
	for (done = 0; done < count; done += MP2_LOCATE_CHUNK) {
		size_t n = count - done;

		if (n > MP2_LOCATE_CHUNK)
			n = MP2_LOCATE_CHUNK;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char *)addr + (done + i) * psz;
		ret = mp2_locate(chunk, n, nodes + done, flags);
		if (ret)
			return ret;
	}
	return 0;
}
