/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  One migration of shared buffer pages: filter the pages that exist,
 *	  touch them, and hand them to libmp2 window by window with
 *	  CAP_SYS_NICE raised only around each libmp2 call.
 *
 * The pages are handed over in windows so that a caller can stop between
 * two windows (query cancel, worker shutdown) and so that a budget in
 * pages or time holds across the whole list.  Between raising and dropping
 * the capability nothing can throw: libmp2 reports errors as return
 * values, so the capability is never left raised by an ERROR.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <time.h>

#include "miscadmin.h"

/*
 * Pages handed to one mp2_migrate() call: at most MOVE_WINDOW, and about
 * 16 kernel calls' worth, so that stopping is possible every so often.
 */
#define MOVE_WINDOW		65536
#define MOVE_WINDOW_MIN 1024

static uint64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64) ts.tv_sec * UINT64CONST(1000000000) + (uint64) ts.tv_nsec;
}

static enum mp2_method
resolve_method(enum mp2_method asked)
{
	if (asked == MP2_METHOD_MOVE_PAGES)
		return MP2_METHOD_MOVE_PAGES;
	if (asked == MP2_METHOD_MOVE_PAGES2 || mp2_kernel_has_move_pages2(NULL, NULL))
		return MP2_METHOD_MOVE_PAGES2;
	return MP2_METHOD_MOVE_PAGES;
}

const char *
mp2_method_used_name(const struct mp2_stats *st)
{
	return mp2_method_name(st->method_used);
}

void
mp2_move(const Mp2Pool *pool, const int64 *pages, int64 n, const int *targets,
		 int node, const Mp2MoveArgs *args, Mp2StopFn stop, void *stop_arg,
		 Mp2MoveResult *res)
{
	struct mp2_options o;
	uint64		start = now_ns();
	uint64		deadline = 0;
	int64		budget = args->max_pages;
	bool		stopped = false;
	int64		window = Min(MOVE_WINDOW,
							 Max(MOVE_WINDOW_MIN, 16 * (int64) args->batch_size));
	bool	   *resident;
	void	  **addrs;
	int		   *tgts = NULL;
	int64	   *idx;

	memset(res, 0, sizeof(*res));
	res->page_size = pool->page_size;
	res->st.method_used = resolve_method(args->method);

	mp2_options_init(&o);
	o.method = args->method;
	o.mode = args->mode;
	o.kernel_batch = (unsigned int) args->batch_size;
	o.pages_per_call = (size_t) args->batch_size;
	if (args->max_ms > 0)
		deadline = start + (uint64) args->max_ms * UINT64CONST(1000000);

	resident = palloc(sizeof(bool) * MOVE_WINDOW);
	addrs = palloc(sizeof(void *) * MOVE_WINDOW);
	idx = palloc(sizeof(int64) * MOVE_WINDOW);
	if (targets)
		tgts = palloc(sizeof(int) * MOVE_WINDOW);

	for (int64 first = 0; first < n;)
	{
		int64		cnt = Min(n - first, window);
		int			nres = 0;
		struct mp2_stats st;
		bool		raised;
		int			err;

		if (!stopped && deadline != 0 && now_ns() >= deadline)
		{
			stopped = true;
			res->st.stopped = MP2_STOP_MAX_TIME;
		}
		if (!stopped && args->max_moved > 0)
		{
			int64		left = args->max_moved - (int64) res->st.moved;

			if (left <= 0)
			{
				stopped = true;
				res->st.stopped = MP2_STOP_MAX_PAGES;
			}
			else
				cnt = Min(cnt, Max(left, args->batch_size));
		}
		if (stopped)
		{
			res->st.requested += cnt;
			res->st.not_tried += cnt;
			first += cnt;
			continue;
		}

		mp2_pages_resident(pool, pages + first, cnt, resident);
		for (int64 k = 0; k < cnt; k++)
		{
			if (!resident[k])
			{
				res->not_present++;
				continue;
			}
			idx[nres] = first + k;
			addrs[nres] = mp2_pool_page(pool, pages[first + k]);
			if (tgts)
				tgts[nres] = targets[first + k];
			nres++;
		}
		first += cnt;
		if (nres == 0)
			continue;
		for (int k = 0; k < nres; k++)
			mp2_pages_touch(pool, &pages[idx[k]], 1);

		o.max_pages = budget > 0 ? (size_t) budget : 0;
		o.max_us = 0;
		if (deadline != 0)
			o.max_us = Max((deadline - Min(deadline, now_ns())) / 1000, 1);

		/* Nothing between raise and drop can throw. */
		memset(&st, 0, sizeof(st));
		raised = mp2_priv_raise();
		o.move_all = raised;
		err = mp2_migrate(addrs, (size_t) nres, tgts, node, &o, NULL, &st);
		if (raised)
			mp2_priv_drop();

		if (raised)
			res->privileged = true;
		if (err != 0 && st.requested != (size_t) nres)
		{
			/* Rejected before anything moved: nothing was tried. */
			memset(&st, 0, sizeof(st));
			st.requested = st.not_tried = (size_t) nres;
		}
		st.method_used = res->st.method_used;
		mp2_stats_add(&res->st, &st);
		if (budget > 0)
		{
			budget -= (int64) (st.requested - st.not_tried);
			if (budget <= 0)
			{
				stopped = true;
				res->st.stopped = MP2_STOP_MAX_PAGES;
			}
		}
		if (st.stopped != MP2_STOP_NONE)
			stopped = true;
		if (err != 0)
		{
			res->error = err;
			stopped = true;
		}
		if (!stopped && first < n && stop != NULL && stop(stop_arg, res))
			stopped = true;
	}

	res->st.elapsed_ns = now_ns() - start;
	pfree(resident);
	pfree(addrs);
	pfree(idx);
	if (tgts)
		pfree(tgts);

	mp2_count(res->st.method_used, &res->st, res->not_present);
}

void
mp2_report_shared(const Mp2MoveResult *res, int elevel)
{
	if (res->st.failed_access == 0 || res->privileged)
		return;
	ereport(elevel,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("some pages were not moved because other processes map them too"),
			 errdetail("Moving pages that other processes map needs the capability CAP_SYS_NICE, which this server process does not have."),
			 errhint("Grant CAP_SYS_NICE to the PostgreSQL server: AmbientCapabilities=CAP_SYS_NICE in its systemd service, or \"setcap cap_sys_nice+p %s\".",
					 my_exec_path)));
}
