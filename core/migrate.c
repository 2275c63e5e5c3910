// SPDX-License-Identifier: MIT
/*
 * The migration engine: validate everything, then hand the pages to the
 * kernel chunk by chunk, in one or more threads, within a budget.
 *
 * All pages are located first (a cheap move_pages query, no LRU drain), so
 * pages already on their target and pages the kernel cannot see never
 * reach the migrating call, and "moved" and "already" can be told apart
 * even when the kernel moves a whole transparent huge page for one of its
 * base pages.  A chunk's counts are committed only when the chunk
 * completes, so a call-level error in the middle leaves the invariant of
 * struct mp2_stats intact.
 *
 * mp2_migrate_stream() runs the same engine once per window of pages from
 * its source, carrying the budget, the deadline, the pace and the outcome
 * so far (for should_stop) from one window to the next.
 *
 * One file of some 900 lines: the engine's parts (the job, its workers,
 * a chunk, the pace) share struct job and struct worker, which no other
 * file needs to see, and the entry points at the end are thin.
 */
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mp2_internal.h"

/* The first call of an adaptive migration moves at most this many pages. */
#define ADAPTIVE_START_PAGES 64

/* Marks a status entry the kernel did not write. */
#define STATUS_UNSET INT32_MIN

/*
 * Threads split the page array only where the address leaves an aligned
 * block of this size, so that two threads never fight over one
 * PMD-mapped transparent huge page (2 MiB on x86-64).
 */
#define SPLIT_ALIGN ((uintptr_t)2 << 20)

/*
 * A paced call waits in slices of this length, so that should_stop and
 * the deadline are seen within one slice of a cancel or of the end.
 */
#define PACE_SLICE_NS 10000000u

/*
 * The limits of one run of the engine: a call of mp2_migrate(), or one
 * window of mp2_migrate_stream(), which carries its limits and its pace
 * across windows.
 */
struct run {
	uint64_t start_ns;		/* when the whole migration began */
	uint64_t deadline_ns;		/* 0: none */
	size_t max_pages;		/* pages left to try; 0: no limit */
	size_t call_size;		/* first call size; 0: the default */
	const struct mp2_stats *before;	/* earlier windows, or NULL */
	uint64_t paced;			/* pages paced in earlier windows */
};

struct job {
	void *const *pages;
	const int *nodes;		/* per-page targets, or NULL */
	int node;			/* the target when nodes is NULL */
	const struct mp2_options *o;
	const struct run *run;
	int *status;			/* caller's, or NULL */
	int *initial;			/* where each page was at the start */
	enum mp2_method method;		/* MOVE_PAGES2 or MOVE_PAGES */
	bool fell_back;
	long nr;			/* move_pages2's number */
	bool limited;			/* a page budget given */
	atomic_size_t budget;		/* pages left to try, if limited */
	/* With max_rate: pages handed to the kernel to move, so far. */
	atomic_uint_least64_t paced;
	atomic_int error;		/* first call-level error */
	atomic_bool stop;		/* should_stop returned true */
	/* What should_stop is shown: base plus every worker's shown. */
	pthread_mutex_t lock;
	struct mp2_stats base;		/* earlier windows and the locating */
	struct worker *workers;
	size_t nr_workers;
};

struct worker {
	struct job *job;
	size_t begin, end;		/* this worker's part of pages[] */
	struct mp2_stats stats;
	struct mp2_stats shown;		/* stats after the last chunk; lock */
	pthread_t thread;
	bool started;			/* thread is running worker_run */
	/* Scratch arrays of pages_per_call entries. */
	int *final;			/* per page of the chunk */
	void **todo_pages;
	int *todo_nodes;
	int *todo_status;
	size_t *todo_index;		/* index into the chunk */
	/* call_end refused: the chunk is counted, then the migration ends. */
	int late_err;
};

static int target_of(const struct job *j, size_t i)
{
	return j->nodes ? j->nodes[i] : j->node;
}

/* Take up to want pages from the budget; 0 when it is spent. */
static size_t budget_claim(struct job *j, size_t want)
{
	size_t left, n;

	if (!j->limited)
		return want;
	left = atomic_load(&j->budget);
	do {
		if (left == 0)
			return 0;
		n = want < left ? want : left;
	} while (!atomic_compare_exchange_weak(&j->budget, &left, left - n));
	return n;
}

