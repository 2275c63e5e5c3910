/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * mapper.c
 *	  The warm mapping: the worker keeps the pool's pages mapped in its own
 *	  page tables, and backends locate and move pages through the worker's
 *	  page tables instead of faulting the pages into their own.
 *
 * The kernel reports the node of a page only from the page tables of the
 * process it is asked about (move_pages(2) with a pid), so a backend that
 * never read a buffer would take a minor fault per page to learn where the
 * pool is, and keep the page table that grew.  The worker lives as long as
 * the server and maps nothing else of interest, so it touches, a slice of
 * the pool per naptime, every page that exists (buffers.c: pages no buffer
 * wrote are never touched, so never allocated).  Backends then locate
 * through it; a page the worker has not mapped yet is reported -ENOENT, and
 * the backend touches and locates that one itself, as without the worker.
 *
 * It is off by default (mp2.warm_mapping): a page the worker maps has one
 * more mapping, so moving it without CAP_SYS_NICE (MPOL_MF_MOVE) is
 * refused as shared, and every move visits one more mapping (in the
 * two-node guest, a 128 MB table's moves took a median 1.14x as long, inside
 * the spread of the runs: results/mapper-move).  Turned off at a reload,
 * backends stop asking the worker at once; what the worker mapped stays
 * mapped until it exits.
 *
 * A backend with CAP_SYS_NICE moves the pages the worker maps with
 * move_pages(2) and the worker's pid (migrate.c says why not by asking
 * the worker), so it neither faults them in nor adds its own mapping.
 *
 * The kernel lets a process read and move through another's page tables
 * only under PTRACE_MODE_READ: backends and the worker run as the same OS
 * user, so they may, and a process of another user may not (-EPERM; the
 * core suite's test_migrate_pid_other_user).  MPOL_MF_MOVE_ALL needs
 * CAP_SYS_NICE in the backend that moves, as without the worker; without
 * the capability, moves do not go through the worker.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "miscadmin.h"

/* The pool the worker maps per tick, at most: 4 GiB of pages. */
#define MAPPER_TICK_BYTES	((Size) 4 << 30)

/* Where the next tick starts, and the pages found in this pass so far. */
static int64 cursor = 0;
static int64 pass_mapped = 0;

void
pgmp2_mapper_tick(bool (*should_stop) (void))
{
	Mp2Pool		pool;
	int64	   *pages;
	bool	   *exists;
	int64		budget;
	int64		end;

	if (!pgmp2_warm_mapping)
		return;
	pgmp2_pool_get(&pool);
	budget = Max((int64) (MAPPER_TICK_BYTES / pool.page_size), 1);
	if (cursor >= pool.npages)
		cursor = 0;
	end = Min(cursor + budget, pool.npages);
	pages = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	exists = palloc(sizeof(bool) * PGMP2_WINDOW_PAGES);
	while (cursor < end && !should_stop())
	{
		int			n = (int) Min(end - cursor, (int64) PGMP2_WINDOW_PAGES);
		int			m = 0;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			pages[i] = cursor + i;
		pgmp2_pages_exist(&pool, pages, n, exists);
		for (int i = 0; i < n; i++)
			if (exists[i])
				pages[m++] = pages[i];
		pgmp2_pages_touch(&pool, pages, m);
		pass_mapped += m;
		cursor += n;
	}
	pfree(pages);
	pfree(exists);
	if (cursor < pool.npages)
		return;
	SpinLockAcquire(&pgmp2_shared->mutex);
	pgmp2_shared->mapper.mapped = pass_mapped;
	pgmp2_shared->mapper.passes++;
	SpinLockRelease(&pgmp2_shared->mutex);
	pass_mapped = 0;
}

pid_t
pgmp2_mapper_pid(void)
{
	pid_t		pid = 0;

	if (!pgmp2_preloaded || !pgmp2_warm_mapping)
		return 0;
	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	if (pgmp2_shared->worker.state == PGMP2_SLOT_RUNNING)
		pid = pgmp2_shared->worker.pid;
	LWLockRelease(pgmp2_shared->lock);
	return pid == MyProcPid ? 0 : pid;
}

void
pgmp2_mapper_reset(void)
{
	SpinLockAcquire(&pgmp2_shared->mutex);
	pgmp2_shared->mapper.mapped = 0;
	pgmp2_shared->mapper.passes = 0;
	SpinLockRelease(&pgmp2_shared->mutex);
}

void
pgmp2_mapper_info(int64 *mapped, uint64 *passes)
{
	SpinLockAcquire(&pgmp2_shared->mutex);
	*mapped = pgmp2_shared->mapper.mapped;
	*passes = pgmp2_shared->mapper.passes;
	SpinLockRelease(&pgmp2_shared->mutex);
}
