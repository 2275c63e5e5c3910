// SPDX-License-Identifier: MIT
/*
 * NUMA topology from sysfs: nodes with memory, CPUs, distances.
 *
 * libnuma's mask allocators and several of its queries (numa_node_to_cpus,
 * numa_parse_nodestring) call exit() when out of memory, and its distance
 * and size queries print warnings.  So the files are read and parsed here,
 * masks are allocated here, and only libnuma's bitmask helpers, which
 * never allocate, are used on them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp2_internal.h"

#define NODE_DIR	"/sys/devices/system/node"

/* No node or CPU number in a sysfs list is this large. */
#define LIST_MAX_BIT	(1ul << 22)

#define BITS_PER_LONG	(sizeof(unsigned long) * CHAR_BIT)

struct bitmask *mp2_bitmask_alloc(unsigned long bits)
{
	struct bitmask *mask = calloc(1, sizeof(*mask));
	size_t longs = (bits + BITS_PER_LONG - 1) / BITS_PER_LONG;

	if (!mask)
		return NULL;
	mask->maskp = calloc(longs ? longs : 1, sizeof(*mask->maskp));
	if (!mask->maskp) {
		free(mask);
		return NULL;
	}
	mask->size = bits;
	return mask;
}

/*
 * The contents of a sysfs file as a string, in *out (free it).
 * Returns 0 or a negative errno: -ENOENT when it does not exist.
 */
static int read_text(const char *path, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf, *bigger;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len + 1 == cap) {
			bigger = realloc(buf, 2 * cap);
			if (!bigger) {
				ret = -ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/*
 * Walk a sysfs list such as "0-3,8": set its bits in mask (if not NULL)
 * and raise *top above the highest.  Returns 0 or -EINVAL.
 */
static int list_walk(const char *s, struct bitmask *mask, unsigned long *top)
{
	while (*s && *s != '\n') {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		a = b = strtoul(s, &end, 10);
		s = end;
		if (*s == '-') {
			if (!isdigit((unsigned char)*++s))
				return -EINVAL;
			b = strtoul(s, &end, 10);
			s = end;
		}
		if (b < a || b >= LIST_MAX_BIT)
			return -EINVAL;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
		if (b + 1 > *top)
			*top = b + 1;
		for (; mask && a <= b; a++)
			numa_bitmask_setbit(mask, (unsigned int)a);
	}
	return 0;
}

int mp2_sysfs_list(const char *path, unsigned long min_bits,
		   struct bitmask **out)
{
	unsigned long top = min_bits;
	char *text;
	int ret = read_text(path, &text);

	if (ret)
		return ret;
	ret = list_walk(text, NULL, &top);
	if (!ret) {
		*out = mp2_bitmask_alloc(top);
		if (*out)
			list_walk(text, *out, &top);
		else
			ret = -ENOMEM;
	}
	free(text);
	return ret;
}

static unsigned long possible_nodes(void)
{
	int n = numa_num_possible_nodes();

	return n > 0 ? (unsigned long)n : 1;
}

int mp2_memory_nodes(struct bitmask **out)
{
	int ret = -ENOENT;

	if (numa_available() >= 0)
		ret = mp2_sysfs_list(NODE_DIR "/has_memory", possible_nodes(), out);
	if (ret != -ENOENT && ret != -EINVAL)
		return ret;
	/* No NUMA in this kernel: all memory is node 0. */
	*out = mp2_bitmask_alloc(possible_nodes());
	if (!*out)
		return -ENOMEM;
	numa_bitmask_setbit(*out, 0);
	return 0;
}

bool mp2_node_in(const struct bitmask *mask, int node)
{
	return node >= 0 && (unsigned long)node < mask->size &&
	       numa_bitmask_isbitset(mask, (unsigned int)node);
}

int mp2_node_check(int node)
{
	struct bitmask *mem;
	bool ok;
	int ret = mp2_memory_nodes(&mem);

	if (ret)
		return ret;
	ok = mp2_node_in(mem, node);
	numa_bitmask_free(mem);
	return ok ? 0 : -ENODEV;
}

/* The number after key in a node's meminfo, in bytes; 0 if absent. */
static uint64_t meminfo_bytes(const char *text, const char *key)
{
	const char *s = strstr(text, key);

	if (!s)
		return 0;
	return (uint64_t)strtoull(s + strlen(key), NULL, 10) * 1024u;
}

static int node_memory(struct mp2_node *n)
{
	char path[64];
	char *text;
	int ret;

	snprintf(path, sizeof(path), NODE_DIR "/node%d/meminfo", n->id);
	ret = read_text(path, &text);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return 0;	/* unknown: 0 bytes */
	n->mem_total = meminfo_bytes(text, "MemTotal:");
	n->mem_free = meminfo_bytes(text, "MemFree:");
	free(text);
	return 0;
}

static int node_cpus(struct mp2_node *n)
{
	int possible = numa_num_possible_cpus();
	unsigned long bits = possible > 0 ? (unsigned long)possible : 1;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), NODE_DIR "/node%d/cpulist", n->id);
	ret = mp2_sysfs_list(path, bits, &n->cpus);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		/* Unknown: no CPUs. */
		n->cpus = mp2_bitmask_alloc(bits);
		if (!n->cpus)
			return -ENOMEM;
	}
	return 0;
}