/* The next call size, from the latency of the last call. */
static size_t adapt_call_size(const struct mp2_options *o, size_t cur,
			      size_t pages, uint64_t ns)
{
	double per_page;
	double ideal;

	if (!o->adaptive || pages == 0 || ns == 0)
		return cur;
	per_page = (double)ns / (double)pages;
	ideal = (double)o->call_us * 1000.0 / per_page;
	if (ideal > 2.0 * (double)cur)
		ideal = 2.0 * (double)cur;
	if (ideal < 1.0)
		ideal = 1.0;
	if (ideal > (double)o->pages_per_call)
		ideal = (double)o->pages_per_call;
	return (size_t)ideal;
}

static long kernel_move(struct worker *w, size_t n)
{
	const struct job *j = w->job;

	if (j->method == MP2_METHOD_MOVE_PAGES2)
		return mp2_sys_move_pages2(j->nr, n, w->todo_pages,
					   w->todo_nodes, w->todo_status,
					   j->o->mode, j->o->move_all,
					   j->o->kernel_batch);
	for (size_t k = 0; k < n; k++)
		w->todo_status[k] = STATUS_UNSET;
	return mp2_sys_move_pages((pid_t)j->o->pid, n, w->todo_pages,
				  w->todo_nodes, w->todo_status, j->o->move_all);
}

/*
 * kernel_move() between the caller's call_begin and call_end.  *hook_err
 * is set when a hook refused: before the call (nothing was tried, the
 * return is that errno) or after it (the statuses stand).
 */
static long hooked_move(struct worker *w, size_t n, int *hook_err)
{
	const struct mp2_options *o = w->job->o;
	long ret;
	int err;

	*hook_err = 0;
	if (o->call_begin) {
		err = o->call_begin(o->call_arg);
		if (err) {
			*hook_err = err < 0 ? err : -EPERM;
			return *hook_err;
		}
	}
	ret = kernel_move(w, n);
	if (o->call_end) {
		err = o->call_end(o->call_arg);
		if (err)
			*hook_err = err < 0 ? err : -EPERM;
	}
	return ret;
}

/*
 * Ask again where the pages are that the kernel reported busy, or did not
 * report at all: move_pages(2) stops at the first batch that fails and
 * leaves the status of that batch and of the pages after it unwritten,
 * and it reports -EBUSY for a base page whose huge page it has queued
 * already through another base page, then moves it.  A page not reported
 * that is not on its target gets unset_status.
 */
static int recheck_busy(struct worker *w, size_t n, int unset_status)
{
	size_t m = 0, k;
	size_t *idx;
	void **pages;
	int *where;
	long ret = -ENOMEM;

	for (k = 0; k < n; k++)
		m += w->todo_status[k] == -EBUSY ||
		     w->todo_status[k] == STATUS_UNSET;
	if (m == 0)
		return 0;
	idx = mp2_alloc_array(m, sizeof(*idx));
	pages = mp2_alloc_array(m, sizeof(*pages));
	where = mp2_alloc_array(m, sizeof(*where));
	if (!idx || !pages || !where)
		goto out;
	for (k = 0, m = 0; k < n; k++) {
		if (w->todo_status[k] != -EBUSY &&
		    w->todo_status[k] != STATUS_UNSET)
			continue;
		idx[m] = k;
		pages[m++] = w->todo_pages[k];
	}
	ret = mp2_sys_query((pid_t)w->job->o->pid, m, pages, where);
	w->stats.query_calls++;
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < m; i++) {
		k = idx[i];
		if (where[i] == w->todo_nodes[k])
			w->todo_status[k] = w->todo_nodes[k];
		else if (w->todo_status[k] == STATUS_UNSET)
			w->todo_status[k] = unset_status;
	}
	ret = 0;
out:
	free(idx);
	free(pages);
	free(where);
	return (int)ret;
}

/*
 * Sort pages[pos, pos + n) by where they are: those on their target and
 * those the kernel cannot see count into *delta; the others are the
 * worker's todo list.  Returns how many are to move.
 */
static size_t chunk_todo(struct worker *w, size_t pos, size_t n,
			 struct mp2_stats *delta)
{
	struct job *j = w->job;
	void **pages = (void **)(uintptr_t)(j->pages + pos);
	size_t ntodo = 0;

