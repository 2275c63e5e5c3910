/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * mp2.c
 *	  Module entry point of the mp2 extension: the GUCs under "mp2.", the
 *	  shared memory that holds the cumulative counters and the worker's
 *	  state, and the registration of the relocation worker.
 *
 * mp2 works with and without shared_preload_libraries.  Preloaded, it has
 * shared counters and starts its worker with the server; loaded on demand
 * by a backend, the counters live in that backend only.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

PGMP2_MODULE_MAGIC;

void		_PG_init(void);

static Mp2Shared local_shared;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static const struct config_enum_entry mode_options[] = {
	{"async", MP2_MODE_ASYNC, false},
	{"sync_light", MP2_MODE_SYNC_LIGHT, false},
	{"sync", MP2_MODE_SYNC, false},
	{NULL, 0, false}
};

static const struct config_enum_entry method_options[] = {
	{"auto", MP2_METHOD_AUTO, false},
	{"move_pages2", MP2_METHOD_MOVE_PAGES2, false},
	{"move_pages", MP2_METHOD_MOVE_PAGES, false},
	{NULL, 0, false}
};

static bool
check_node_list(char **newval, void **extra, GucSource source)
{
	int		   *nodes;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (pgmp2_parse_node_list(*newval, &nodes) < 0)
	{
		GUC_check_errdetail("A node list looks like \"0,1\" or \"0-3\".");
		return false;
	}
	pfree(nodes);
	return true;
}

/* A node list whose every node has memory (mp2.interleave_nodes). */
static bool
check_memory_node_list(char **newval, void **extra, GucSource source)
{
	int		   *nodes;
	int			n;

	if (!check_node_list(newval, extra, source))
		return false;
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	n = pgmp2_parse_node_list(*newval, &nodes);
	for (int i = 0; i < n; i++)
	{
		if (mp2_node_check(nodes[i]) != 0)
		{
			GUC_check_errdetail("Node %d is not a NUMA node with memory.",
								nodes[i]);
			pfree(nodes);
			return false;
		}
	}
	pfree(nodes);
	return true;
}

