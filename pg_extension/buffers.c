/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * buffers.c
 *	  The shared buffer pool seen as OS pages: its geometry, which of its
 *	  pages exist, and walks over the pages of the pool or of a relation.
 *
 * The buffers live in one shared mapping (BufferBlocks, NBuffers * BLCKSZ
 * bytes), at the same address in every process.  A buffer covers two 4 kB
 * pages, or three when the pool does not start on a page boundary (it need
 * not in PostgreSQL 15); with huge_pages = on, 256 buffers share one 2 MB
 * page, which is then the unit of everything here.  With mp2.pool_thp the
 * pages are 4 kB, most of them parts of 2 MiB folios (see pool_thp.c and
 * migrate.c).  Pages are numbered from the first page that holds a buffer.
 *
 * The kernel reports the node of a page only if the process it is asked
 * about maps it in its page tables, so pages are read ("touched") before
 * they are moved, and before they are located unless the worker's warm
 * mapping (mapper.c) answers for them.  Touching a page that no process has faulted in would
 * allocate it, on this process's node, and so change what we want to
 * observe; only pages known to exist are touched:
 *
 *	- 4 kB pages: mincore() on the shared mapping looks at the shmem page
 *	  cache, so it sees pages that any process faulted in.
 *	- huge pages: mincore() only sees this process's own page tables
 *	  (mincore_hugetlb() in the kernel).  A huge page exists also when a
 *	  buffer in it holds a valid block (BM_VALID): its bytes were written,
 *	  and hugetlb pages of a shared mapping are never reclaimed.  A huge
 *	  page that was only ever used by buffers since invalidated counts as
 *	  not faulted in: it is reported with node NULL, never touched.
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
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

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
pgmp2_pool_get(Mp2Pool *pool)
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
	pool->thp = !pool->huge && pgmp2_shared->pool_thp == PGMP2_POOL_THP_ADVISED;
	start = TYPEALIGN_DOWN(pool->page_size, (uintptr_t) BufferBlocks);
	end = TYPEALIGN(pool->page_size,
					(uintptr_t) BufferBlocks + (Size) NBuffers * BLCKSZ);
	pool->base = (char *) start;
	pool->npages = (int64) ((end - start) / pool->page_size);
}

int64
pgmp2_buffer_first_page(const Mp2Pool *pool, int buf_id)
{
	uintptr_t	b = (uintptr_t) BufferBlocks + (Size) buf_id * BLCKSZ;

	return (int64) ((b - (uintptr_t) pool->base) / pool->page_size);
}

int64
pgmp2_buffer_last_page(const Mp2Pool *pool, int buf_id)
{
	uintptr_t	b = (uintptr_t) BufferBlocks + (Size) buf_id * BLCKSZ;

	return (int64) ((b + BLCKSZ - 1 - (uintptr_t) pool->base) / pool->page_size);
}

/* Whether a buffer that overlaps huge page p holds a valid block. */
static bool
huge_page_written(const Mp2Pool *pool, int64 p)
{
	uintptr_t	lo = (uintptr_t) pgmp2_pool_page(pool, p);
	uintptr_t	hi = lo + pool->page_size;
	uintptr_t	blocks = (uintptr_t) BufferBlocks;
	int64		first,
				last;

	first = lo <= blocks ? 0 : (int64) ((lo - blocks) / BLCKSZ);
	last = Min((int64) ((hi - 1 - blocks) / BLCKSZ), (int64) NBuffers - 1);
	for (int64 b = first; b <= last; b++)
	{
		uint32		state = pg_atomic_read_u32(&GetBufferDescriptor((int) b)->state);

		if (state & BM_VALID)
			return true;
	}
	return false;
}

/* mincore() at most this many base pages at a time. */
#define MINCORE_CHUNK	4096

