// SPDX-License-Identifier: MIT
/*
 * libmp2's test suite.  The single-node tests run anywhere; the tests that
 * need two or more memory nodes skip on a one-node host and run inside the
 * multi-node QEMU guest (make check does both).
 *
 * One file of some 2,000 lines: it is one program, run as one suite on
 * the host and in each guest, and its tests share the fixtures at the top
 * (mapped regions, page sources, stop counters, call hooks).
 */
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "host.h"
#include "mp2.h"
#include "mp2_internal.h"	/* mp2_memory_tiers_in(), on a tree of the test's own */

#ifndef MP2_TEST_SUITE
#define MP2_TEST_SUITE "libmp2"
#endif

static size_t psz;
static struct mp2_topology *topo;

/* ---- helpers -------------------------------------------------------- */

static char *map_pages(size_t n, int flags)
{
	void *p = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
		       flags | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void **page_array(char *base, size_t n)
{
	void **pages = calloc(n, sizeof(*pages));

	for (size_t i = 0; pages && i < n; i++)
		pages[i] = base + i * psz;
	return pages;
}

static uint64_t pattern(size_t page, size_t word)
{
	return ((uint64_t)page << 32 | word) * 0x9E3779B97F4A7C15ull;
}

static void fill(char *base, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)(base + i * psz);

		for (size_t k = 0; k < psz / sizeof(*w); k++)
			w[k] = pattern(i, k);
	}
}

/* Number of pages whose bytes differ from the pattern. */
static size_t bad_pages(const char *base, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		const uint64_t *w = (const uint64_t *)(base + i * psz);

		for (size_t k = 0; k < psz / sizeof(*w); k++) {
			if (w[k] != pattern(i, k)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

/* Number of pages not on node (per mp2_locate). */
static size_t pages_off_node(void **pages, size_t n, int node)
{
	int *where = calloc(n, sizeof(*where));
	size_t off = 0;

	if (!where || mp2_locate(pages, n, where, 0) != 0) {
		free(where);
		return n;
	}
	for (size_t i = 0; i < n; i++)
		off += where[i] != node;
	free(where);
	return off;
}

static size_t stats_sum(const struct mp2_stats *s)
{
	return s->moved + s->already + mp2_stats_failed(s);
}

/* The node the first touched page of this process lands on. */
static int local_node(void)
{
	char *p = map_pages(1, MAP_PRIVATE);
	int node = -1;

	if (!p)
		return -1;
	p[0] = 1;
	if (mp2_locate((void **)&p, 1, &node, 0) != 0)
		node = -1;
	munmap(p, psz);
	return node;
}

/* region_init()'s node for pages left where the first touch puts them. */
#define FIRST_TOUCH (-1)

/* A test's pages: n private pages filled with the pattern. */
struct region {
	char *base;
	void **pages;			/* the address of each page */
	size_t n;
	int node;			/* the node they were put on */
};

/*
 * n pattern-filled pages in r, on node: bound there before they are
 * written, or with FIRST_TOUCH this process's local node.  False, with
 * nothing left allocated, when the pages or the local node cannot be had.
 */
static bool region_init(struct region *r, size_t n, int node)
{
	r->n = n;
	r->node = node == FIRST_TOUCH ? local_node() : node;
	r->base = map_pages(n, MAP_PRIVATE);
	r->pages = r->base ? page_array(r->base, n) : NULL;
	if (!r->pages || r->node < 0) {
		if (r->base)
			munmap(r->base, n * psz);
		free(r->pages);
		return false;
	}
	if (node != FIRST_TOUCH)
		numa_tonode_memory(r->base, n * psz, node);
	fill(r->base, n);
	return true;
}

static void region_free(struct region *r)
{
	munmap(r->base, r->n * psz);
	free(r->pages);
}

/* Whatever moved where, every byte is still the pattern; then free. */
static void region_done(struct region *r)
{
	T_EQ(bad_pages(r->base, r->n), 0);
	region_free(r);
}

/* Whether CAP_SYS_NICE is in this process's effective set. */
static bool has_cap_sys_nice(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ull << 23);	/* CAP_SYS_NICE */
}

/*
 * A should_stop that says stop from its stop_at-th call on (0: never) and
 * checks that every sofar it is shown adds up.
 */
struct stop_counter {
	atomic_int calls;
	int stop_at;
	atomic_int bad;			/* calls whose sofar did not add up */
	bool record;			/* keep sofar in last (one thread) */
	struct mp2_stats last;
};

static bool stop_after(void *arg, const struct mp2_stats *sofar)
{
	struct stop_counter *c = arg;
	int n = atomic_fetch_add(&c->calls, 1) + 1;

	if (stats_sum(sofar) != sofar->requested || sofar->not_tried != 0 ||
	    sofar->stopped != MP2_STOP_NONE)
		atomic_fetch_add(&c->bad, 1);
	if (c->record)
		c->last = *sofar;
	return c->stop_at && n >= c->stop_at;
}

static void stop_counter_init(struct stop_counter *c, int stop_at)
{
	atomic_init(&c->calls, 0);
	atomic_init(&c->bad, 0);
	c->stop_at = stop_at;
	c->record = true;
	memset(&c->last, 0, sizeof(c->last));
}

/*
 * call_begin/call_end hooks that record whether a migrating system call
 * is under way, and refuse on a given call.
 */
struct call_hooks {
	int begins, ends;
	bool inside;			/* between call_begin and call_end */
	int unbalanced;			/* begin inside, or end outside */
	int outside_waits;		/* should_stop asked while inside */
	int fail_begin;			/* refuse this begin (0: never) */
	int fail_end;			/* refuse this end (0: never) */
};

static int hook_begin(void *arg)
{
	struct call_hooks *h = arg;

	h->unbalanced += h->inside;
	if (++h->begins == h->fail_begin)
		return -EPERM;
	h->inside = true;
	return 0;
}

static int hook_end(void *arg)
{
	struct call_hooks *h = arg;

	h->unbalanced += !h->inside;
	h->inside = false;
	return ++h->ends == h->fail_end ? -EIO : 0;
}

static bool hook_stop(void *arg, const struct mp2_stats *sofar)
{
	struct call_hooks *h = arg;

	(void)sofar;
	h->outside_waits += h->inside;
	return false;
}

static void call_hooks_set(struct call_hooks *h, struct mp2_options *o)
{
	memset(h, 0, sizeof(*h));
	o->call_begin = hook_begin;
	o->call_end = hook_end;
	o->call_arg = h;
	o->should_stop = hook_stop;
	o->stop_arg = h;
}

/* A source for mp2_migrate_stream over the pages of a region, in order. */
struct region_source {
	char *base;
	size_t n;			/* pages in the region */
	size_t next;			/* first page not delivered yet */
	size_t per_call;		/* at most this many a call (0: max) */
	int node;			/* target; -1: cycle over the nodes */
	size_t bad_page;		/* deliver it wrong (SIZE_MAX: none) */
	bool bad_unaligned;		/* ... unaligned, not with target -1 */
	int fail_call;			/* -EIO on this call (0: never) */
	unsigned int delay_us;		/* sleep this long in every call */
	int calls;
	size_t max_seen;		/* largest max asked for */
};

static void region_source_init(struct region_source *s, char *base, size_t n,
			       int node)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->n = n;
	s->node = node;
	s->bad_page = SIZE_MAX;
}

static int region_target(const struct region_source *s, size_t page)
{
	if (s->node >= 0)
		return s->node;
	return topo->nodes[page % (size_t)topo->nr_nodes].id;
}

static long region_next(void *arg, void **pages, int *nodes, size_t max)
{
	struct region_source *s = arg;
	size_t k;

	s->calls++;
	if (max > s->max_seen)
		s->max_seen = max;
	if (s->delay_us)
		usleep(s->delay_us);
	if (s->calls == s->fail_call)
		return -EIO;
	if (s->per_call && max > s->per_call)
		max = s->per_call;
	for (k = 0; k < max && s->next < s->n; k++, s->next++) {
		pages[k] = s->base + s->next * psz;
		nodes[k] = region_target(s, s->next);
		if (s->next == s->bad_page && s->bad_unaligned)
			pages[k] = (char *)pages[k] + 64;
		else if (s->next == s->bad_page)
			nodes[k] = -1;
	}
	return (long)k;
}

/*
 * The options of the stream tests: windows of 64 pages and calls of 16,
 * which the counts they expect are worked out for.
 */
static void stream_options(struct mp2_options *o)
{
	mp2_options_init(o);
	o->window = 64;
	o->pages_per_call = 16;
}

/*
 * What most migration tests work with: their pages, the options of their
 * calls, the stats of the last call, and a source over the pages for the
 * stream calls.
 */
struct fixture {
	struct region reg;
	struct mp2_options o;
	struct mp2_stats st;
	struct region_source src;
};

/* n pages as region_init() puts them, default options; false as it. */
static bool fixture_init(struct fixture *f, size_t n, int node)
{
	mp2_options_init(&f->o);
	return region_init(&f->reg, n, node);
}

/* mp2_migrate() of the first n pages to node, with f's options. */
static int fixture_migrate(struct fixture *f, size_t n, int node, int *status)
{
	return mp2_migrate(f->reg.pages, n, NULL, node, &f->o, status, &f->st);
}

/* A new source over the first n pages, to node (see region_source). */
static void fixture_source(struct fixture *f, size_t n, int node)
{
	region_source_init(&f->src, f->reg.base, n, node);
}

/* mp2_migrate_stream() of f's source, with f's options. */
static int fixture_stream(struct fixture *f)
{
	return mp2_migrate_stream(region_next, &f->src, &f->o, &f->st);
}

/* ---- topology ------------------------------------------------------- */

static void test_topology(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpus = 0;

	T_REQUIRE(topo != NULL);
	T_CHECK(topo->nr_nodes >= 1);
	T_CHECK(topo->max_node >= topo->nodes[topo->nr_nodes - 1].id);
	for (int i = 0; i < topo->nr_nodes; i++) {
		const struct mp2_node *n = &topo->nodes[i];

		T_CHECK(n->mem_total > 0);
		T_CHECK(n->mem_free <= n->mem_total);
		T_EQ(mp2_node_check(n->id), 0);
		T_EQ(mp2_topology_distance(topo, n->id, n->id), 10);
		if (i > 0)
			T_CHECK(n->id > topo->nodes[i - 1].id);
		cpus += n->nr_cpus;
	}
	/* Every online CPU sits on a memory node or a memory-less one. */
	T_CHECK(cpus <= ncpu);
	if (topo->nr_nodes == 1)
		T_EQ(cpus, ncpu);
	T_EQ(mp2_topology_distance(topo, -1, 0), -1);
	T_EQ(mp2_topology_distance(topo, 0, topo->max_node + 1), -1);
	T_EQ(mp2_topology_read(NULL), -EINVAL);
}

static void test_node_check(void)
{
	T_EQ(mp2_node_check(-1), -ENODEV);
	T_EQ(mp2_node_check(topo->max_node + 1), -ENODEV);
	T_EQ(mp2_node_check(1 << 20), -ENODEV);
}

/* ---- memory tiers --------------------------------------------------- */

/* Write text to dir/name, making dir/name's directory. */
static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*strrchr(path, '/') = '\0';
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	T_REQUIRE(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* Remove a tree of the test's own (two levels at most). */
static void remove_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	T_EQ(system(cmd), 0);
}

/*
 * Ranks from a memory_tiering tree as the kernel lays it out, whatever
 * the tiers' numbers: memory_tier4 (0-1) before memory_tier16 (4) before
 * memory_tier28 (2-3,5); a tier with no nodes, and entries that are not
 * tiers, do not count.
 */
static void test_memory_tiers_ranks(void)
{
	char dir[] = "/tmp/mp2-tiers-XXXXXX";
	int tier[8], want[8] = { 0, 0, 2, 2, 1, 2, -1, -1 };

	T_REQUIRE(mkdtemp(dir) != NULL);
	put_file(dir, "memory_tier28/nodelist", "2-3,5\n");
	put_file(dir, "memory_tier4/nodelist", "0-1\n");
	put_file(dir, "memory_tier16/nodelist", "4\n");
	put_file(dir, "memory_tier9/nodelist", "\n");
	put_file(dir, "memory_tierx/nodelist", "6\n");
	put_file(dir, "power/nodelist", "7\n");
	put_file(dir, "uevent", "");
	memset(tier, 0x5a, sizeof(tier));
	T_EQ(mp2_memory_tiers_in(dir, tier, 8), 3);
	for (int i = 0; i < 8; i++)
		T_EQ(tier[i], want[i]);
	/* Only the nodes below nr are written. */
	memset(tier, 0x5a, sizeof(tier));
	T_EQ(mp2_memory_tiers_in(dir, tier, 3), 3);
	T_EQ(tier[2], 2);
	T_EQ(tier[3], 0x5a5a5a5a);
	/* A list the kernel would never write is an error, not a guess. */
	put_file(dir, "memory_tier40/nodelist", "6-\n");
	T_EQ(mp2_memory_tiers_in(dir, tier, 8), -EINVAL);
	remove_tree(dir);
	/* A kernel without memory tiers: none, every node in none. */
	memset(tier, 0x5a, sizeof(tier));
	T_EQ(mp2_memory_tiers_in(dir, tier, 8), 0);
	for (int i = 0; i < 8; i++)
		T_EQ(tier[i], -1);
	T_EQ(mp2_memory_tiers(NULL, 1), -EINVAL);
	T_EQ(mp2_memory_tiers(tier, 0), -EINVAL);
}

/*
 * This machine's tiers: every node with memory in one, the nodes with
 * CPUs in the top one.  The guest's ACPI HMAT (kernel/run-guest.sh) puts
 * its memory-only nodes one tier lower.
 */
static void test_memory_tiers_here(void)
{
	int nr = topo->max_node + 1;
	int *tier = calloc((size_t)nr, sizeof(*tier));
	bool memory_only = false;
	int n;

	T_REQUIRE(tier != NULL);
	n = mp2_memory_tiers(tier, nr);
	if (n == 0) {
		free(tier);
		T_SKIP("the kernel reports no memory tiers");
		return;
	}
	T_CHECK(n >= 1);
	for (int i = 0; i < topo->nr_nodes; i++) {
		const struct mp2_node *nd = &topo->nodes[i];

		T_CHECK(tier[nd->id] >= 0);
		if (nd->nr_cpus > 0)
			T_EQ(tier[nd->id], 0);
		else
			memory_only = true;
		if (getenv("MP2_GUEST") && nd->nr_cpus == 0)
			T_EQ(tier[nd->id], 1);
	}
	if (getenv("MP2_GUEST"))
		T_EQ(n, memory_only ? 2 : 1);
	free(tier);
}

/* ---- locate --------------------------------------------------------- */

static void test_locate_touched(void)
{
	const size_t n = 32;
	struct region reg;
	int where[32];

	T_REQUIRE(region_init(&reg, n, FIRST_TOUCH));
	T_EQ(mp2_locate(reg.pages, n, where, 0), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], reg.node);
	T_EQ(mp2_locate_range(reg.base, n * psz, where, 0), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], reg.node);
	region_free(&reg);
}

