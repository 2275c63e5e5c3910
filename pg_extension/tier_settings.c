/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * tier_settings.c
 *	  The nodes of policy tier's two tiers, and the checks of its
 *	  settings (mp2.fast_nodes, mp2.slow_nodes, mp2.fast_fraction).
 *
 * A node belongs to one tier: a value that would put a node in both is
 * refused when it is set, with the other setting named in the message.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

/*
 * A tier's nodes: the setting, or by default the nodes of topo with
 * memory and with CPUs (fast) or without.  Returns the count, -1 for a
 * list that does not parse.
 */
int
pgmp2_tier_nodes(const struct mp2_topology *topo, const char *setting,
				 bool fast, int **out)
{
	int			n = 0;

	if (setting != NULL && setting[0] != '\0')
		return pgmp2_parse_node_list(setting, out);
	*out = palloc(sizeof(int) * Max(topo->nr_nodes, 1));
	for (int i = 0; i < topo->nr_nodes; i++)
		if ((topo->nodes[i].nr_cpus > 0) == fast)
			(*out)[n++] = topo->nodes[i].id;
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
	nother = pgmp2_tier_nodes(topo, other_setting, !fast, &other);
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
							(fast ? "the nodes without CPUs" : "the nodes with CPUs"));
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
