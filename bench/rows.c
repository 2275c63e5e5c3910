// SPDX-License-Identifier: MIT
/* mp2bench: a growing array of result rows, summed up by groups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"

int rows_add(struct rows *rows, const void *r, size_t size)
{
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? 2 * rows->cap : 64;
		void *v = realloc(rows->v, cap * size);

		if (!v)
			return -ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	memcpy((char *)rows->v + rows->n++ * size, r, size);
	return 0;
}

int row_groups_sort(struct row_groups *rg, const struct rows *rows,
		    size_t size, int (*cmp)(const void *, const void *))
{
	size_t n = rows->n ? rows->n : 1;
	char *v = malloc(n * size);

	rg->v = v;
	rg->g = calloc(n, sizeof(*rg->g));
	rg->n = 0;
	if (!v || !rg->g)
		return -ENOMEM;
	if (rows->n)	/* rows->v is NULL before the first row */
		memcpy(v, rows->v, rows->n * size);
	qsort(v, rows->n, size, cmp);
	for (size_t i = 0; i < rows->n; i++) {
		if (rg->n == 0 ||
		    cmp(v + rg->g[rg->n - 1].first * size, v + i * size)) {
			rg->g[rg->n].first = i;
			rg->n++;
		}
		rg->g[rg->n - 1].n++;
	}
	return 0;
}

/*
 * row_groups_sort(), then the summaries of the groups: an array of rg->n
 * of them, or NULL when memory runs out.
 */
static void *summaries_of(struct row_groups *rg, const struct rows *rows,
			  const struct summary_ops *ops)
{
	char *gs;

	if (row_groups_sort(rg, rows, ops->row_size, ops->cmp))
		return NULL;
	gs = calloc(rg->n ? rg->n : 1, ops->group_size);
	for (size_t k = 0; gs && k < rg->n; k++)
		ops->summarize((char *)rg->v + rg->g[k].first * ops->row_size,
			       rg->g[k].n, gs + k * ops->group_size);
	return gs;
}

void summarize_rows(const struct rows *rows, const struct summary_ops *ops,
		    FILE *table, FILE *csv)
{
	struct row_groups rg;
	void *gs = summaries_of(&rg, rows, ops);

	if (gs)
		ops->print(&rg, gs, table, csv);
	else
		fprintf(table, "mp2bench %s: no memory for the summary\n",
			ops->cmd);
	row_groups_free(&rg);
	free(gs);
}

void row_groups_free(struct row_groups *rg)
{
	free(rg->v);
	free(rg->g);
	rg->v = NULL;
	rg->g = NULL;
	rg->n = 0;
}