/*
 * The status move_pages(2) gives the private page at addr, which was only
 * read: -EFAULT for the shared zero page, node for a page of its own (a
 * read fault allocates on the local node).  Which of the two the read
 * mapped depends on the machine (THP settings among others), not on libmp2,
 * so it is looked up; false (and *why) when it cannot be.  The guest's
 * pinned kernel and settings map the zero page.
 */
static bool read_page_status(const void *addr, int node, int *expect,
			     const char **why)
{
	enum host_page_kind kind = host_page_kind(addr);

	if (getenv("MP2_GUEST")) {
		T_EQ(kind, HOST_PAGE_ZERO);
		*expect = -EFAULT;
		return true;
	}
	switch (kind) {
	case HOST_PAGE_ZERO:
		*expect = -EFAULT;
		return true;
	case HOST_PAGE_OWN:
		*expect = node;
		return true;
	default:
		*why = "cannot tell whether a read mapped the zero page "
		       "(/proc/self/pagemap frames and /proc/kpageflags need "
		       "CAP_SYS_ADMIN)";
		return false;
	}
}

static void test_locate_untouched(void)
{
	const size_t n = 8;
	char *priv = map_pages(n, MAP_PRIVATE);
	char *shared = map_pages(n, MAP_SHARED);
	int where[8];
	int node = local_node();
	int expect;
	const char *why = NULL;

	T_REQUIRE(priv && shared);
	/* Never faulted in: the kernel has no page to report. */
	T_EQ(mp2_locate_range(priv, n * psz, where, 0), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], -ENOENT);
	/* Reading shared memory allocates a real page. */
	T_EQ(mp2_locate_range(shared, n * psz, where, MP2_LOCATE_TOUCH), 0);
	for (size_t i = 0; i < n; i++) {
		T_EQ(where[i], node);
		T_CHECK(host_page_kind(shared + i * psz) != HOST_PAGE_ZERO);
	}
	/* Reading private memory maps the shared zero page, as a rule. */
	T_EQ(mp2_locate_range(priv, n * psz, where, MP2_LOCATE_TOUCH), 0);
	for (size_t i = 0; i < n; i++) {
		if (!read_page_status(priv + i * psz, node, &expect, &why))
			break;
		T_EQ(where[i], expect);
	}
	munmap(shared, n * psz);
	munmap(priv, n * psz);
	if (why)
		T_SKIP("%s", why);
}

/*
 * A read of a 2 MiB-aligned region that may be a transparent huge page:
 * the huge zero page (-EFAULT), or with THP "always"/"madvise" and
 * use_zero_page 0 a huge page of its own (its node).  Whichever it got,
 * every base page says the same.
 */
static void test_locate_read_huge(void)
{
	const size_t hp = 2u << 20, n = hp / 4096;
	char *raw, *base;
	int *where = calloc(n, sizeof(*where));
	int node = local_node(), expect;
	const char *why = NULL;

	T_REQUIRE(where && psz == 4096);
	raw = map_pages(2 * n, MAP_PRIVATE);
	T_REQUIRE(raw);
	base = (char *)(((uintptr_t)raw + hp - 1) & ~(uintptr_t)(hp - 1));
	madvise(base, hp, MADV_HUGEPAGE);
	T_EQ(mp2_locate_range(base, hp, where, MP2_LOCATE_TOUCH), 0);
	if (read_page_status(base, node, &expect, &why))
		for (size_t i = 0; i < n; i++)
			T_EQ(where[i], expect);
	munmap(raw, 2 * n * psz);
	free(where);
	if (why)
		T_SKIP("%s", why);
}

static void test_locate_unmapped(void)
{
	char *base = map_pages(4, MAP_PRIVATE);
	int where[4];

	T_REQUIRE(base);
	munmap(base, 4 * psz);
	T_EQ(mp2_locate_range(base, 4 * psz, where, 0), 0);
	for (int i = 0; i < 4; i++)
		T_EQ(where[i], -EFAULT);
}

static void test_locate_bad_args(void)
{
	char *base = map_pages(1, MAP_PRIVATE);
	void *odd = base + 1;
	int where[1];

	T_REQUIRE(base);
	T_EQ(mp2_locate(NULL, 1, where, 0), -EINVAL);
	T_EQ(mp2_locate((void **)&base, 1, NULL, 0), -EINVAL);
	T_EQ(mp2_locate((void **)&base, 0, where, 0), -EINVAL);
	T_EQ(mp2_locate(&odd, 1, where, 0), -EINVAL);
	T_EQ(mp2_locate((void **)&base, 1, where, 0x80), -EINVAL);
	T_EQ(mp2_locate_range(base, 0, where, 0), -EINVAL);
	T_EQ(mp2_locate_range(base, psz + 1, where, 0), -EINVAL);
	T_EQ(mp2_locate_range(odd, psz, where, 0), -EINVAL);
	munmap(base, psz);
}

