/* SPDX-License-Identifier: MIT */
/*
 * What the kernel reports about one mapping in /proc/PID/smaps: how it is
 * backed (base pages, transparent huge pages, hugetlb pages) and how much
 * of it is resident.
 */
#ifndef MP2BENCH_SMAPS_H
#define MP2BENCH_SMAPS_H

#include <stdint.h>
#include <sys/types.h>

/* The counters of one VMA, in KiB as smaps gives them. */
struct smaps_vma {
	uintptr_t start, end;		/* the VMA's address range */
	unsigned long kernel_page_kb;	/* KernelPageSize: 4, or 2048 for hugetlb */
	unsigned long rss_kb;		/* Rss (hugetlb pages not included) */
	unsigned long pss_kb;		/* Pss: Rss shared out among mappers */
	unsigned long anon_huge_kb;	/* AnonHugePages: private THP */
	unsigned long shmem_pmd_kb;	/* ShmemPmdMapped: shared THP */
	unsigned long hugetlb_kb;	/* Shared_Hugetlb + Private_Hugetlb */
};

/*
 * Read the VMA of process pid (0: this process) that holds addr.
 * Returns 0, -ENOENT when no VMA holds addr, or another negative errno.
 */
int smaps_read(pid_t pid, const void *addr, struct smaps_vma *out);

/*
 * How the VMA is backed: "hugetlb" (all of it in 2 MiB hugetlb pages),
 * "thp" (all of it mapped by PMD-sized transparent huge pages), "4k"
 * (resident in full, no huge page), "mixed" (resident in full, partly
 * huge), "partial" (not all of it resident).
 */
const char *smaps_page_kind(const struct smaps_vma *v);

#endif /* MP2BENCH_SMAPS_H */
