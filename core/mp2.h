/* SPDX-License-Identifier: MIT */
/*
 * libmp2 - batched page migration between NUMA nodes.
 *
 * libmp2 moves the pages of the calling process between NUMA nodes in
 * batches.  It uses the move_pages2 system call where the running kernel
 * has it (see kernel/ in the mp2 tree) and move_pages(2) where it does not,
 * and reports per page what happened.
 *
 * Conventions:
 *  - Every function returns 0 (or a count, where documented) or a negative
 *    errno.  No function aborts or exits the process or prints anything,
 *    not even out of memory, which returns -ENOMEM (libmp2 reads sysfs
 *    itself rather than call the libnuma functions that exit then).
 *    mp2_strerror() gives a message with a hint for each error.
 *  - Invalid arguments are rejected before any page moves.
 *  - All functions are thread-safe.  The only global state is the result
 *    of move_pages2 discovery, computed once.
 *  - A "page" is a base page of the system page size (sysconf(_SC_PAGESIZE)).
 *    Page addresses must be aligned to it.
 */
#ifndef MP2_H
#define MP2_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mp2_kabi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bitmask;			/* libnuma's node and CPU masks */

/*
 * The version of this header.  mp2_version() gives the version of the
 * library the program runs with, which may be newer (same soname,
 * libmp2.so.0: a newer library keeps every older caller working).
 */
#define MP2_VERSION_MAJOR	1
#define MP2_VERSION_MINOR	6
#define MP2_VERSION_PATCH	0
#define MP2_VERSION		"1.6.0"
#define MP2_VERSION_NUM		(MP2_VERSION_MAJOR * 10000 + \
				 MP2_VERSION_MINOR * 100 + MP2_VERSION_PATCH)

/* The MP2_VERSION_NUM of the running library. */
int mp2_version(void);

/*
 * move_pages2 discovery.
 *
 * libmp2 calls move_pages2 only when the two files a kernel with it
 * publishes (MP2_SYSFS_SYSCALL_NR, MP2_SYSFS_VERSION; mp2_kabi.h) exist,
 * parse, and the version is one it speaks (MP2_KABI_VERSION).
 */

/*
 * Report whether the running kernel has move_pages2.
 * Returns 1 and stores the syscall number and version (either pointer may
 * be NULL) when it does, 0 when it does not.
 */
int mp2_kernel_has_move_pages2(long *syscall_nr, int *version);

/* ------------------------------------------------------------------ */
/* Topology                                                           */
/* ------------------------------------------------------------------ */

struct mp2_node {
	int id;			/* node number */
	uint64_t mem_total;	/* bytes */
	uint64_t mem_free;	/* bytes, when the topology was read */
	int nr_cpus;		/* CPUs on this node (0: memory-only node) */
	struct bitmask *cpus;	/* libnuma CPU mask of this node */
};

struct mp2_topology {
	int nr_nodes;		/* nodes with memory, in nodes[] */
	struct mp2_node *nodes;	/* ascending by id */
	int max_node;		/* highest node number the kernel knows */
	/*
	 * distance[a * (max_node + 1) + b]: the SLIT distance from node a
	 * to node b (10 = local), 0 where unknown.
	 */
	int *distance;
};

/*
 * Read the NUMA topology: the nodes that have memory, their sizes, CPUs and
 * distances.  On a kernel or machine without NUMA this reports one node 0
 * holding all memory.  Free the result with mp2_topology_free().
 */
int mp2_topology_read(struct mp2_topology **out);
void mp2_topology_free(struct mp2_topology *topo);

/* The SLIT distance between two nodes, or -1 if either is out of range. */
int mp2_topology_distance(const struct mp2_topology *topo, int from, int to);

/*
 * Check that node is a valid migration target: 0 if it has memory,
 * -ENODEV if it is out of range or has no memory, -ENOMEM (or another
 * negative errno) if the node list could not be read.
 */
int mp2_node_check(int node);