/* ---- locate through another process ---------------------------------- */

/*
 * A child that writes pages [0, n) of the shared mapping base, moves them to
 * the highest node with memory where there are several, writes where it
 * finds them to its pipe and waits until the parent closes the other pipe.
 */
struct mapper {
	pid_t pid;
	int hold;		/* closing it lets the child exit */
	int where[8];
};

static bool mapper_start(struct mapper *m, char *base, size_t n)
{
	int ready[2], hold[2];
	char c;

	if (n > 8 || pipe(ready) || pipe(hold))
		return false;
	m->pid = fork();
	if (m->pid < 0)
		return false;
	if (m->pid == 0) {
		void *pages[8];
		int target = numa_max_node(), status[8];

		close(ready[0]);
		close(hold[1]);
		for (size_t i = 0; i < n; i++) {
			pages[i] = base + i * psz;
			memset(pages[i], (int)(0x40 + i), psz);
		}
		while (target > 0 && mp2_node_check(target) != 0)
			target--;
		if (target > 0)
			(void)mp2_migrate(pages, n, NULL, target, NULL,
					  status, NULL);
		if (mp2_locate(pages, n, m->where, 0) != 0 ||
		    write(ready[1], m->where, n * sizeof(int)) !=
		    (ssize_t)(n * sizeof(int)))
			_exit(1);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	m->hold = hold[1];
	if (read(ready[0], m->where, n * sizeof(int)) !=
	    (ssize_t)(n * sizeof(int))) {
		close(ready[0]);
		return false;
	}
	close(ready[0]);
	return true;
}

static void mapper_stop(struct mapper *m)
{
	int st;

	close(m->hold);
	T_EQ(waitpid(m->pid, &st, 0), m->pid);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * A shared page written by a child only: the child's page tables say
 * where it is, and asking them faults nothing into the caller's.
 */
static void test_locate_pid(void)
{
	const size_t n = 8;
	char *base = map_pages(n, MAP_SHARED);
	void **pages = page_array(base, n);
	struct mapper m;
	int where[8];

	T_REQUIRE(base && pages);
	T_REQUIRE(mapper_start(&m, base, n - 2));
	T_EQ(mp2_locate_pid(m.pid, pages, n, where), 0);
	for (size_t i = 0; i < n - 2; i++) {
		T_CHECK(m.where[i] >= 0);
		T_EQ(where[i], m.where[i]);
	}
	/* Pages the child has not mapped: no page in its tables. */
	T_EQ(where[n - 2], -ENOENT);
	T_EQ(where[n - 1], -ENOENT);
	/* Nothing was faulted into the caller. */
	T_EQ(mp2_locate(pages, n, where, 0), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], -ENOENT);
	/* pid 0 is the caller, as for move_pages(2). */
	T_EQ(mp2_locate_pid(0, pages, n, where), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], -ENOENT);
	mapper_stop(&m);
	/* The child wrote the bytes; they are what it wrote. */
	for (size_t i = 0; i < n - 2; i++)
		T_EQ(base[i * psz + psz - 1], 0x40 + (int)i);
	free(pages);
	munmap(base, n * psz);
}

/* A process that is gone: -ESRCH, and nothing is reported. */
static void test_locate_pid_gone(void)
{
	char *base = map_pages(1, MAP_SHARED);
	int where[1] = { 12345 };
	pid_t pid;

	T_REQUIRE(base);
	pid = fork();
	T_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	T_EQ(waitpid(pid, NULL, 0), pid);
	T_EQ(mp2_locate_pid(pid, (void **)&base, 1, where), -ESRCH);
	munmap(base, psz);
}

/*
 * Runs ask(arg, res) in a child that has become uid and gid 65534
 * (nobody) and gives back the two ints it set in res.  Needs root.
 * Returns whether the child ran and reported.
 */
static bool as_nobody(void (*ask)(void *arg, int res[2]), void *arg,
		      int res[2])
{
	const ssize_t len = 2 * sizeof(int);
	int fds[2];
	pid_t child;
	bool ok;

	if (pipe(fds) != 0)
		return false;
	child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (child == 0) {
		close(fds[0]);
		if (setgid(65534) || setuid(65534))
			_exit(1);
		ask(arg, res);
		_exit(write(fds[1], res, len) == len ? 0 : 1);
	}
	close(fds[1]);
	ok = read(fds[0], res, len) == len;
	ok = waitpid(child, NULL, 0) == child && ok;
	close(fds[0]);
	return ok;
}

/* What a child of as_nobody() asks of the mapper's pages. */
struct ask_pid {
	pid_t pid;
	void **pages;
	size_t n;
};

/* res: mp2_locate_pid()'s return and the first page's node. */
static void ask_locate(void *arg, int res[2])
{
	struct ask_pid *a = arg;
	int where = 12345;

	res[0] = mp2_locate_pid(a->pid, a->pages, 1, &where);
	res[1] = where;
}

/*
 * res: mp2_migrate()'s return through the pid (at most 4 pages) and the
 * first status.
 */
static void ask_migrate(void *arg, int res[2])
{
	struct ask_pid *a = arg;
	struct mp2_options o;
	int status[4] = { 12345, 12345, 12345, 12345 };

	if (a->n > 4) {
		res[0] = -E2BIG;
		return;
	}
	mp2_options_init(&o);
	o.pid = a->pid;
	res[0] = mp2_migrate(a->pages, a->n, NULL, topo->nodes[0].id, &o,
			     status, NULL);
	res[1] = status[0];
}

/*
 * Another user may not read the mapper's page tables: the kernel's
 * PTRACE_MODE_READ check refuses a caller of another uid without
 * CAP_SYS_PTRACE.  Needs root to become that user.
 */
static void test_locate_pid_other_user(void)
{
	char *base = map_pages(1, MAP_SHARED);
	struct mapper m;
	struct ask_pid a;
	int res[2] = { 0, 0 };

	T_REQUIRE(base);
	if (geteuid() != 0) {
		munmap(base, psz);
		T_SKIP("needs root to ask as another user");
	}
	T_REQUIRE(mapper_start(&m, base, 1));
	a = (struct ask_pid){ .pid = m.pid, .pages = (void **)&base, .n = 1 };
	T_CHECK(as_nobody(ask_locate, &a, res));
	T_EQ(res[0], -EPERM);
	T_EQ(res[1], 12345);
	mapper_stop(&m);
	munmap(base, psz);
}

static void test_locate_pid_bad_args(void)
{
	char *base = map_pages(1, MAP_SHARED);
	void *odd = base + 1;
	int where[1];

	T_REQUIRE(base);
	T_EQ(mp2_locate_pid(-1, (void **)&base, 1, where), -EINVAL);
	T_EQ(mp2_locate_pid(0, NULL, 1, where), -EINVAL);
	T_EQ(mp2_locate_pid(0, (void **)&base, 1, NULL), -EINVAL);
	T_EQ(mp2_locate_pid(0, (void **)&base, 0, where), -EINVAL);
	T_EQ(mp2_locate_pid(0, &odd, 1, where), -EINVAL);
	munmap(base, psz);
}

/*
 * Moving another process's pages: the child that wrote them maps them,
 * the caller never faults them in.  They move to the lowest node, those the
 * child has not mapped come back -ENOENT, the caller's page tables stay
 * empty, and the bytes are what the child wrote.
 */
static void test_migrate_pid(void)
{
	const size_t n = 8;
	char *base = map_pages(n, MAP_SHARED);
	void **pages = page_array(base, n);
	struct mp2_options o;
	struct mp2_stats st;
	struct mapper m;
	int status[8], where[8];
	int target;

	T_REQUIRE(base && pages);
	if (topo->nr_nodes < 2) {
		free(pages);
		munmap(base, n * psz);
		T_SKIP("needs 2 memory nodes, this machine has %d",
		       topo->nr_nodes);
	}
	target = topo->nodes[0].id;
	T_REQUIRE(mapper_start(&m, base, n - 2));
	for (size_t i = 0; i < n - 2; i++)
		T_CHECK(m.where[i] >= 0 && m.where[i] != target);
	mp2_options_init(&o);
	o.pid = m.pid;
	T_EQ(mp2_migrate(pages, n, NULL, target, &o, status, &st), 0);
	T_EQ(st.requested, n);
	T_EQ(st.moved, n - 2);
	T_EQ(st.failed_not_present, 2);
	T_EQ(st.method_used, MP2_METHOD_MOVE_PAGES);
	T_CHECK(!st.fell_back);
	for (size_t i = 0; i < n - 2; i++)
		T_EQ(status[i], target);
	T_EQ(status[n - 2], -ENOENT);
	T_EQ(status[n - 1], -ENOENT);
	T_EQ(mp2_locate_pid(m.pid, pages, n, where), 0);
	for (size_t i = 0; i < n - 2; i++)
		T_EQ(where[i], target);
	/* Asked again: already there. */
	T_EQ(mp2_migrate(pages, n - 2, NULL, target, &o, status, &st), 0);
	T_EQ(st.already, n - 2);
	T_EQ(st.moved, 0);
	/* Nothing was faulted into the caller. */
	T_EQ(mp2_locate(pages, n, where, 0), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], -ENOENT);
	mapper_stop(&m);
	for (size_t i = 0; i < n - 2; i++)
		for (size_t b = 0; b < psz; b += 512)
			T_EQ(base[i * psz + b], 0x40 + (int)i);
	free(pages);
	munmap(base, n * psz);
}

