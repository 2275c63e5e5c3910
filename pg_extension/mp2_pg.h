/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * mp2_pg.h
 *	  Declarations shared by the files of the mp2 PostgreSQL extension.
 *
 * The extension moves the pages of the shared buffer pool between NUMA
 * nodes with libmp2 (../core/mp2.h).  Its parts:
 *
 *	mp2.c		_PG_init: GUCs, shared memory (the counters, the worker slot)
 *	globals.c	the GUC variables and the shared state
 *	buffers.c	the buffer pool as OS pages: geometry, which pages exist,
 *				walking the pages of the pool or of one relation
 *	census.c	counting buffers and pages per node, window by window
 *	mapper.c	the worker's warm mapping of the pool, which backends
 *				locate pages through
 *	window_nodes.c	the nodes of a window's pages, through the worker's
 *				mapping or here
 *	migrate.c	one migration: a walk handed to libmp2 as a page source,
 *				added to the cumulative counters
 *	nodes.c		node lists
 *	privilege.c CAP_SYS_NICE, raised only around the migrating system calls
 *	pool_thp.c	mp2.pool_thp: the pool in 2 MiB transparent huge pages
 *	resultrow.c	a composite result filled by column name
 *	sqlfuncs.c	the SQL functions that look at and move pages
 *	sqlstatus.c	the SQL functions that report on mp2 and its worker
 *	compat_1_0.c the entry points that version 1.0's SQL script names
 *	worker.c	the long-lived relocation worker (no database): its slot
 *				and its main loop
 *	round.c		what a policy's round gets: budget, stop, move-and-report
 *	interleave.c policy "interleave": the pool spread over nodes
 *	rules.c		policy "rules", in a short-lived per-database worker
 *	tier.c		policy "tier": hot pages on fast nodes, cold ones on slow
 *	tier_settings.c the tiers' nodes and the checks of their settings
 *
 * The extension's own C symbols start with pgmp2_; mp2_ belongs to
 * libmp2 and to the SQL names.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMP2_PG_H
#define PGMP2_PG_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/bufmgr.h"
#include "storage/spin.h"
#include "utils/guc.h"

#include "compat.h"
#include "mp2.h"

/* ----------------------------------------------------------------
 *		mp2.c: settings, shared state, counters
 * ----------------------------------------------------------------
 */

typedef enum Mp2Policy
{
	PGMP2_POLICY_OFF,
	PGMP2_POLICY_INTERLEAVE,
	PGMP2_POLICY_RULES,
	PGMP2_POLICY_TIER
}			Mp2Policy;

/* GUC variables */
extern int	pgmp2_policy;
/* mp2.policy's names and values: the one list of the policies' names. */
extern const struct config_enum_entry pgmp2_policy_options[];
extern char *pgmp2_interleave_nodes;
extern int	pgmp2_naptime_ms;
extern int	pgmp2_max_pages_per_round;
extern int	pgmp2_max_rate;
extern int	pgmp2_batch_size;
extern int	pgmp2_mode;
extern int	pgmp2_method;
extern char *pgmp2_database;
extern bool pgmp2_start_worker;
extern bool pgmp2_warm_mapping;
extern char *pgmp2_fast_nodes;
extern char *pgmp2_slow_nodes;
extern double pgmp2_fast_fraction;
extern int	pgmp2_tier_slice_mb;
extern bool pgmp2_pool_thp;

/* Largest batch_size, as libmp2 and the kernel accept it. */
#define PGMP2_MAX_BATCH_SIZE	((int) MP2_KBATCH_MAX)
#define PGMP2_DEFAULT_BATCH_SIZE	512

/* The two counter rows of mp2_stats(): one per method actually used. */
#define PGMP2_NR_METHODS		2
#define PGMP2_IDX_MOVE_PAGES2 0
#define PGMP2_IDX_MOVE_PAGES	1

