/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * tier_settings.c
 *	  The nodes of policy tier's two tiers, and the checks of its
 *	  settings (mp2.fast_nodes, mp2.slow_nodes, mp2.fast_fraction).
 *
 * By default the tiers are the kernel's: its memory tiers, which it
 * derives from the ACPI HMAT or from the driver of a CXL expander, put
 * slower memory in lower tiers.  A kernel without them (before 6.1), or
 * one that puts every node in one tier, leaves the split by CPUs: the
 * nodes with CPUs are fast, the memory-only ones slow.  A plain
 * two-socket server has neither split, and policy tier then needs the
 * settings.
 *
 * A node belongs to one tier: a value that would put a node in both is
 * refused when it is set, with the other setting named in the message.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

/*
 * Whether each node 0..topo->max_node is in the kernel's top memory tier,
 * when the kernel's tiers split topo's nodes in two or more (every one of
 * them in a tier, some below the top); NULL when they do not.
 */
bool *
pgmp2_kernel_top_tier(const struct mp2_topology *topo)
{
	int		   *rank = palloc(sizeof(int) * (topo->max_node + 1));
	bool	   *top = NULL;
	int			best = INT_MAX;
	bool		split = mp2_memory_tiers(rank, topo->max_node + 1) >= 2;

	for (int i = 0; i < topo->nr_nodes && split; i++)
	{
		split = rank[topo->nodes[i].id] >= 0;	/* one the tiers leave out: no split */
		best = Min(best, rank[topo->nodes[i].id]);
	}
	for (int i = 0; i < topo->nr_nodes && split && top == NULL; i++)
		if (rank[topo->nodes[i].id] > best)
			top = palloc0(sizeof(bool) * (topo->max_node + 1));
	for (int i = 0; i < topo->nr_nodes && top != NULL; i++)
		top[topo->nodes[i].id] = rank[topo->nodes[i].id] == best;
	pfree(rank);
	return top;
}

/*
 * A tier's nodes: the setting; by default, where the kernel's memory tiers
 * split topo's nodes (kernel_top, from pgmp2_kernel_top_tier()), its top
 * tier (fast) and the tiers below (slow), else the nodes with CPUs (fast)
 * and those without.  Returns the count, -1 for a list that does not
 * parse; *source (if not NULL) says where they come from, for messages.
 */
int
pgmp2_tier_nodes(const struct mp2_topology *topo, const bool *kernel_top,
				 const char *setting, bool fast, int **out, const char **source)
{
	int			n = 0;

	if (setting != NULL && setting[0] != '\0')
	{
		if (source)
			*source = fast ? "mp2.fast_nodes" : "mp2.slow_nodes";
		return pgmp2_parse_node_list(setting, out);
	}
	*out = palloc(sizeof(int) * Max(topo->nr_nodes, 1));
	for (int i = 0; i < topo->nr_nodes; i++)
		if ((kernel_top ? kernel_top[topo->nodes[i].id] :
			 topo->nodes[i].nr_cpus > 0) == fast)
			(*out)[n++] = topo->nodes[i].id;
	if (source && kernel_top)
		*source = fast ? "the kernel's top memory tier" :
			"the kernel's lower memory tiers";
	else if (source)
		*source = fast ? "the nodes with CPUs" : "the nodes without CPUs";
	return n;
}

/*
 * Check a new value of mp2.fast_nodes (fast) or mp2.slow_nodes: a node
 * list of nodes with memory, none of them in the other tier's list as it
 * is now (its setting, or its default).
 */
static bool
check_tier_nodes(char **newval, bool fast)
{
	const char *other_setting = fast ? pgmp2_slow_nodes : pgmp2_fast_nodes;
	const char *other_source;
	struct mp2_topology *topo;
	int		   *nodes;
	int		   *other;
	int			n;
	int			nother;
	int			both;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	n = pgmp2_parse_node_list(*newval, &nodes);
	if (n <= 0)
	{
		GUC_check_errdetail("A node list looks like \"0,1\" or \"2-3\"; empty means the default.");
		return false;
	}
	for (int i = 0; i < n; i++)
		if (mp2_node_check(nodes[i]) != 0)
		{
			GUC_check_errdetail("Node %d does not exist or has no memory.", nodes[i]);
			GUC_check_errhint("\"numactl --hardware\" lists the nodes and their memory.");
			pfree(nodes);
			return false;
		}
	if (mp2_topology_read(&topo) != 0)
	{
		pfree(nodes);
		return true;			/* the round checks again */
	}
	nother = pgmp2_tier_nodes(topo,
							  other_setting && other_setting[0] ? NULL :
							  pgmp2_kernel_top_tier(topo),
							  other_setting, !fast, &other, &other_source);
	mp2_topology_free(topo);
	both = nother > 0 ? pgmp2_common_node(nodes, n, other, nother) : -1;
	pfree(nodes);
	if (nother >= 0)
		pfree(other);
	if (both >= 0)
	{
		GUC_check_errdetail("Node %d is also a %s node (mp2.%s is \"%s\").",
							both, fast ? "slow" : "fast",
							fast ? "slow_nodes" : "fast_nodes",
							other_setting && other_setting[0] ? other_setting :
							other_source);
		GUC_check_errhint("A node belongs to one tier.  To move a node from one list to the other, take it out of the first list before you add it to the second.");
		return false;
	}
	return true;
}

bool
pgmp2_check_fast_nodes(char **newval, void **extra, GucSource source)
{
	return check_tier_nodes(newval, true);
}

bool
pgmp2_check_slow_nodes(char **newval, void **extra, GucSource source)
{
	return check_tier_nodes(newval, false);
}

bool
pgmp2_check_fast_fraction(double *newval, void **extra, GucSource source)
{
	if (*newval > 0.0 && *newval <= 1.0)
		return true;
	GUC_check_errdetail("mp2.fast_fraction is the share of the pool the fast tier may hold: more than 0, at most 1.");
	return false;
}