/* A process that is gone: -ESRCH before anything is tried. */
static void test_migrate_pid_gone(void)
{
	char *base = map_pages(1, MAP_SHARED);
	struct mp2_options o;
	struct mp2_stats st;
	int status[1] = { 12345 };
	pid_t pid;

	T_REQUIRE(base);
	pid = fork();
	T_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	T_EQ(waitpid(pid, NULL, 0), pid);
	mp2_options_init(&o);
	o.pid = pid;
	T_EQ(mp2_migrate((void **)&base, 1, NULL, topo->nodes[0].id, &o,
			 status, &st), -ESRCH);
	T_EQ(status[0], 12345);
	T_EQ(st.not_tried, 1);
	munmap(base, psz);
}

/*
 * Another user may not move the mapper's pages: -EPERM, no status
 * written, and the pages stay where the mapper put them, with their
 * bytes.  Needs root to become that user.
 */
static void test_migrate_pid_other_user(void)
{
	const size_t n = 4;
	char *base = map_pages(n, MAP_SHARED);
	void **pages = page_array(base, n);
	struct mapper m;
	struct ask_pid a;
	int res[2] = { 0, 0 };
	int where[4];

	T_REQUIRE(base && pages);
	if (geteuid() != 0) {
		free(pages);
		munmap(base, n * psz);
		T_SKIP("needs root to move as another user");
	}
	T_REQUIRE(mapper_start(&m, base, n));
	a = (struct ask_pid){ .pid = m.pid, .pages = pages, .n = n };
	T_CHECK(as_nobody(ask_migrate, &a, res));
	T_EQ(res[0], -EPERM);
	T_EQ(res[1], 12345);
	T_EQ(mp2_locate_pid(m.pid, pages, n, where), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(where[i], m.where[i]);
	mapper_stop(&m);
	for (size_t i = 0; i < n; i++)
		T_EQ(base[i * psz], 0x40 + (int)i);
	free(pages);
	munmap(base, n * psz);
}

/* ---- migrate: single node ------------------------------------------- */

static void test_migrate_to_current_node(void)
{
	const size_t n = 100;
	struct region reg;
	int status[100];
	struct mp2_stats st;

	T_REQUIRE(region_init(&reg, n, FIRST_TOUCH));
	T_EQ(mp2_migrate(reg.pages, n, NULL, reg.node, NULL, status, &st), 0);
	T_EQ(st.requested, n);
	T_EQ(st.moved, 0);
	T_EQ(st.already, n);
	T_EQ(mp2_stats_failed(&st), 0);
	T_EQ(st.move_calls, 0);
	T_CHECK(st.query_calls >= 1);
	T_EQ(st.stopped, MP2_STOP_NONE);
	for (size_t i = 0; i < n; i++)
		T_EQ(status[i], reg.node);
	region_done(&reg);
}

static void test_migrate_statuses(void)
{
	/* touched, untouched, unmapped, only read, touched */
	char *base = map_pages(5, MAP_PRIVATE);
	void **pages = page_array(base, 5);
	int status[5];
	struct mp2_stats st;
	int node = local_node();
	int expect = INT_MIN;
	const char *why = NULL;
	bool known;
	volatile char sink;

	T_REQUIRE(base && pages && node >= 0);
	base[0] = 1;
	base[4 * psz] = 1;
	munmap(base + 2 * psz, psz);
	sink = base[3 * psz];
	(void)sink;
	known = read_page_status(base + 3 * psz, node, &expect, &why);
	T_EQ(mp2_migrate(pages, 5, NULL, node, NULL, status, &st), 0);
	munmap(base, 2 * psz);
	munmap(base + 3 * psz, 2 * psz);
	free(pages);
	T_EQ(status[0], node);
	T_EQ(status[1], -ENOENT);
	T_EQ(status[2], -EFAULT);
	T_EQ(status[4], node);
	T_EQ(st.failed_not_present, 1);
	T_EQ(stats_sum(&st), 5);
	if (!known)
		T_SKIP("%s", why);
	/* The only-read page: the zero page fails, a page of its own is
	 * already on the target. */
	T_EQ(status[3], expect);
	T_EQ(st.already, expect == -EFAULT ? 2 : 3);
	T_EQ(st.failed_fault, expect == -EFAULT ? 2 : 1);
}

static void test_invalid_arguments(void)
{
	const size_t n = 4;
	struct region reg;
	void *odd[2];
	int nodes[4];
	int status[4] = { 7, 7, 7, 7 };
	struct mp2_options o;
	struct mp2_range r;
	struct mp2_stats st;
	int node;

	T_REQUIRE(region_init(&reg, n, FIRST_TOUCH));
	node = reg.node;
	odd[0] = reg.base;
	odd[1] = reg.base + psz + 8;

#define BAD(expect, call)                                                    \
	do {                                                                 \
		T_EQ(call, expect);                                          \
		mp2_options_init(&o);                                        \
	} while (0)

/* One option that mp2_migrate refuses, set by the statements set. */
#define BAD_OPTION(set)                                                      \
	do {                                                                 \
		set;                                                         \
		BAD(-EINVAL, mp2_migrate(reg.pages, n, NULL, node, &o,       \
					 status, NULL));                     \
	} while (0)

	mp2_options_init(&o);
	BAD(-EINVAL, mp2_migrate(NULL, n, NULL, node, &o, status, NULL));
	BAD(-EINVAL, mp2_migrate(reg.pages, 0, NULL, node, &o, status, NULL));
	BAD(-EINVAL, mp2_migrate(odd, 2, NULL, node, &o, status, NULL));
	BAD(-ENODEV, mp2_migrate(reg.pages, n, NULL, -1, &o, status, NULL));
	BAD(-ENODEV, mp2_migrate(reg.pages, n, NULL, topo->max_node + 1, &o,
				 status, NULL));
	BAD(-ENODEV, mp2_migrate(reg.pages, n, NULL, 4096, &o, status, NULL));
	for (int id = 0; id <= topo->max_node; id++)
		if (mp2_node_check(id) == -ENODEV)	/* a node without memory */
			BAD(-ENODEV, mp2_migrate(reg.pages, n, NULL, id, &o,
						 status, NULL));
	for (size_t i = 0; i < n; i++)
		nodes[i] = node;
	nodes[2] = -1;
	BAD(-ENODEV, mp2_migrate(reg.pages, n, nodes, node, &o, status, NULL));
	BAD_OPTION(o.method = (enum mp2_method)7);
	BAD_OPTION(o.mode = (enum mp2_mode)3);
	BAD_OPTION(o.mode = (enum mp2_mode)-1);
	BAD_OPTION(o.threads = 0);
	BAD_OPTION(o.threads = -3);
	BAD_OPTION(o.pages_per_call = 0);
	BAD_OPTION(o.kernel_batch = MP2_KBATCH_MAX + 1);
	BAD_OPTION(o.busy_retries = -1);
	BAD_OPTION(o.adaptive = true; o.call_us = 0);
	/* An option of a later library, unknown to this one. */
	BAD_OPTION(o.reserved[0] = 1);
	BAD_OPTION(o.reserved[2] = 1);
	BAD_OPTION(o.pid = -1);
	BAD_OPTION(o.pid = (int64_t)INT_MAX + 1);
	/* move_pages2 has no pid: refused even where the kernel has it. */
	BAD_OPTION(o.pid = getpid(); o.method = MP2_METHOD_MOVE_PAGES2);

	BAD(-EINVAL, mp2_migrate_ranges(NULL, 1, node, &o, status, NULL));
	r.addr = reg.base;
	r.len = 0;
	BAD(-EINVAL, mp2_migrate_ranges(&r, 1, node, &o, status, NULL));
	r.len = psz + 1;
	BAD(-EINVAL, mp2_migrate_ranges(&r, 1, node, &o, status, NULL));
	r.addr = reg.base + 1;
	r.len = psz;
	BAD(-EINVAL, mp2_migrate_ranges(&r, 1, node, &o, status, NULL));
	r.addr = reg.base;
	BAD(-EINVAL, mp2_migrate_ranges(&r, 0, node, &o, status, NULL));
#undef BAD_OPTION
#undef BAD

	/* Nothing moved, nothing written but the stats, which add up. */
	memset(&st, 0x5a, sizeof(st));
	T_EQ(mp2_migrate(reg.pages, n, NULL, -1, &o, status, &st), -ENODEV);
	T_EQ(st.requested, n);
	T_EQ(st.not_tried, n);
	T_EQ(stats_sum(&st), n);
	for (size_t i = 0; i < sizeof(st.reserved) / sizeof(st.reserved[0]); i++)
		T_EQ(st.reserved[i], 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(status[i], 7);
	T_EQ(pages_off_node(reg.pages, n, node), 0);
	region_done(&reg);
}

static void test_error_messages(void)
{
	const int errs[] = { -EINVAL, -ENODEV, -ENOSYS, -EPERM, -ENOMEM };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *m = mp2_strerror(errs[i]);

		T_CHECK(m && strlen(m) > 10);
		for (size_t k = 0; k < i; k++)
			T_CHECK(strcmp(m, mp2_strerror(errs[k])) != 0);
	}
	T_CHECK(strstr(mp2_strerror(-EPERM), "CAP_SYS_NICE") != NULL);
	T_CHECK(strstr(mp2_strerror(-ENOSYS), "move_pages2") != NULL);
	T_CHECK(strcmp(mp2_status_reason(-EACCES), "shared") == 0);
	T_CHECK(strcmp(mp2_status_reason(MP2_STATUS_NOT_TRIED),
		       "not tried") == 0);
}

static void test_names(void)
{
	enum mp2_method m;
	enum mp2_mode md;

	T_EQ(mp2_method_parse("move_pages2", &m), 0);
	T_EQ(m, MP2_METHOD_MOVE_PAGES2);
	T_EQ(mp2_method_parse("auto", &m), 0);
	T_EQ(m, MP2_METHOD_AUTO);
	T_EQ(mp2_method_parse("move_page", &m), -EINVAL);
	T_EQ(mp2_method_parse(NULL, &m), -EINVAL);
	T_EQ(mp2_mode_parse("sync_light", &md), 0);
	T_EQ(md, MP2_MODE_SYNC_LIGHT);
	T_EQ(mp2_mode_parse("2", &md), 0);
	T_EQ(md, MP2_MODE_SYNC);
	T_EQ(mp2_mode_parse("3", &md), -EINVAL);
	T_EQ(mp2_mode_parse("", &md), -EINVAL);
	T_CHECK(mp2_method_name((enum mp2_method)3) == NULL);
	T_CHECK(strcmp(mp2_mode_name(MP2_MODE_ASYNC), "async") == 0);
}

static void test_version(void)
{
	char num[16];
	struct mp2_options o;

	T_EQ(mp2_version(), MP2_VERSION_NUM);
	snprintf(num, sizeof(num), "%d.%d.%d", MP2_VERSION_MAJOR,
		 MP2_VERSION_MINOR, MP2_VERSION_PATCH);
	T_CHECK(strcmp(num, MP2_VERSION) == 0);
	memset(&o, 0x5a, sizeof(o));
	mp2_options_init(&o);
	for (size_t i = 0; i < sizeof(o.reserved) / sizeof(o.reserved[0]); i++)
		T_EQ(o.reserved[i], 0);
	T_CHECK(!o.call_begin && !o.call_end && !o.call_arg);
	T_EQ(o.pid, 0);
	/* Options added since 1.2 took reserved room: the size is the ABI's. */
	if (sizeof(void *) == 8)
		T_EQ(sizeof(o), 152);
}

static void test_budget_pages(void)
{
	const size_t n = 100;
	struct fixture f;
	int status[100];

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	f.o.max_pages = 10;
	f.o.pages_per_call = 4;
	T_EQ(fixture_migrate(&f, n, f.reg.node, status), 0);
	T_EQ(f.st.already, 10);
	T_EQ(f.st.not_tried, 90);
	T_EQ(f.st.stopped, MP2_STOP_MAX_PAGES);
	T_EQ(stats_sum(&f.st), n);
	for (size_t i = 0; i < n; i++)
		T_EQ(status[i], i < 10 ? f.reg.node : MP2_STATUS_NOT_TRIED);
	region_free(&f.reg);
}

static void test_budget_time(void)
{
	const size_t n = 20000;
	struct fixture f;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	f.o.pages_per_call = 1;
	f.o.max_us = 500;
	/* 20000 system calls cannot fit in half a millisecond. */
	T_EQ(fixture_migrate(&f, n, f.reg.node, NULL), 0);
	T_EQ(f.st.stopped, MP2_STOP_MAX_TIME);
	T_CHECK(f.st.not_tried > 0);
	T_EQ(f.st.already + f.st.not_tried, n);
	T_EQ(stats_sum(&f.st), n);
	region_free(&f.reg);
}

/*
 * max_rate paces the pages handed to the kernel to move: pages already on
 * their target go at once, however low the rate (counted, 64 of them at
 * 1 a second would take a minute; the deadline says if they were).
 */
static void test_rate_in_place(void)
{
	const size_t n = 64;
	struct fixture f;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	f.o.pages_per_call = 1;
	f.o.max_rate = 1;
	f.o.max_us = 5000000;
	T_EQ(fixture_migrate(&f, n, f.reg.node, NULL), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, n);
	T_EQ(f.st.move_calls, 0);

	f.o.window = 16;
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, n);
	region_free(&f.reg);
}

