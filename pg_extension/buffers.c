/*-------------------------------------------------------------------------
 *
 * buffers.c
 *	  The shared buffer pool seen as OS pages.
 *
 * The buffers live in one shared mapping (BufferBlocks, NBuffers * BLCKSZ
 * bytes), at the same address in every process.  A buffer covers two 4 kB
 * pages, or three when the pool does not start on a page boundary (it need
 * not in PostgreSQL 15); with huge_pages = on, 256 buffers share one 2 MB
 * page, which is then the unit of everything here.  Pages are numbered
 * from the first page that holds a buffer.
 *
 * The kernel reports the node of a page only if the asking process maps it
 * in its own page tables, so pages are read ("touched") before they are
 * located or moved.  Touching a page that no process has faulted in would
 * allocate it, on this process's node, and so change what we want to
 * observe: mincore() tells which pages of the shared mapping exist (for
 * shmem it looks at the page cache, not at our page tables), and only
 * those are touched.  Huge pages are reserved when the server starts, so
 * touching one allocates nothing new; mincore() only sees our own page
 * tables there, so every huge page counts as faulted in and is touched.
 *
 * No buffer header lock is held for more than reading one buffer's tag,
 * and never across a system call.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "access/relation.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/lockdefs.h"
#include "utils/rel.h"

/* The page size of the pool's mapping, found once per process. */
static Size pool_page_size = 0;

/*
 * The kernel page size of the mapping that holds addr, from
 * /proc/self/smaps; 0 if it cannot be found.
 */
static Size
mapping_page_size(const void *addr)
{
	FILE	   *f;
	char		line[512];
	bool		inside = false;
	Size		result = 0;
	uintptr_t	a = (uintptr_t) addr;

	f = fopen("/proc/self/smaps", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		unsigned long start,
					end;
		unsigned long kb;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
			strchr(line, '-') < strchr(line, ' '))
		{
			inside = a >= start && a < end;
			continue;
		}
		if (inside && sscanf(line, "KernelPageSize: %lu kB", &kb) == 1)
		{
			result = (Size) kb * 1024;
			break;
		}
	}
	fclose(f);
	return result;
}

void
mp2_pool_get(Mp2Pool *pool)
{
	Size		base_page = (Size) sysconf(_SC_PAGESIZE);
	uintptr_t	start,
				end;

	if (pool_page_size == 0)
	{
		Size		ps = mapping_page_size(BufferBlocks);

		pool_page_size = ps >= base_page ? ps : base_page;
	}
	pool->page_size = pool_page_size;
	pool->huge = pool_page_size > base_page;
	start = TYPEALIGN_DOWN(pool->page_size, (uintptr_t) BufferBlocks);
	end = TYPEALIGN(pool->page_size,
					(uintptr_t) BufferBlocks + (Size) NBuffers * BLCKSZ);
	pool->base = (char *) start;
	pool->npages = (int64) ((end - start) / pool->page_size);
}

void
mp2_buffer_pages(const Mp2Pool *pool, int buf_id, int64 *first, int64 *last)
{
	uintptr_t	b = (uintptr_t) BufferBlocks + (Size) buf_id * BLCKSZ;
	uintptr_t	base = (uintptr_t) pool->base;

	*first = (int64) ((b - base) / pool->page_size);
	*last = (int64) ((b + BLCKSZ - 1 - base) / pool->page_size);
}

/* mincore() at most this many base pages at a time. */
#define MINCORE_CHUNK	65536

void
mp2_pages_resident(const Mp2Pool *pool, const int64 *pages, int64 n,
				   bool *resident)
{
	unsigned char *vec;
	int64		i = 0;

	if (pool->huge)
	{
		for (i = 0; i < n; i++)
			resident[i] = true;
		return;
	}

	vec = palloc(MINCORE_CHUNK);
	while (i < n)
	{
		int64		run = 1;

		/* A run of consecutive pages, one mincore() call. */
		while (i + run < n && run < MINCORE_CHUNK &&
			   pages[i + run] == pages[i] + run)
			run++;
		if (mincore(mp2_pool_page(pool, pages[i]),
					(size_t) run * pool->page_size, vec) != 0)
		{
			for (int64 k = 0; k < run; k++)
				resident[i + k] = false;
		}
		else
		{
			for (int64 k = 0; k < run; k++)
				resident[i + k] = (vec[k] & 1) != 0;
		}
		i += run;
	}
	pfree(vec);
}

void
mp2_pages_touch(const Mp2Pool *pool, const int64 *pages, int64 n)
{
	for (int64 i = 0; i < n; i++)
	{
		volatile const char *p = mp2_pool_page(pool, pages[i]);

		(void) *p;
	}
}