	memcpy(w->final, j->initial + pos, n * sizeof(*w->final));
	for (size_t i = 0; i < n; i++) {
		int t = target_of(j, pos + i);

		if (w->final[i] == t) {
			delta->already++;
		} else if (w->final[i] < 0) {
			mp2_stats_count_status(delta, w->final[i], t);
		} else {
			w->todo_index[ntodo] = i;
			w->todo_pages[ntodo] = pages[i];
			w->todo_nodes[ntodo] = t;
			ntodo++;
		}
	}
	return ntodo;
}

/*
 * Migrate the ntodo pages chunk_todo() listed for pages[pos, pos + n).
 * System calls count into the worker's stats at once (they were made,
 * whatever follows); page outcomes into *delta, which the caller adds
 * only when the chunk completes.
 */
static int migrate_chunk(struct worker *w, size_t pos, size_t n, size_t ntodo,
			 size_t *call_size, struct mp2_stats *delta)
{
	struct job *j = w->job;
	const struct mp2_options *o = j->o;
	unsigned int backoff = o->busy_backoff_us;
	long ret;
	int hook_err;
	bool nomem;

	for (int attempt = 0; ntodo > 0; attempt++) {
		uint64_t t0 = mp2_now_ns(), dt;
		size_t nretry = 0;

		ret = hooked_move(w, ntodo, &hook_err);
		dt = mp2_now_ns() - t0;
		w->stats.move_calls++;
		if (dt > w->stats.max_call_ns)
			w->stats.max_call_ns = dt;
		if (attempt == 0)
			*call_size = adapt_call_size(o, *call_size, ntodo, dt);
		/*
		 * move_pages(2) gives up the whole call when the target node
		 * has no memory left (move_pages2 reports it per page): the
		 * pages it did not report and that are not there are -ENOMEM.
		 */
		nomem = ret == -ENOMEM && !hook_err &&
			j->method == MP2_METHOD_MOVE_PAGES;
		if (ret < 0 && !nomem)
			return (int)ret;
		w->late_err = hook_err;
		ret = recheck_busy(w, ntodo, nomem ? -ENOMEM : -EBUSY);
		if (ret < 0)
			return (int)ret;
		for (size_t k = 0; k < ntodo; k++) {
			int st = w->todo_status[k];

			if (st == -EBUSY && attempt < o->busy_retries &&
			    !w->late_err) {
				w->todo_index[nretry] = w->todo_index[k];
				w->todo_pages[nretry] = w->todo_pages[k];
				w->todo_nodes[nretry] = w->todo_nodes[k];
				nretry++;
				continue;
			}
			w->final[w->todo_index[k]] = st;
			mp2_stats_count_status(delta, st, w->todo_nodes[k]);
		}
		delta->retried += nretry;
		ntodo = nretry;
		if (ntodo > 0 && backoff > 0) {
			usleep(backoff);
			backoff = backoff > UINT32_MAX / 2 ? UINT32_MAX : backoff * 2;
		}
	}
	if (j->status)
		memcpy(j->status + pos, w->final, n * sizeof(*w->final));
	return 0;
}

static bool stop_asked(struct job *j);

/*
 * With max_rate, hold the n pages of a chunk that are to move until the
 * pages released before them fit the rate: the k-th page may go
 * k / max_rate seconds after the start.  Pages on their target cost a
 * lookup, not a move, and are not paced.  Returns why the wait ended the migration, or MP2_STOP_NONE
 * when the chunk may go.
 */
static enum mp2_stop pace(struct job *j, size_t n)
{
	uint64_t before, release;
	double wait_ns;

