/* SPDX-License-Identifier: MIT */
/*
 * CSV text in the mp2bench suites: how many columns a line has, and the
 * CSV a subcommand's summary writes for given rows.
 */
#ifndef MP2_TEST_CSV_H
#define MP2_TEST_CSV_H

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "rows.h"

/* The columns of one CSV line (its commas and one); no quoting. */
static inline int csv_columns(const char *line)
{
	int n = 1;

	for (; *line; line++)
		n += *line == ',';
	return n;
}

/*
 * The CSV that summary() (migrate_summary, ycsb_summary) writes for the n
 * rows of size bytes at v: a temporary file, rewound, or NULL when one
 * cannot be made.  The table it writes beside goes to another, dropped.
 */
static inline FILE *summary_csv(const void *v, size_t n, size_t size,
				void (*summary)(const struct rows *rows,
						FILE *table, FILE *csv))
{
	struct rows rows = { 0 };
	FILE *table = tmpfile(), *csv = tmpfile();

	for (size_t i = 0; i < n; i++)
		T_EQ(rows_add(&rows, (const char *)v + i * size, size), 0);
	if (table && csv) {
		summary(&rows, table, csv);
		rewind(csv);
	} else if (csv) {
		fclose(csv);
		csv = NULL;
	}
	if (table)
		fclose(table);
	free(rows.v);
	return csv;
}

#endif
