// SPDX-License-Identifier: MIT
/*
 * libmp2 out of memory.  malloc, calloc and realloc are defined here, in
 * front of glibc's, so that any allocation in the process can be made to
 * fail: libmp2's, libnuma's and libc's own.  Each API function is called
 * with its 1st, 2nd, ... allocation failing (once, then from there on)
 * until a call gets through without reaching the failure.  Every call must
 * return -ENOMEM or succeed with a correct result, and never exit: an exit
 * would cut the suite short of its closing line, which check.sh counts as
 * a failure.  Not built with ASan, whose allocator would conflict.
 */
#include <errno.h>
#include <numa.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "mp2.h"

/* A call needing more allocations than this is taken to loop. */
#define MAX_ALLOCS 10000

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

static atomic_long fail_at;		/* the allocation to fail, or 0 */
static atomic_long nr_allocs;		/* allocations since armed */
static atomic_bool fail_rest;		/* fail every one after it too */
static atomic_bool injected;		/* an allocation was failed */

static bool fail_now(void)
{
	long at = atomic_load(&fail_at);
	long n;

	if (at == 0)
		return false;
	n = atomic_fetch_add(&nr_allocs, 1) + 1;
	if (n < at || (n > at && !atomic_load(&fail_rest)))
		return false;
	atomic_store(&injected, true);
	errno = ENOMEM;
	return true;
}

void *malloc(size_t size)
{
	return fail_now() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __libc_realloc(p, size);
}

static void arm(long at, bool rest)
{
	atomic_store(&injected, false);
	atomic_store(&nr_allocs, 0);
	atomic_store(&fail_rest, rest);
	atomic_store(&fail_at, at);
}

static void disarm(void)
{
	atomic_store(&fail_at, 0);
}

/* Say so if something exits the process while an allocation fails. */
static void on_exit_check(void)
{
	long at = atomic_load(&fail_at);

	if (at != 0) {
		disarm();
		printf("FAIL: the process exited with allocation %ld failing\n",
		       at);
		fflush(stdout);
	}
}

static size_t psz;
static struct mp2_topology *ref;	/* read with nothing failing */
static int src_node, dst_node;		/* dst_node: another node if any */

/*
 * An API call under test, made with allocations failing: returns what the
 * call returned.  check then looks at its result, with nothing failing:
 * it returns ret, or -EBADMSG when the result is wrong.  reset (may be
 * NULL) undoes what the call did before the next one.
 */
struct call {
	int (*call)(void *arg);
	int (*check)(void *arg, int ret);
	void (*reset)(void *arg);
};

/*
 * Make the call with allocation at failing (and every one after it, with
 * rest); checks what it returned.  Returns whether the failure was reached.
 */
static bool try_failing(const struct call *c, void *arg, long at, bool rest)
{
	bool hit;
	int ret;

	if (c->reset)
		c->reset(arg);
	arm(at, rest);
	ret = c->call(arg);
	disarm();
	hit = atomic_load(&injected);
	ret = c->check(arg, ret);
	if (ret != 0 && ret != -ENOMEM)
		t_fail_at(__FILE__, __LINE__, "allocation %ld%s failing: %s",
			  at, rest ? " on" : "",
			  ret == -EBADMSG ? "wrong result" : mp2_strerror(ret));
	if (!hit)
		T_EQ(ret, 0);
	return hit;
}

/*
 * Fail the call's 1st, 2nd, ... allocation until it gets through without
 * reaching the failure; once failing that one alone, once every one from
 * it on.
 */
static void sweep(const struct call *c, void *arg)
{
	for (int rest = 0; rest <= 1; rest++) {
		long at = 1;

		while (at <= MAX_ALLOCS && try_failing(c, arg, at, rest))
			at++;
		T_CHECK(at <= MAX_ALLOCS);
	}
}

/* ---- topology ------------------------------------------------------- */

static int call_topology(void *arg)
{
	return mp2_topology_read(arg);
}

