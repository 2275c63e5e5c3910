/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  One migration of shared buffer pages: a walk over the pool or a
 *	  relation, handed to libmp2 as a page source.
 *
 * libmp2 (mp2_migrate_stream) asks the source for one window of pages at
 * a time and keeps the budget in pages and time across windows; between
 * two system calls it asks whether to stop (query cancel, statement
 * timeout, worker shutdown).  So memory is that of one window, whatever
 * the size of the pool, and a stop takes effect within one call.
 *
 * The source skips pages that do not exist (nothing to move there; they
 * are never touched, see buffers.c) and touches the others so that the
 * kernel can see them.
 *
 * In a pool of 2 MiB transparent huge pages (mp2.pool_thp) the pages are
 * 4 kB, but the kernel moves the folio of a page whole, to the target of
 * the first of its pages it is given; a later page of the same folio with
 * another target would send the whole folio on again.  So every page of
 * a 2 MiB gets the target of the first one handed out, and interleaving
 * takes turns by 2 MiB instead of by buffer.  The kernel reports the
 * other pages of a moved folio as moved (move_pages2) or busy, which
 * libmp2 then finds on their target and counts as moved (move_pages).
 *
 * CAP_SYS_NICE is raised around the libmp2 call
 * only; nothing it calls back can throw, so the capability is never left
 * raised by an ERROR.  A cancel is acted on after the capability is
 * dropped and the counters are saved: the error's context says what had
 * moved by then.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "miscadmin.h"
#include "utils/elog.h"

typedef struct MoveSource
{
	Mp2Walk    *walk;
	const Mp2MoveArgs *args;
	int64	   *pages;			/* one window of the walk */
	bool	   *exists;
	int		   *where;			/* target_of: the node of each page */
	uintptr_t	thp_last;		/* THP pool: the last 2 MiB handed out */
	int			thp_target;		/* and its target */
	uint64		not_present;
	bool		ended;			/* the walk is exhausted */
} MoveSource;

/*
 * Where interleaving puts the k-th page, at addr: whole buffers (or huge
 * pages) take turns; in a THP pool, the 2 MiB that hold them.
 */
static int
interleave_target(const Mp2Pool *pool, int64 k, const char *addr,
				  const int *nodes, int nnodes)
{
	int64		unit = Max((int64) (BLCKSZ / pool->page_size), 1);

	if (pool->thp)
		return nodes[((uintptr_t) addr / PGMP2_THP_SIZE) % (uintptr_t) nnodes];
	return nodes[(k / unit) % nnodes];
}

/* THP pool: each page takes the target of the first page of its 2 MiB. */
static void
one_target_per_thp(MoveSource *src, void **addrs, int *targets, int cnt)
{
	for (int i = 0; i < cnt; i++)
	{
		uintptr_t	chunk = (uintptr_t) addrs[i] / PGMP2_THP_SIZE;

		if (chunk == src->thp_last)
			targets[i] = src->thp_target;
		else
		{
			src->thp_last = chunk;
			src->thp_target = targets[i];
		}
	}
}

/*
 * Ask target_of for the target of each of the cnt pages, from where each
 * is now, and keep those it gives one.  A page that cannot be located is
 * left alone.  Returns how many are kept.
 */
static int
targets_of(MoveSource *src, void **addrs, int *targets, int cnt)
{
	const Mp2MoveArgs *args = src->args;
	int			kept = 0;

	if (mp2_locate(addrs, (size_t) cnt, src->where, 0) != 0)
		return 0;
	for (int i = 0; i < cnt; i++)
	{
		int			t = src->where[i] < 0 ? -1 :
			args->target_of(args->target_arg, src->pages[i], src->where[i]);

		if (t < 0)
			continue;
		src->pages[kept] = src->pages[i];
		addrs[kept] = addrs[i];
		targets[kept] = t;
		kept++;
	}
	return kept;
}

