// SPDX-License-Identifier: MIT
/*
 * The kernel's memory tiers (Linux 6.1 and later).
 *
 * The kernel groups nodes of similar speed into tiers, from the ACPI HMAT
 * or from the driver that brought the memory online: the nodes of tier N
 * are listed in /sys/devices/virtual/memory_tiering/memory_tierN/nodelist,
 * and a smaller N is a faster tier.  N itself is an abstract distance
 * divided by a chunk size, which changes between kernels, so callers get
 * ranks instead: 0 for the fastest tier, 1 for the next, ...
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp2_internal.h"

#define TIERS_DIR	"/sys/devices/virtual/memory_tiering"

struct tier {
	int id;
	struct bitmask *nodes;
};

static int by_id(const void *a, const void *b)
{
	const struct tier *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* N of a directory entry named memory_tierN, or -1. */
static int tier_id(const char *name)
{
	const char *prefix = "memory_tier";
	size_t len = strlen(prefix);
	char *end;
	long id;

	if (strncmp(name, prefix, len) != 0 || name[len] < '0' || name[len] > '9')
		return -1;
	id = strtol(name + len, &end, 10);
	return *end == '\0' && id >= 0 && id < INT_MAX ? (int)id : -1;
}

/* Read the tiers under dir into *out (sorted by id); their number, or -errno. */
static int read_tiers(const char *dir, struct tier **out)
{
	struct tier *tiers = NULL, *bigger;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir(dir);
	int ret = 0;

	*out = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		int id = tier_id(e->d_name);
		struct bitmask *nodes;

		if (id < 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/nodelist", dir, e->d_name) >=
		    (int)sizeof(path)) {
			ret = -ENAMETOOLONG;
			break;
		}
		ret = mp2_sysfs_list(path, 1, &nodes);
		if (ret == -ENOENT) {
			ret = 0;	/* the tier went away as we read */
			continue;
		}
		if (ret)
			break;
		if (numa_bitmask_weight(nodes) == 0) {
			numa_bitmask_free(nodes);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			bigger = realloc(tiers, cap * sizeof(*tiers));
			if (!bigger) {
				numa_bitmask_free(nodes);
				ret = -ENOMEM;
				break;
			}
			tiers = bigger;
		}
		tiers[n].id = id;
		tiers[n].nodes = nodes;
		n++;
	}
	closedir(d);
	if (ret) {
		for (size_t i = 0; i < n; i++)
			numa_bitmask_free(tiers[i].nodes);
		free(tiers);
		return ret;
	}
	if (n > 1)
		qsort(tiers, n, sizeof(*tiers), by_id);
	*out = tiers;
	return (int)n;
}

int mp2_memory_tiers_in(const char *dir, int *tier, int nr)
{
	struct tier *tiers;
	int n;

	if (!tier || nr < 1)
		return -EINVAL;
	n = read_tiers(dir, &tiers);
	if (n < 0)
		return n;
	for (int node = 0; node < nr; node++)
		tier[node] = -1;
	for (int r = 0; r < n; r++) {
		for (int node = 0; node < nr; node++)
			if (mp2_node_in(tiers[r].nodes, node))
				tier[node] = r;
		numa_bitmask_free(tiers[r].nodes);
	}
	free(tiers);
	return n;
}

int mp2_memory_tiers(int *tier, int nr)
{
	return mp2_memory_tiers_in(TIERS_DIR, tier, nr);
}