typedef struct Mp2Counters
{
	uint64		migrations;		/* migrations (SQL calls, worker rounds) */
	uint64		requested;
	uint64		moved;
	uint64		already;
	uint64		not_present;
	uint64		failed_busy;
	uint64		failed_shared;
	uint64		failed_nomem;
	uint64		failed_other;
	uint64		not_tried;
	uint64		move_calls;
	uint64		elapsed_ns;
}			Mp2Counters;

/* The worker slot (see worker.c). */
typedef enum Mp2SlotState
{
	PGMP2_SLOT_FREE,				/* no worker */
	PGMP2_SLOT_STARTING,			/* claimed by mp2_worker_start() */
	PGMP2_SLOT_RUNNING			/* a worker runs in it */
}			Mp2SlotState;

/*
 * The relocation worker's state.  Everything here is read and written
 * under Mp2Shared.lock, but for pages_moved and pages_nomem (under
 * Mp2Shared.mutex, as
 * it grows between two system calls) and stop_requested (also read
 * without the lock, by the worker between two system calls).
 */
typedef struct Mp2WorkerState
{
	Mp2SlotState state;
	pid_t		pid;			/* the worker's pid when running */
	uint32		generation;		/* bumped each time the slot is claimed */
	volatile bool stop_requested;	/* mp2_worker_stop() asks it to exit */
	Latch	   *latch;			/* the worker's latch, when running */
	/* Where the rules live: a database OID, or else a name to look up. */
	Oid			database_oid;
	char		database[NAMEDATALEN];
	int			policy;			/* Mp2Policy of the last round */
	uint64		rounds;
	uint64		failed_rounds;
	uint64		pages_moved;
	uint64		pages_nomem;	/* refused for want of memory; mutex */
	TimestampTz last_round;		/* end of the last round, 0 if none */
	/* Shared pages were refused and logged; cleared when pages move. */
	bool		warned_shared;
	char		last_error[256];
	/* Filled by the per-database worker of the current round (rules.c). */
	bool		child_connected;	/* it got into its database */
	bool		child_done;		/* it finished its round */
	bool		child_no_extension; /* mp2 is not installed there */
	Oid			child_found_oid;	/* probe: the database's OID, or 0 */
	char		child_error[256];	/* its round failed with this */
	char		rules_skipped[256]; /* the rules the last round skipped,
									 * and why: logged when it changes */
}			Mp2WorkerState;

/* What policy tier saw and did, per tier (see tier.c). */
#define PGMP2_TIER_FAST	0
#define PGMP2_TIER_SLOW	1
#define PGMP2_NR_TIERS	2

typedef struct Mp2TierCounts
{
	char		nodes[64];		/* the tier's nodes, "0,1" */
	int64		pages;			/* pool pages on the tier's nodes */
	int64		hot_pages;		/* of those, used in the last rounds */
	int64		cap_pages;		/* the most the tier may hold; -1: none */
	int64		used;			/* buffers used in the last round */
	int64		promoted;		/* pages moved here in the last round */
	int64		demoted;		/* pages moved away in the last round */
	uint64		promoted_total;
	uint64		demoted_total;
}			Mp2TierCounts;

typedef struct Mp2TierState
{
	uint64		rounds;			/* rounds that surveyed a slice of the pool */
	TimestampTz last_round;
	/* The last round: its slice, and its work. */
	int			slice;
	int			slices;
	uint64		passes;			/* passes over the whole pool so far */
	int64		buffers_read;	/* buffer headers read for the history */
	int64		pages_located;	/* pages located: survey and moves */
	double		round_ms;
	Mp2TierCounts tiers[PGMP2_NR_TIERS];
}			Mp2TierState;

/* What mp2.pool_thp did at startup. */
typedef enum Mp2PoolThp
{
	PGMP2_POOL_THP_OFF = 0,		/* not asked for, or not preloaded */
	PGMP2_POOL_THP_HUGETLB,		/* the pool is in hugetlb pages already */
	PGMP2_POOL_THP_UNAVAILABLE, /* asked for; pool_thp_why says why not */
	PGMP2_POOL_THP_ADVISED		/* madvise(MADV_HUGEPAGE) on the pool */
}			Mp2PoolThp;

