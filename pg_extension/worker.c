/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The relocation worker: a background worker that keeps the shared
 *	  buffers where mp2.policy wants them.
 *
 * Every mp2.naptime it runs one round:
 *
 *	interleave	buffer k of the pool (or huge page k) belongs on the
 *				(k mod n)-th node of mp2.interleave_nodes (every node with
 *				memory if empty); a round starts where the last one
 *				stopped, so a bounded round still reaches the whole pool in
 *				turn.
 *	rules		the buffers of each relation in the table mp2_rules (in
 *				the worker's database) belong on that row's node.
 *
 * A round moves at most mp2.max_pages_per_round pages (pages already in
 * place cost a lookup, not a move).  SIGHUP and SIGTERM only set flags;
 * the round stops between two calls of libmp2 to reload or to exit.  An
 * ERROR in a round is logged, counted in mp2_worker_info() and the worker
 * tries again after the naptime.
 *
 * With mp2 in shared_preload_libraries the worker starts with the server
 * (mp2.start_worker) and connects to mp2.database; mp2_worker_start()
 * starts one on demand in the caller's database, also without preload.
 * One runs at a time.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* Where the next interleave round starts. */
static int64 interleave_cursor = 0;

/* Whether the last round reported shared pages it could not move. */
static bool warned_shared = false;

/* Whether the rules round said that the extension is missing. */
static bool warned_no_extension = false;

static MemoryContext round_cxt = NULL;

void
mp2_worker_register_static(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "mp2");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "mp2_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "mp2 relocation worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, MP2_WORKER_TYPE);
	worker.bgw_main_arg = ObjectIdGetDatum(InvalidOid);
	RegisterBackgroundWorker(&worker);
}

/*
 * The pid of the running worker, or 0.  With shared memory the worker
 * publishes its pid; without, pg_stat_activity tells.
 */
pid_t
mp2_worker_find(void)
{
	pid_t		pid = 0;

	if (mp2_preloaded)
	{
		SpinLockAcquire(&mp2_shared->mutex);
		pid = mp2_shared->worker.pid;
		SpinLockRelease(&mp2_shared->mutex);
		if (pid != 0 && kill(pid, 0) != 0)
			pid = 0;
		return pid;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT pid FROM pg_catalog.pg_stat_activity "
					"WHERE backend_type = '" MP2_WORKER_TYPE "' "
					"ORDER BY backend_start LIMIT 1", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			pid = DatumGetInt32(d);
	}
	SPI_finish();
	return pid;
}

static void
worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&mp2_shared->mutex);
	if (mp2_shared->worker.pid == MyProcPid)
		mp2_shared->worker.pid = 0;
	SpinLockRelease(&mp2_shared->mutex);
}

/* Pages of the current mp2_move() already added to pages_moved. */
static uint64 moved_reported = 0;

/* Add the pages moved since the last report to the worker's count. */
static void
report_moved(uint64 moved)
{
	if (moved <= moved_reported)
		return;
	SpinLockAcquire(&mp2_shared->mutex);
	mp2_shared->worker.pages_moved += moved - moved_reported;
	SpinLockRelease(&mp2_shared->mutex);
	moved_reported = moved;
}

/*
 * Between two calls: show the progress, and stop the round to exit or to
 * reload the settings.
 */
static bool
worker_stop(void *arg, const Mp2MoveResult *sofar)
{
	if (sofar != NULL)
		report_moved(sofar->st.moved);
	return ShutdownRequestPending || ConfigReloadPending;
}

static void
worker_move(const Mp2Pool *pool, const int64 *pages, int64 n,
			const int *targets, int node, const Mp2MoveArgs *args,
			Mp2MoveResult *res)
{
	moved_reported = 0;
	mp2_move(pool, pages, n, targets, node, args, worker_stop, NULL, res);
	report_moved(res->st.moved);
}

static void
worker_args(Mp2MoveArgs *args, int64 moved_so_far)
{
	memset(args, 0, sizeof(*args));
	args->method = (enum mp2_method) mp2_method;
	args->mode = (enum mp2_mode) mp2_mode;
	args->batch_size = mp2_batch_size;
	if (mp2_max_pages_per_round > 0)
		args->max_moved = Max(mp2_max_pages_per_round - moved_so_far, 1);
}

