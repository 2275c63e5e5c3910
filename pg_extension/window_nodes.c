/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * window_nodes.c
 *	  Where the pages of a window are: which exist (buffers.c), and their
 *	  nodes, asked of the worker's page tables where it maps them
 *	  (mapper.c, mp2.warm_mapping) and of this process's otherwise, after
 *	  touching them.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

void
pgmp2_window_nodes_init(Mp2WindowNodes *wn)
{
	wn->exists = palloc(sizeof(bool) * PGMP2_WINDOW_PAGES);
	wn->nres = 0;
	wn->resident = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	wn->where = palloc(sizeof(int) * PGMP2_WINDOW_PAGES);
	wn->addrs = palloc(sizeof(void *) * PGMP2_WINDOW_PAGES);
	wn->miss = palloc(sizeof(int) * PGMP2_WINDOW_PAGES);
	wn->miss_pages = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	wn->miss_where = palloc(sizeof(int) * PGMP2_WINDOW_PAGES);
}

void
pgmp2_window_nodes_free(Mp2WindowNodes *wn)
{
	pfree(wn->exists);
	pfree(wn->resident);
	pfree(wn->where);
	pfree(wn->addrs);
	pfree(wn->miss);
	pfree(wn->miss_pages);
	pfree(wn->miss_where);
}

/* Locate the nres pages of wn here: touch them, then ask the kernel. */
static void
locate_here(Mp2WindowNodes *wn, const Mp2Pool *pool, const int64 *pages,
			void **addrs, int *where, int n)
{
	int			err;

	pgmp2_pages_touch(pool, pages, n);
	err = mp2_locate(addrs, (size_t) n, where, 0);
	if (err != 0)
		ereport(ERROR,
				(errmsg("could not locate shared buffer pages: %s",
						mp2_strerror(err))));
}

void
pgmp2_window_nodes(Mp2WindowNodes *wn, const Mp2Pool *pool,
				   const int64 *pages, int n)
{
	pid_t		mapper = pgmp2_mapper_pid();
	int			nmiss = 0;

	Assert(n <= PGMP2_WINDOW_PAGES);
	pgmp2_pages_exist(pool, pages, n, wn->exists);
	wn->nres = 0;
	for (int i = 0; i < n; i++)
		if (wn->exists[i])
		{
			wn->resident[wn->nres] = pages[i];
			wn->addrs[wn->nres] = pgmp2_pool_page(pool, pages[i]);
			wn->nres++;
		}
	if (wn->nres == 0)
		return;

	/*
	 * Through the worker's page tables where it has mapped the page; the
	 * rest (and everything, if the worker is gone or cannot be asked)
	 * here.
	 */
	if (mapper == 0 ||
		mp2_locate_pid(mapper, wn->addrs, (size_t) wn->nres, wn->where) != 0)
		locate_here(wn, pool, wn->resident, wn->addrs, wn->where, wn->nres);
	else
	{
		for (int k = 0; k < wn->nres; k++)
			if (wn->where[k] < 0)
			{
				wn->miss[nmiss] = k;
				wn->miss_pages[nmiss] = wn->resident[k];
				/* addrs[] is compacted in place: nmiss <= k */
				wn->addrs[nmiss] = wn->addrs[k];
				nmiss++;
			}
		if (nmiss > 0)
		{
			locate_here(wn, pool, wn->miss_pages, wn->addrs, wn->miss_where, nmiss);
			for (int j = 0; j < nmiss; j++)
				wn->where[wn->miss[j]] = wn->miss_where[j];
		}
	}
	for (int k = 0; k < wn->nres; k++)
		if (wn->where[k] < 0)
			wn->where[k] = -1;
}