/* The worker's warm mapping of the pool (mapper.c); under mutex. */
typedef struct Mp2MapperState
{
	int64		mapped;			/* pages it mapped in its last full pass */
	uint64		passes;			/* full passes over the pool so far */
}			Mp2MapperState;

typedef struct Mp2Shared
{
	LWLock	   *lock;			/* the worker state, tier */
	slock_t		mutex;			/* counters and stats_reset */
	Mp2Counters counters[PGMP2_NR_METHODS];
	TimestampTz stats_reset;
	Mp2WorkerState worker;
	Mp2TierState tier;
	Mp2PoolThp	pool_thp;
	char		pool_thp_why[112];	/* for PGMP2_POOL_THP_UNAVAILABLE */
	Mp2MapperState mapper;
}			Mp2Shared;

/*
 * The shared state when mp2 is in shared_preload_libraries; otherwise a
 * copy private to this process (counters then cover this session only,
 * and there is no worker).
 */
extern Mp2Shared *pgmp2_shared;
extern bool pgmp2_preloaded;

/* ----------------------------------------------------------------
 *		buffers.c: the pool as OS pages
 * ----------------------------------------------------------------
 */

typedef struct Mp2Pool
{
	char	   *base;			/* first OS page that holds a buffer */
	Size		page_size;		/* OS page size of the mapping */
	int64		npages;			/* OS pages that hold buffers */
	bool		huge;			/* page_size is a huge page size */
	bool		thp;			/* 4 kB pages, 2 MiB folios advised (pool_thp.c) */
}			Mp2Pool;

/* The size of a transparent huge page of the pool (x86-64, arm64 4k). */
#define PGMP2_THP_SIZE	((Size) 2 << 20)

extern void pgmp2_pool_get(Mp2Pool *pool);

static inline char *
pgmp2_pool_page(const Mp2Pool *pool, int64 page)
{
	return pool->base + (Size) page * pool->page_size;
}

/* The OS page that holds the first byte of buffer buf_id (0-based). */
extern int64 pgmp2_buffer_first_page(const Mp2Pool *pool, int buf_id);

/* The OS page that holds the last byte of buffer buf_id. */
extern int64 pgmp2_buffer_last_page(const Mp2Pool *pool, int buf_id);

/*
 * The buffers that overlap OS page page: *first..*last; false if none.
 * Inline: policy tier asks it for every page of the pool each round.
 */
static inline bool
pgmp2_page_buffers(const Mp2Pool *pool, int64 page, int *first, int *last)
{
	uintptr_t	blocks = (uintptr_t) BufferBlocks;
	uintptr_t	start = (uintptr_t) pgmp2_pool_page(pool, page);
	uintptr_t	end = start + pool->page_size;	/* exclusive */
	uintptr_t	pool_end = blocks + (Size) NBuffers * BLCKSZ;

	if (end <= blocks || start >= pool_end)
		return false;
	*first = start <= blocks ? 0 : (int) ((start - blocks) / BLCKSZ);
	*last = end >= pool_end ? NBuffers - 1 : (int) ((end - 1 - blocks) / BLCKSZ);
	return true;
}

/*
 * Which of the pages exist, that is, some process has faulted them in:
 * exists[i] for pages[i] (ascending).  Never touches a page.  Cannot
 * throw.
 */
extern void pgmp2_pages_exist(const Mp2Pool *pool, const int64 *pages,
							  int n, bool *exists);

/* Read one byte of each page so that this process maps it. */
extern void pgmp2_pages_touch(const Mp2Pool *pool, const int64 *pages, int n);

/*
 * A walk over the pages of the whole pool or of one relation's buffers,
 * ascending, each page once, a window at a time.  The walk reads buffer
 * headers only (one tag under its spinlock at a time), so it holds no
 * lock between two windows and cannot throw: it may run inside libmp2's
 * callbacks.  Memory is the caller's window, whatever the pool's size.
 */