/*
 * The kernel's memory tiers (Linux 6.1 and later, from the ACPI HMAT or
 * the driver that brought the memory online): tier[node], for each node
 * below nr, receives the rank of the node's tier, 0 for the fastest, 1 for
 * the next, ..., or -1 for a node in no tier (one without memory).
 * Returns the number of tiers, 0 when the kernel reports none (an older
 * kernel, or one without NUMA), or a negative errno (-EINVAL for a NULL
 * tier or nr < 1).  Since 1.6.0 (version node MP2_0.6).
 */
int mp2_memory_tiers(int *tier, int nr);

/* ------------------------------------------------------------------ */
/* Locate                                                             */
/* ------------------------------------------------------------------ */

/* Read each page before asking the kernel, so that it is mapped. */
#define MP2_LOCATE_TOUCH	0x1

/*
 * Find the node of each page: nodes[i] receives the node of pages[i], or a
 * negative errno: -ENOENT (not mapped in this process's page tables yet:
 * never touched, or not present), -EFAULT (no mapping, or the shared zero
 * page).  These are move_pages(2)'s answers, the same on every kernel
 * libmp2 supports (6.12 and 6.18 as measured, 6.1 by its source).  What a read of private anonymous
 * memory maps is up to the machine, not the kernel version: as a rule the
 * zero page (-EFAULT), but a page of its own (its node) where the kernel
 * allocates on a read fault, as transparent huge pages "always" with
 * use_zero_page 0 do for the 2 MiB-aligned part of a mapping.  Write a page
 * to have its node reported on every machine.
 * The kernel is asked in chunks.  With MP2_LOCATE_TOUCH each page is read
 * first; reading an unmapped address then crashes the caller, so only touch
 * memory known to be mapped.
 * Returns 0 or a negative errno (-EINVAL for bad arguments).
 */
int mp2_locate(void *const *pages, size_t count, int *nodes, unsigned int flags);

/*
 * Like mp2_locate() for the len / page size pages from addr, which must be
 * page-aligned; len must be a non-zero multiple of the page size.
 */
int mp2_locate_range(void *addr, size_t len, int *nodes, unsigned int flags);

/*
 * Like mp2_locate() for the pages as process pid maps them at the same
 * addresses (pid 0 is the caller): -ENOENT where pid has not mapped a page.
 * Nothing is touched, so another process that keeps a shared mapping
 * faulted in answers for the caller without the caller faulting.  The
 * kernel lets the caller read pid's page tables only under
 * PTRACE_MODE_READ (the same user, or CAP_SYS_PTRACE): -EPERM otherwise,
 * -ESRCH if there is no such process.  Since 1.5.0 (version node MP2_0.5).
 */
int mp2_locate_pid(pid_t pid, void *const *pages, size_t count, int *nodes);

/* ------------------------------------------------------------------ */
/* Migrate                                                            */
/* ------------------------------------------------------------------ */

enum mp2_method {
	MP2_METHOD_AUTO = 0,		/* move_pages2 if present, else move_pages */
	MP2_METHOD_MOVE_PAGES2 = 1,	/* move_pages2 or fail with -ENOSYS */
	MP2_METHOD_MOVE_PAGES = 2,	/* move_pages(2) */
};

/* The kernel's migrate mode; move_pages always migrates in sync mode. */
enum mp2_mode {
	MP2_MODE_ASYNC = 0,		/* never waits on locks or writeback */
	MP2_MODE_SYNC_LIGHT = 1,	/* waits on locks, not on writeback */
	MP2_MODE_SYNC = 2,		/* waits on both (what move_pages does) */
};

#define MP2_DEFAULT_PAGES_PER_CALL	512
#define MP2_DEFAULT_CALL_US		1000
#define MP2_DEFAULT_BUSY_BACKOFF_US	100
#define MP2_DEFAULT_WINDOW		65536

struct mp2_stats;

