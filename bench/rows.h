/* SPDX-License-Identifier: MIT */
/*
 * mp2bench: the result rows of a subcommand (struct mrow, struct yrow)
 * in a growing array, whatever their type.
 */
#ifndef MP2BENCH_ROWS_H
#define MP2BENCH_ROWS_H

#include <stddef.h>

/* A growing array of rows of one type. */
struct rows {
	void *v;
	size_t n, cap;
};

/* Append a copy of the row r, of size bytes: 0 or -ENOMEM. */
int rows_add(struct rows *rows, const void *r, size_t size);

#endif /* MP2BENCH_ROWS_H */
