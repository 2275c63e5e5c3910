// SPDX-License-Identifier: MIT
/* mp2bench: reserve 2 MiB hugetlb pages on a node for a run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hugetlb.h"

static void pool_path(char *buf, size_t len, int node, const char *file)
{
	snprintf(buf, len, "/sys/devices/system/node/node%d/hugepages/"
		 "hugepages-2048kB/%s", node, file);
}

static long pool_read(int node, const char *file)
{
	char path[128];
	long v = -1;
	FILE *f;

	pool_path(path, sizeof(path), node, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int pool_write(int node, long nr)
{
	char path[128];
	int err = 0;
	FILE *f;

	pool_path(path, sizeof(path), node, "nr_hugepages");
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", nr) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int hugetlb_reserve(struct hugetlb_pools *p, int node, long need, char *why,
		    size_t len)
{
	char path[128];
	long nr = pool_read(node, "nr_hugepages");
	long free = pool_read(node, "free_hugepages");
	long got;
	int err;

	pool_path(path, sizeof(path), node, "nr_hugepages");
	if (nr < 0 || free < 0) {
		snprintf(why, len, "cannot read %s: no 2 MiB hugetlb pages "
			 "on node %d", path, node);
		return -1;
	}
	if (free >= need)
		return 0;
	if (p->n == HUGETLB_MAX_NODES) {
		snprintf(why, len, "too many hugetlb pools to grow");
		return -1;
	}
	err = pool_write(node, nr + need - free);
	got = pool_read(node, "free_hugepages");
	if (err || got < need) {
		pool_write(node, nr);
		if (err)
			snprintf(why, len, "node %d has %ld free 2 MiB hugetlb "
				 "pages and needs %ld; cannot grow %s (%s): "
				 "as root, echo %ld > %s", node, free, need,
				 path, strerror(-err), nr + need - free, path);
		else
			snprintf(why, len, "node %d has %ld free 2 MiB hugetlb "
				 "pages and needs %ld; growing %s gave only "
				 "%ld (memory too fragmented or too small)",
				 node, free, need, path, got);
		return -1;
	}
	p->node[p->n] = node;
	p->saved[p->n++] = nr;
	return 0;
}

void hugetlb_restore(struct hugetlb_pools *p)
{
	while (p->n > 0) {
		p->n--;
		pool_write(p->node[p->n], p->saved[p->n]);
	}
}