typedef struct Mp2Walk
{
	Mp2Pool		pool;
	bool		relation;		/* one relation's buffers, else all */
	Mp2RelFile	file;			/* the relation's storage */
	int			start_buf;		/* first buffer; the walk wraps around */
	int			limit;			/* buffers to look at: NBuffers, or fewer */
	int			nvisited;		/* buffers looked at */
	int64		last_page;		/* page handed out last, -1 if none */
	int64		handed;			/* pages handed out so far */
	/*
	 * If set, only the pages keep_page() keeps are handed out (in a THP
	 * pool every page is, so that folios stay whole).
	 */
	bool		(*keep_page) (void *arg, int64 page);
	void	   *keep_arg;
}			Mp2Walk;

/* Walk every page of the pool, from the page of buffer start_buf on. */
extern void pgmp2_walk_pool(Mp2Walk *walk, int start_buf);

/*
 * Walk the pages of nbufs buffers from buffer start_buf on (a page that
 * also holds buffers outside them included).
 */
extern void pgmp2_walk_pool_range(Mp2Walk *walk, int start_buf, int nbufs);

/* Walk the pages of the buffers of a relation's storage. */
extern void pgmp2_walk_file(Mp2Walk *walk, const Mp2RelFile *file);

/* A walk that is over at once (a relation without storage). */
extern void pgmp2_walk_none(Mp2Walk *walk);

/*
 * Pages per window of a walk: what one census, tier survey or move
 * handles at a time (64 MB of 4 kB pages), and so the size of every
 * per-window array.
 */
#define PGMP2_WINDOW_PAGES	16384

/*
 * The next window: up to max_pages (at least 4) pages into pages[]; if
 * firsts is not NULL, also the first page of each buffer walked (up to
 * max_bufs) into firsts[], their number into *nbufs.  Returns the number
 * of pages.  One call looks at a bounded number of buffers, so that the
 * caller can check for interrupts between calls: 0 pages does not mean
 * the end, pgmp2_walk_done() does.
 */
extern int	pgmp2_walk_next(Mp2Walk *walk, int64 *pages, int max_pages,
							int64 *firsts, int max_bufs, int *nbufs);

/*
 * Where the pages of a window are: of the n pages of a window, those that
 * exist, and their nodes, asked of the worker's warm mapping (mapper.c)
 * or, for pages it has not mapped, touched so that the kernel sees them in
 * this process.  The arrays hold PGMP2_WINDOW_PAGES entries.
 */
typedef struct Mp2WindowNodes
{
	bool	   *exists;			/* per page of the window */
	int			nres;			/* how many exist */
	int64	   *resident;		/* the pages that exist, ascending */
	int		   *where;			/* resident[k]'s node, -1 if not known */
	void	  **addrs;			/* scratch: resident[k]'s address */
	int		   *miss;			/* scratch: k not mapped by the worker */
	int64	   *miss_pages;		/* scratch: their pages */
	int		   *miss_where;		/* scratch: their nodes */
}			Mp2WindowNodes;

extern void pgmp2_window_nodes_init(Mp2WindowNodes *wn);
extern void pgmp2_window_nodes_free(Mp2WindowNodes *wn);

/* Fill wn for the n pages of a window; ERROR if they cannot be located. */
extern void pgmp2_window_nodes(Mp2WindowNodes *wn, const Mp2Pool *pool,
							   const int64 *pages, int n);

/* ----------------------------------------------------------------
 *		mapper.c: the worker's warm mapping of the pool
 * ----------------------------------------------------------------
 */

/* Touch the next slice of the pool's existing pages (the worker). */
extern void pgmp2_mapper_tick(bool (*should_stop) (void));

/* The pid to locate pages through, or 0 (no worker, or this is it). */
extern pid_t pgmp2_mapper_pid(void);

/*
 * Forget the passes of an earlier worker (a new worker, at its start):
 * its pages are unmapped with it.
 */
extern void pgmp2_mapper_reset(void);

/* Pages mapped in the last full pass, and the passes so far. */
extern void pgmp2_mapper_info(int64 *mapped, uint64 *passes);