void
pgmp2_pages_exist(const Mp2Pool *pool, const int64 *pages, int n,
				  bool *exists)
{
	unsigned char vec[MINCORE_CHUNK];
	Size		base_page = (Size) sysconf(_SC_PAGESIZE);
	int64		per_page = (int64) (pool->page_size / base_page);
	int			i = 0;

	while (i < n)
	{
		int			run = 1;

		/* A run of consecutive pages, one mincore() call. */
		while (i + run < n && (run + 1) * per_page <= MINCORE_CHUNK &&
			   pages[i + run] == pages[i] + run)
			run++;
		/*
		 * A page larger than the vector (a huge page above 16 MiB) is asked
		 * for by its first base page only: the kernel maps a huge page
		 * whole, so that one answers for all of it, and mincore() writes
		 * one byte per base page of the range it is given.
		 */
		if (mincore(pgmp2_pool_page(pool, pages[i]),
					per_page > MINCORE_CHUNK ? base_page :
					(size_t) run * pool->page_size, vec) != 0)
			memset(vec, 0, sizeof(vec));
		for (int k = 0; k < run; k++)
		{
			exists[i + k] = (vec[k * per_page] & 1) != 0;
			if (!exists[i + k] && pool->huge)
				exists[i + k] = huge_page_written(pool, pages[i + k]);
		}
		i += run;
	}
}

void
pgmp2_pages_touch(const Mp2Pool *pool, const int64 *pages, int n)
{
	for (int i = 0; i < n; i++)
	{
		volatile const char *p = pgmp2_pool_page(pool, pages[i]);

		(void) *p;
	}
}

void
pgmp2_walk_pool(Mp2Walk *walk, int start_buf)
{
	memset(walk, 0, sizeof(*walk));
	pgmp2_pool_get(&walk->pool);
	walk->relation = false;
	walk->start_buf = (start_buf >= 0 && start_buf < NBuffers) ? start_buf : 0;
	walk->limit = NBuffers;
	walk->last_page = -1;
}

void
pgmp2_walk_pool_range(Mp2Walk *walk, int start_buf, int nbufs)
{
	pgmp2_walk_pool(walk, start_buf);
	walk->limit = Max(Min(nbufs, NBuffers), 0);
}

void
pgmp2_walk_file(Mp2Walk *walk, const Mp2RelFile *file)
{
	memset(walk, 0, sizeof(*walk));
	pgmp2_pool_get(&walk->pool);
	walk->relation = true;
	walk->file = *file;
	walk->limit = NBuffers;
	walk->last_page = -1;
}

void
pgmp2_walk_none(Mp2Walk *walk)
{
	pgmp2_walk_pool(walk, 0);
	walk->nvisited = NBuffers;
}

/* Whether buffer buf belongs to the walk (read under its header lock). */
static bool
walk_matches(const Mp2Walk *walk, int buf)
{
	BufferDesc *hdr;
	uint32		state;
	bool		match;

	if (!walk->relation)
		return true;
	hdr = GetBufferDescriptor(buf);
	/* Unlocked pre-check, as DropRelationBuffers() does. */
	if (!mp2_tag_matches(&hdr->tag, &walk->file))
		return false;
	state = LockBufHdr(hdr);
	match = (state & BM_TAG_VALID) && mp2_tag_matches(&hdr->tag, &walk->file);
	UnlockBufHdr(hdr, state);
	return match;
}

/*
 * Buffers one pgmp2_walk_next() call looks at, at most (in a THP pool,
 * and the rest of the last 2 MiB).
 */
#define WALK_MAX_VISIT	65536

/* The OS pages of a 2 MiB transparent huge page. */
#define THP_PAGES(pool) ((int64) (PGMP2_THP_SIZE / (pool)->page_size))

/* Whether page lies in another 2 MiB than prev (-1: none yet). */
static bool
starts_thp(const Mp2Pool *pool, int64 prev, int64 page)
{
	uintptr_t	a = (uintptr_t) pgmp2_pool_page(pool, page);

	return prev < 0 ||
		a / PGMP2_THP_SIZE != (uintptr_t) pgmp2_pool_page(pool, prev) / PGMP2_THP_SIZE;
}