	if (!j->o->max_rate)
		return MP2_STOP_NONE;
	before = atomic_fetch_add(&j->paced, n);
	wait_ns = (double)before * 1e9 / (double)j->o->max_rate;
	release = wait_ns >= (double)(UINT64_MAX - j->run->start_ns) ?
			  UINT64_MAX :
			  j->run->start_ns + (uint64_t)wait_ns;
	for (;;) {
		uint64_t now = mp2_now_ns(), left;
		struct timespec ts;

		if (now >= release)
			return MP2_STOP_NONE;
		if (j->run->deadline_ns && now >= j->run->deadline_ns)
			return MP2_STOP_MAX_TIME;
		if (atomic_load(&j->stop) ||
		    (j->o->should_stop && stop_asked(j)))
			return MP2_STOP_CALLER;
		left = release - now;
		if (j->run->deadline_ns && j->run->deadline_ns - now < left)
			left = j->run->deadline_ns - now;
		if (left > PACE_SLICE_NS)
			left = PACE_SLICE_NS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

/*
 * Ask should_stop, showing it every chunk completed so far; a true answer
 * stops every worker.
 */
static bool stop_asked(struct job *j)
{
	struct mp2_stats sofar;

	pthread_mutex_lock(&j->lock);
	sofar = j->base;
	for (size_t t = 0; t < j->nr_workers; t++)
		mp2_stats_add(&sofar, &j->workers[t].shown);
	pthread_mutex_unlock(&j->lock);
	sofar.elapsed_ns = mp2_now_ns() - j->run->start_ns;
	sofar.method_used = j->method;
	sofar.fell_back = j->fell_back;
	sofar.stopped = MP2_STOP_NONE;
	if (!j->o->should_stop(j->o->stop_arg, &sofar))
		return false;
	atomic_store(&j->stop, true);
	return true;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->job;
	size_t call_size = j->o->pages_per_call;
	size_t pos = w->begin;

	if (j->run->call_size) {
		if (j->run->call_size < call_size)
			call_size = j->run->call_size;
	} else if (j->o->adaptive && call_size > ADAPTIVE_START_PAGES)
		call_size = ADAPTIVE_START_PAGES;
	while (pos < w->end) {
		struct mp2_stats delta = { 0 };
		size_t n = w->end - pos;
		size_t ntodo;
		int err;

		if (atomic_load(&j->error))
			break;
		if (j->run->deadline_ns &&
		    mp2_now_ns() >= j->run->deadline_ns) {
			w->stats.stopped = MP2_STOP_MAX_TIME;
			break;
		}
		if (j->limited && atomic_load(&j->budget) == 0) {
			w->stats.stopped = MP2_STOP_MAX_PAGES;
			break;
		}
		/* Asked between chunks: a stream asks between windows. */
		if (atomic_load(&j->stop) ||
		    (pos > w->begin && j->o->should_stop && stop_asked(j))) {
			w->stats.stopped = MP2_STOP_CALLER;
			break;
		}
		if (n > call_size)
			n = call_size;
		n = budget_claim(j, n);
		if (n == 0) {
			w->stats.stopped = MP2_STOP_MAX_PAGES;
			break;
		}
		ntodo = chunk_todo(w, pos, n, &delta);
		if (ntodo > 0)
			w->stats.stopped = pace(j, ntodo);
		if (w->stats.stopped != MP2_STOP_NONE)
			break;
		err = migrate_chunk(w, pos, n, ntodo, &call_size, &delta);
		if (err) {
			int zero = 0;

			atomic_compare_exchange_strong(&j->error, &zero, err);
			break;
		}
		mp2_stats_add(&w->stats, &delta);
		w->stats.requested += n;
		w->stats.last_pages_per_call = call_size;
		pos += n;
		if (j->o->should_stop) {
			pthread_mutex_lock(&j->lock);
			w->shown = w->stats;
			pthread_mutex_unlock(&j->lock);
		}
		if (w->late_err) {
			int zero = 0;

			atomic_compare_exchange_strong(&j->error, &zero,
						       w->late_err);
			break;
		}
	}
	for (size_t i = pos; i < w->end; i++) {
		w->stats.not_tried++;
		if (j->status)
			j->status[i] = MP2_STATUS_NOT_TRIED;
	}
	w->stats.last_pages_per_call = call_size;
	return NULL;
}

/* Scratch for calls of up to cap pages. */
static int worker_alloc(struct worker *w, size_t cap)
{
	if (cap == 0)
		cap = 1;
	w->final = calloc(cap, sizeof(*w->final));
	w->todo_pages = calloc(cap, sizeof(*w->todo_pages));
	w->todo_nodes = calloc(cap, sizeof(*w->todo_nodes));
	w->todo_status = calloc(cap, sizeof(*w->todo_status));
	w->todo_index = calloc(cap, sizeof(*w->todo_index));
	if (!w->final || !w->todo_pages || !w->todo_nodes || !w->todo_status ||
	    !w->todo_index)
		return -ENOMEM;
	return 0;
}

static void worker_free(struct worker *w)
{
	free(w->final);
	free(w->todo_pages);
	free(w->todo_nodes);
	free(w->todo_status);
	free(w->todo_index);
}

void mp2_options_init(struct mp2_options *o)
{
	memset(o, 0, sizeof(*o));
	o->method = MP2_METHOD_AUTO;
	o->mode = MP2_MODE_ASYNC;
	o->pages_per_call = MP2_DEFAULT_PAGES_PER_CALL;
	o->threads = 1;
	o->busy_backoff_us = MP2_DEFAULT_BUSY_BACKOFF_US;
	o->call_us = MP2_DEFAULT_CALL_US;
	o->window = MP2_DEFAULT_WINDOW;
}

static int options_check(const struct mp2_options *o)
{
	if (!mp2_method_name(o->method) || !mp2_mode_name(o->mode))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(o->reserved) / sizeof(o->reserved[0]); i++)
		if (o->reserved[i])
			return -EINVAL;
	if (o->pid < 0 || o->pid > INT_MAX ||
	    (o->pid && o->method == MP2_METHOD_MOVE_PAGES2))
		return -EINVAL;
	if (o->threads < 1 || o->pages_per_call == 0 || o->busy_retries < 0 ||
	    o->kernel_batch > MP2_KBATCH_MAX || (o->adaptive && o->call_us == 0))
		return -EINVAL;
	return 0;
}

/* start + us microseconds, saturated; 0 (no deadline) when us is 0. */
static uint64_t deadline_after(uint64_t start, uint64_t us)
{
	if (us == 0)
		return 0;
	if (us > (UINT64_MAX - start) / 1000u)
		return UINT64_MAX;
	return start + us * 1000u;
}

static int targets_check(const int *nodes, int node, size_t count)
{
	struct bitmask *mem;
	int ret = mp2_memory_nodes(&mem);

	if (ret)
		return ret;
	if (!nodes) {
		if (!mp2_node_in(mem, node))
			ret = -ENODEV;
	} else {
		for (size_t i = 0; i < count && !ret; i++)
			if (!mp2_node_in(mem, nodes[i]))
				ret = -ENODEV;
	}
	numa_bitmask_free(mem);
	return ret;
}

/* Another process's pages are moved with move_pages(2): options_check(). */
static int method_resolve(struct job *j, enum mp2_method asked, pid_t pid)
{
	bool has = mp2_kernel_has_move_pages2(&j->nr, NULL);

	j->fell_back = false;
	if (pid) {
		j->method = MP2_METHOD_MOVE_PAGES;
		return 0;
	}
	switch (asked) {
	case MP2_METHOD_MOVE_PAGES2:
		if (!has)
			return -ENOSYS;
		j->method = MP2_METHOD_MOVE_PAGES2;
		return 0;
	case MP2_METHOD_AUTO:
		j->method = has ? MP2_METHOD_MOVE_PAGES2 : MP2_METHOD_MOVE_PAGES;
		j->fell_back = !has;
		return 0;
	default:
		j->method = MP2_METHOD_MOVE_PAGES;
		return 0;
	}
}

/* Where every page is before anything moves, into job->initial. */
static int locate_all(struct job *j, size_t count, struct mp2_stats *stats)
{
	for (size_t done = 0; done < count; done += MP2_LOCATE_CHUNK) {
		size_t n = count - done;
		long ret;

		if (n > MP2_LOCATE_CHUNK)
			n = MP2_LOCATE_CHUNK;
		ret = mp2_sys_query((pid_t)j->o->pid, n,
				    (void **)(uintptr_t)(j->pages + done),
				    j->initial + done);
		stats->query_calls++;
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

/*
 * The first index at or after i where pages[] enters a new SPLIT_ALIGN
 * block, so that the pages of one huge page stay in one thread's part.
 */
static size_t split_point(void *const *pages, size_t count, size_t i)
{
	while (i > 0 && i < count &&
	       ((uintptr_t)pages[i] & ~(SPLIT_ALIGN - 1)) ==
		       ((uintptr_t)pages[i - 1] & ~(SPLIT_ALIGN - 1)))
		i++;
	return i;
}

/* Split the pages among the workers and run them; 0 or -ENOMEM. */
static int run_workers(struct job *j, size_t count, size_t nthreads)
{
	struct worker *workers = j->workers;
	size_t q = count / nthreads, r = count % nthreads;

	for (size_t t = 0; t < nthreads; t++) {
		/* count * (t + 1) / nthreads, without overflow */
		size_t split = q * (t + 1) + r * (t + 1) / nthreads;
		size_t cap;

		workers[t].job = j;
		workers[t].begin = t ? workers[t - 1].end : 0;
		workers[t].end = t + 1 == nthreads ?
					 count :
					 split_point(j->pages, count, split);
		if (workers[t].end < workers[t].begin)
			workers[t].end = workers[t].begin;
		cap = workers[t].end - workers[t].begin;
		if (cap > j->o->pages_per_call)
			cap = j->o->pages_per_call;
		if (worker_alloc(&workers[t], cap))
			return -ENOMEM;
	}
	/* Worker 0 runs here; a thread that cannot start runs here too. */
	for (size_t t = 1; t < nthreads; t++)
		workers[t].started = pthread_create(&workers[t].thread, NULL,
						    worker_run, &workers[t]) == 0;
	worker_run(&workers[0]);
	for (size_t t = 1; t < nthreads; t++) {
		if (workers[t].started)
			pthread_join(workers[t].thread, NULL);
		else
			worker_run(&workers[t]);
	}
	return 0;
}

/*
 * Migrate pages[0..count) within the limits of run.  *stats is always
 * filled and adds up: pages never tried count as not tried.  On an error
 * before the workers start, status is not written.
 */
static int engine(void *const *pages, size_t count, const int *nodes, int node,
		  const struct mp2_options *opts, int *status,
		  struct run *run, struct mp2_stats *stats)
{
	struct job job = { 0 };
	struct mp2_stats total = { 0 };
	uintptr_t pmask = (uintptr_t)mp2_page_size() - 1;
	size_t nthreads = 0;
	int ret;

	total.requested = count;
	total.not_tried = count;
	if (!pages || count == 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = options_check(opts);
	if (ret)
		goto out;
	for (size_t i = 0; i < count; i++) {
		if ((uintptr_t)pages[i] & pmask) {
			ret = -EINVAL;
			goto out;
		}
	}
	ret = targets_check(nodes, node, count);
	if (!ret)
		ret = method_resolve(&job, opts->method, (pid_t)opts->pid);
	if (ret)
		goto out;
	total.method_used = job.method;
	total.fell_back = job.fell_back;

	job.pages = pages;
	job.nodes = nodes;
	job.node = node;
	job.o = opts;
	job.run = run;
	job.status = status;
	job.limited = run->max_pages > 0;
	atomic_init(&job.budget, run->max_pages);
	atomic_init(&job.paced, run->paced);
	atomic_init(&job.error, 0);
	atomic_init(&job.stop, false);
	pthread_mutex_init(&job.lock, NULL);

	job.initial = mp2_alloc_array(count, sizeof(*job.initial));
	if (!job.initial) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = locate_all(&job, count, &total);
	if (ret)
		goto out_free;
	if (run->before)
		job.base = *run->before;
	job.base.query_calls += total.query_calls;

	nthreads = (size_t)opts->threads < count ? (size_t)opts->threads : count;
	job.workers = calloc(nthreads, sizeof(*job.workers));
	if (!job.workers) {
		ret = -ENOMEM;
		goto out_free;
	}
	job.nr_workers = nthreads;
	ret = run_workers(&job, count, nthreads);
	run->paced = atomic_load(&job.paced);
	if (ret)
		goto out_free;
	total.not_tried = 0;
	for (size_t t = 0; t < nthreads; t++)
		mp2_stats_add(&total, &job.workers[t].stats);
	total.last_pages_per_call = job.workers[0].stats.last_pages_per_call;
	total.requested = count;
	total.method_used = job.method;
	total.fell_back = job.fell_back;
	ret = atomic_load(&job.error);
out_free:
	for (size_t t = 0; job.workers && t < nthreads; t++)
		worker_free(&job.workers[t]);
	free(job.workers);
	free(job.initial);
	pthread_mutex_destroy(&job.lock);
out:
	total.elapsed_ns = mp2_now_ns() - run->start_ns;
	*stats = total;
	return ret;
}

int mp2_migrate(void *const *pages, size_t count, const int *nodes, int node,
		const struct mp2_options *opts, int *status,
		struct mp2_stats *stats)
{
	struct mp2_options defaults;
	struct mp2_stats total;
	struct run run = { .start_ns = mp2_now_ns() };
	int ret;

	if (!opts) {
		mp2_options_init(&defaults);
		opts = &defaults;
	}
	run.deadline_ns = deadline_after(run.start_ns, opts->max_us);
	run.max_pages = opts->max_pages;
	ret = engine(pages, count, nodes, node, opts, status, &run, &total);
	if (stats)
		*stats = total;
	return ret;
}

int mp2_migrate_ranges(const struct mp2_range *ranges, size_t nr_ranges,
		       int node, const struct mp2_options *opts, int *status,
		       struct mp2_stats *stats)
{
	size_t psz = mp2_page_size();
	size_t count = 0, k = 0;
	void **pages;
	int ret;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!ranges || nr_ranges == 0)
		return -EINVAL;
	for (size_t r = 0; r < nr_ranges; r++) {
		if (!ranges[r].addr || ranges[r].len == 0 ||
		    ranges[r].len % psz || (uintptr_t)ranges[r].addr % psz)
			return -EINVAL;
		if (__builtin_add_overflow(count, ranges[r].len / psz, &count))
			return -ENOMEM;
	}
	pages = mp2_alloc_array(count, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	for (size_t r = 0; r < nr_ranges; r++)
		for (size_t off = 0; off < ranges[r].len; off += psz)
			pages[k++] = (char *)ranges[r].addr + off;
	ret = mp2_migrate(pages, count, NULL, node, opts, status, stats);
	free(pages);
	return ret;
}

int mp2_migrate_stream(mp2_source_fn next, void *arg,
		       const struct mp2_options *opts, struct mp2_stats *stats)
{
	struct mp2_options defaults;
	struct mp2_stats total = { 0 };
	struct run run = { .start_ns = mp2_now_ns(), .before = &total };
	void **pages = NULL;
	int *nodes = NULL;
	size_t window;
	int ret;

	if (!opts) {
		mp2_options_init(&defaults);
		opts = &defaults;
	}
	ret = next ? options_check(opts) : -EINVAL;
	if (ret)
		goto out;
	/* The method is known before any window, even when none comes. */
	{
		struct job probe = { 0 };

		ret = method_resolve(&probe, opts->method,
				     (pid_t)opts->pid);
		if (ret)
			goto out;
		total.method_used = probe.method;
		total.fell_back = probe.fell_back;
	}
	window = opts->window ? opts->window : MP2_DEFAULT_WINDOW;
	pages = mp2_alloc_array(window, sizeof(*pages));
	nodes = mp2_alloc_array(window, sizeof(*nodes));
	if (!pages || !nodes) {
		ret = -ENOMEM;
		goto out;
	}
	run.deadline_ns = deadline_after(run.start_ns, opts->max_us);
	for (bool first = true;; first = false) {
		/* Earlier windows were tried whole, or the stream stopped. */
		size_t tried = total.requested;
		struct mp2_stats win;
		long n;

		if (run.deadline_ns && mp2_now_ns() >= run.deadline_ns) {
			total.stopped = MP2_STOP_MAX_TIME;
			break;
		}
		if (opts->max_pages && tried >= opts->max_pages) {
			total.stopped = MP2_STOP_MAX_PAGES;
			break;
		}
		if (!first && opts->should_stop) {
			total.elapsed_ns = mp2_now_ns() - run.start_ns;
			if (opts->should_stop(opts->stop_arg, &total)) {
				total.stopped = MP2_STOP_CALLER;
				break;
			}
		}
		n = next(arg, pages, nodes, window);
		if (n <= 0) {
			ret = n < INT_MIN ? -EINVAL : (int)n;
			break;
		}
		if ((size_t)n > window) {
			ret = -EINVAL;
			break;
		}
		run.max_pages = opts->max_pages ? opts->max_pages - tried : 0;
		run.call_size = total.last_pages_per_call;
		ret = engine(pages, (size_t)n, nodes, -1, opts, NULL, &run,
			     &win);
		mp2_stats_add(&total, &win);
		if (ret || win.stopped != MP2_STOP_NONE)
			break;
	}
out:
	free(pages);
	free(nodes);
	total.elapsed_ns = mp2_now_ns() - run.start_ns;
	if (stats)
		*stats = total;
	return ret;
}
