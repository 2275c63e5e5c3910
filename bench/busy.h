/* SPDX-License-Identifier: MIT */
/*
 * A query-like load beside a migration: threads that read random 8-byte
 * words of a buffer of their own until told to stop.
 */
#ifndef MP2BENCH_BUSY_H
#define MP2BENCH_BUSY_H

#include <stddef.h>
#include <stdint.h>

struct busy;

/*
 * Start n reader threads over buf[0, bytes) (bytes >= 8); returns once
 * every one of them runs.  NULL when out of memory or threads.
 */
struct busy *busy_start(int n, const char *buf, size_t bytes);

/* The reads done so far and the CPU time (s) the readers used so far. */
void busy_sample(const struct busy *b, uint64_t *reads, double *cpu_s);

/* Stop the readers, wait for them and free b (NULL is allowed). */
void busy_stop(struct busy *b);

#endif /* MP2BENCH_BUSY_H */