/* Whether the walk has visited every buffer. */
static inline bool
pgmp2_walk_done(const Mp2Walk *walk)
{
	return walk->nvisited >= walk->limit;
}

/*
 * The storage of a relation, after checking that the user may read it
 * (SELECT privilege).  The relation is locked only while its storage is
 * looked up.  Returns false when it has none (a view).  With wait false
 * (the worker) a relation that cannot be locked at once is skipped: false
 * and *busy set.
 */
extern bool pgmp2_relation_file(Oid relid, bool check_acl, bool wait,
								Mp2RelFile *file, bool *busy);

/*
 * ERROR unless the relation has buffers of its own, naming what it is
 * instead: a view, a partitioned table (whose partitions have them), ...
 */
extern void pgmp2_require_storage(Oid relid);

/* ----------------------------------------------------------------
 *		census.c: where the buffers are
 * ----------------------------------------------------------------
 */

/* Per-node counts of buffers and pages. */
typedef struct Mp2NodeCount
{
	int64		buffers;
	int64		pages;
}			Mp2NodeCount;

/*
 * Count the walk's pages and buffers per node into counts[0..max_node];
 * those whose memory is not faulted in go to *absent.  Touches only pages
 * that exist, so it never allocates memory on any node.  Honours cancel
 * between windows.
 */
extern void pgmp2_census(Mp2Walk *walk, Mp2NodeCount *counts, int max_node,
						 Mp2NodeCount *absent);

/* ----------------------------------------------------------------
 *		migrate.c: one migration
 * ----------------------------------------------------------------
 */

typedef struct Mp2MoveArgs
{
	enum mp2_method method;
	enum mp2_mode mode;
	int			batch_size;		/* pages per system call and kernel batch */
	int64		max_pages;		/* pages tried at most; 0: no limit */
	int64		max_ms;			/* 0: no limit */
	int64		max_rate;		/* pages moved a second; 0: no limit */
	/* Targets: one node, or round-robin over nodes[nnodes]. */
	int			node;
	const int  *nodes;
	int			nnodes;
	bool		by_pool_page;	/* interleave by pool page, else k-th page */

	/*
	 * Or, when set, each page's target from where it is now: a node, or
	 * -1 to leave the page alone.  Must not throw.
	 */
	int			(*target_of) (void *arg, int64 page, int node_now);
	void	   *target_arg;
	/* Asked between system calls; true stops.  Must not throw. */
	bool		(*should_stop) (void *arg, const struct mp2_stats *sofar);
	void	   *stop_arg;
	const char *what;			/* the operation, for error context */
}			Mp2MoveArgs;

typedef struct Mp2MoveResult
{
	struct mp2_stats st;		/* the pages handed to libmp2 */
	uint64		not_present;	/* pages not faulted in: nothing to move */
	uint64		not_walked;		/* pages never reached (stopped early) */
	Size		page_size;
	bool		privileged;		/* CAP_SYS_NICE was raised for the calls */
	int			error;			/* a call-level error of libmp2, or 0 */
}			Mp2MoveResult;

/* All pages of the walk, as the results count them. */
static inline uint64
pgmp2_result_requested(const Mp2MoveResult *res)
{
	return res->st.requested + res->not_present + res->not_walked;
}

/*
 * The result of one migration in the columns of mp2_stats() and of the
 * moving functions (migrations = 1): what libmp2 counts, plus the pages
 * the walk found absent or never reached.
 */
extern void pgmp2_result_counters(const Mp2MoveResult *res, Mp2Counters *c);

/*
 * Move the pages of a walk.  Counts into the shared counters, also when
 * it stops early.  Does not throw for a cancel: the caller checks for
 * interrupts afterwards (pgmp2_move_finish).
 */
extern void pgmp2_move(Mp2Walk *walk, const Mp2MoveArgs *args,
					   Mp2MoveResult *res);

/* A WARNING (or LOG, in the worker) when pages were shared and refused. */
extern void pgmp2_report_shared(const Mp2MoveResult *res, int elevel);

/* Add the outcome of one migration to the shared counters. */
extern void pgmp2_count(const Mp2MoveResult *res);

