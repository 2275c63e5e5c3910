/* SPDX-License-Identifier: MIT */
/* Declarations shared by libmp2's own files; not part of the API. */
#ifndef MP2_INTERNAL_H
#define MP2_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mp2.h"

/* Locate this many pages per system call. */
#define MP2_LOCATE_CHUNK 1024

/* malloc(n * size), or NULL when that overflows or memory is short. */
static inline void *mp2_alloc_array(size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return malloc(bytes ? bytes : 1);
}

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mp2_now_ns(void);

/* The base page size. */
size_t mp2_page_size(void);

/*
 * A zeroed libnuma mask of bits bits, or NULL when out of memory; free it
 * with numa_bitmask_free.  (libnuma's own allocators exit on failure.)
 */
struct bitmask *mp2_bitmask_alloc(unsigned long bits);

/*
 * The nodes that have memory, as a mask from mp2_bitmask_alloc().
 * Returns 0 or -ENOMEM.
 */
int mp2_memory_nodes(struct bitmask **out);

/*
 * Read a sysfs list such as "0-3,8" in path into a new mask of at least
 * min_bits bits.  Returns 0, -ENOENT (no such file), -EINVAL (malformed)
 * or -ENOMEM.
 */
int mp2_sysfs_list(const char *path, unsigned long min_bits,
		   struct bitmask **out);

/*
 * mp2_memory_tiers() with the kernel's memory_tiering directory at dir
 * (the tests point it at a tree of their own).
 */
int mp2_memory_tiers_in(const char *dir, int *tier, int nr);

/* Whether node is set in a mask from mp2_memory_nodes(). */
bool mp2_node_in(const struct bitmask *mask, int node);

/*
 * The system calls, each returning what the kernel returned (>= 0) or a
 * negative errno.
 */
long mp2_sys_query(pid_t pid, size_t n, void **pages, int *status);
long mp2_sys_move_pages(pid_t pid, size_t n, void **pages, const int *nodes,
			int *status, bool move_all);
long mp2_sys_move_pages2(long nr, size_t n, void **pages, const int *nodes,
			 int *status, enum mp2_mode mode, bool move_all,
			 unsigned int kernel_batch);

/* Count one page's final status into stats (status == target: moved). */
void mp2_stats_count_status(struct mp2_stats *s, int status, int target);

#endif /* MP2_INTERNAL_H */