int64
mp2_relation_pages(const Mp2Pool *pool, Oid relid, int64 **pages_out,
				   int **bufs_out, int *nbufs_out)
{
	Relation	rel;
	int64	   *pages;
	int		   *bufs = NULL;
	int64		npages = 0;
	int			nbufs = 0;
	int64		cap_pages = 1024;
	int			cap_bufs = 512;

#if PG_VERSION_NUM >= 160000
	RelFileLocator rloc;
#else
	RelFileNode rnode;
#endif

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
#if PG_VERSION_NUM >= 160000
	rloc = rel->rd_locator;
#else
	rnode = rel->rd_node;
#endif
	/* Keep the lock to the end of the transaction: no new relfilenode. */
	relation_close(rel, NoLock);

	pages = palloc(sizeof(int64) * cap_pages);
	if (bufs_out)
		bufs = palloc(sizeof(int) * cap_bufs);

	for (int i = 0; i < NBuffers; i++)
	{
		BufferDesc *hdr = GetBufferDescriptor(i);
		uint32		state;
		bool		match;
		int64		first,
					last;

		/* Unlocked pre-check, as DropRelationBuffers() does. */
#if PG_VERSION_NUM >= 160000
		if (!BufTagMatchesRelFileLocator(&hdr->tag, &rloc))
			continue;
		state = LockBufHdr(hdr);
		match = (state & BM_TAG_VALID) &&
			BufTagMatchesRelFileLocator(&hdr->tag, &rloc);
#else
		if (!RelFileNodeEquals(hdr->tag.rnode, rnode))
			continue;
		state = LockBufHdr(hdr);
		match = (state & BM_TAG_VALID) &&
			RelFileNodeEquals(hdr->tag.rnode, rnode);
#endif
		UnlockBufHdr(hdr, state);
		if (!match)
			continue;

		if (bufs)
		{
			if (nbufs == cap_bufs)
			{
				cap_bufs *= 2;
				bufs = repalloc_huge(bufs, sizeof(int) * (Size) cap_bufs);
			}
			bufs[nbufs] = i;
		}
		nbufs++;
		/* Buffers ascend, so their pages do: drop the shared boundary. */
		mp2_buffer_pages(pool, i, &first, &last);
		for (int64 p = first; p <= last; p++)
		{
			if (npages > 0 && pages[npages - 1] >= p)
				continue;
			if (npages == cap_pages)
			{
				cap_pages *= 2;
				pages = repalloc_huge(pages, sizeof(int64) * (Size) cap_pages);
			}
			pages[npages++] = p;
		}
	}

	*pages_out = pages;
	if (bufs_out)
		*bufs_out = bufs;
	if (nbufs_out)
		*nbufs_out = nbufs;
	return npages;
}

/* Locate this many pages with one libmp2 call. */
#define LOCATE_CHUNK	65536

/*
 * node[i] receives the node of pages[i], or -1 when its memory is not
 * faulted in (or the kernel cannot tell).
 */
static void
locate_pages(const Mp2Pool *pool, const int64 *pages, int64 n, int *node)
{
	bool	   *resident = mp2_palloc_huge(sizeof(bool) * (Size) Max(n, 1));
	void	  **addrs = palloc(sizeof(void *) * LOCATE_CHUNK);
	int		   *where = palloc(sizeof(int) * LOCATE_CHUNK);
	int64	   *idx = palloc(sizeof(int64) * LOCATE_CHUNK);

	mp2_pages_resident(pool, pages, n, resident);
	for (int64 i = 0; i < n; i++)
		node[i] = -1;

	for (int64 start = 0; start < n;)
	{
		int			cnt = 0;
		int			err;

		for (; start < n && cnt < LOCATE_CHUNK; start++)
		{
			if (!resident[start])
				continue;
			idx[cnt] = start;
			addrs[cnt] = mp2_pool_page(pool, pages[start]);
			cnt++;
		}
		if (cnt == 0)
			continue;
		for (int k = 0; k < cnt; k++)
			mp2_pages_touch(pool, &pages[idx[k]], 1);
		err = mp2_locate(addrs, (size_t) cnt, where, 0);
		if (err != 0)
			ereport(ERROR,
					(errmsg("could not locate shared buffer pages: %s",
							mp2_strerror(err))));
		for (int k = 0; k < cnt; k++)
			node[idx[k]] = where[k] >= 0 ? where[k] : -1;
	}

	pfree(resident);
	pfree(addrs);
	pfree(where);
	pfree(idx);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

void
mp2_count_nodes(const Mp2Pool *pool, const int64 *pages, int64 npages,
				const int *bufs, int nbufs, Mp2NodeCount *counts,
				int max_node, Mp2NodeCount *absent)
{
	int64	   *all = NULL;
	int		   *node;

	if (pages == NULL)
	{
		npages = pool->npages;
		all = mp2_palloc_huge(sizeof(int64) * (Size) npages);
		for (int64 i = 0; i < npages; i++)
			all[i] = i;
		pages = all;
	}
	node = mp2_palloc_huge(sizeof(int) * (Size) Max(npages, 1));
	locate_pages(pool, pages, npages, node);

	for (int64 i = 0; i < npages; i++)
	{
		if (node[i] >= 0 && node[i] <= max_node)
			counts[node[i]].pages++;
		else
			absent->pages++;
	}

	/* A buffer counts on the node of the page that holds its first byte. */
	if (bufs == NULL)
		nbufs = NBuffers;
	for (int b = 0; b < nbufs; b++)
	{
		int64		first,
					last;
		int64		i;

		mp2_buffer_pages(pool, bufs ? bufs[b] : b, &first, &last);
		if (all != NULL)
			i = first;
		else
		{
			int64	   *hit = bsearch(&first, pages, (size_t) npages,
									  sizeof(int64), cmp_int64);

			i = hit ? hit - pages : -1;
		}
		if (i >= 0 && node[i] >= 0 && node[i] <= max_node)
			counts[node[i]].buffers++;
		else
			absent->buffers++;
	}

	pfree(node);
	if (all)
		pfree(all);
}
