// SPDX-License-Identifier: MIT
/*
 * pool_policy PID: give PostgreSQL's buffer pool a memory policy that
 * NUMA balancing scans.
 *
 * The pool is the largest shared anonymous mapping of process PID (the
 * postmaster): MAP_SHARED | MAP_ANONYMOUS, a shmem object.  NUMA
 * balancing's scanner passes over a mapping whose policy lacks MPOL_F_MOF
 * (vma_policy_mof() in 6.12), and a shmem object has no policy unless one
 * is set, so the pool is never scanned.  This maps the same object through
 * /proc/PID/map_files (CAP_SYS_ADMIN) and sets, with mbind(), a shared
 * policy on all of it: MPOL_BIND over every node with memory, with
 * MPOL_F_NUMA_BALANCING (the kernel adds MPOL_F_MOF and MPOL_F_MORON).  A
 * shmem policy belongs to the object, so every process that maps the pool
 * sees it.  Nothing is moved (no MPOL_MF_MOVE) and no page is allocated.
 *
 * Prints the mapping and the policy read back with get_mempolicy().
 * Exit status: 0 done, 1 failed, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The largest shared mapping of an anonymous shmem object of PID. */
static int find_pool(long pid, unsigned long *start, unsigned long *end)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "pool_policy: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*start = *end = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perms[8], name[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &s, &e, perms, name) < 3)
			continue;
		/* shmem of MAP_SHARED | MAP_ANONYMOUS, with or without huge pages */
		if (perms[3] != 's' || (strcmp(name, "/dev/zero") != 0 &&
					strcmp(name, "/anon_hugepage") != 0))
			continue;
		if (e - s > *end - *start) {
			*start = s;
			*end = e;
		}
	}
	fclose(f);
	if (*end == 0) {
		fprintf(stderr, "pool_policy: process %ld has no shared anonymous mapping\n", pid);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long start, end, len;
	struct bitmask *nodes;
	char path[96], *rest;
	int fd, mode = -1;
	long pid;
	void *p;

	if (argc != 2 || (pid = strtol(argv[1], &rest, 10)) <= 0 || *rest) {
		fprintf(stderr, "usage: pool_policy PID (the postmaster's)\n");
		return 2;
	}
	if (numa_available() < 0) {
		fprintf(stderr, "pool_policy: no NUMA support in this kernel\n");
		return 1;
	}
	if (find_pool(pid, &start, &end) < 0)
		return 1;
	len = end - start;
	snprintf(path, sizeof(path), "/proc/%ld/map_files/%lx-%lx", pid, start, end);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "pool_policy: %s: %s (needs CAP_SYS_ADMIN)\n", path, strerror(errno));
		return 1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "pool_policy: mmap of %s: %s\n", path, strerror(errno));
		return 1;
	}
	nodes = numa_get_mems_allowed();
	if (mbind(p, len, MPOL_BIND | MPOL_F_NUMA_BALANCING, nodes->maskp,
		  nodes->size + 1, 0) != 0) {
		fprintf(stderr, "pool_policy: mbind: %s\n", strerror(errno));
		return 1;
	}
	if (get_mempolicy(&mode, NULL, 0, p, MPOL_F_ADDR) != 0) {
		fprintf(stderr, "pool_policy: get_mempolicy: %s\n", strerror(errno));
		return 1;
	}
	if ((mode & ~MPOL_F_NUMA_BALANCING) != MPOL_BIND || !(mode & MPOL_F_NUMA_BALANCING)) {
		fprintf(stderr, "pool_policy: the policy read back is %#x, not MPOL_BIND | MPOL_F_NUMA_BALANCING\n",
			mode);
		return 1;
	}
	printf("pool_policy: %lu MB at %lx of process %ld: MPOL_BIND | MPOL_F_NUMA_BALANCING over %d nodes\n",
	       len >> 20, start, pid, numa_bitmask_weight(nodes));
	munmap(p, len);
	numa_bitmask_free(nodes);
	return 0;
}
