/* SPDX-License-Identifier: MIT */
/* mp2bench ycsb: its rows, their CSV form and their summary. */
#ifndef MP2BENCH_YCSB_H
#define MP2BENCH_YCSB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"
#include "rows.h"

/* One run of one mix with one setting (or none) at one r. */
struct yrow {
	char mix;			/* 'C', 'A' or 'E' */
	bool none;			/* the baseline: no migration */
	struct setting s;		/* the migration's setting */
	double r;			/* migration probability; 0 for none */
	long threads;
	long repeat;
	double seconds;			/* wall time of the run */
	uint64_t queries, migrations, pages_moved, pages_failed;
	double migration_s;		/* time the workers spent migrating */
};

/* The CSV header line (without a newline). */
extern const char ycsb_csv_header[];

/* Write one row as CSV. */
void yrow_print(FILE *f, const struct yrow *r);

/* Append a copy of r to rows of struct yrow: 0 or -ENOMEM. */
int yrows_add(struct rows *rows, const struct yrow *r);

/*
 * Medians per mix, r and setting of the rows (of struct yrow): queries/s,
 * pages migrated per second, milliseconds per slice migration and the
 * share of the workers' time spent migrating, with their smallest and
 * largest value, and the ratios of queries/s to the baseline of the mix
 * and of queries/s and pages/s to move_pages at the same mix, r and pages
 * per call.  A table on table (stderr) and, when csv is not NULL, the same
 * as CSV (header ycsb_summary_header).
 */
extern const char ycsb_summary_header[];
void ycsb_summary(const struct rows *rows, FILE *table, FILE *csv);

#endif /* MP2BENCH_YCSB_H */