static void
note_result(const Mp2MoveResult *res)
{
	if (res->st.failed_access > 0 && !res->privileged)
	{
		if (!warned_shared)
			mp2_report_shared(res, LOG);
		warned_shared = true;
	}
	else if (res->st.moved > 0)
		warned_shared = false;
	if (res->error != 0)
		ereport(ERROR,
				(errmsg("migration failed: %s", mp2_strerror(res->error))));
}

static int64
round_interleave(void)
{
	Mp2Pool		pool;
	Mp2MoveArgs args;
	Mp2MoveResult res;
	int		   *nodes;
	int			nnodes;
	int64	   *pages;
	int		   *targets;

	if (mp2_interleave_nodes == NULL || mp2_interleave_nodes[0] == '\0')
		nnodes = mp2_memory_node_list(&nodes, NULL);
	else
		nnodes = mp2_parse_node_list(mp2_interleave_nodes, &nodes);
	if (nnodes <= 0)
		ereport(ERROR,
				(errmsg("mp2.interleave_nodes \"%s\" names no node",
						mp2_interleave_nodes)));
	for (int i = 0; i < nnodes; i++)
		mp2_check_node(nodes[i]);

	mp2_pool_get(&pool);
	if (interleave_cursor >= pool.npages)
		interleave_cursor = 0;
	pages = mp2_palloc_huge(sizeof(int64) * (Size) pool.npages);
	targets = mp2_palloc_huge(sizeof(int) * (Size) pool.npages);
	for (int64 i = 0; i < pool.npages; i++)
	{
		int64		p = (interleave_cursor + i) % pool.npages;

		pages[i] = p;
		targets[i] = mp2_interleave_target(&pool, p, nodes, nnodes);
	}

	worker_args(&args, 0);
	worker_move(&pool, pages, pool.npages, targets, -1, &args, &res);
	interleave_cursor = (interleave_cursor +
						 (int64) (res.st.requested + res.not_present -
								  res.st.not_tried)) % pool.npages;
	note_result(&res);
	return (int64) res.st.moved;
}

typedef struct Mp2Rule
{
	Oid			relid;
	int			node;
	int64		npages;
	int64	   *pages;
}			Mp2Rule;

/*
 * Read mp2_rules and collect the pages of each relation, in a short
 * transaction; the pages are moved after it has ended.
 */