/*
 * Asked between two migrating system calls (and between two windows of
 * mp2_migrate_stream) with the outcome so far; returning true stops the
 * migration there: the pages not tried yet count as not_tried and
 * stats->stopped is MP2_STOP_CALLER.  It must return (never longjmp).
 * With threads > 1 it runs in every thread and must be thread-safe.
 *
 * It is asked before each chunk of pages_per_call pages (one migrating
 * call and its -EBUSY retries) but each thread's first, and by
 * mp2_migrate_stream before each window but the first.  sofar sums the
 * chunks completed in every thread and the earlier windows: requested
 * counts the pages tried so far and the invariant of struct mp2_stats
 * holds; elapsed_ns is the time since the migration began.
 */
typedef bool (*mp2_stop_fn)(void *arg, const struct mp2_stats *sofar);

struct mp2_options {
	enum mp2_method method;		/* default MP2_METHOD_AUTO */
	enum mp2_mode mode;		/* default MP2_MODE_ASYNC (move_pages2) */
	/* move_pages2's nr_max_batched_migration; 0: the kernel default */
	unsigned int kernel_batch;
	/*
	 * Pages handed to the kernel in one system call (both methods);
	 * with adaptive, the upper bound of the call size.
	 * Default MP2_DEFAULT_PAGES_PER_CALL.
	 */
	size_t pages_per_call;
	/* Also move pages mapped by other processes; needs CAP_SYS_NICE. */
	bool move_all;
	/* Migrate disjoint parts of the page array in parallel; >= 1. */
	int threads;
	/* Budget: stop after this many pages (0: no limit) ... */
	size_t max_pages;
	/* ... or after this many microseconds of wall time (0: no limit). */
	uint64_t max_us;
	/* Retry pages that came back -EBUSY this many times (default 0) ... */
	int busy_retries;
	/* ... sleeping this long before the first retry, doubling after. */
	unsigned int busy_backoff_us;
	/*
	 * Adaptive call size: size each call from the latency of the
	 * previous ones to stay under call_us per system call, so migration
	 * never stalls the queries beside it for long.
	 */
	bool adaptive;
	unsigned int call_us;		/* default MP2_DEFAULT_CALL_US */
	/* Stop when this returns true (NULL: never), given stop_arg. */
	mp2_stop_fn should_stop;
	void *stop_arg;
	/*
	 * mp2_migrate_stream: pages asked of the source at a time (0: the
	 * default, MP2_DEFAULT_WINDOW).
	 */
	size_t window;
	/*
	 * Pace: hand the kernel at most this many pages a second to move,
	 * counted from the start of the migration (0: no limit).  A call
	 * waits until the pages before it fit the rate; the first goes at
	 * once.  The wait ends early for should_stop and the deadline.  Pages
	 * already on their target are not counted (since 1.4.0; 1.3 counted
	 * every page tried).
	 */
	uint64_t max_rate;
	/*
	 * Called right before and right after each system call that migrates
	 * pages, in the thread that makes it, given call_arg (NULL: not
	 * called).  A program that keeps CAP_SYS_NICE only in its permitted
	 * set makes it effective in call_begin and lowers it in call_end, so
	 * that it is never effective while the library waits (max_rate,
	 * busy_backoff_us) or runs the caller's callbacks.  A negative errno
	 * from call_begin ends the migration before that call; one from
	 * call_end ends it after the call, whose pages are counted.  Either
	 * way the migration returns that errno.  Added in 1.4.0.
	 */
	int (*call_begin)(void *call_arg);
	int (*call_end)(void *call_arg);
	void *call_arg;
	/*
	 * Move the pages as process pid maps them, at the same addresses
	 * (0, the default: the caller's own), as mp2_locate_pid() sees
	 * them: a process that keeps a shared mapping faulted in moves its
	 * pages for a caller that never faulted them in.  move_pages2 has
	 * no pid argument, so method AUTO uses move_pages(2), MOVE_PAGES2
	 * is refused (-EINVAL), and mode and kernel_batch do not apply.
	 * Pages pid has not mapped come back -ENOENT.  The kernel allows
	 * it under PTRACE_MODE_READ (the same user, or CAP_SYS_PTRACE):
	 * -EPERM otherwise, -ESRCH for no such process; the target nodes
	 * must be in pid's cpuset (-EACCES); move_all needs CAP_SYS_NICE in
	 * the caller, as always.  Added after 1.6.0 in the first reserved
	 * slot, so a 1.6 library refuses it (-EINVAL).
	 */
	int64_t pid;
	/*
	 * Room for later options: zero (mp2_options_init() zeroes them).
	 * The calls taking options return -EINVAL when one is not, so a
	 * program built for a newer library that sets a newer option is
	 * refused by an older library rather than silently ignored.
	 */
	uint64_t reserved[3];
};