static int check_topology(void *arg, int ret)
{
	struct mp2_topology *t = *(struct mp2_topology **)arg;

	if (ret)
		return t ? -EBADMSG : ret;
	if (t->nr_nodes != ref->nr_nodes || t->max_node != ref->max_node)
		ret = -EBADMSG;
	for (int i = 0; !ret && i < t->nr_nodes; i++) {
		const struct mp2_node *a = &t->nodes[i], *b = &ref->nodes[i];

		if (a->id != b->id || a->mem_total != b->mem_total ||
		    a->nr_cpus != b->nr_cpus || !a->cpus)
			ret = -EBADMSG;
	}
	for (int a = 0; !ret && a <= t->max_node; a++)
		for (int b = 0; b <= t->max_node; b++)
			if (mp2_topology_distance(t, a, b) !=
			    mp2_topology_distance(ref, a, b))
				ret = -EBADMSG;
	mp2_topology_free(t);
	return ret;
}

static void test_topology_read(void)
{
	static const struct call c = { call_topology, check_topology, NULL };
	struct mp2_topology *t;

	sweep(&c, &t);
}

/* 0 when dst_node has memory and -1 is refused. */
static int call_node_check(void *arg)
{
	int ret = mp2_node_check(dst_node);

	(void)arg;
	if (ret)
		return ret;
	ret = mp2_node_check(-1);
	return ret == -ENODEV ? 0 : ret ? ret : -EBADMSG;
}

static int check_ret(void *arg, int ret)
{
	(void)arg;
	return ret;
}

static void test_node_check(void)
{
	static const struct call c = { call_node_check, check_ret, NULL };

	sweep(&c, NULL);
}

/* ---- migrate -------------------------------------------------------- */

#define NPAGES 100

struct region {
	char *base;
	void *pages[NPAGES];
	int status[NPAGES];
	struct mp2_options o;
	struct mp2_stats st;
	size_t next;			/* stream: next page to deliver */
};

static bool bytes_intact(const struct region *r)
{
	for (size_t i = 0; i < NPAGES; i++)
		if (r->base[i * psz] != (char)i ||
		    r->base[i * psz + psz - 1] != (char)~i)
			return false;
	return true;
}

static bool all_on(struct region *r, int node)
{
	int where[NPAGES];

	if (mp2_locate(r->pages, NPAGES, where, 0))
		return false;
	for (size_t i = 0; i < NPAGES; i++)
		if (where[i] != node)
			return false;
	return true;
}

static size_t stats_sum(const struct mp2_stats *s)
{
	return s->moved + s->already + mp2_stats_failed(s);
}

/* Common checks after a migration to dst_node of all NPAGES pages. */
static int check_migration(struct region *r, int ret, size_t requested)
{
	if (stats_sum(&r->st) != r->st.requested ||
	    r->st.requested != requested || !bytes_intact(r))
		return -EBADMSG;
	if (ret)
		return ret;
	if (r->st.moved + r->st.already != NPAGES || !all_on(r, dst_node))
		return -EBADMSG;
	return 0;
}

static void region_reset(void *arg)
{
	struct region *r = arg;

	memset(&r->st, 0x5a, sizeof(r->st));
	r->next = 0;
	if (src_node != dst_node)
		mp2_migrate(r->pages, NPAGES, NULL, src_node, NULL, NULL, NULL);
}

static int call_migrate(void *arg)
{
	struct region *r = arg;

	return mp2_migrate(r->pages, NPAGES, NULL, dst_node, &r->o, r->status,
			   &r->st);
}

static int check_migrate(void *arg, int ret)
{
	return check_migration(arg, ret, NPAGES);
}

static int call_migrate_ranges(void *arg)
{
	struct region *r = arg;
	struct mp2_range range = { r->base, NPAGES * psz };

	return mp2_migrate_ranges(&range, 1, dst_node, &r->o, NULL, &r->st);
}

static int check_migrate_ranges(void *arg, int ret)
{
	struct region *r = arg;

	/* Its own array failing leaves the stats zero. */
	if (ret == -ENOMEM && r->st.requested == 0)
		return stats_sum(&r->st) == 0 ? ret : -EBADMSG;
	return check_migration(r, ret, NPAGES);
}

