/* SPDX-License-Identifier: MIT */
/* mp2bench migrate: its rows, their CSV form and their summary. */
#ifndef MP2BENCH_MIGRATE_H
#define MP2BENCH_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bench.h"
#include "pagekind.h"
#include "rows.h"

/* One run: a migration there and back, or the memcpy reference. */
struct mrow {
	bool is_memcpy;
	struct setting s;		/* the migration's setting */
	int threads;			/* migrating threads */
	long repeat;
	size_t pages;			/* pages of the kind moved (copied) */
	double seconds;			/* wall time of the moves (the copy) */
	size_t failed;			/* pages that failed or were not tried */
	enum page_kind kind;		/* asked for */
	const char *seen;		/* found before the move (smaps) */
	const char *moved;		/* found on the target after the move */
	int mappers;			/* processes mapping the buffer */
	int busy;			/* reader threads beside the migration */
	double busy_reads_per_s;
	double cpu_s;			/* CPU time of the moves, readers' left out */
	double sys_s;			/* system time of the whole process */
	char check[128];		/* "ok", or what did not hold */
};

/* The CSV header line (without a newline). */
extern const char migrate_csv_header[];

/* Write one row as CSV. */
void mrow_print(FILE *f, const struct mrow *r);

/* Append a copy of r to rows of struct mrow: 0 or -ENOMEM. */
int mrows_add(struct rows *rows, const struct mrow *r);

/*
 * Medians per setting over the rows (of struct mrow) whose check is "ok",
 * with the ratios of pages/s and of CPU time per page to move_pages at
 * the same page kind, mappers, reader threads and pages per call: a table
 * on table (stderr) and, when csv is not NULL, the same as CSV.
 */
void migrate_summary(const struct rows *rows, FILE *table, FILE *csv);

#endif /* MP2BENCH_MIGRATE_H */