int
pgmp2_walk_next(Mp2Walk *walk, int64 *pages, int max_pages,
				int64 *firsts, int max_bufs, int *nbufs)
{
	int			n = 0;
	int			nb = 0;
	int			stop_at = walk->nvisited + Min(WALK_MAX_VISIT,
											   walk->limit - walk->nvisited);

	Assert(max_pages >= 4);
	while (walk->nvisited < walk->limit)
	{
		int			buf = (int) (((int64) walk->start_buf + walk->nvisited) % NBuffers);
		int64		first,
					last,
					from;

		/* Stop where the next buffer might not fit. */
		first = pgmp2_buffer_first_page(&walk->pool, buf);
		last = pgmp2_buffer_last_page(&walk->pool, buf);
		if (n + (last - first + 1) > max_pages ||
			(firsts != NULL && nb == max_bufs))
			break;

		/*
		 * In a THP pool a window ends only where a 2 MiB begins: the pages
		 * of a folio are located together before it moves (see migrate.c),
		 * so none of them is found on its target afterwards and counted as
		 * already there.  A buffer whose last page lies in the next 2 MiB
		 * begins that one.
		 */
		if (walk->pool.thp && n > 0 && starts_thp(&walk->pool, walk->last_page, last))
		{
			if (walk->nvisited >= stop_at || n + THP_PAGES(&walk->pool) + 2 > max_pages)
				break;
		}
		else if (walk->nvisited >= stop_at)
			break;
		walk->nvisited++;
		if (!walk_matches(walk, buf))
			continue;
		if (firsts != NULL)
			firsts[nb++] = first;
		/* Buffers ascend, so their pages do: skip the shared boundary. */
		from = first;
		if (walk->last_page >= first && walk->last_page <= last)
			from = walk->last_page + 1;
		for (int64 p = from; p <= last; p++)
			if (walk->keep_page == NULL || walk->pool.thp ||
				walk->keep_page(walk->keep_arg, p))
				pages[n++] = p;
		if (from <= last)
			walk->last_page = last;
	}
	walk->handed += n;
	if (nbufs != NULL)
		*nbufs = nb;
	return n;
}

bool
pgmp2_relation_file(Oid relid, bool check_acl, bool wait, Mp2RelFile *file,
					bool *busy)
{
	Relation	rel;
	bool		has_storage;

	if (busy)
		*busy = false;
	if (wait)
		LockRelationOid(relid, AccessShareLock);
	else if (!ConditionalLockRelationOid(relid, AccessShareLock))
	{
		if (busy)
			*busy = true;
		return false;
	}
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
	{
		UnlockRelationOid(relid, AccessShareLock);
		if (!wait)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	}
	if (check_acl)
	{
		AclResult	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult,
						   get_relkind_objtype(rel->rd_rel->relkind),
						   RelationGetRelationName(rel));
	}
	has_storage = RELKIND_HAS_STORAGE(rel->rd_rel->relkind);
	if (has_storage)
		*file = PGMP2_REL_FILE(rel);

	/*
	 * The lock is not kept: buffers are matched by tag under their header
	 * spinlock, so if the relation is rewritten meanwhile the walk only
	 * finds fewer buffers, and moving a page never changes its bytes.
	 */
	relation_close(rel, NoLock);
	UnlockRelationOid(relid, AccessShareLock);
	return has_storage;
}

void
pgmp2_require_storage(Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	switch (relkind)
	{
		case RELKIND_VIEW:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is a view, which has no buffers of its own", name),
					 errhint("Name the tables the view reads.")));
			break;
		case RELKIND_COMPOSITE_TYPE:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is a composite type, which has no buffers", name)));
			break;
		case RELKIND_FOREIGN_TABLE:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is a foreign table, whose data is not in shared buffers", name)));
			break;
		case RELKIND_PARTITIONED_TABLE:
		case RELKIND_PARTITIONED_INDEX:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is a partitioned %s, which has no buffers of its own",
							name, relkind == RELKIND_PARTITIONED_TABLE ? "table" : "index"),
					 errhint("Its partitions have them: name each, e.g. FROM pg_partition_tree('%s') WHERE isleaf.",
							 name)));
			break;
		default:
			if (!RELKIND_HAS_STORAGE(relkind))
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("\"%s\" has no buffers of its own", name)));
	}
}
