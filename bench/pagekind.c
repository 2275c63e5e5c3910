// SPDX-License-Identifier: MIT
/* mp2bench: map shared anonymous memory of one page kind on one node. */
#include <errno.h>
#include <numa.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "pagekind.h"

static const char *const names[NR_KINDS] = { "4k", "thp", "hugetlb" };

const char *page_kind_name(enum page_kind k)
{
	return k < NR_KINDS ? names[k] : "?";
}

int page_kind_parse(const char *name, enum page_kind *k)
{
	for (int i = 0; i < NR_KINDS; i++) {
		if (!strcmp(name, names[i])) {
			*k = (enum page_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

size_t page_kind_bytes(enum page_kind k)
{
	return k == KIND_4K ? 4096 : HUGE_BYTES;
}

int page_kind_usable(enum page_kind k, char *why, size_t len)
{
	char line[256], *open, *close;
	FILE *f;

	if (k != KIND_THP)
		return 0;
	f = fopen(THP_SHMEM_ENABLED, "r");
	if (!f) {
		snprintf(why, len, "cannot read %s (%s): no transparent huge "
			 "pages for shared memory", THP_SHMEM_ENABLED,
			 strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	/* The setting in force is the one in brackets. */
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close) {
		snprintf(why, len, "%s has no setting in brackets",
			 THP_SHMEM_ENABLED);
		return -1;
	}
	*close = '\0';
	open++;
	if (strcmp(open, "never") && strcmp(open, "deny"))
		return 0;
	snprintf(why, len, "%s is [%s]; shared THP needs advise or always "
		 "(as root: echo advise > %s)", THP_SHMEM_ENABLED, open,
		 THP_SHMEM_ENABLED);
	return -1;
}

int kind_buf_map(struct kind_buf *b, enum page_kind k, size_t bytes, int node,
		 char *why, size_t len)
{
	int flags = MAP_SHARED | MAP_ANONYMOUS;
	size_t map = bytes;
	char *p;
	uintptr_t a;

	memset(b, 0, sizeof(*b));
	if (k == KIND_HUGETLB)
		flags |= MAP_HUGETLB;	/* the default 2 MiB size, aligned */
	else
		map += HUGE_BYTES;	/* room to align to 2 MiB */
	p = mmap(NULL, map, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		snprintf(why, len, "mmap of %zu MiB of %s memory: %s",
			 bytes >> 20, page_kind_name(k), strerror(errno));
		return err;
	}
	if (k != KIND_HUGETLB) {
		a = ((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
		if (a > (uintptr_t)p)
			munmap(p, a - (uintptr_t)p);
		if ((uintptr_t)p + map > a + bytes)
			munmap((char *)a + bytes, (uintptr_t)p + map - a - bytes);
		p = (char *)a;
		if (madvise(p, bytes, k == KIND_THP ? MADV_HUGEPAGE :
			    MADV_NOHUGEPAGE)) {
			int err = -errno;

			snprintf(why, len, "madvise: %s", strerror(errno));
			munmap(p, bytes);
			return err;
		}
	}
	numa_tonode_memory(p, bytes, node);
	b->kind = k;
	b->addr = p;
	b->bytes = bytes;
	return 0;
}

void kind_buf_unmap(struct kind_buf *b)
{
	if (b->addr)
		munmap(b->addr, b->bytes);
	b->addr = NULL;
}