static void test_fallback(void)
{
	const size_t n = 8;
	struct fixture f;
	bool sysfs = access(MP2_SYSFS_SYSCALL_NR, R_OK) == 0;
	long nr = -1;
	int version = -1;
	int has = mp2_kernel_has_move_pages2(&nr, &version);

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	T_EQ(has, sysfs);
	T_EQ(fixture_migrate(&f, n, f.reg.node, NULL), 0);
	if (has) {
		T_CHECK(nr > 0);
		T_EQ(version, MP2_KABI_VERSION);
		T_EQ(f.st.method_used, MP2_METHOD_MOVE_PAGES2);
		T_CHECK(!f.st.fell_back);
	} else {
		T_EQ(nr, -1);
		T_EQ(f.st.method_used, MP2_METHOD_MOVE_PAGES);
		T_CHECK(f.st.fell_back);
		f.o.method = MP2_METHOD_MOVE_PAGES2;
		T_EQ(fixture_migrate(&f, n, f.reg.node, NULL), -ENOSYS);
	}
	f.o.method = MP2_METHOD_MOVE_PAGES;
	T_EQ(fixture_migrate(&f, n, f.reg.node, NULL), 0);
	T_EQ(f.st.method_used, MP2_METHOD_MOVE_PAGES);
	T_CHECK(!f.st.fell_back);
	region_free(&f.reg);
}

static void test_threads_single_node(void)
{
	const size_t n = 1000;
	struct fixture f;
	int *status = calloc(n, sizeof(*status));

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	T_REQUIRE(status);
	f.o.threads = 4;
	f.o.pages_per_call = 16;
	f.o.max_pages = 500;
	T_EQ(fixture_migrate(&f, n, f.reg.node, status), 0);
	T_EQ(f.st.already, 500);
	T_EQ(f.st.not_tried, 500);
	T_EQ(stats_sum(&f.st), n);
	f.o.max_pages = 0;
	f.o.threads = 64;
	T_EQ(fixture_migrate(&f, 10, f.reg.node, status), 0);
	T_EQ(f.st.already, 10);
	for (size_t i = 0; i < 10; i++)
		T_EQ(status[i], f.reg.node);
	region_done(&f.reg);
	free(status);
}

/* ---- stop callback and streams: single node ------------------------- */

static void test_stop_callback(void)
{
	const size_t n = 100;
	struct fixture f;
	int status[100];
	struct stop_counter c;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	T_CHECK(f.o.should_stop == NULL);
	f.o.pages_per_call = 4;
	f.o.should_stop = stop_after;
	f.o.stop_arg = &c;

	/* Asked between chunks: the third answer stops after 3 chunks. */
	stop_counter_init(&c, 3);
	T_EQ(fixture_migrate(&f, n, f.reg.node, status), 0);
	T_EQ(atomic_load(&c.calls), 3);
	T_EQ(atomic_load(&c.bad), 0);
	T_EQ(c.last.requested, 12);
	T_EQ(c.last.already, 12);
	T_EQ(f.st.stopped, MP2_STOP_CALLER);
	T_EQ(f.st.already, 12);
	T_EQ(f.st.not_tried, n - 12);
	T_EQ(f.st.requested, n);
	T_EQ(stats_sum(&f.st), n);
	for (size_t i = 0; i < n; i++)
		T_EQ(status[i], i < 12 ? f.reg.node : MP2_STATUS_NOT_TRIED);

	/* Never stopping: asked between every two of the 25 chunks. */
	stop_counter_init(&c, 0);
	T_EQ(fixture_migrate(&f, n, f.reg.node, status), 0);
	T_EQ(atomic_load(&c.calls), 24);
	T_EQ(c.last.requested, 96);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, n);

	/* Not asked once the budget is spent: 4 + 4 + 2 pages, 2 gaps. */
	stop_counter_init(&c, 0);
	f.o.max_pages = 10;
	T_EQ(fixture_migrate(&f, n, f.reg.node, status), 0);
	T_EQ(f.st.stopped, MP2_STOP_MAX_PAGES);
	T_EQ(f.st.already, 10);
	T_EQ(atomic_load(&c.calls), 2);
	region_done(&f.reg);
}

static void test_stop_callback_threads(void)
{
	const size_t n = 4000;
	struct fixture f;
	int *status = calloc(n, sizeof(*status));
	struct stop_counter c;
	size_t nr_not_tried = 0;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	T_REQUIRE(status);
	f.o.threads = 4;
	f.o.pages_per_call = 16;
	f.o.should_stop = stop_after;
	f.o.stop_arg = &c;
	stop_counter_init(&c, 1);
	c.record = false;
	T_EQ(fixture_migrate(&f, n, f.reg.node, status), 0);
	T_EQ(f.st.stopped, MP2_STOP_CALLER);
	T_EQ(atomic_load(&c.bad), 0);
	T_CHECK(atomic_load(&c.calls) >= 1);
	T_CHECK(f.st.already >= 16);
	T_CHECK(f.st.not_tried > 0);
	T_EQ(f.st.already + f.st.not_tried, n);
	for (size_t i = 0; i < n; i++)
		nr_not_tried += status[i] == MP2_STATUS_NOT_TRIED;
	T_EQ(nr_not_tried, f.st.not_tried);
	region_done(&f.reg);
	free(status);
}