static long region_next(void *arg, void **pages, int *nodes, size_t max)
{
	struct region *r = arg;
	size_t k;

	for (k = 0; k < max && r->next < NPAGES; k++, r->next++) {
		pages[k] = r->pages[r->next];
		nodes[k] = dst_node;
	}
	return (long)k;
}

static int call_stream(void *arg)
{
	struct region *r = arg;

	return mp2_migrate_stream(region_next, r, &r->o, &r->st);
}

static int check_stream(void *arg, int ret)
{
	struct region *r = arg;

	/* Stopped by an error: the pages delivered so far. */
	return check_migration(r, ret, ret ? r->next : NPAGES);
}

static struct region *region_new(void)
{
	struct region *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->base = numa_alloc_onnode(NPAGES * psz, src_node);
	if (!r->base) {
		free(r);
		return NULL;
	}
	for (size_t i = 0; i < NPAGES; i++) {
		r->pages[i] = r->base + i * psz;
		memset(r->pages[i], 0, psz);
		r->base[i * psz] = (char)i;
		r->base[i * psz + psz - 1] = (char)~i;
	}
	mp2_options_init(&r->o);
	r->o.pages_per_call = 16;
	r->o.window = 32;
	return r;
}

static void region_free(struct region *r)
{
	numa_free(r->base, NPAGES * psz);
	free(r);
}

/* Sweep the call c over a new region, migrating in threads threads. */
static void sweep_region(const struct call *c, int threads)
{
	struct region *r = region_new();

	T_REQUIRE(r);
	r->o.threads = threads;
	sweep(c, r);
	region_free(r);
}

static const struct call migrate_call = {
	call_migrate, check_migrate, region_reset
};

static void test_migrate(void)
{
	sweep_region(&migrate_call, 1);
}

static void test_migrate_threads(void)
{
	sweep_region(&migrate_call, 4);
}

static void test_migrate_ranges(void)
{
	static const struct call c = {
		call_migrate_ranges, check_migrate_ranges, region_reset
	};

	sweep_region(&c, 1);
}

static void test_migrate_stream(void)
{
	static const struct call c = {
		call_stream, check_stream, region_reset
	};

	sweep_region(&c, 1);
	sweep_region(&c, 2);
}

/* ---- locate and discovery ------------------------------------------- */

static int call_locate(void *arg)
{
	struct region *r = arg;

	return mp2_locate_range(r->base, NPAGES * psz, r->status, 0);
}

static int check_locate(void *arg, int ret)
{
	struct region *r = arg;

	for (size_t i = 0; !ret && i < NPAGES; i++)
		if (r->status[i] != src_node)
			ret = -EBADMSG;
	return ret;
}

static void test_locate_range(void)
{
	static const struct call c = { call_locate, check_locate, NULL };

	sweep_region(&c, 1);
}

/* Discovery runs once: with every allocation failing, it must still see. */
static void test_discovery(void)
{
	bool sysfs = access(MP2_SYSFS_SYSCALL_NR, R_OK) == 0;
	int has;

	arm(1, true);
	has = mp2_kernel_has_move_pages2(NULL, NULL);
	disarm();
	T_EQ(has, sysfs);
}

int main(void)
{
	int ret;

	psz = (size_t)sysconf(_SC_PAGESIZE);
	atexit(on_exit_check);
	ret = mp2_topology_read(&ref);
	if (ret) {
		printf("cannot read the topology: %s\n", mp2_strerror(ret));
		return 1;
	}
	src_node = ref->nodes[0].id;
	dst_node = ref->nodes[ref->nr_nodes > 1 ? 1 : 0].id;
	printf("# %d memory node(s): migrating from node %d to node %d\n",
	       ref->nr_nodes, src_node, dst_node);
	fflush(stdout);

	T_RUN(test_discovery);
	T_RUN(test_topology_read);
	T_RUN(test_node_check);
	T_RUN(test_locate_range);
	T_RUN(test_migrate);
	T_RUN(test_migrate_threads);
	T_RUN(test_migrate_ranges);
	T_RUN(test_migrate_stream);

	mp2_topology_free(ref);
	return t_finish("libmp2-nomem");
}
