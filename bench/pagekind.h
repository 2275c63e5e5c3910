/* SPDX-License-Identifier: MIT */
/*
 * The kinds of memory mp2bench migrate moves: shared anonymous memory
 * (MAP_SHARED | MAP_ANONYMOUS, as a database's shared buffer pool) in base
 * pages, in shared transparent huge pages, or in hugetlb pages.
 */
#ifndef MP2BENCH_PAGEKIND_H
#define MP2BENCH_PAGEKIND_H

#include <stddef.h>

#define HUGE_BYTES ((size_t)2 << 20)	/* a PMD-sized page on x86-64 */

enum page_kind {
	KIND_4K,	/* base pages: MADV_NOHUGEPAGE keeps THP away */
	KIND_THP,	/* shared THP: MADV_HUGEPAGE, needs shmem_enabled */
	KIND_HUGETLB,	/* MAP_HUGETLB 2 MiB pages from the per-node pools */
	NR_KINDS
};

#define THP_SHMEM_ENABLED "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/* "4k", "thp", "hugetlb". */
const char *page_kind_name(enum page_kind k);
/* 0, or -EINVAL for an unknown name. */
int page_kind_parse(const char *name, enum page_kind *k);
/* The bytes of one page of the kind: 4 KiB or 2 MiB. */
size_t page_kind_bytes(enum page_kind k);

/*
 * Whether the kernel can give memory of kind k (for thp: what
 * shmem_enabled says).  0, or -1 with the reason in why.
 */
int page_kind_usable(enum page_kind k, char *why, size_t len);

/* A mapping of one kind. */
struct kind_buf {
	enum page_kind kind;
	char *addr;		/* aligned to 2 MiB */
	size_t bytes;		/* a multiple of page_kind_bytes(kind) */
};

/*
 * Map bytes of kind k, bound to node (nothing is faulted in yet).
 * 0, or a negative errno with the reason in why.
 */
int kind_buf_map(struct kind_buf *b, enum page_kind k, size_t bytes, int node,
		 char *why, size_t len);
void kind_buf_unmap(struct kind_buf *b);

#endif /* MP2BENCH_PAGEKIND_H */
