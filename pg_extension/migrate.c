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
 * With the worker's warm mapping (mapper.c), pages the worker has mapped
 * are moved through its page tables (move_pages(2) with its pid), so this
 * backend neither faults them in nor adds a mapping to each; the pages the
 * worker has not mapped yet are set aside, at most a window of them, and
 * moved here afterwards.  In the two-node guest a process that never
 * touched a 128 MiB buffer moved it through its owner's pid in 0.97x and
 * 0.91x the time of touching and moving it itself, with 0 and 8 other
 * mappers, inside the spread, and with 75 faults instead of 2,188
 * (results/move-through); asking the owner to move it with move_pages2
 * took as long, so the move is not handed to the worker, which would
 * serialise every backend's moves behind its own work.  It is done only
 * with CAP_SYS_NICE (MPOL_MF_MOVE_ALL), so who may move which pages stays
 * what it is without the worker, and not when move_pages2 is asked for by
 * name: it has no pid argument.
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
#include "utils/timestamp.h"

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
	/* The worker whose mapping pages are moved through, or 0: here. */
	pid_t		mapper;
	/* Pages it has not mapped, and their targets (-1: ask target_of). */
	int64	   *later;
	int		   *later_target;
	int			nlater;
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
 * is now (src->where), and keep those it gives one.  A page that could not
 * be located is left alone.  Returns how many are kept.
 */
static int
targets_of(MoveSource *src, void **addrs, int *targets, int cnt)
{
	const Mp2MoveArgs *args = src->args;
	int			kept = 0;

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

/*
 * The cnt pages, touched here, with their targets: those target_of gives
 * one (when set).  Returns how many are kept.
 */
static int
here(MoveSource *src, void **addrs, int *targets, int cnt)
{
	pgmp2_pages_touch(&src->walk->pool, src->pages, cnt);
	if (src->args->target_of == NULL)
		return cnt;
	if (mp2_locate(addrs, (size_t) cnt, src->where, 0) != 0)
		return 0;
	return targets_of(src, addrs, targets, cnt);
}

/*
 * The cnt pages as the worker maps them: those it has mapped are kept,
 * with their targets; the others go to later[] (all of them when the
 * worker cannot be asked).  Returns how many are kept.
 */
static int
through_mapper(MoveSource *src, void **addrs, int *targets, int cnt)
{
	const Mp2MoveArgs *args = src->args;
	int			kept = 0;

	if (mp2_locate_pid(src->mapper, addrs, (size_t) cnt, src->where) != 0)
		for (int i = 0; i < cnt; i++)
			src->where[i] = -ENOENT;
	for (int i = 0; i < cnt; i++)
	{
		if (src->where[i] >= 0)
		{
			src->pages[kept] = src->pages[i];
			addrs[kept] = addrs[i];
			targets[kept] = targets[i];
			src->where[kept] = src->where[i];
			kept++;
			continue;
		}
		src->later[src->nlater] = src->pages[i];
		src->later_target[src->nlater] = args->target_of ? -1 : targets[i];
		src->nlater++;
	}
	return args->target_of ? targets_of(src, addrs, targets, kept) : kept;
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
		/* Room for a window of pages the worker has not mapped. */
		if (src->mapper != 0 && src->nlater > PGMP2_WINDOW_PAGES - want)
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
			cnt = src->mapper != 0 ? through_mapper(src, addrs, targets, cnt) :
				here(src, addrs, targets, cnt);
		if (cnt > 0 && pool->thp)
			one_target_per_thp(src, addrs, targets, cnt);
		if (cnt > 0)
			return cnt;
	}
}

/* libmp2's page source of the pages the worker has not mapped: here. */
static long
later_next(void *arg, void **addrs, int *targets, size_t max)
{
	MoveSource *src = arg;
	const Mp2Pool *pool = &src->walk->pool;
	int			cnt = src->nlater;

	Assert((size_t) cnt <= max);
	for (int i = 0; i < cnt; i++)
	{
		src->pages[i] = src->later[i];
		addrs[i] = pgmp2_pool_page(pool, src->later[i]);
		targets[i] = src->later_target[i];
	}
	src->nlater = 0;
	if (cnt > 0)
		cnt = here(src, addrs, targets, cnt);
	if (cnt > 0 && pool->thp)
		one_target_per_thp(src, addrs, targets, cnt);
	return cnt;
}

/*
 * The worker whose page tables the move goes through, or 0 to move
 * through this backend's own (see the top of the file).
 */
static pid_t
move_mapper(const Mp2MoveArgs *args, bool privileged)
{
	if (!privileged || args->method == MP2_METHOD_MOVE_PAGES2)
		return 0;
	return pgmp2_mapper_pid();
}

/*
 * Move through the worker and here by turns: a stream through the worker
 * until the pages it has not mapped fill later[] or the walk ends, then
 * those pages here, until the walk is done.  The budget in pages and time
 * carries over; each stream paces itself from its own start.  Returns
 * libmp2's error, or 0.
 */
static int
move_streams(MoveSource *src, struct mp2_options *o, struct mp2_stats *st)
{
	const Mp2MoveArgs *args = src->args;
	TimestampTz start = GetCurrentTimestamp();
	size_t		most = 0;
	int			err = 0;

	for (bool first = true;; first = false)
	{
		bool		drain = src->nlater > 0;
		struct mp2_stats part;

		if (!first && args->should_stop && args->should_stop(args->stop_arg, NULL))
			break;
		o->pid = drain ? 0 : src->mapper;
		err = mp2_migrate_stream(drain ? later_next : source_next, src, o, &part);
		mp2_stats_add(st, &part);
		/* Counted under the method that handled the most pages. */
		if (part.requested >= most)
		{
			most = part.requested;
			st->method_used = part.method_used;
		}
		if ((err == -ESRCH || err == -EPERM) && o->pid != 0)
		{
			/* The worker is gone, or may not be asked: the rest here. */
			src->mapper = 0;
			err = 0;
		}
		else if (err || part.stopped != MP2_STOP_NONE)
			break;
		/* Done when the walk is and nothing waits; a cancel, at the top. */
		if (src->nlater == 0 && src->ended)
			break;
		if (o->max_pages > 0)
		{
			if (part.requested >= o->max_pages)
			{
				st->stopped = MP2_STOP_MAX_PAGES;
				break;
			}
			o->max_pages -= part.requested;
		}
		if (args->max_ms > 0)
		{
			int64		used = GetCurrentTimestamp() - start;

			if (used >= args->max_ms * 1000)
			{
				st->stopped = MP2_STOP_MAX_TIME;
				break;
			}
			o->max_us = (uint64_t) (args->max_ms * 1000 - used);
		}
	}
	return err;
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
	src.where = palloc(sizeof(int) * PGMP2_WINDOW_PAGES);

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
	src.mapper = move_mapper(args, privileged);
	if (src.mapper != 0)
	{
		src.later = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
		src.later_target = palloc(sizeof(int) * PGMP2_WINDOW_PAGES);
		err = move_streams(&src, &o, &res->st);
	}
	else
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
	pfree(src.where);
	if (src.later)
	{
		pfree(src.later);
		pfree(src.later_target);
	}

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