/* libmp2's page source: the next pages of the walk that exist. */
static long
source_next(void *arg, void **addrs, int *targets, size_t max)
{
	MoveSource *src = arg;
	const Mp2MoveArgs *args = src->args;
	const Mp2Pool *pool = &src->walk->pool;
	int			want = (int) Min(max, (size_t) PGMP2_WINDOW_PAGES);

	for (;;)
	{
		int64		k0 = src->walk->handed;
		int			n;
		int			cnt = 0;

		if (pgmp2_walk_done(src->walk))
		{
			src->ended = true;
			return 0;
		}
		if (args->should_stop && args->should_stop(args->stop_arg, NULL))
			return 0;
		n = pgmp2_walk_next(src->walk, src->pages, want, NULL, 0, NULL);
		pgmp2_pages_exist(pool, src->pages, n, src->exists);
		for (int i = 0; i < n; i++)
		{
			int64		k = args->by_pool_page ? src->pages[i] : k0 + i;

			if (!src->exists[i])
			{
				src->not_present++;
				continue;
			}
			src->pages[cnt] = src->pages[i];
			addrs[cnt] = pgmp2_pool_page(pool, src->pages[i]);
			targets[cnt] = args->nodes == NULL ? args->node :
				interleave_target(pool, k, addrs[cnt], args->nodes,
								  args->nnodes);
			cnt++;
		}
		if (cnt > 0)
		{
			pgmp2_pages_touch(pool, src->pages, cnt);
			if (args->target_of != NULL)
				cnt = targets_of(src, addrs, targets, cnt);
		}
		if (cnt > 0 && pool->thp)
			one_target_per_thp(src, addrs, targets, cnt);
		if (cnt > 0)
			return cnt;
	}
}

/* The error context of a migration: what it had done when it stopped. */
typedef struct MoveContext
{
	const Mp2MoveArgs *args;
	const Mp2MoveResult *res;
	bool		done;			/* res is filled in */
} MoveContext;

static void
move_error_context(void *arg)
{
	MoveContext *mc = arg;
	const Mp2MoveResult *res = mc->res;

	if (!mc->done)
		return;
	errcontext("%s stopped after %llu of %llu pages: %llu moved, %llu already in place, %llu not faulted in, %llu failed",
			   mc->args->what,
			   (unsigned long long) (res->st.requested - res->st.not_tried +
									 res->not_present),
			   (unsigned long long) pgmp2_result_requested(res),
			   (unsigned long long) res->st.moved,
			   (unsigned long long) res->st.already,
			   (unsigned long long) res->not_present,
			   (unsigned long long) (mp2_stats_failed(&res->st) - res->st.not_tried));
}

/* The pages the walk did not reach, counted without moving them. */
static uint64
count_rest(Mp2Walk *walk)
{
	int64	   *pages;
	uint64		rest = 0;

	if (pgmp2_walk_done(walk))
		return 0;
	if (!walk->relation)
	{
		/* Every page of the pool: no need to walk them. */
		rest = (uint64) Max(walk->pool.npages - walk->handed, 0);
		walk->nvisited = NBuffers;
		return rest;
	}
	pages = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	while (!pgmp2_walk_done(walk))
	{
		/* A cancel is acted on by the caller, with the counts so far. */
		if (pgmp2_cancel_pending(NULL, NULL))
			break;
		rest += (uint64) pgmp2_walk_next(walk, pages, PGMP2_WINDOW_PAGES, NULL, 0, NULL);
	}
	pfree(pages);
	return rest;
}