/* Fill opts with the defaults documented above. */
void mp2_options_init(struct mp2_options *opts);

/* Why a migration stopped before it tried every page. */
enum mp2_stop {
	MP2_STOP_NONE = 0,		/* every page was tried */
	MP2_STOP_MAX_PAGES = 1,		/* max_pages reached */
	MP2_STOP_MAX_TIME = 2,		/* max_us reached */
	MP2_STOP_CALLER = 3,		/* should_stop returned true */
};

/*
 * Per page status, as in move_pages(2): the node the page is on after the
 * call, or a negative errno:
 *   -EBUSY    could not be isolated or migrated now (locked, under I/O)
 *   -EACCES   mapped by other processes too, and move_all not given
 *   -ENOENT   not present in this process's page tables (touch it first)
 *   -ENOMEM   no free memory on the target node
 *   -EFAULT   no mapping, or the shared zero page (see mp2_locate: a
 *             private page that was only read, on most machines)
 *   MP2_STATUS_NOT_TRIED  not tried: the budget ran out, should_stop
 *                         said stop, or a call-level error came first
 * and other kernel errors as they come.
 */
#define MP2_STATUS_NOT_TRIED	(-ECANCELED)

/*
 * The outcome of one migration.  Always
 *   moved + already + failed_busy + failed_access + failed_not_present +
 *   failed_nomem + failed_fault + failed_other + not_tried == requested
 * (mp2_stats_failed() sums the failed_* fields and not_tried).
 */
struct mp2_stats {
	size_t requested;		/* pages asked for */
	size_t moved;			/* now on the target, were not before */
	size_t already;			/* were on the target already */
	size_t failed_busy;		/* -EBUSY, after retries */
	size_t failed_access;		/* -EACCES: shared, no move_all */
	size_t failed_not_present;	/* -ENOENT */
	size_t failed_nomem;		/* -ENOMEM */
	size_t failed_fault;		/* -EFAULT */
	size_t failed_other;		/* any other error */
	size_t not_tried;		/* stopped or failed before them */
	size_t move_calls;		/* migrating system calls made */
	size_t query_calls;		/* locating system calls made */
	size_t retried;			/* page retries after -EBUSY */
	uint64_t elapsed_ns;		/* wall time of the whole migration */
	uint64_t max_call_ns;		/* longest migrating system call */
	size_t last_pages_per_call;	/* call size at the end (adaptive) */
	enum mp2_method method_used;	/* MOVE_PAGES2 or MOVE_PAGES */
	bool fell_back;			/* auto found no move_pages2 */
	enum mp2_stop stopped;		/* why it stopped early, if it did */
	uint64_t reserved[8];		/* later counters; zero for now */
};

/*
 * Move pages to NUMA nodes.
 *
 * pages[count]: page-aligned addresses of the calling process.
 * nodes:        per-page target nodes, or NULL to send all to node.
 * node:         the target when nodes is NULL (ignored otherwise).
 * opts:         NULL for the defaults.
 * status:       NULL, or count ints receiving the per-page status.
 * stats:        NULL, or receives the outcome, on every return: pages
 *               an error kept from being tried count as not_tried.
 *
 * Pages must be mapped in the caller's page tables to be moved (in pid's,
 * with opts->pid): touch them first (the kernel answers -ENOENT for pages
 * never faulted in).  Each
 * chunk of pages is located first; pages already on their target are not
 * handed to the kernel and count as already.
 *
 * Returns 0 when the migration ran, even if some pages failed (see stats
 * and status), or a negative errno for a call-level error:
 *   -EINVAL  bad arguments (NULL arrays with count > 0, unaligned address,
 *            count 0, unknown method or mode, threads < 1,
 *            busy_retries < 0, adaptive with call_us 0, a reserved
 *            option not zero, pid negative or above INT_MAX, pid with
 *            method MOVE_PAGES2,
 *            kernel_batch > MP2_KBATCH_MAX, pages_per_call 0)
 *   -ENODEV  a target node out of range or without memory
 *   -ENOSYS  method MOVE_PAGES2 asked for and the kernel has none
 *   -EPERM   move_all without CAP_SYS_NICE, or pid's pages not the
 *            caller's to see (another user's process)
 *   -ESRCH   no process pid
 *   -ENOMEM  out of memory in the library
 * On -EINVAL, -ENODEV and -ENOSYS no page has moved, and status is not
 * written.
 */