static void test_stream(void)
{
	const size_t n = 1000;
	struct fixture f;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	T_EQ(f.o.window, MP2_DEFAULT_WINDOW);

	/* The default window holds all 1000 pages: one window. */
	fixture_source(&f, n, f.reg.node);
	T_EQ(mp2_migrate_stream(region_next, &f.src, NULL, &f.st), 0);
	T_EQ(f.src.calls, 2);
	T_EQ(f.src.max_seen, MP2_DEFAULT_WINDOW);
	T_EQ(f.st.requested, n);
	T_EQ(f.st.already, n);
	T_EQ(stats_sum(&f.st), n);
	T_EQ(f.st.stopped, MP2_STOP_NONE);

	/* Windows smaller than the region: every page delivered is counted. */
	stream_options(&f.o);
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.src.calls, (int)((n + 63) / 64) + 1);
	T_EQ(f.src.max_seen, 64);
	T_EQ(f.st.requested, n);
	T_EQ(f.st.already, n);
	T_EQ(stats_sum(&f.st), n);
	T_EQ(f.st.move_calls, 0);
	T_CHECK(f.st.query_calls >= (n + 63) / 64);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_CHECK(f.st.elapsed_ns > 0);

	/* A source that delivers less than asked, with threads. */
	f.o.threads = 3;
	fixture_source(&f, n, f.reg.node);
	f.src.per_call = 10;
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.src.calls, (int)(n / 10) + 1);
	T_EQ(f.st.requested, n);
	T_EQ(f.st.already, n);
	T_EQ(stats_sum(&f.st), n);

	/* An empty source. */
	fixture_source(&f, 0, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.src.calls, 1);
	T_EQ(f.st.requested, 0);
	T_EQ(stats_sum(&f.st), 0);
	/* The method that would have run is known all the same. */
	T_EQ(f.st.method_used, mp2_kernel_has_move_pages2(NULL, NULL) ?
				     MP2_METHOD_MOVE_PAGES2 :
				     MP2_METHOD_MOVE_PAGES);
	region_done(&f.reg);
}

static void test_stream_budget(void)
{
	const size_t n = 300;
	struct fixture f;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	stream_options(&f.o);

	/* The budget holds across windows and stops in the second. */
	f.o.max_pages = 100;
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.src.calls, 2);
	T_EQ(f.st.stopped, MP2_STOP_MAX_PAGES);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.already, 100);
	T_EQ(f.st.not_tried, 28);
	T_EQ(stats_sum(&f.st), f.st.requested);

	/* Spent exactly at a window's end: the source is not asked again. */
	f.o.max_pages = 128;
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.src.calls, 2);
	T_EQ(f.st.stopped, MP2_STOP_MAX_PAGES);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.already, 128);
	T_EQ(f.st.not_tried, 0);

	/* A budget larger than the region changes nothing. */
	f.o.max_pages = 10 * n;
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, n);
	region_done(&f.reg);
}

static void test_stream_time(void)
{
	const size_t n = 20000;
	struct fixture f;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	f.o.window = 1000;
	f.o.pages_per_call = 1;

	/* A huge max_us saturates: it must not wrap into a past deadline. */
	f.o.max_us = UINT64_MAX;
	fixture_source(&f, 100, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, 100);
	T_EQ(mp2_migrate_ranges(&(struct mp2_range){ f.reg.base, 100 * psz }, 1,
				f.reg.node, &f.o, NULL, &f.st), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, 100);
	f.o.max_us = UINT64_MAX / 1000 + 1;
	T_EQ(mp2_migrate_ranges(&(struct mp2_range){ f.reg.base, 100 * psz }, 1,
				f.reg.node, &f.o, NULL, &f.st), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);

	/* 20 windows, 1 ms each in the source, do not fit in 3 ms. */
	f.o.max_us = 3000;
	fixture_source(&f, n, f.reg.node);
	f.src.delay_us = 1000;
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_MAX_TIME);
	T_CHECK(f.st.requested < n);
	T_EQ((size_t)f.src.calls, f.st.requested / 1000);
	T_EQ(f.st.already + f.st.not_tried, f.st.requested);
	T_CHECK(f.st.elapsed_ns >= 3000000);
	region_free(&f.reg);
}

static void test_stream_stop(void)
{
	const size_t n = 300;
	struct fixture f;
	struct stop_counter c;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	stream_options(&f.o);
	f.o.should_stop = stop_after;
	f.o.stop_arg = &c;

	/*
	 * Asked 3 times in the first window (4 chunks), once between the
	 * windows, then in the second: the 5th answer stops after its first
	 * chunk, and sofar includes the first window.
	 */
	stop_counter_init(&c, 5);
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(atomic_load(&c.calls), 5);
	T_EQ(atomic_load(&c.bad), 0);
	T_EQ(c.last.requested, 80);
	T_EQ(c.last.already, 80);
	T_EQ(f.src.calls, 2);
	T_EQ(f.st.stopped, MP2_STOP_CALLER);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.already, 80);
	T_EQ(f.st.not_tried, 48);

	/* Stopped between windows: the source is not asked again. */
	stop_counter_init(&c, 4);
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(c.last.requested, 64);
	T_EQ(f.src.calls, 1);
	T_EQ(f.st.stopped, MP2_STOP_CALLER);
	T_EQ(f.st.requested, 64);
	T_EQ(f.st.already, 64);
	T_EQ(f.st.not_tried, 0);

	/*
	 * Never stopping: 300 pages, 19 chunks in 5 windows, asked 14 times
	 * within them and 5 times before asking the source again.
	 */
	stop_counter_init(&c, 0);
	fixture_source(&f, n, f.reg.node);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(atomic_load(&c.calls), 19);
	T_EQ(atomic_load(&c.bad), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, n);
	region_done(&f.reg);
}

static long too_many(void *arg, void **pages, int *nodes, size_t max)
{
	(void)arg;
	(void)pages;
	(void)nodes;
	return (long)max + 1;
}

static void test_stream_errors(void)
{
	const size_t n = 300;
	struct fixture f;

	T_REQUIRE(fixture_init(&f, n, FIRST_TOUCH));
	stream_options(&f.o);

	/* The source's error is returned, with what ran before it. */
	fixture_source(&f, n, f.reg.node);
	f.src.fail_call = 3;
	T_EQ(fixture_stream(&f), -EIO);
	T_EQ(f.src.calls, 3);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.already, 128);
	T_EQ(stats_sum(&f.st), 128);

	/* A bad target in the second window stops there. */
	fixture_source(&f, n, f.reg.node);
	f.src.bad_page = 70;
	T_EQ(fixture_stream(&f), -ENODEV);
	T_EQ(f.src.calls, 2);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.already, 64);
	T_EQ(f.st.not_tried, 64);
	T_EQ(stats_sum(&f.st), 128);

	/* So does an unaligned page. */
	fixture_source(&f, n, f.reg.node);
	f.src.bad_page = 64;
	f.src.bad_unaligned = true;
	T_EQ(fixture_stream(&f), -EINVAL);
	T_EQ(f.src.calls, 2);
	T_EQ(f.st.already, 64);
	T_EQ(f.st.not_tried, 64);

	/* Bad options: the source is never asked. */
	fixture_source(&f, n, f.reg.node);
	f.o.threads = 0;
	T_EQ(fixture_stream(&f), -EINVAL);
	T_EQ(f.src.calls, 0);
	T_EQ(f.st.requested, 0);
	f.o.threads = 1;
	T_EQ(mp2_migrate_stream(NULL, &f.src, &f.o, &f.st), -EINVAL);
	T_EQ(mp2_migrate_stream(too_many, NULL, &f.o, &f.st), -EINVAL);
	T_EQ(f.st.requested, 0);
	f.o.window = SIZE_MAX / 2;
	T_EQ(fixture_stream(&f), -ENOMEM);
	T_EQ(f.src.calls, 0);
	region_done(&f.reg);
}

/*
 * Sizes far beyond the pages at hand allocate for the pages at hand, and a
 * huge max_us saturates rather than wrap into a deadline in the past.
 */
static void test_huge_sizes(void)
{
	char *base = map_pages(1, MAP_PRIVATE);
	struct mp2_stats st;
	struct mp2_options o;

	T_REQUIRE(base);
	base[0] = 1;
	mp2_options_init(&o);
	o.pages_per_call = SIZE_MAX / 4;
	T_EQ(mp2_migrate((void **)&base, 1, NULL, local_node(), &o, NULL, &st),
	     0);
	T_EQ(st.already, 1);
	mp2_options_init(&o);
	o.max_us = UINT64_MAX;
	T_EQ(mp2_migrate((void **)&base, 1, NULL, local_node(), &o, NULL, &st),
	     0);
	T_EQ(st.stopped, MP2_STOP_NONE);
	T_EQ(st.already, 1);
	munmap(base, psz);
}

/* ---- migrate: two or more nodes ------------------------------------- */

#define NEED_NODES(k)                                                        \
	do {                                                                 \
		if (topo->nr_nodes < (k))                                    \
			T_SKIP("needs %d memory nodes, this machine has %d", \
			       (k), topo->nr_nodes);                         \
	} while (0)

static int node_a(void)
{
	return topo->nodes[0].id;
}

static int node_b(void)
{
	return topo->nodes[1].id;
}

/*
 * The start of a test that moves pages between nodes: skip unless the
 * machine has two memory nodes, then *f with n pattern-filled pages on
 * node_a() (the test fails when they cannot be had).
 */
#define TWO_NODE_FIXTURE(f, n)                                               \
	do {                                                                 \
		NEED_NODES(2);                                               \
		T_REQUIRE(fixture_init((f), (n), node_a()));                 \
	} while (0)

/*
 * The pages of r not where a partial move leaves them: the first k on
 * node first, the others on node rest.
 */
static size_t pages_off_split(const struct region *r, size_t k, int first,
			      int rest)
{
	return pages_off_node(r->pages, k, first) +
	       pages_off_node(r->pages + k, r->n - k, rest);
}

/* Move n pages to `to` with opts, then check stats, nodes and bytes. */
static void move_and_check(char *base, void **pages, size_t n, int to,
			   const struct mp2_options *o)
{
	struct mp2_stats st;
	int *status = calloc(n, sizeof(*status));

	T_REQUIRE(status);
	T_EQ(mp2_migrate(pages, n, NULL, to, o, status, &st), 0);
	T_EQ(st.moved, n);
	T_EQ(stats_sum(&st), n);
	for (size_t i = 0; i < n; i++)
		T_EQ(status[i], to);
	T_EQ(pages_off_node(pages, n, to), 0);
	T_EQ(bad_pages(base, n), 0);
	free(status);
}