void
pgmp2_move(Mp2Walk *walk, const Mp2MoveArgs *args, Mp2MoveResult *res)
{
	struct mp2_options o;
	MoveSource	src;
	MoveContext mc;
	ErrorContextCallback errcb;
	bool		privileged;
	int			err;

	memset(res, 0, sizeof(*res));
	memset(&src, 0, sizeof(src));
	res->page_size = walk->pool.page_size;

	src.walk = walk;
	src.args = args;
	src.thp_last = UINTPTR_MAX;
	src.pages = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	src.exists = palloc(sizeof(bool) * PGMP2_WINDOW_PAGES);
	src.where = args->target_of ? palloc(sizeof(int) * PGMP2_WINDOW_PAGES) : NULL;

	mp2_options_init(&o);
	o.method = args->method;
	o.mode = args->mode;
	o.kernel_batch = (unsigned int) args->batch_size;
	o.pages_per_call = (size_t) args->batch_size;
	o.max_pages = (size_t) args->max_pages;
	o.max_us = (uint64_t) args->max_ms * 1000;
	o.max_rate = (uint64_t) args->max_rate;
	o.window = PGMP2_WINDOW_PAGES;
	o.should_stop = args->should_stop;
	o.stop_arg = args->stop_arg;

	/* CAP_SYS_NICE is effective only inside the system calls. */
	privileged = pgmp2_priv_available();
	o.move_all = privileged;
	if (privileged)
	{
		o.call_begin = pgmp2_priv_call_begin;
		o.call_end = pgmp2_priv_call_end;
	}
	err = mp2_migrate_stream(source_next, &src, &o, &res->st);

	res->privileged = privileged;
	res->not_present = src.not_present;
	res->error = err;

	mc.args = args;
	mc.res = res;
	mc.done = true;
	errcb.callback = move_error_context;
	errcb.arg = &mc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (!src.ended)
		res->not_walked = count_rest(walk);
	pgmp2_count(res);
	pfree(src.pages);
	pfree(src.exists);
	if (src.where)
		pfree(src.where);

	/* A capability that could not be lowered, then a cancel: throw now. */
	pgmp2_priv_check();
	CHECK_FOR_INTERRUPTS();
	error_context_stack = errcb.previous;
}

bool
pgmp2_cancel_pending(void *arg, const struct mp2_stats *sofar)
{
	return QueryCancelPending || ProcDiePending;
}

void
pgmp2_result_counters(const Mp2MoveResult *res, Mp2Counters *c)
{
	const struct mp2_stats *st = &res->st;

	c->migrations = 1;
	c->requested = pgmp2_result_requested(res);
	c->moved = st->moved;
	c->already = st->already;
	c->not_present = res->not_present + st->failed_not_present;
	c->failed_busy = st->failed_busy;
	c->failed_shared = st->failed_access;
	c->failed_nomem = st->failed_nomem;
	c->failed_other = st->failed_other + st->failed_fault;
	c->not_tried = st->not_tried + res->not_walked;
	c->move_calls = st->move_calls;
	c->elapsed_ns = st->elapsed_ns;
}

void
pgmp2_count(const Mp2MoveResult *res)
{
	int			idx = res->st.method_used == MP2_METHOD_MOVE_PAGES2 ?
		PGMP2_IDX_MOVE_PAGES2 : PGMP2_IDX_MOVE_PAGES;
	Mp2Counters *c = &pgmp2_shared->counters[idx];
	Mp2Counters one;

	pgmp2_result_counters(res, &one);
	SpinLockAcquire(&pgmp2_shared->mutex);
	c->migrations += one.migrations;
	c->requested += one.requested;
	c->moved += one.moved;
	c->already += one.already;
	c->not_present += one.not_present;
	c->failed_busy += one.failed_busy;
	c->failed_shared += one.failed_shared;
	c->failed_nomem += one.failed_nomem;
	c->failed_other += one.failed_other;
	c->not_tried += one.not_tried;
	c->move_calls += one.move_calls;
	c->elapsed_ns += one.elapsed_ns;
	SpinLockRelease(&pgmp2_shared->mutex);
}

void
pgmp2_report_shared(const Mp2MoveResult *res, int elevel)
{
	if (res->st.failed_access == 0 || res->privileged)
		return;
	ereport(elevel,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("some pages were not moved because other processes map them too"),
			 errdetail("Moving pages that other processes map needs the capability CAP_SYS_NICE, which this server process does not have."),
			 errhint("Grant CAP_SYS_NICE to the PostgreSQL server: User=postgres and AmbientCapabilities=CAP_SYS_NICE in its systemd service, or \"setcap cap_sys_nice+p %s\".",
					 my_exec_path)));
}
