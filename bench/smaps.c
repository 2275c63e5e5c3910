// SPDX-License-Identifier: MIT
/* mp2bench: read one mapping's counters from /proc/PID/smaps. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "smaps.h"

/* A VMA's first line: "start-end perms offset dev inode [path]". */
static int vma_header(const char *line, uintptr_t *start, uintptr_t *end)
{
	uintmax_t s, e;
	char perms[8];

	if (sscanf(line, "%jx-%jx %7s", &s, &e, perms) != 3)
		return 0;
	*start = (uintptr_t)s;
	*end = (uintptr_t)e;
	return 1;
}

static void field(const char *line, const char *name, unsigned long *out)
{
	size_t n = strlen(name);

	if (!strncmp(line, name, n) && line[n] == ':')
		sscanf(line + n + 1, "%lu", out);
}

int smaps_read(pid_t pid, const void *addr, struct smaps_vma *out)
{
	char path[64], line[512];
	uintptr_t a = (uintptr_t)addr, s, e;
	unsigned long shared_h = 0, private_h = 0;
	int inside = 0, found = 0;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/smaps");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), f)) {
		if (vma_header(line, &s, &e)) {
			if (found)
				break;
			inside = s <= a && a < e;
			if (inside) {
				found = 1;
				out->start = s;
				out->end = e;
			}
			continue;
		}
		if (!inside)
			continue;
		field(line, "KernelPageSize", &out->kernel_page_kb);
		field(line, "Rss", &out->rss_kb);
		field(line, "Pss", &out->pss_kb);
		field(line, "AnonHugePages", &out->anon_huge_kb);
		field(line, "ShmemPmdMapped", &out->shmem_pmd_kb);
		field(line, "Shared_Hugetlb", &shared_h);
		field(line, "Private_Hugetlb", &private_h);
	}
	fclose(f);
	out->hugetlb_kb = shared_h + private_h;
	return found ? 0 : -ENOENT;
}

const char *smaps_page_kind(const struct smaps_vma *v)
{
	unsigned long size_kb = (unsigned long)((v->end - v->start) >> 10);
	unsigned long huge_kb = v->anon_huge_kb + v->shmem_pmd_kb;

	if (v->kernel_page_kb == 2048 && v->hugetlb_kb == size_kb)
		return "hugetlb";
	if (v->kernel_page_kb != 4 || v->rss_kb < size_kb)
		return "partial";
	if (huge_kb == 0)
		return "4k";
	return huge_kb >= size_kb ? "thp" : "mixed";
}