static void move_there_and_back(enum mp2_method method, enum mp2_mode mode,
				unsigned int kbatch)
{
	struct fixture f;

	T_REQUIRE(fixture_init(&f, 300, node_a()));
	T_EQ(pages_off_node(f.reg.pages, f.reg.n, node_a()), 0);
	f.o.method = method;
	f.o.mode = mode;
	f.o.kernel_batch = kbatch;
	f.o.pages_per_call = 128;
	move_and_check(f.reg.base, f.reg.pages, f.reg.n, node_b(), &f.o);
	move_and_check(f.reg.base, f.reg.pages, f.reg.n, node_a(), &f.o);
	region_done(&f.reg);
}

static void test_move_pages_moves(void)
{
	NEED_NODES(2);
	move_there_and_back(MP2_METHOD_MOVE_PAGES, MP2_MODE_SYNC, 0);
}

static void test_move_pages2_moves(void)
{
	NEED_NODES(2);
	if (!mp2_kernel_has_move_pages2(NULL, NULL))
		T_SKIP("the running kernel has no move_pages2");
	for (int mode = MP2_MODE_ASYNC; mode <= MP2_MODE_SYNC; mode++) {
		move_there_and_back(MP2_METHOD_MOVE_PAGES2, (enum mp2_mode)mode,
				    0);
		move_there_and_back(MP2_METHOD_MOVE_PAGES2, (enum mp2_mode)mode,
				    64);
	}
}

static void test_per_page_nodes(void)
{
	const size_t n = 64;
	struct fixture f;
	int nodes[64], status[64];

	TWO_NODE_FIXTURE(&f, n);
	for (size_t i = 0; i < n; i++)
		nodes[i] = topo->nodes[i % topo->nr_nodes].id;
	T_EQ(mp2_migrate(f.reg.pages, n, nodes, -1, NULL, status, &f.st), 0);
	T_EQ(f.st.already, (n + topo->nr_nodes - 1) / topo->nr_nodes);
	T_EQ(f.st.moved, n - f.st.already);
	for (size_t i = 0; i < n; i++) {
		T_EQ(status[i], nodes[i]);
		T_EQ(pages_off_node(&f.reg.pages[i], 1, nodes[i]), 0);
	}
	region_done(&f.reg);
}

static void test_threads_move(void)
{
	const size_t n = 2048;
	struct fixture f;

	TWO_NODE_FIXTURE(&f, n);
	f.o.threads = 4;
	f.o.pages_per_call = 64;
	move_and_check(f.reg.base, f.reg.pages, n, node_b(), &f.o);
	f.o.method = MP2_METHOD_MOVE_PAGES;
	move_and_check(f.reg.base, f.reg.pages, n, node_a(), &f.o);
	region_done(&f.reg);
}

/*
 * The kernel moves a transparent huge page whole for any of its base
 * pages: pages it took along still count as moved, not as already there,
 * and threads do not fight over one huge page.
 */
static void test_huge_page_counts(void)
{
	const size_t hp = 2u << 20, n = 2 * hp / 4096;
	char *raw, *base;
	void **pages;
	struct mp2_options o;

	NEED_NODES(2);
	T_REQUIRE(psz == 4096);
	raw = map_pages(n + hp / psz, MAP_PRIVATE);
	T_REQUIRE(raw);
	base = (char *)(((uintptr_t)raw + hp - 1) & ~(uintptr_t)(hp - 1));
	madvise(base, n * psz, MADV_HUGEPAGE);
	numa_tonode_memory(base, n * psz, node_a());
	fill(base, n);
	pages = page_array(base, n);
	T_REQUIRE(pages);
	mp2_options_init(&o);
	o.pages_per_call = 64;
	move_and_check(base, pages, n, node_b(), &o);
	o.threads = 3;
	move_and_check(base, pages, n, node_a(), &o);
	o.method = MP2_METHOD_MOVE_PAGES;
	move_and_check(base, pages, n, node_b(), &o);
	munmap(raw, (n + hp / psz) * psz);
	free(pages);
}

static void test_budget_moves_exactly(void)
{
	const size_t n = 300;
	struct fixture f;

	TWO_NODE_FIXTURE(&f, n);
	f.o.max_pages = 100;
	f.o.pages_per_call = 32;
	T_EQ(fixture_migrate(&f, n, node_b(), NULL), 0);
	T_EQ(f.st.moved, 100);
	T_EQ(f.st.not_tried, 200);
	T_EQ(f.st.stopped, MP2_STOP_MAX_PAGES);
	T_EQ(pages_off_split(&f.reg, 100, node_b(), node_a()), 0);
	region_done(&f.reg);
}

static void test_adaptive(void)
{
	const size_t n = 400;
	struct fixture f;

	TWO_NODE_FIXTURE(&f, n);
	f.o.adaptive = true;
	/* No kernel moves a page in a microsecond: calls shrink to 1 page. */
	f.o.call_us = 1;
	T_EQ(fixture_migrate(&f, n, node_b(), NULL), 0);
	T_EQ(f.st.moved, n);
	T_EQ(f.st.last_pages_per_call, 1);
	T_CHECK(f.st.move_calls >= n - 64);
	/* A generous bound lets the call size grow to pages_per_call. */
	f.o.call_us = 10u * 1000 * 1000;
	f.o.pages_per_call = 128;
	T_EQ(fixture_migrate(&f, n, node_a(), NULL), 0);
	T_EQ(f.st.moved, n);
	T_EQ(f.st.last_pages_per_call, 128);
	T_EQ(pages_off_node(f.reg.pages, n, node_a()), 0);
	region_done(&f.reg);
}

static void test_ranges_move(void)
{
	const size_t n = 64;
	struct fixture f;
	struct mp2_range r[2];

	TWO_NODE_FIXTURE(&f, n);
	r[0].addr = f.reg.base;
	r[0].len = 16 * psz;
	r[1].addr = f.reg.base + 32 * psz;
	r[1].len = 32 * psz;
	T_EQ(mp2_migrate_ranges(r, 2, node_b(), NULL, NULL, &f.st), 0);
	T_EQ(f.st.requested, 48);
	T_EQ(f.st.moved, 48);
	T_EQ(pages_off_node(f.reg.pages, 16, node_b()), 0);
	T_EQ(pages_off_node(f.reg.pages + 16, 16, node_a()), 0);
	T_EQ(pages_off_node(f.reg.pages + 32, 32, node_b()), 0);
	region_done(&f.reg);
}

static void test_stop_moves(void)
{
	const size_t n = 300;
	struct fixture f;
	struct stop_counter c;

	TWO_NODE_FIXTURE(&f, n);
	f.o.pages_per_call = 32;
	f.o.should_stop = stop_after;
	f.o.stop_arg = &c;
	stop_counter_init(&c, 2);
	T_EQ(fixture_migrate(&f, n, node_b(), NULL), 0);
	T_EQ(f.st.stopped, MP2_STOP_CALLER);
	T_EQ(c.last.moved, 64);
	T_EQ(f.st.moved, 64);
	T_EQ(f.st.not_tried, n - 64);
	T_EQ(stats_sum(&f.st), n);
	T_EQ(pages_off_split(&f.reg, 64, node_b(), node_a()), 0);
	region_done(&f.reg);
}

static void test_stream_moves(void)
{
	const size_t n = 300;
	struct fixture f;

	TWO_NODE_FIXTURE(&f, n);
	stream_options(&f.o);
	fixture_source(&f, n, node_b());
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.requested, n);
	T_EQ(f.st.moved, n);
	T_EQ(stats_sum(&f.st), n);
	T_EQ(pages_off_node(f.reg.pages, n, node_b()), 0);
	T_EQ(bad_pages(f.reg.base, n), 0);

	/* Per-page targets over every node, in threads. */
	f.o.threads = 2;
	fixture_source(&f, n, -1);
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.requested, n);
	T_EQ(f.st.moved + f.st.already, n);
	for (size_t i = 0; i < n; i++)
		T_EQ(pages_off_node(&f.reg.pages[i], 1,
				    region_target(&f.src, i)), 0);
	region_done(&f.reg);
}

static void test_stream_budget_moves(void)
{
	const size_t n = 300;
	struct fixture f;

	TWO_NODE_FIXTURE(&f, n);
	stream_options(&f.o);
	f.o.max_pages = 100;
	fixture_source(&f, n, node_b());
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_MAX_PAGES);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.moved, 100);
	T_EQ(f.st.not_tried, 28);
	T_EQ(pages_off_split(&f.reg, 100, node_b(), node_a()), 0);
	region_done(&f.reg);
}

static void test_stream_error_moves(void)
{
	const size_t n = 300;
	struct fixture f;

	TWO_NODE_FIXTURE(&f, n);
	stream_options(&f.o);
	fixture_source(&f, n, node_b());
	f.src.bad_page = 100;
	T_EQ(fixture_stream(&f), -ENODEV);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.moved, 64);
	T_EQ(f.st.not_tried, 64);
	T_EQ(pages_off_split(&f.reg, 64, node_b(), node_a()), 0);

	fixture_source(&f, n, node_b());
	f.src.fail_call = 3;
	T_EQ(fixture_stream(&f), -EIO);
	T_EQ(f.st.requested, 128);
	T_EQ(f.st.moved, 64);
	T_EQ(f.st.already, 64);
	T_EQ(pages_off_split(&f.reg, 128, node_b(), node_a()), 0);
	region_done(&f.reg);
}

/*
 * max_rate paces the pages moved: the k-th may go k / max_rate seconds
 * after the start, in one call or across the windows of a stream, and
 * the wait ends at the deadline or when should_stop says so.  Only lower
 * bounds of time are asserted, and upper bounds far from the rate's.
 */
