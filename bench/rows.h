/* SPDX-License-Identifier: MIT */
/*
 * mp2bench: the result rows of a subcommand (struct mrow, struct yrow)
 * in a growing array, and sorted into groups for a summary, whatever
 * their type.
 */
#ifndef MP2BENCH_ROWS_H
#define MP2BENCH_ROWS_H

#include <stddef.h>
#include <stdio.h>

/* A growing array of rows of one type. */
struct rows {
	void *v;
	size_t n, cap;
};

/* Append a copy of the row r, of size bytes: 0 or -ENOMEM. */
int rows_add(struct rows *rows, const void *r, size_t size);

/* The rows [first, first + n) of a sorted copy: one group. */
struct row_group {
	size_t first, n;
};

/* A sorted copy of rows, cut into groups of rows that compare equal. */
struct row_groups {
	void *v;			/* the rows, sorted */
	struct row_group *g;
	size_t n;			/* groups */
};

/*
 * Sort a copy of rows (of size bytes each) by cmp and cut it where cmp
 * finds a row different from the first of its group: one group per
 * setting, when cmp orders by setting.  0 or -ENOMEM; free rg with
 * row_groups_free() either way.
 */
int row_groups_sort(struct row_groups *rg, const struct rows *rows,
		    size_t size, int (*cmp)(const void *, const void *));
void row_groups_free(struct row_groups *rg);

/*
 * How a subcommand sums up its rows: rows of row_size bytes are sorted by
 * cmp and cut into groups (one per setting, when cmp orders by setting);
 * summarize() works out the summary of a group, of group_size bytes, from
 * its n rows at first; print() writes the groups and their summaries
 * (one per group, in the order of rg->g) as a table on table and, when
 * csv is not NULL, as CSV.
 */
struct summary_ops {
	const char *cmd;		/* the subcommand, for messages */
	size_t row_size, group_size;
	int (*cmp)(const void *a, const void *b);
	void (*summarize)(const void *first, size_t n, void *summary);
	void (*print)(const struct row_groups *rg, const void *summaries,
		      FILE *table, FILE *csv);
};

/* Sum up rows as ops says; when memory runs out, say so on table. */
void summarize_rows(const struct rows *rows, const struct summary_ops *ops,
		    FILE *table, FILE *csv);

#endif /* MP2BENCH_ROWS_H */
