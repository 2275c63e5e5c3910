/* SPDX-License-Identifier: MIT */
/*
 * Processes that map a shared buffer: forked children that touch every
 * page of it, so that each page is mapped by several processes (as a
 * database's buffer pool is by its backends), and then wait until told
 * to exit.
 */
#ifndef MP2BENCH_MAPPERS_H
#define MP2BENCH_MAPPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MAPPERS_MAX 1024

struct mappers {
	int nr_children;
	pid_t *pids;
	int go_fd;		/* closing it lets the children exit */
};

/*
 * Make n processes map [addr, addr + bytes), this one and n - 1 children.
 * Returns once every child has read every base page of it; the children
 * then block until mappers_stop().  0 or a negative errno (no child is
 * left running then).
 */
int mappers_start(struct mappers *m, int n, const void *addr, size_t bytes);

/* Let the children exit and reap them: 0 when all exited with status 0. */
int mappers_stop(struct mappers *m);

/*
 * Whether this process may move pages other processes map too (move_all,
 * which needs CAP_SYS_NICE in its effective set).
 */
bool can_move_all(void);

#endif /* MP2BENCH_MAPPERS_H */