/* Whether a query cancel or termination is pending (no side effects). */
extern bool pgmp2_cancel_pending(void *arg, const struct mp2_stats *sofar);

/* ----------------------------------------------------------------
 *		nodes.c
 * ----------------------------------------------------------------
 */

/* Nodes with memory as a sorted array; returns the count. */
extern int	pgmp2_memory_node_list(int **nodes, int *max_node);
extern char *pgmp2_format_node_list(const int *nodes, int n);

/*
 * Parse a node list such as "0-1,3" into a palloc'd array (duplicates
 * kept, in order); returns the count or -1 on a syntax error.
 */
extern int	pgmp2_parse_node_list(const char *s, int **nodes);

/* ERROR unless node has memory. */
extern void pgmp2_require_node(int node);

/* The first node of a that is also in b, or -1. */
extern int	pgmp2_common_node(const int *a, int na, const int *b, int nb);

/* mp2.c: ERROR for a call whose SQL has more arguments than known. */
extern void pgmp2_sql_newer_than_library(FunctionCallInfo fcinfo, int known);

/* ----------------------------------------------------------------
 *		privilege.c: CAP_SYS_NICE
 * ----------------------------------------------------------------
 */

typedef enum Mp2CapState
{
	PGMP2_CAP_NONE,				/* neither permitted nor effective */
	PGMP2_CAP_PERMITTED,			/* can be raised around a migration */
	PGMP2_CAP_EFFECTIVE			/* effective now (could not be lowered) */
}			Mp2CapState;

extern void pgmp2_priv_init(void);
extern Mp2CapState pgmp2_priv_state(void);
extern const char *pgmp2_priv_state_name(Mp2CapState state);
extern bool pgmp2_priv_available(void);
extern int	pgmp2_priv_call_begin(void *arg);
extern int	pgmp2_priv_call_end(void *arg);
extern void pgmp2_priv_drop(void);
extern void pgmp2_priv_check(void);

/* ----------------------------------------------------------------
 *		worker_slot.c, worker.c, rules.c: the relocation worker
 * ----------------------------------------------------------------
 */

#define PGMP2_WORKER_TYPE "mp2 worker"
#define PGMP2_RULES_WORKER_TYPE "mp2 rules worker"

/* A background worker of mp2 that runs function, never restarted. */
extern void pgmp2_worker_fill(BackgroundWorker *worker, const char *function,
							  const char *name, const char *type);
extern void pgmp2_worker_register_static(void);
/* mp2_worker_start(), mp2_worker_stop() */
extern pid_t pgmp2_worker_launch(void);
extern bool pgmp2_worker_stop_and_wait(void);

/*
 * In the worker: take the slot claimed for generation gen, or a free one
 * (gen 0); 0, or the pid of the worker that holds it.  Leave it at exit.
 */
extern pid_t pgmp2_worker_slot_take(uint32 gen);
extern void pgmp2_worker_slot_leave(int code, Datum arg);

/* Wait on our latch for at most ms, honouring interrupts. */
extern void pgmp2_nap(long ms);

extern PGDLLEXPORT void pgmp2_worker_main(Datum main_arg);
/* The short-lived per-database worker (rules.c), of either kind: */
extern PGDLLEXPORT void pgmp2_database_worker_main(Datum main_arg);
#define PGMP2_CHILD_PROBE		0	/* look up the database's OID by name */
#define PGMP2_CHILD_RULES		1	/* run one round of policy rules */

/* ----------------------------------------------------------------
 *		round.c: what a policy's round gets from the worker
 * ----------------------------------------------------------------
 */

typedef struct Mp2Round
{
	int64		budget;			/* pages the round may move; 0: no bound */
	int64		moved;			/* pages moved so far in this round */
	const char *what;			/* names the round in libmp2's messages */
	uint64		reported;		/* moved pages of the current move published */
	const char *idle;			/* why the policy cannot run here (it logs
								 * that once); published as the round's
								 * failure */
}			Mp2Round;

