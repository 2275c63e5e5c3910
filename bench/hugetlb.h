/* SPDX-License-Identifier: MIT */
/*
 * The per-node pools of 2 MiB hugetlb pages
 * (/sys/devices/system/node/nodeN/hugepages/hugepages-2048kB/): make sure
 * a node has enough free pages for a run, growing its pool when allowed,
 * and put the pools back as they were afterwards.
 */
#ifndef MP2BENCH_HUGETLB_H
#define MP2BENCH_HUGETLB_H

#include <stddef.h>

#define HUGETLB_MAX_NODES 8

struct hugetlb_pools {
	int n;				/* pools changed */
	int node[HUGETLB_MAX_NODES];
	long saved[HUGETLB_MAX_NODES];	/* their nr_hugepages before */
};

/*
 * Make sure node has at least need free 2 MiB pages: if it has fewer,
 * grow its pool (root only), recording the old size in p.  0, or -1 with
 * the reason in why (the pool is then as before).
 */
int hugetlb_reserve(struct hugetlb_pools *p, int node, long need, char *why,
		    size_t len);

/* Put every pool hugetlb_reserve() grew back to its old size. */
void hugetlb_restore(struct hugetlb_pools *p);

#endif /* MP2BENCH_HUGETLB_H */
