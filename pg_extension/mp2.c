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
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* GUC variables */
int			mp2_policy = MP2_POLICY_OFF;
char	   *mp2_interleave_nodes = NULL;
int			mp2_naptime_ms = 10000;
int			mp2_max_pages_per_round = 8192;
int			mp2_batch_size = MP2_DEFAULT_BATCH_SIZE;
int			mp2_mode = MP2_MODE_ASYNC;
int			mp2_method = MP2_METHOD_AUTO;
char	   *mp2_database = NULL;
bool		mp2_start_worker = true;

Mp2Shared  *mp2_shared = NULL;
bool		mp2_preloaded = false;

static Mp2Shared mp2_local;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static const struct config_enum_entry policy_options[] = {
	{"off", MP2_POLICY_OFF, false},
	{"interleave", MP2_POLICY_INTERLEAVE, false},
	{"rules", MP2_POLICY_RULES, false},
	{NULL, 0, false}
};

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
	if (mp2_parse_node_list(*newval, &nodes) < 0)
	{
		GUC_check_errdetail("A node list looks like \"0,1\" or \"0-3\".");
		return false;
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
							 "in the table mp2_rules to that row's node.",
							 &mp2_policy, MP2_POLICY_OFF, policy_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("mp2.interleave_nodes",
							   "Nodes the interleave policy spreads the pool over.",
							   "A list such as \"0,1\" or \"0-3\"; empty means "
							   "every node with memory.  A node named twice "
							   "gets twice the share.",
							   &mp2_interleave_nodes, "",
							   PGC_SIGHUP, 0, check_node_list, NULL, NULL);
	DefineCustomIntVariable("mp2.naptime",
							"Time between two rounds of the relocation worker.",
							NULL, &mp2_naptime_ms, 10000, 100, 24 * 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("mp2.max_pages_per_round",
							"Most OS pages the worker moves in one round.",
							"Bounds the migration rate to this many pages per "
							"naptime; 0 means no bound.",
							&mp2_max_pages_per_round, 8192, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("mp2.batch_size",
							"OS pages the worker hands to the kernel in one call.",
							"With move_pages2 also the kernel's migration batch.",
							&mp2_batch_size, MP2_DEFAULT_BATCH_SIZE, 1,
							MP2_MAX_BATCH_SIZE,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("mp2.mode",
							 "Kernel migrate mode of the worker (move_pages2 only).",
							 NULL, &mp2_mode, MP2_MODE_ASYNC, mode_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("mp2.method",
							 "System call the worker migrates with.",
							 "auto: move_pages2 where the kernel has it, else "
							 "move_pages.",
							 &mp2_method, MP2_METHOD_AUTO, method_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* Only the postmaster can define these: they matter when preloaded. */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomStringVariable("mp2.database",
								   "Database the preloaded worker connects to.",
								   "It reads mp2_rules there.",
								   &mp2_database, "postgres",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomBoolVariable("mp2.start_worker",
								 "Start the relocation worker with the server.",
								 "Only when mp2 is in shared_preload_libraries.",
								 &mp2_start_worker, true,
								 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	}
	MarkGUCPrefixReserved("mp2");
}

static void
mp2_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(Mp2Shared)));
}

static void
mp2_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	mp2_shared = ShmemInitStruct("mp2", sizeof(Mp2Shared), &found);
	if (!found)
	{
		memset(mp2_shared, 0, sizeof(Mp2Shared));
		SpinLockInit(&mp2_shared->mutex);
		mp2_shared->stats_reset = GetCurrentTimestamp();
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
mp2_count_into(Mp2Counters *c, const struct mp2_stats *st, uint64 not_present)
{
	c->migrations++;
	c->requested += st->requested + not_present;
	c->moved += st->moved;
	c->already += st->already;
	c->not_present += not_present + st->failed_not_present;
	c->failed_busy += st->failed_busy;
	c->failed_shared += st->failed_access;
	c->failed_nomem += st->failed_nomem;
	c->failed_other += st->failed_other + st->failed_fault;
	c->not_tried += st->not_tried;
	c->move_calls += st->move_calls;
	c->elapsed_ns += st->elapsed_ns;
}

/*
 * Add the outcome of one migration to the counters of the method it used.
 */
void
mp2_count(enum mp2_method method, const struct mp2_stats *st,
		  uint64 not_present)
{
	int			idx = method == MP2_METHOD_MOVE_PAGES2 ?
		MP2_IDX_MOVE_PAGES2 : MP2_IDX_MOVE_PAGES;

	SpinLockAcquire(&mp2_shared->mutex);
	mp2_count_into(&mp2_shared->counters[idx], st, not_present);
	SpinLockRelease(&mp2_shared->mutex);
}

void
_PG_init(void)
{
	define_gucs();
	mp2_priv_init();

	/* Until shared memory is attached: this process's own copy. */
	memset(&mp2_local, 0, sizeof(mp2_local));
	SpinLockInit(&mp2_local.mutex);
	mp2_local.stats_reset = GetCurrentTimestamp();
	mp2_shared = &mp2_local;

	if (!process_shared_preload_libraries_in_progress)
		return;

	mp2_preloaded = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = mp2_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = mp2_shmem_startup;

	if (mp2_start_worker)
		mp2_worker_register_static();
}