static void test_rate_moves(void)
{
	const size_t n = 64;
	struct fixture f;
	struct stop_counter stop;

	TWO_NODE_FIXTURE(&f, n);
	f.o.pages_per_call = 8;
	f.o.max_rate = 400;
	/* 8 calls of 8 pages: the last may go after 56 pages, 140 ms. */
	T_EQ(fixture_migrate(&f, n, node_b(), NULL), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.moved, n);
	T_CHECK(f.st.elapsed_ns >= 140000000);
	T_EQ(pages_off_node(f.reg.pages, n, node_b()), 0);

	/* The pace carries across windows. */
	f.o.window = 16;
	fixture_source(&f, n, node_a());
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.moved, n);
	T_CHECK(f.st.elapsed_ns >= 140000000);
	T_EQ(pages_off_node(f.reg.pages, n, node_a()), 0);

	/*
	 * Across windows too, pages in place are not paced: with 48 of 64
	 * on node b, windows of 16 and calls of 8 at 100 pages a second,
	 * the second call of the last window may go after 80 ms, not after
	 * the 560 ms that counting every page tried would wait.
	 */
	f.o.window = 0;
	T_EQ(mp2_migrate(f.reg.pages, 48, NULL, node_b(), NULL, NULL, &f.st),
	     0);
	T_EQ(f.st.moved, 48);
	f.o.window = 16;
	f.o.max_rate = 100;
	fixture_source(&f, n, node_b());
	T_EQ(fixture_stream(&f), 0);
	T_EQ(f.st.stopped, MP2_STOP_NONE);
	T_EQ(f.st.already, 48);
	T_EQ(f.st.moved, 16);
	T_CHECK(f.st.elapsed_ns >= 80000000 && f.st.elapsed_ns < 400000000);
	T_EQ(pages_off_node(f.reg.pages, n, node_b()), 0);

	/* At 1 page a second the deadline, 50 ms, ends the wait. */
	f.o.window = 0;
	f.o.pages_per_call = 1;
	f.o.max_rate = 1;
	f.o.max_us = 50000;
	T_EQ(fixture_migrate(&f, n, node_a(), NULL), 0);
	T_EQ(f.st.stopped, MP2_STOP_MAX_TIME);
	T_EQ(f.st.moved, 1);
	T_EQ(f.st.not_tried, n - 1);
	T_EQ(stats_sum(&f.st), n);
	T_CHECK(f.st.elapsed_ns >= 50000000 && f.st.elapsed_ns < 900000000);

	/*
	 * ... and so does should_stop, asked while it waits.  Page 0 is on
	 * node a already and goes at once, page 1 moves, page 2 waits.
	 */
	f.o.max_us = 0;
	stop_counter_init(&stop, 3);
	f.o.should_stop = stop_after;
	f.o.stop_arg = &stop;
	T_EQ(fixture_migrate(&f, n, node_a(), NULL), 0);
	T_EQ(f.st.stopped, MP2_STOP_CALLER);
	T_EQ(f.st.already, 1);
	T_EQ(f.st.moved, 1);
	T_EQ(f.st.not_tried, n - 2);
	T_EQ(atomic_load(&stop.calls), 3);
	T_EQ(atomic_load(&stop.bad), 0);
	T_CHECK(f.st.elapsed_ns < 900000000);
	region_done(&f.reg);
}

/*
 * The hooks run around every migrating system call and never while the
 * library paces; a refusal ends the migration with nothing lost.
 */
static void test_call_hooks_moves(void)
{
	const size_t n = 64;
	struct fixture f;
	struct call_hooks h;

	TWO_NODE_FIXTURE(&f, n);
	f.o.pages_per_call = 8;
	f.o.max_rate = 2000;
	call_hooks_set(&h, &f.o);
	T_EQ(fixture_migrate(&f, n, node_b(), NULL), 0);
	T_EQ(f.st.moved, n);
	T_CHECK(f.st.move_calls >= n / 8);
	T_EQ(h.begins, (int)f.st.move_calls);
	T_EQ(h.ends, h.begins);
	T_EQ(h.unbalanced, 0);
	T_EQ(h.outside_waits, 0);
	T_CHECK(!h.inside);

	/* A refused begin: that call is not made. */
	call_hooks_set(&h, &f.o);
	h.fail_begin = 3;
	T_EQ(fixture_migrate(&f, n, node_a(), NULL), -EPERM);
	T_EQ(f.st.moved, 16);
	T_EQ(f.st.not_tried, n - 16);
	T_EQ(h.ends, 2);
	T_EQ(pages_off_split(&f.reg, 16, node_a(), node_b()), 0);

	/* A refused end: that call's pages count, no call follows. */
	call_hooks_set(&h, &f.o);
	h.fail_end = 2;
	T_EQ(mp2_migrate(f.reg.pages + 16, n - 16, NULL, node_a(), &f.o, NULL,
			 &f.st), -EIO);
	T_EQ(f.st.moved, 16);
	T_EQ(f.st.not_tried, n - 32);
	T_EQ(h.begins, 2);
	T_EQ(h.unbalanced, 0);
	T_EQ(pages_off_split(&f.reg, 32, node_a(), node_b()), 0);
	region_done(&f.reg);
}

/* A page shared with a child: refused without move_all, moved with it. */
static void test_shared_page(void)
{
	char *page;
	int status;
	int pipefd[2];
	pid_t child;
	struct mp2_stats st;
	struct mp2_options o;
	char c;

	NEED_NODES(2);
	page = map_pages(1, MAP_SHARED);
	T_REQUIRE(page && pipe(pipefd) == 0);
	numa_tonode_memory(page, psz, node_a());
	memset(page, 0x3c, psz);
	child = fork();
	if (child == 0) {
		volatile char sink = page[0];

		(void)sink;
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	T_REQUIRE(child > 0);
	T_REQUIRE(read(pipefd[0], &c, 1) == 1);
	mp2_options_init(&o);
	for (int m = MP2_METHOD_MOVE_PAGES2; m <= MP2_METHOD_MOVE_PAGES; m++) {
		int to = pages_off_node((void **)&page, 1, node_a()) ?
				 node_a() : node_b();

		if (m == MP2_METHOD_MOVE_PAGES2 &&
		    !mp2_kernel_has_move_pages2(NULL, NULL))
			continue;
		o.method = (enum mp2_method)m;
		o.move_all = false;
		T_EQ(mp2_migrate((void **)&page, 1, NULL, to, &o, &status, &st),
		     0);
		T_EQ(status, -EACCES);
		T_EQ(st.failed_access, 1);
		T_EQ(pages_off_node((void **)&page, 1, to), 1);
		o.move_all = true;
		if (!has_cap_sys_nice()) {
			/* Unprivileged: refused as a whole, nothing moves. */
			T_EQ(mp2_migrate((void **)&page, 1, NULL, to, &o,
					 &status, &st), -EPERM);
			T_EQ(pages_off_node((void **)&page, 1, to), 1);
			continue;
		}
		T_EQ(mp2_migrate((void **)&page, 1, NULL, to, &o, &status, &st),
		     0);
		T_EQ(status, to);
		T_EQ(st.moved, 1);
		T_EQ(pages_off_node((void **)&page, 1, to), 0);
	}
	for (size_t i = 0; i < psz; i++)
		if (page[i] != 0x3c) {
			T_CHECK(page[i] == 0x3c);
			break;
		}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	munmap(page, psz);
}

int main(void)
{
	long nr;
	int ret;

	psz = (size_t)sysconf(_SC_PAGESIZE);
	ret = mp2_topology_read(&topo);
	if (ret) {
		printf("cannot read the topology: %s\n", mp2_strerror(ret));
		return 1;
	}
	printf("# %d memory node(s); move_pages2: %s\n", topo->nr_nodes,
	       mp2_kernel_has_move_pages2(&nr, NULL) ? "present" : "absent");

	T_RUN(test_topology);
	T_RUN(test_node_check);
	T_RUN(test_memory_tiers_ranks);
	T_RUN(test_memory_tiers_here);
	T_RUN(test_locate_touched);
	T_RUN(test_locate_untouched);
	T_RUN(test_locate_read_huge);
	T_RUN(test_locate_unmapped);
	T_RUN(test_locate_bad_args);
	T_RUN(test_locate_pid);
	T_RUN(test_locate_pid_gone);
	T_RUN(test_locate_pid_other_user);
	T_RUN(test_locate_pid_bad_args);
	T_RUN(test_migrate_pid);
	T_RUN(test_migrate_pid_gone);
	T_RUN(test_migrate_pid_other_user);
	T_RUN(test_migrate_to_current_node);
	T_RUN(test_migrate_statuses);
	T_RUN(test_invalid_arguments);
	T_RUN(test_error_messages);
	T_RUN(test_names);
	T_RUN(test_version);
	T_RUN(test_budget_pages);
	T_RUN(test_budget_time);
	T_RUN(test_rate_in_place);
	T_RUN(test_fallback);
	T_RUN(test_threads_single_node);
	T_RUN(test_stop_callback);
	T_RUN(test_stop_callback_threads);
	T_RUN(test_stream);
	T_RUN(test_stream_budget);
	T_RUN(test_stream_time);
	T_RUN(test_stream_stop);
	T_RUN(test_stream_errors);
	T_RUN(test_huge_sizes);

	T_RUN(test_move_pages_moves);
	T_RUN(test_move_pages2_moves);
	T_RUN(test_per_page_nodes);
	T_RUN(test_threads_move);
	T_RUN(test_huge_page_counts);
	T_RUN(test_budget_moves_exactly);
	T_RUN(test_adaptive);
	T_RUN(test_ranges_move);
	T_RUN(test_stop_moves);
	T_RUN(test_stream_moves);
	T_RUN(test_stream_budget_moves);
	T_RUN(test_stream_error_moves);
	T_RUN(test_rate_moves);
	T_RUN(test_call_hooks_moves);
	T_RUN(test_shared_page);

	mp2_topology_free(topo);
	return t_finish(MP2_TEST_SUITE);
}
