/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * interleave.c
 *	  Policy "interleave": buffer k of the pool (or huge page k, or the
 *	  k-th 2 MiB of a pool in transparent huge pages) belongs on the
 *	  (k mod n)-th node of mp2.interleave_nodes, every node with memory
 *	  if that is empty.
 *
 * A round starts where the last one stopped, so that a bounded round
 * still reaches the whole pool in turn.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

/* Where the next round starts: a buffer number. */
static int	interleave_cursor = 0;

int64
pgmp2_interleave_round(Mp2Round *round)
{
	Mp2MoveArgs args;
	Mp2MoveResult res;
	Mp2Walk		walk;
	int		   *nodes;
	int			nnodes;
	int64		walked;

	if (pgmp2_interleave_nodes == NULL || pgmp2_interleave_nodes[0] == '\0')
		nnodes = pgmp2_memory_node_list(&nodes, NULL);
	else
		nnodes = pgmp2_parse_node_list(pgmp2_interleave_nodes, &nodes);
	if (nnodes <= 0)
		ereport(ERROR,
				(errmsg("mp2.interleave_nodes \"%s\" names no node",
						pgmp2_interleave_nodes)));
	for (int i = 0; i < nnodes; i++)
		pgmp2_require_node(nodes[i]);

	memset(&args, 0, sizeof(args));
	args.nodes = nodes;
	args.nnodes = nnodes;
	args.by_pool_page = true;
	pgmp2_walk_pool(&walk, interleave_cursor);
	pgmp2_round_move(round, &walk, &args, &res);

	/* The next round starts after the last buffer whose pages were tried. */
	walked = (int64) (res.st.requested - res.st.not_tried + res.not_present);
	interleave_cursor = (int) (((int64) interleave_cursor +
								walked * (int64) walk.pool.page_size / BLCKSZ) %
							   NBuffers);
	return (int64) res.st.moved;
}