int mp2_migrate(void *const *pages, size_t count, const int *nodes, int node,
		const struct mp2_options *opts, int *status,
		struct mp2_stats *stats);

struct mp2_range {
	void *addr;			/* page-aligned */
	size_t len;			/* non-zero multiple of the page size */
};

/*
 * Move every page of the given ranges to node.  status, if not NULL, has
 * one entry per page of the ranges, in order.  Errors as mp2_migrate().
 */
int mp2_migrate_ranges(const struct mp2_range *ranges, size_t nr_ranges,
		       int node, const struct mp2_options *opts, int *status,
		       struct mp2_stats *stats);

/*
 * Fills pages[0..n) and their target nodes nodes[0..n) with the next
 * pages to migrate, n <= max, page-aligned, in any order; returns n, 0
 * when there are no more pages, or a negative errno to abort (returned by
 * mp2_migrate_stream).  It must return (never longjmp).
 */
typedef long (*mp2_source_fn)(void *arg, void **pages, int *nodes, size_t max);

/*
 * Migrate the pages a source delivers, window by window (opts->window pages
 * at a time, default MP2_DEFAULT_WINDOW = 65536; memory O(window)).  The
 * budget (max_pages, max_us) and should_stop hold across all windows.
 * stats counts the pages the source delivered (requested), and always adds
 * up; once the migration stops, the source is not asked again, so pages it
 * never delivered are in no counter.  Errors as mp2_migrate(); an invalid
 * page or target in a later window stops there with that error, stats keep
 * what moved before.
 *
 * Each window is migrated as by mp2_migrate().  The source is not asked
 * once the budget is spent, so a budget of exactly the pages there are
 * ends with stopped MP2_STOP_MAX_PAGES.  A window that fails as a whole
 * (bad page or target) counts as not_tried.  stats is filled on every
 * return; elapsed_ns is the wall time of the whole stream.  -EINVAL also
 * when next is NULL or returns more than max.
 */
int mp2_migrate_stream(mp2_source_fn next, void *arg,
		       const struct mp2_options *opts, struct mp2_stats *stats);

/* Failed and not-tried pages of a migration. */
size_t mp2_stats_failed(const struct mp2_stats *stats);

/* Add the counters of b to a (for totals over several migrations). */
void mp2_stats_add(struct mp2_stats *a, const struct mp2_stats *b);

/* ------------------------------------------------------------------ */
/* Names and messages                                                 */
/* ------------------------------------------------------------------ */

/* "auto", "move_pages2", "move_pages"; NULL for an unknown value. */
const char *mp2_method_name(enum mp2_method method);
/* "async", "sync_light", "sync"; NULL for an unknown value. */
const char *mp2_mode_name(enum mp2_mode mode);
/* Parse those names (also "0", "1", "2" for modes): 0 or -EINVAL. */
int mp2_method_parse(const char *name, enum mp2_method *method);
int mp2_mode_parse(const char *name, enum mp2_mode *mode);

/*
 * A message for a negative errno returned by libmp2, with a hint where
 * one helps (e.g. how to grant CAP_SYS_NICE for -EPERM).
 */
const char *mp2_strerror(int err);

/* A short name for a per-page status: "moved"-style node or error name. */
const char *mp2_status_reason(int status);

#ifdef __cplusplus
}
#endif

#endif /* MP2_H */
