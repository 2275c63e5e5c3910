/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * nodes.c
 *	  NUMA node lists: the nodes with memory, parsing and printing lists
 *	  such as "0-1,3", and checking a target node.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <ctype.h>

#include "lib/stringinfo.h"

/*
 * The nodes that have memory, ascending, as a palloc'd array; returns how
 * many.  *max_node (if not NULL) receives the highest node number the
 * kernel knows.
 */
int
pgmp2_memory_node_list(int **nodes, int *max_node)
{
	struct mp2_topology *topo;
	int			err = mp2_topology_read(&topo);
	int			n;

	if (err != 0)
		ereport(ERROR,
				(errmsg("could not read the NUMA topology: %s",
						mp2_strerror(err))));
	n = topo->nr_nodes;
	*nodes = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
		(*nodes)[i] = topo->nodes[i].id;
	if (max_node)
		*max_node = topo->max_node;
	mp2_topology_free(topo);
	return n;
}

/* "0-2,5" for {0,1,2,5}; the input must ascend. */
char *
pgmp2_format_node_list(const int *nodes, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n;)
	{
		int			j = i;

		while (j + 1 < n && nodes[j + 1] == nodes[j] + 1)
			j++;
		if (buf.len > 0)
			appendStringInfoChar(&buf, ',');
		if (j == i)
			appendStringInfo(&buf, "%d", nodes[i]);
		else
			appendStringInfo(&buf, "%d-%d", nodes[i], nodes[j]);
		i = j + 1;
	}
	return buf.data;
}

static bool
parse_number(const char **p, int *value)
{
	long		v = 0;

	while (isspace((unsigned char) **p))
		(*p)++;
	if (!isdigit((unsigned char) **p))
		return false;
	while (isdigit((unsigned char) **p))
	{
		v = v * 10 + (**p - '0');
		if (v > 4096)
			return false;
		(*p)++;
	}
	while (isspace((unsigned char) **p))
		(*p)++;
	*value = (int) v;
	return true;
}

int
pgmp2_parse_node_list(const char *s, int **nodes)
{
	const char *p = s;
	int			cap = 8;
	int			n = 0;

	*nodes = palloc(sizeof(int) * cap);
	for (;;)
	{
		int			a,
					b;

		if (!parse_number(&p, &a))
			goto bad;
		b = a;
		if (*p == '-')
		{
			p++;
			if (!parse_number(&p, &b) || b < a)
				goto bad;
		}
		for (int v = a; v <= b; v++)
		{
			if (n == cap)
			{
				cap *= 2;
				*nodes = repalloc(*nodes, sizeof(int) * cap);
			}
			(*nodes)[n++] = v;
		}
		if (*p == '\0')
			return n;
		if (*p != ',')
			goto bad;
		p++;
	}
bad:
	pfree(*nodes);
	*nodes = NULL;
	return -1;
}

void
pgmp2_require_node(int node)
{
	int		   *nodes;
	int			n;

	if (node >= 0 && mp2_node_check(node) == 0)
		return;
	n = pgmp2_memory_node_list(&nodes, NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("node %d is not a NUMA node with memory", node),
			 errdetail("Nodes with memory: %s.",
					   pgmp2_format_node_list(nodes, n))));
}

/* The first node of a that is also in b, or -1. */
int
pgmp2_common_node(const int *a, int na, const int *b, int nb)
{
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (a[i] == b[j])
				return a[i];
	return -1;
}
