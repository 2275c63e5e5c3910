/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * pool_thp.c
 *	  mp2.pool_thp: the buffer pool in 2 MiB transparent huge pages of
 *	  shared memory, without a hugetlb reservation.
 *
 * PostgreSQL maps its shared memory as one shared anonymous mapping
 * (shmem).  The kernel backs such a mapping with 2 MiB folios when
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled allows it: always,
 * or advise for a range marked with madvise(MADV_HUGEPAGE).  The folio is
 * allocated by the first fault in its 2 MiB, so the advice must come
 * before any process touches the pool: the postmaster gives it from the
 * shared memory startup hook, which runs after InitBufferPool() has set
 * BufferBlocks (it does not touch the blocks) and before any child
 * process exists.  The children inherit the advice with the mapping.
 *
 * Only the 2 MiB-aligned part of the pool is advised: the partial 2 MiB
 * at either end shares its folio with other shared memory structures,
 * which the postmaster has touched already.
 *
 * A 2 MiB folio moves as a unit: a migration of any of its 4 kB pages
 * moves all 512 (see migrate.c).
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/fs.h>

#include "storage/bufmgr.h"

#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"

/* The 2 MiB-aligned part of the pool: [*start, *end), maybe empty. */
static void
aligned_part(uintptr_t *start, uintptr_t *end)
{
	uintptr_t	lo = (uintptr_t) BufferBlocks;
	uintptr_t	hi = lo + (Size) NBuffers * BLCKSZ;

	*start = TYPEALIGN(PGMP2_THP_SIZE, lo);
	*end = Max(TYPEALIGN_DOWN(PGMP2_THP_SIZE, hi), *start);
}

/*
 * The selected word of a THP setting ("always [advise] never"), into
 * buf; false if the file cannot be read.
 */
static bool
read_setting(const char *path, char *buf, size_t len)
{
	FILE	   *f = fopen(path, "r");
	char		line[256];
	char	   *open,
			   *close;

	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (close == NULL)
		return false;
	*close = '\0';
	strlcpy(buf, open + 1, len);
	return true;
}

static bool
setting_allows(const char *s)
{
	return strcmp(s, "always") == 0 || strcmp(s, "within_size") == 0 ||
		strcmp(s, "advise") == 0 || strcmp(s, "force") == 0;
}

/*
 * Whether the kernel gives a shared anonymous mapping advised with
 * MADV_HUGEPAGE 2 MiB folios; if not, why, into why.  The top-level
 * shmem_enabled decides, unless the 2 MiB size has a setting of its own
 * (Linux 6.11 and later: "inherit" defers to the top level).
 */
static bool
kernel_allows(char *why, size_t len)
{
	char		top[32];
	char		pmd[32];

	if (!read_setting(THP_SYSFS "/shmem_enabled", top, sizeof(top)))
	{
		snprintf(why, len, "the kernel has no transparent huge pages for shared memory");
		return false;
	}
	if (strcmp(top, "deny") == 0)
	{
		snprintf(why, len, "shmem_enabled is deny");
		return false;
	}
	if (read_setting(THP_SYSFS "/hugepages-2048kB/shmem_enabled", pmd,
					 sizeof(pmd)) && strcmp(pmd, "inherit") != 0)
	{
		if (setting_allows(pmd))
			return true;
		snprintf(why, len, "hugepages-2048kB/shmem_enabled is %s", pmd);
		return false;
	}
	if (setting_allows(top))
		return true;
	snprintf(why, len, "shmem_enabled is %s", top);
	return false;
}

