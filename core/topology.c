// SPDX-License-Identifier: MIT
/* NUMA topology through libnuma: nodes with memory, CPUs, distances. */
#include <errno.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp2_internal.h"

#define HAS_MEMORY_PATH "/sys/devices/system/node/has_memory"

struct bitmask *mp2_memory_nodes(void)
{
	char buf[4096];
	FILE *f;
	struct bitmask *mask = NULL;

	if (numa_available() >= 0) {
		f = fopen(HAS_MEMORY_PATH, "re");
		if (f) {
			if (fgets(buf, sizeof(buf), f)) {
				buf[strcspn(buf, "\n")] = '\0';
				mask = numa_parse_nodestring_all(buf);
			}
			fclose(f);
			if (mask)
				return mask;
		}
	}
	/* No NUMA in this kernel: all memory is node 0. */
	mask = numa_allocate_nodemask();
	if (mask)
		numa_bitmask_setbit(mask, 0);
	return mask;
}

bool mp2_node_in(const struct bitmask *mask, int node)
{
	return node >= 0 && (unsigned long)node < mask->size &&
	       numa_bitmask_isbitset(mask, (unsigned int)node);
}

int mp2_node_check(int node)
{
	struct bitmask *mem = mp2_memory_nodes();
	bool ok;

	if (!mem)
		return -ENOMEM;
	ok = mp2_node_in(mem, node);
	numa_bitmask_free(mem);
	return ok ? 0 : -ENODEV;
}

/* Fill one node's sizes and CPUs; without NUMA, the whole machine. */
static int node_fill(struct mp2_node *n, int id, bool numa)
{
	long long free_b = 0;
	long long total;

	n->id = id;
	n->cpus = numa_allocate_cpumask();
	if (!n->cpus)
		return -ENOMEM;
	if (numa) {
		total = numa_node_size64(id, &free_b);
		if (total < 0)
			total = 0;
		if (numa_node_to_cpus(id, n->cpus) < 0)
			numa_bitmask_clearall(n->cpus);
	} else {
		long pages = sysconf(_SC_PHYS_PAGES);
		long avail = sysconf(_SC_AVPHYS_PAGES);
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		total = (long long)pages * (long long)mp2_page_size();
		free_b = (long long)avail * (long long)mp2_page_size();
		for (long c = 0; c < cpus && (unsigned long)c < n->cpus->size; c++)
			numa_bitmask_setbit(n->cpus, (unsigned int)c);
	}
	n->mem_total = (uint64_t)total;
	n->mem_free = free_b < 0 ? 0 : (uint64_t)free_b;
	n->nr_cpus = (int)numa_bitmask_weight(n->cpus);
	return 0;
}

int mp2_topology_read(struct mp2_topology **out)
{
	bool numa = numa_available() >= 0;
	struct bitmask *mem;
	struct mp2_topology *t;
	int dim, ret = -ENOMEM;

	if (!out)
		return -EINVAL;
	*out = NULL;
	mem = mp2_memory_nodes();
	if (!mem)
		return -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto out_mask;
	t->max_node = numa ? numa_max_node() : 0;
	dim = t->max_node + 1;
	t->nodes = calloc((size_t)dim, sizeof(*t->nodes));
	t->distance = calloc((size_t)dim * (size_t)dim, sizeof(*t->distance));
	if (!t->nodes || !t->distance)
		goto out_free;
	for (int id = 0; id < dim; id++) {
		if (!mp2_node_in(mem, id))
			continue;
		ret = node_fill(&t->nodes[t->nr_nodes], id, numa);
		t->nr_nodes++;
		if (ret)
			goto out_free;
	}
	for (int a = 0; a < dim; a++)
		for (int b = 0; b < dim; b++)
			t->distance[a * dim + b] =
				numa ? numa_distance(a, b) : 10;
	numa_bitmask_free(mem);
	*out = t;
	return 0;

out_free:
	mp2_topology_free(t);
out_mask:
	numa_bitmask_free(mem);
	return ret;
}

void mp2_topology_free(struct mp2_topology *t)
{
	if (!t)
		return;
	for (int i = 0; t->nodes && i < t->nr_nodes; i++)
		if (t->nodes[i].cpus)
			numa_bitmask_free(t->nodes[i].cpus);
	free(t->nodes);
	free(t->distance);
	free(t);
}

int mp2_topology_distance(const struct mp2_topology *t, int from, int to)
{
	if (!t || from < 0 || to < 0 || from > t->max_node || to > t->max_node)
		return -1;
	return t->distance[from * (t->max_node + 1) + to];
}