static int
read_rules(const Mp2Pool *pool, Mp2Rule **rules_out)
{
	Mp2Rule    *rules = NULL;
	int			nrules = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "mp2: reading mp2_rules");

	/* The extension's schema, if it is installed in this database. */
	if (SPI_execute("SELECT n.nspname FROM pg_catalog.pg_extension e "
					"JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
					"WHERE e.extname = 'mp2'", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up extension mp2");
	if (SPI_processed == 0)
	{
		if (!warned_no_extension)
			ereport(LOG,
					(errmsg("mp2 worker: extension mp2 is not installed in database \"%s\", policy rules has no rules",
							get_database_name(MyDatabaseId))));
		warned_no_extension = true;
	}
	else
	{
		char	   *schema = SPI_getvalue(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1);
		char	   *query;

		warned_no_extension = false;
		query = psprintf("SELECT r.rel::pg_catalog.oid, r.node FROM %s.mp2_rules r "
						 "JOIN pg_catalog.pg_class c ON c.oid = r.rel "
						 "ORDER BY r.rel::pg_catalog.oid",
						 quote_identifier(schema));
		if (SPI_execute(query, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s.mp2_rules", schema);

		nrules = (int) SPI_processed;
		rules = MemoryContextAllocZero(round_cxt,
									   sizeof(Mp2Rule) * Max(nrules, 1));
		for (int i = 0; i < nrules; i++)
		{
			bool		isnull;
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old;

			rules[i].relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
			rules[i].node = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
			if (mp2_node_check(rules[i].node) != 0)
			{
				ereport(LOG,
						(errmsg("mp2 worker: rule for relation %u names node %d, which has no memory; skipped",
								rules[i].relid, rules[i].node)));
				rules[i].npages = 0;
				continue;
			}
			old = MemoryContextSwitchTo(round_cxt);
			rules[i].npages = mp2_relation_pages(pool, rules[i].relid,
												 &rules[i].pages, NULL, NULL);
			MemoryContextSwitchTo(old);
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	*rules_out = rules;
	return nrules;
}

static int64
round_rules(void)
{
	Mp2Pool		pool;
	Mp2Rule    *rules;
	int			nrules;
	int64		moved = 0;

	mp2_pool_get(&pool);
	nrules = read_rules(&pool, &rules);
	for (int i = 0; i < nrules; i++)
	{
		Mp2MoveArgs args;
		Mp2MoveResult res;

		if (rules[i].npages == 0)
			continue;
		if (mp2_max_pages_per_round > 0 && moved >= mp2_max_pages_per_round)
			break;
		if (worker_stop(NULL, NULL))
			break;
		worker_args(&args, moved);
		worker_move(&pool, rules[i].pages, rules[i].npages, NULL,
					rules[i].node, &args, &res);
		moved += (int64) res.st.moved;
		note_result(&res);
	}
	return moved;
}

static void
publish_round(int64 moved, const char *error)
{
	SpinLockAcquire(&mp2_shared->mutex);
	mp2_shared->worker.policy = mp2_policy;
	if (error != NULL)
	{
		mp2_shared->worker.failed_rounds++;
		strlcpy(mp2_shared->worker.last_error, error,
				sizeof(mp2_shared->worker.last_error));
	}
	else
	{
		mp2_shared->worker.rounds++;
		mp2_shared->worker.last_error[0] = '\0';
	}
	mp2_shared->worker.last_round = GetCurrentTimestamp();
	SpinLockRelease(&mp2_shared->mutex);
}

static void
run_round(void)
{
	int64		moved = 0;

	MemoryContextReset(round_cxt);
	MemoryContextSwitchTo(round_cxt);
	switch ((Mp2Policy) mp2_policy)
	{
		case MP2_POLICY_OFF:
			break;
		case MP2_POLICY_INTERLEAVE:
			moved = round_interleave();
			break;
		case MP2_POLICY_RULES:
			moved = round_rules();
			break;
	}
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(round_cxt);
	if (mp2_policy != MP2_POLICY_OFF)
		publish_round(moved, NULL);
	else
	{
		SpinLockAcquire(&mp2_shared->mutex);
		mp2_shared->worker.policy = MP2_POLICY_OFF;
		SpinLockRelease(&mp2_shared->mutex);
	}
}

/* Claim the single worker slot; false if another worker holds it. */
static bool
worker_attach(void)
{
	pid_t		other;

	SpinLockAcquire(&mp2_shared->mutex);
	other = mp2_shared->worker.pid;
	if (other != 0 && other != MyProcPid && kill(other, 0) == 0)
	{
		SpinLockRelease(&mp2_shared->mutex);
		return false;
	}
	mp2_shared->worker.pid = MyProcPid;
	mp2_shared->worker.database = MyDatabaseId;
	mp2_shared->worker.policy = mp2_policy;
	SpinLockRelease(&mp2_shared->mutex);
	before_shmem_exit(worker_detach, (Datum) 0);
	return true;
}

void
mp2_worker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	sigjmp_buf	local_sigjmp_buf;
	static volatile bool wait_first = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	if (OidIsValid(dboid))
		BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	else
		BackgroundWorkerInitializeConnection(mp2_database, NULL, 0);

	if (!worker_attach())
	{
		ereport(LOG,
				(errmsg("mp2 worker: another mp2 worker is running; exiting")));
		proc_exit(0);
	}
	StartTransactionCommand();
	ereport(LOG,
			(errmsg("mp2 worker started in database \"%s\": policy %s, naptime %d ms",
					get_database_name(MyDatabaseId),
					GetConfigOption("mp2.policy", false, false),
					mp2_naptime_ms)));
	CommitTransactionCommand();

	round_cxt = AllocSetContextCreate(TopMemoryContext, "mp2 worker round",
									  ALLOCSET_DEFAULT_SIZES);

	/* An ERROR in a round comes back here: log it, count it, go on. */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		ErrorData  *edata;

		error_context_stack = NULL;
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
		MemoryContextReset(round_cxt);
		publish_round(0, edata->message ? edata->message : "unknown error");
		FreeErrorData(edata);
		pgstat_report_activity(STATE_IDLE, NULL);
		RESUME_INTERRUPTS();
		wait_first = true;
	}
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
		if (wait_first)
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 mp2_naptime_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		wait_first = true;
		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			break;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			ereport(LOG,
					(errmsg("mp2 worker: reloaded: policy %s, naptime %d ms, max_pages_per_round %d",
							GetConfigOption("mp2.policy", false, false),
							mp2_naptime_ms, mp2_max_pages_per_round)));
			/* A round cut short by the reload resumes at once. */
			wait_first = false;
			continue;
		}
		run_round();
	}

	ereport(LOG, (errmsg("mp2 worker stopping")));
	proc_exit(0);
}