void
pgmp2_pool_thp_advise(void)
{
	char	   *why_not = pgmp2_shared->pool_thp_why;
	size_t		len = sizeof(pgmp2_shared->pool_thp_why);
	Mp2Pool		pool;
	uintptr_t	start,
				end;
	char		why[96];

	pgmp2_shared->pool_thp = PGMP2_POOL_THP_OFF;
	if (!pgmp2_pool_thp)
		return;
	pgmp2_pool_get(&pool);
	if (pool.huge)
	{
		pgmp2_shared->pool_thp = PGMP2_POOL_THP_HUGETLB;
		ereport(LOG,
				(errmsg("mp2.pool_thp has nothing to do: the buffer pool is in huge pages of %zu kB already",
						pool.page_size / 1024),
				 errdetail("huge_pages gave the server hugetlb pages.")));
		return;
	}
	pgmp2_shared->pool_thp = PGMP2_POOL_THP_UNAVAILABLE;
	if (!kernel_allows(why, sizeof(why)))
	{
		strlcpy(why_not, why, len);
		ereport(WARNING,
				(errmsg("mp2.pool_thp is on, but the kernel gives shared memory no transparent huge pages"),
				 errdetail("In %s: %s.", THP_SYSFS, why),
				 errhint("As root: echo advise > %s/shmem_enabled, then restart the server.",
						 THP_SYSFS)));
		return;
	}
	aligned_part(&start, &end);
	if (end == start)
	{
		strlcpy(why_not, "the pool holds no aligned 2 MiB", len);
		ereport(WARNING,
				(errmsg("mp2.pool_thp is on, but the buffer pool holds no aligned 2 MiB page"),
				 errhint("shared_buffers of 4MB or more have one.")));
		return;
	}
	if (madvise((void *) start, end - start, MADV_HUGEPAGE) != 0)
	{
		snprintf(why_not, len, "madvise: %s", strerror(errno));
		ereport(WARNING,
				(errmsg("mp2.pool_thp: could not advise huge pages for the buffer pool: %m")));
		return;
	}
	pgmp2_shared->pool_thp = PGMP2_POOL_THP_ADVISED;
	ereport(LOG,
			(errmsg("mp2.pool_thp: advised transparent huge pages for %zu MB of the buffer pool",
					(Size) (end - start) >> 20)));
}

const char *
pgmp2_pool_thp_state(bool huge)
{
	if (huge)
		return "hugetlb";
	switch (pgmp2_shared->pool_thp)
	{
		case PGMP2_POOL_THP_OFF:
			break;
		case PGMP2_POOL_THP_HUGETLB:
			return "hugetlb";
		case PGMP2_POOL_THP_UNAVAILABLE:
			return psprintf("unavailable: %s", pgmp2_shared->pool_thp_why);
		case PGMP2_POOL_THP_ADVISED:
			return "advised";
	}
	return "off";
}

/*
 * Whether the kernel may have put the pool in 2 MiB folios: mp2 advised
 * them, or shmem_enabled (or its 2 MiB setting) gives them to all shared
 * memory.  Otherwise the pool has none, and there is nothing to count.
 */
static bool
pool_may_have_thp(void)
{
	char		top[32];
	char		pmd[32];

	if (pgmp2_shared->pool_thp == PGMP2_POOL_THP_ADVISED)
		return true;
	if (read_setting(THP_SYSFS "/hugepages-2048kB/shmem_enabled", pmd,
					 sizeof(pmd)) && strcmp(pmd, "inherit") != 0)
		return strcmp(pmd, "always") == 0 || strcmp(pmd, "within_size") == 0;
	return read_setting(THP_SYSFS "/shmem_enabled", top, sizeof(top)) &&
		(strcmp(top, "always") == 0 || strcmp(top, "within_size") == 0 ||
		 strcmp(top, "force") == 0);
}

int64
pgmp2_pool_thp_pages(void)
{
#ifdef PAGEMAP_SCAN
	uintptr_t	start,
				end;
	struct page_region regions[64];
	struct pm_scan_arg arg;
	int			fd;
	int64		bytes = 0;
	Size		base_page = (Size) sysconf(_SC_PAGESIZE);

	/* Without it the walk below would cost time that grows with the pool. */
	if (!pool_may_have_thp())
		return 0;
	aligned_part(&start, &end);

	/*
	 * Map each 2 MiB that exists (its first page does): a read fault on a
	 * 2 MiB folio maps it whole, with one PMD.  Never touches a page no
	 * process faulted in.  A terabyte pool has half a million of them,
	 * so a cancel is honoured here.
	 */
	for (uintptr_t a = start; a < end; a += PGMP2_THP_SIZE)
	{
		unsigned char v = 0;

		CHECK_FOR_INTERRUPTS();
		if (mincore((void *) a, base_page, &v) == 0 && (v & 1))
			(void) *(volatile const char *) a;
	}

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = start;
	arg.end = end;
	arg.vec = (uintptr_t) regions;
	arg.vec_len = lengthof(regions);
	arg.category_mask = PAGE_IS_HUGE;
	arg.return_mask = PAGE_IS_HUGE;
	while (arg.start < arg.end)
	{
		long		n = ioctl(fd, PAGEMAP_SCAN, &arg);

		if (n < 0)
		{
			close(fd);
			return -1;
		}
		for (long i = 0; i < n; i++)
			bytes += (int64) (regions[i].end - regions[i].start);
		if (arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	close(fd);
	return bytes / (int64) PGMP2_THP_SIZE;
#else
	/* Built with kernel headers older than Linux 6.7. */
	return -1;
#endif
}
