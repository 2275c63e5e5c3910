/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * census.c
 *	  Where the buffers are: pages and buffers per NUMA node, counted a
 *	  window at a time, so that memory stays that of one window whatever
 *	  the size of the pool.
 *
 * A page counts on the node the kernel reports for it; a buffer on the
 * node of the page that holds its first byte.  Pages that do not exist
 * (see buffers.c) are counted as not faulted in and never touched.  Like
 * pg_buffercache, this takes no buffer mapping lock: the counts are not a
 * consistent snapshot of a busy pool, but every page and buffer is
 * counted exactly once.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "miscadmin.h"

/* Buffers per window: 256 per page with huge pages. */
#define CENSUS_BUFS		(PGMP2_WINDOW_PAGES * 4)

static void
count_into(Mp2NodeCount *counts, int max_node, Mp2NodeCount *absent,
		   int node, bool page)
{
	Mp2NodeCount *c = (node >= 0 && node <= max_node) ? &counts[node] : absent;

	if (page)
		c->pages++;
	else
		c->buffers++;
}

void
pgmp2_census(Mp2Walk *walk, Mp2NodeCount *counts, int max_node,
			 Mp2NodeCount *absent)
{
	int64	   *pages = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	int64	   *firsts = palloc(sizeof(int64) * CENSUS_BUFS);
	int		   *node = palloc(sizeof(int) * PGMP2_WINDOW_PAGES);
	Mp2WindowNodes wn;

	/* The last page of the previous window and its node. */
	int64		prev_page = -1;
	int			prev_node = -1;

	pgmp2_window_nodes_init(&wn);
	while (!pgmp2_walk_done(walk))
	{
		int			nbufs;
		int			n;
		int			j = 0;
		int			k = 0;

		CHECK_FOR_INTERRUPTS();
		n = pgmp2_walk_next(walk, pages, PGMP2_WINDOW_PAGES, firsts, CENSUS_BUFS,
							&nbufs);

		pgmp2_window_nodes(&wn, &walk->pool, pages, n);
		for (int i = 0; i < n; i++)
			node[i] = wn.exists[i] ? wn.where[j++] : -1;
		for (int i = 0; i < n; i++)
			count_into(counts, max_node, absent, node[i], true);

		/*
		 * Buffers and pages both ascend; a buffer's first page is in this
		 * window or is the last page of the previous one.
		 */
		for (int b = 0; b < nbufs; b++)
		{
			int			nd = -1;

			while (k < n && pages[k] < firsts[b])
				k++;
			if (k < n && pages[k] == firsts[b])
				nd = node[k];
			else if (firsts[b] == prev_page)
				nd = prev_node;
			count_into(counts, max_node, absent, nd, false);
		}
		if (n > 0)
		{
			prev_page = pages[n - 1];
			prev_node = node[n - 1];
		}
	}

	pfree(pages);
	pfree(firsts);
	pfree(node);
	pgmp2_window_nodes_free(&wn);
}
