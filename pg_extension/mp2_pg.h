/*-------------------------------------------------------------------------
 *
 * mp2_pg.h
 *	  Declarations shared by the files of the mp2 PostgreSQL extension.
 *
 * The extension moves the pages of the shared buffer pool between NUMA
 * nodes with libmp2 (../core/mp2.h).  Its parts:
 *
 *	mp2.c		_PG_init, GUCs, shared memory, cumulative counters
 *	buffers.c	the buffer pool as OS pages: residency, touching,
 *				locating, the pages of one relation
 *	migrate.c	running one migration over a list of pool pages
 *	privilege.c CAP_SYS_NICE, raised only around the migrating call
 *	sqlfuncs.c	the SQL-callable functions
 *	worker.c	the relocation background worker
 *
 *-------------------------------------------------------------------------
 */
#ifndef MP2_PG_H
#define MP2_PG_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/spin.h"

#include "mp2.h"

#if PG_VERSION_NUM < 150000
#error "mp2 needs PostgreSQL 15 or later"
#endif

/* ----------------------------------------------------------------
 *		mp2.c: settings, shared state, counters
 * ----------------------------------------------------------------
 */

typedef enum Mp2Policy
{
	MP2_POLICY_OFF,
	MP2_POLICY_INTERLEAVE,
	MP2_POLICY_RULES
}			Mp2Policy;

/* GUC variables */
extern int	mp2_policy;
extern char *mp2_interleave_nodes;
extern int	mp2_naptime_ms;
extern int	mp2_max_pages_per_round;
extern int	mp2_batch_size;
extern int	mp2_mode;
extern int	mp2_method;
extern char *mp2_database;
extern bool mp2_start_worker;

/* Largest batch_size, as libmp2 and the kernel accept it. */
#define MP2_MAX_BATCH_SIZE	((int) MP2_KBATCH_MAX)
#define MP2_DEFAULT_BATCH_SIZE	512

/* The two counter rows of mp2_stats(): one per method actually used. */
#define MP2_NR_METHODS		2
#define MP2_IDX_MOVE_PAGES2 0
#define MP2_IDX_MOVE_PAGES	1

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

/* Worker state, in shared memory when mp2 is preloaded. */
typedef struct Mp2WorkerState
{
	pid_t		pid;			/* 0: none running */
	Oid			database;
	int			policy;			/* Mp2Policy of the last round */
	uint64		rounds;
	uint64		failed_rounds;
	uint64		pages_moved;
	TimestampTz last_round;		/* end of the last round, 0 if none */
	char		last_error[256];
}			Mp2WorkerState;

typedef struct Mp2Shared
{
	slock_t		mutex;
	Mp2Counters counters[MP2_NR_METHODS];
	TimestampTz stats_reset;
	Mp2WorkerState worker;
}			Mp2Shared;

/*
 * The shared state when mp2 is in shared_preload_libraries; otherwise a
 * copy private to this process (counters then cover this session only).
 */
extern Mp2Shared *mp2_shared;
extern bool mp2_preloaded;

extern void mp2_count(enum mp2_method method, const struct mp2_stats *st,
					  uint64 not_present);

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
}			Mp2Pool;

extern void mp2_pool_get(Mp2Pool *pool);

static inline char *
mp2_pool_page(const Mp2Pool *pool, int64 page)
{
	return pool->base + (Size) page * pool->page_size;
}

/*
 * The node that interleaving puts the k-th page on: whole buffers take
 * turns (two 4 kB pages each), or whole huge pages.
 */
static inline int
mp2_interleave_target(const Mp2Pool *pool, int64 k, const int *nodes,
					  int nnodes)
{
	int64		unit = Max((int64) (BLCKSZ / pool->page_size), 1);

	return nodes[(k / unit) % nnodes];
}

/* The OS pages [*first, *last] that hold buffer buf_id (0-based). */
extern void mp2_buffer_pages(const Mp2Pool *pool, int buf_id,
							 int64 *first, int64 *last);

/*
 * Which of the pages (sorted ascending) hold memory that some process has
 * faulted in: resident[i] for pages[i].  With huge pages every page counts
 * as resident (see buffers.c).
 */
extern void mp2_pages_resident(const Mp2Pool *pool, const int64 *pages,
							   int64 n, bool *resident);