/* Without NUMA: one node 0 with the whole machine. */
static int machine_node(struct mp2_node *n)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long avail = sysconf(_SC_AVPHYS_PAGES);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int possible = numa_num_possible_cpus();
	unsigned long bits = possible > cpus ? (unsigned long)possible :
		cpus > 0 ? (unsigned long)cpus : 1;

	n->cpus = mp2_bitmask_alloc(bits);
	if (!n->cpus)
		return -ENOMEM;
	for (long c = 0; c < cpus; c++)
		numa_bitmask_setbit(n->cpus, (unsigned int)c);
	n->mem_total = pages > 0 ? (uint64_t)pages * mp2_page_size() : 0;
	n->mem_free = avail > 0 ? (uint64_t)avail * mp2_page_size() : 0;
	return 0;
}

/* The highest bit set in mask, 0 if none. */
static int highest(const struct bitmask *mask)
{
	for (unsigned long i = mask->size; i > 0; i--)
		if (numa_bitmask_isbitset(mask, (unsigned int)(i - 1)))
			return (int)(i - 1);
	return 0;
}

/*
 * Fill distance[] from nodeN/distance: each lists the distances to the
 * online nodes, in ascending order.
 */
static int read_distances(struct mp2_topology *t, const struct bitmask *online)
{
	int dim = t->max_node + 1;

	for (int a = 0; a < dim; a++) {
		char path[64];
		char *text, *s, *end;
		int ret;

		if (!mp2_node_in(online, a))
			continue;
		snprintf(path, sizeof(path), NODE_DIR "/node%d/distance", a);
		ret = read_text(path, &text);
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			continue;	/* unknown: 0 */
		s = text;
		for (int b = 0; b < dim; b++) {
			long d;

			if (!mp2_node_in(online, b))
				continue;
			d = strtol(s, &end, 10);
			if (end == s || d < 0 || d > INT_MAX)
				break;
			t->distance[a * dim + b] = (int)d;
			s = end;
		}
		free(text);
	}
	return 0;
}

int mp2_topology_read(struct mp2_topology **out)
{
	bool numa = numa_available() >= 0;
	struct bitmask *mem, *online = NULL;
	struct mp2_topology *t;
	int dim, ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ret = mp2_memory_nodes(&mem);
	if (ret)
		return ret;
	if (numa) {
		ret = mp2_sysfs_list(NODE_DIR "/online", possible_nodes(), &online);
		if (ret == -ENOMEM)
			goto out_mask;
		numa = ret == 0;
	}
	ret = -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto out_mask;
	t->max_node = highest(mem);
	if (numa) {
		/* Nodes may have come online since libnuma looked. */
		if (t->max_node < numa_max_node())
			t->max_node = numa_max_node();
		if (t->max_node < highest(online))
			t->max_node = highest(online);
	}
	dim = t->max_node + 1;
	t->nodes = calloc((size_t)dim, sizeof(*t->nodes));
	t->distance = calloc((size_t)dim * (size_t)dim, sizeof(*t->distance));
	if (!t->nodes || !t->distance)
		goto out_free;
	for (int id = 0; id < dim; id++) {
		struct mp2_node *n = &t->nodes[t->nr_nodes];

		if (!mp2_node_in(mem, id))
			continue;
		n->id = id;
		t->nr_nodes++;
		ret = numa ? node_memory(n) : machine_node(n);
		if (!ret && numa)
			ret = node_cpus(n);
		if (ret)
			goto out_free;
		n->nr_cpus = (int)numa_bitmask_weight(n->cpus);
	}
	if (numa) {
		ret = read_distances(t, online);
		if (ret)
			goto out_free;
	} else {
		t->distance[0] = 10;
	}
	numa_bitmask_free(online);
	numa_bitmask_free(mem);
	*out = t;
	return 0;

out_free:
	mp2_topology_free(t);
out_mask:
	numa_bitmask_free(online);
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