/* A round, in the worker or in the rules worker: its budget, nothing moved. */
extern void pgmp2_round_begin(Mp2Round *round, const char *what);

/*
 * Whether the round is to stop: a shutdown, a reload, mp2_worker_stop(),
 * or its budget moved.
 */
extern bool pgmp2_round_should_stop(Mp2Round *round);

/*
 * Move the pages of a walk to the targets set in args (node, nodes or
 * target_of), with the worker's settings, within the round's budget;
 * publish the pages moved and refused for want of memory, log refused
 * shared pages once, and ERROR for a call-level failure.
 */
extern void pgmp2_round_move(Mp2Round *round, Mp2Walk *walk,
							 Mp2MoveArgs *args, Mp2MoveResult *res);

/* interleave.c: one round of policy interleave; the pages it moved. */
extern int64 pgmp2_interleave_round(Mp2Round *round);

/* tier.c: one round of policy tier; the pages it moved. */
extern int64 pgmp2_tier_round(Mp2Round *round);

/* Forget the hotness history (policy tier starts over). */
extern void pgmp2_tier_reset(void);

/* Shared memory of policy tier: the per-buffer history. */
extern Size pgmp2_tier_shmem_size(void);
extern void pgmp2_tier_shmem_init(void);

/*
 * tier_settings.c: whether each node is in the kernel's top memory tier,
 * NULL when the kernel's tiers do not split topo's nodes; and a tier's
 * nodes, the setting or by default those tiers (top: fast, lower: slow)
 * or, without them, the nodes of topo with memory and with CPUs (fast) or
 * without; the count, -1 for a list that does not parse.  *source (if
 * not NULL): where they come from.
 */
extern bool *pgmp2_kernel_top_tier(const struct mp2_topology *topo);
extern int	pgmp2_tier_nodes(const struct mp2_topology *topo,
							 const bool *kernel_top, const char *setting,
							 bool fast, int **out, const char **source);

/* GUC check hooks of the tier settings. */
extern bool pgmp2_check_fast_nodes(char **newval, void **extra,
								   GucSource source);
extern bool pgmp2_check_slow_nodes(char **newval, void **extra,
								   GucSource source);
extern bool pgmp2_check_fast_fraction(double *newval, void **extra,
									  GucSource source);

/* ----------------------------------------------------------------
 *		resultrow.c: a composite result filled by column name
 * ----------------------------------------------------------------
 */

typedef struct Mp2ResultRow
{
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} Mp2ResultRow;

/* Every column NULL: of the function's result type, or of desc. */
extern void pgmp2_result_init(Mp2ResultRow *row, FunctionCallInfo fcinfo);
extern void pgmp2_result_init_desc(Mp2ResultRow *row, TupleDesc desc);

/* Whether the function's definition has a column called name. */
extern bool pgmp2_result_has(const Mp2ResultRow *row, const char *name);

/* Set the column called name, if the function's definition has one. */
extern void pgmp2_result_set(Mp2ResultRow *row, const char *name, Datum value);

/* The row as a composite Datum. */
extern Datum pgmp2_result_datum(Mp2ResultRow *row);

/* ----------------------------------------------------------------
 *		pool_thp.c: the pool in transparent huge pages
 * ----------------------------------------------------------------
 */

/*
 * In the postmaster, before any process touches the pool: advise 2 MiB
 * pages for it if mp2.pool_thp is on, and record the outcome in
 * pgmp2_shared->pool_thp.
 */
extern void pgmp2_pool_thp_advise(void);

/*
 * mp2_info()'s pool_thp: off, hugetlb, advised, or "unavailable: " and
 * why, for a pool in huge pages of its own when huge.
 */
extern const char *pgmp2_pool_thp_state(bool huge);

/*
 * The pool's 2 MiB transparent huge pages: this process maps each 2 MiB
 * of the pool that exists, then counts those mapped whole (by one PMD).
 * -1 when the kernel cannot tell.
 */
extern int64 pgmp2_pool_thp_pages(void);

#endif							/* PGMP2_PG_H */