/* Read one byte of each page so that this process maps it. */
extern void mp2_pages_touch(const Mp2Pool *pool, const int64 *pages,
							int64 n);

/*
 * The sorted, distinct pages that hold the shared buffers of a relation
 * (all forks); bufs (optional) receives the buffer ids.  Never holds a
 * buffer header lock beyond reading one tag.
 */
extern int64 mp2_relation_pages(const Mp2Pool *pool, Oid relid,
								int64 **pages, int **bufs, int *nbufs);

/* Arrays with an entry per page of the pool may exceed 1 GB. */
#define mp2_palloc_huge(size) palloc_extended((size), MCXT_ALLOC_HUGE)

/* Per-node counts of buffers and pages. */
typedef struct Mp2NodeCount
{
	int64		buffers;
	int64		pages;
}			Mp2NodeCount;

/*
 * Locate the pages (touching the resident ones first) and the buffers,
 * counting them per node into counts[0..max_node]; pages and buffers
 * whose memory is not faulted in yet go to *absent.  bufs == NULL means
 * every buffer of the pool and pages == NULL every page.
 */
extern void mp2_count_nodes(const Mp2Pool *pool, const int64 *pages,
							int64 npages, const int *bufs, int nbufs,
							Mp2NodeCount *counts, int max_node,
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
	int64		max_pages;		/* 0: no limit */
	int64		max_ms;			/* 0: no limit */
	int64		max_moved;		/* stop once this many moved; 0: no limit */
}			Mp2MoveArgs;

typedef struct Mp2MoveResult Mp2MoveResult;

struct Mp2MoveResult
{
	struct mp2_stats st;		/* summed over all calls */
	uint64		not_present;	/* pages not faulted in: nothing to move */
	Size		page_size;
	bool		privileged;		/* CAP_SYS_NICE was raised for the calls */
	int			error;			/* a call-level error of libmp2, or 0 */
};

/*
 * Asked between two libmp2 calls with the outcome so far; returns true
 * when the migration should stop there.
 */
typedef bool (*Mp2StopFn) (void *arg, const Mp2MoveResult *sofar);

/*
 * Move pool pages (sorted ascending page numbers) to node, or to
 * targets[i] when targets is not NULL.  stop (may be NULL) is asked
 * between the calls of libmp2.  Counts into the shared counters.
 */
extern void mp2_move(const Mp2Pool *pool, const int64 *pages, int64 n,
					 const int *targets, int node, const Mp2MoveArgs *args,
					 Mp2StopFn stop, void *stop_arg, Mp2MoveResult *res);

/* A WARNING (or LOG, in the worker) when pages were shared and refused. */
extern void mp2_report_shared(const Mp2MoveResult *res, int elevel);

/* The name of a method / mode as mp2_stats() and results show them. */
extern const char *mp2_method_used_name(const struct mp2_stats *st);

/* Nodes with memory as a sorted array; returns the count. */
extern int	mp2_memory_node_list(int **nodes, int *max_node);
extern char *mp2_format_node_list(const int *nodes, int n);

/*
 * Parse a node list such as "0-1,3" into a palloc'd array (duplicates
 * kept, in order); returns the count or -1 on a syntax error.
 */
extern int	mp2_parse_node_list(const char *s, int **nodes);

/* ERROR unless node has memory. */
extern void mp2_check_node(int node);

/* ----------------------------------------------------------------
 *		privilege.c: CAP_SYS_NICE
 * ----------------------------------------------------------------
 */

typedef enum Mp2CapState
{
	MP2_CAP_NONE,				/* neither permitted nor effective */
	MP2_CAP_PERMITTED,			/* can be raised around a migration */
	MP2_CAP_EFFECTIVE			/* effective now (could not be lowered) */
}			Mp2CapState;

extern void mp2_priv_init(void);
extern Mp2CapState mp2_priv_state(void);
extern const char *mp2_priv_state_name(Mp2CapState state);
extern bool mp2_priv_raise(void);
extern void mp2_priv_drop(void);

/* ----------------------------------------------------------------
 *		worker.c: the relocation worker
 * ----------------------------------------------------------------
 */

#define MP2_WORKER_TYPE "mp2 worker"

extern void mp2_worker_register_static(void);
extern pid_t mp2_worker_find(void);
extern PGDLLEXPORT void mp2_worker_main(Datum main_arg);

#endif							/* MP2_PG_H */