static void
define_gucs(void)
{
	DefineCustomEnumVariable("mp2.policy",
							 "How the relocation worker places shared buffers.",
							 "off: it does nothing; interleave: it spreads "
							 "the pool's pages over mp2.interleave_nodes; "
							 "rules: it moves the buffers of each relation "
							 "in the table mp2_rules to that row's node; "
							 "tier: it keeps hot pages on mp2.fast_nodes and "
							 "cold ones on mp2.slow_nodes.",
							 &pgmp2_policy, PGMP2_POLICY_OFF, pgmp2_policy_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("mp2.interleave_nodes",
							   "Nodes the interleave policy spreads the pool over.",
							   "A list such as \"0,1\" or \"0-3\"; empty means "
							   "every node with memory.  A node named twice "
							   "gets twice the share.",
							   &pgmp2_interleave_nodes, "",
							   PGC_SIGHUP, 0, check_memory_node_list, NULL, NULL);
	DefineCustomStringVariable("mp2.fast_nodes",
							   "Nodes that policy tier puts hot pages on.",
							   "A list such as \"0,1\"; empty means the kernel's "
							   "top memory tier or, if it reports one tier only, "
							   "the nodes with CPUs and memory.",
							   &pgmp2_fast_nodes, "",
							   PGC_SIGHUP, 0, pgmp2_check_fast_nodes, NULL, NULL);
	DefineCustomStringVariable("mp2.slow_nodes",
							   "Nodes that policy tier puts cold pages on.",
							   "A list such as \"2,3\"; empty means the kernel's "
							   "lower memory tiers or, if it reports one tier only, "
							   "the nodes with memory and no CPUs.",
							   &pgmp2_slow_nodes, "",
							   PGC_SIGHUP, 0, pgmp2_check_slow_nodes, NULL, NULL);
	DefineCustomRealVariable("mp2.fast_fraction",
							 "Share of the pool that policy tier lets the fast nodes hold.",
							 "More than 0, at most 1.  The fast nodes also "
							 "keep free memory: 3% of each, at least 64 MB.",
							 &pgmp2_fast_fraction, 1.0, 0.0, 1.0,
							 PGC_SIGHUP, 0, pgmp2_check_fast_fraction, NULL, NULL);
	DefineCustomIntVariable("mp2.tier_slice",
							"Share of the pool one round of policy tier looks at.",
							"Each round records the use of this much of the "
							"pool, surveys and moves its pages, the next round "
							"the next slice: a round's work is bounded by it, "
							"not by shared_buffers.",
							&pgmp2_tier_slice_mb, 4096, 1, INT_MAX / 2,
							PGC_SIGHUP, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("mp2.naptime",
							"Time between two rounds of the relocation worker.",
							NULL, &pgmp2_naptime_ms, 10000, 100, 24 * 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("mp2.max_pages_per_round",
							"Most OS pages the worker moves in one round.",
							"Bounds the migration rate to this many pages per "
							"naptime; 0 means no bound.",
							&pgmp2_max_pages_per_round, 8192, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("mp2.max_rate",
							"Most OS pages per second the worker moves.",
							"Paced as mp2_migrate()'s max_rate: pages already "
							"on their node are not counted.  0 means no bound.",
							&pgmp2_max_rate, 0, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("mp2.batch_size",
							"OS pages the worker hands to the kernel in one call.",
							"With move_pages2 also the kernel's migration batch.",
							&pgmp2_batch_size, PGMP2_DEFAULT_BATCH_SIZE, 1,
							PGMP2_MAX_BATCH_SIZE,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("mp2.mode",
							 "Kernel migrate mode of the worker (move_pages2 only).",
							 NULL, &pgmp2_mode, MP2_MODE_ASYNC, mode_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("mp2.method",
							 "System call the worker migrates with.",
							 "auto: move_pages2 where the kernel has it, else "
							 "move_pages.",
							 &pgmp2_method, MP2_METHOD_AUTO, method_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* Only the postmaster can define these: they matter when preloaded. */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomStringVariable("mp2.database",
								   "Database whose mp2_rules the preloaded worker follows.",
								   "Policy rules reads the table there, in a short-lived worker.",
								   &pgmp2_database, "postgres",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomBoolVariable("mp2.pool_thp",
								 "Advise 2 MiB transparent huge pages for the buffer pool.",
								 "At server start, before the pool is touched; "
								 "needs shmem_enabled = advise (or always) in "
								 "/sys/kernel/mm/transparent_hugepage.  Nothing to "
								 "do when huge_pages gave the pool hugetlb pages.",
								 &pgmp2_pool_thp, false,
								 PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomBoolVariable("mp2.start_worker",
								 "Start the relocation worker with the server.",
								 "Only when mp2 is in shared_preload_libraries.",
								 &pgmp2_start_worker, true,
								 PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomBoolVariable("mp2.warm_mapping",
								 "Locate pages through the worker's mapping of the pool.",
								 "The worker keeps the pool's pages mapped, and backends "
								 "ask its page tables where a page is instead of faulting "
								 "the pool into their own.  Each page the worker maps is "
								 "shared with it, so moving it needs CAP_SYS_NICE.",
								 &pgmp2_warm_mapping, false,
								 PGC_SIGHUP, 0, NULL, NULL, NULL);
	}
	MarkGUCPrefixReserved("mp2");
}

static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(Mp2Shared)));
	RequestAddinShmemSpace(MAXALIGN(pgmp2_tier_shmem_size()));
	RequestNamedLWLockTranche("mp2", 1);
}

static void
shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgmp2_shared = ShmemInitStruct("mp2", sizeof(Mp2Shared), &found);
	if (!found)
	{
		memset(pgmp2_shared, 0, sizeof(Mp2Shared));
		pgmp2_shared->lock = &(GetNamedLWLockTranche("mp2"))->lock;
		SpinLockInit(&pgmp2_shared->mutex);
		pgmp2_shared->stats_reset = GetCurrentTimestamp();
	}
	pgmp2_tier_shmem_init();
	LWLockRelease(AddinShmemInitLock);

	/* Only the postmaster: it creates the pool before any child exists. */
	if (!IsUnderPostmaster)
		pgmp2_pool_thp_advise();
}

/*
 * A function called with more arguments than this library reads: its SQL
 * comes from a newer version of the extension than the library loaded,
 * as after ALTER EXTENSION mp2 UPDATE with the old library still
 * preloaded.  Better an error than arguments silently ignored.
 */
void
pgmp2_sql_newer_than_library(FunctionCallInfo fcinfo, int known)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("function %s has %d arguments; the loaded library of mp2 %s reads %d",
					get_func_name(fcinfo->flinfo->fn_oid), PG_NARGS(),
					PGMP2_EXT_VERSION, known),
			 errhint("The extension's SQL is newer than the library this server loaded: restart the server after updating the extension.")));
}

void
_PG_init(void)
{
	define_gucs();
	pgmp2_priv_init();

	/* Until shared memory is attached: this process's own copy. */
	memset(&local_shared, 0, sizeof(local_shared));
	SpinLockInit(&local_shared.mutex);
	local_shared.stats_reset = GetCurrentTimestamp();
	pgmp2_shared = &local_shared;

	if (!process_shared_preload_libraries_in_progress)
		return;

	pgmp2_preloaded = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;

	if (pgmp2_start_worker)
		pgmp2_worker_register_static();
}
