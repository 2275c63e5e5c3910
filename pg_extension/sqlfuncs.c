/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *	  The SQL-callable functions of mp2 (see mp2--1.0.sql).
 *
 * Every argument is checked before anything moves: a function that
 * raises an ERROR for its arguments has moved no page.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <numa.h>
#include <signal.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(mp2_numa_nodes);
PG_FUNCTION_INFO_V1(mp2_buffer_nodes);
PG_FUNCTION_INFO_V1(mp2_relation_nodes);
PG_FUNCTION_INFO_V1(mp2_migrate_sql);
PG_FUNCTION_INFO_V1(mp2_interleave_sql);
PG_FUNCTION_INFO_V1(mp2_stats_sql);
PG_FUNCTION_INFO_V1(mp2_stats_reset_sql);
PG_FUNCTION_INFO_V1(mp2_info);
PG_FUNCTION_INFO_V1(mp2_worker_start);
PG_FUNCTION_INFO_V1(mp2_worker_stop);
PG_FUNCTION_INFO_V1(mp2_worker_info);

/* ----------------------------------------------------------------
 *		mp2_numa_nodes()
 * ----------------------------------------------------------------
 */

static char *
format_cpus(const struct bitmask *cpus)
{
	int		   *list = palloc(sizeof(int) * Max(cpus->size, 1));
	int			n = 0;

	for (unsigned int c = 0; c < cpus->size; c++)
		if (numa_bitmask_isbitset(cpus, c))
			list[n++] = (int) c;
	return mp2_format_node_list(list, n);
}

Datum
mp2_numa_nodes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	struct mp2_topology *topo;
	int			err;

	InitMaterializedSRF(fcinfo, 0);
	err = mp2_topology_read(&topo);
	if (err != 0)
		ereport(ERROR,
				(errmsg("could not read the NUMA topology: %s",
						mp2_strerror(err))));

	for (int i = 0; i < topo->nr_nodes; i++)
	{
		const struct mp2_node *nd = &topo->nodes[i];
		Datum		values[5];
		bool		nulls[5] = {false};
		Datum	   *dist = palloc(sizeof(Datum) * topo->nr_nodes);

		for (int j = 0; j < topo->nr_nodes; j++)
			dist[j] = Int32GetDatum(mp2_topology_distance(topo, nd->id,
														  topo->nodes[j].id));
		values[0] = Int32GetDatum(nd->id);
		values[1] = CStringGetTextDatum(format_cpus(nd->cpus));
		values[2] = Int64GetDatum((int64) nd->mem_total);
		values[3] = Int64GetDatum((int64) nd->mem_free);
		values[4] = PointerGetDatum(construct_array(dist, topo->nr_nodes,
													INT4OID, 4, true,
													TYPALIGN_INT));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mp2_topology_free(topo);
	return (Datum) 0;
}

/* ----------------------------------------------------------------
 *		mp2_buffer_nodes(), mp2_relation_nodes(rel)
 * ----------------------------------------------------------------
 */

/*
 * One row per node with memory, then one with node NULL for the pages not
 * faulted in yet.
 */
static void
node_rows(FunctionCallInfo fcinfo, const Mp2Pool *pool, const int64 *pages,
		  int64 npages, const int *bufs, int nbufs)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int		   *nodes;
	int			max_node;
	int			n = mp2_memory_node_list(&nodes, &max_node);
	Mp2NodeCount *counts = palloc0(sizeof(Mp2NodeCount) * (max_node + 1));
	Mp2NodeCount absent = {0, 0};

	mp2_count_nodes(pool, pages, npages, bufs, nbufs, counts, max_node,
					&absent);

	for (int i = 0; i <= n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false};
		Mp2NodeCount *c = i < n ? &counts[nodes[i]] : &absent;

		if (i < n)
			values[0] = Int32GetDatum(nodes[i]);
		else
			nulls[0] = true;
		values[1] = Int64GetDatum(c->buffers);
		values[2] = Int64GetDatum(c->pages);
		values[3] = Int32GetDatum((int32) pool->page_size);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

Datum
mp2_buffer_nodes(PG_FUNCTION_ARGS)
{
	Mp2Pool		pool;

	InitMaterializedSRF(fcinfo, 0);
	mp2_pool_get(&pool);
	node_rows(fcinfo, &pool, NULL, 0, NULL, 0);
	return (Datum) 0;
}

Datum
mp2_relation_nodes(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Mp2Pool		pool;
	int64	   *pages;
	int		   *bufs;
	int			nbufs;
	int64		npages;

	InitMaterializedSRF(fcinfo, 0);
	mp2_pool_get(&pool);
	npages = mp2_relation_pages(&pool, relid, &pages, &bufs, &nbufs);
	node_rows(fcinfo, &pool, pages, npages, bufs, nbufs);
	return (Datum) 0;
}

/* ----------------------------------------------------------------
 *		mp2_migrate(), mp2_interleave()
 * ----------------------------------------------------------------
 */

/* Index of the first option (method) in both functions' arguments. */
#define ARG_METHOD		2
#define ARG_MODE		3
#define ARG_BATCH		4
#define ARG_MAX_PAGES	5
#define ARG_MAX_MS		6

#define RESULT_COLS		12

static void
not_null(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

static void
parse_move_args(FunctionCallInfo fcinfo, Mp2MoveArgs *args)
{
	char	   *s;
	int32		batch;

	memset(args, 0, sizeof(*args));
	not_null(fcinfo, ARG_METHOD, "method");
	not_null(fcinfo, ARG_MODE, "mode");
	not_null(fcinfo, ARG_BATCH, "batch_size");
	not_null(fcinfo, ARG_MAX_PAGES, "max_pages");
	not_null(fcinfo, ARG_MAX_MS, "max_ms");

	s = text_to_cstring(PG_GETARG_TEXT_PP(ARG_METHOD));
	if (mp2_method_parse(s, &args->method) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown migration method \"%s\"", s),
				 errhint("Valid methods are auto, move_pages2 and move_pages.")));
	if (args->method == MP2_METHOD_MOVE_PAGES2 &&
		!mp2_kernel_has_move_pages2(NULL, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("move_pages2 is not available in the running kernel"),
				 errhint("Boot a kernel with the move_pages2 patch, or use method auto or move_pages.")));

	s = text_to_cstring(PG_GETARG_TEXT_PP(ARG_MODE));
	if (strcmp(s, "async") != 0 && strcmp(s, "sync_light") != 0 &&
		strcmp(s, "sync") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown migrate mode \"%s\"", s),
				 errhint("Valid modes are async, sync_light and sync.")));
	(void) mp2_mode_parse(s, &args->mode);

	batch = PG_GETARG_INT32(ARG_BATCH);
	if (batch < 1 || batch > MP2_MAX_BATCH_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be between 1 and %d", MP2_MAX_BATCH_SIZE)));
	args->batch_size = batch;

	args->max_pages = PG_GETARG_INT64(ARG_MAX_PAGES);
	if (args->max_pages < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_pages must not be negative")));
	args->max_ms = PG_GETARG_INT32(ARG_MAX_MS);
	if (args->max_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_ms must not be negative")));
}

static bool
sql_stop(void *arg, const Mp2MoveResult *sofar)
{
	CHECK_FOR_INTERRUPTS();
	return false;
}

static Datum
move_result(FunctionCallInfo fcinfo, const Mp2MoveResult *res)
{
	TupleDesc	tupdesc;
	Datum		values[RESULT_COLS];
	bool		nulls[RESULT_COLS] = {false};
	const struct mp2_stats *st = &res->st;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	values[0] = Int64GetDatum((int64) (st->requested + res->not_present));
	values[1] = Int64GetDatum((int64) st->moved);
	values[2] = Int64GetDatum((int64) st->already);
	values[3] = Int64GetDatum((int64) (res->not_present + st->failed_not_present));
	values[4] = Int64GetDatum((int64) st->failed_busy);
	values[5] = Int64GetDatum((int64) st->failed_access);
	values[6] = Int64GetDatum((int64) st->failed_nomem);
	values[7] = Int64GetDatum((int64) (st->failed_other + st->failed_fault));
	values[8] = Int64GetDatum((int64) st->not_tried);
	values[9] = Int32GetDatum((int32) res->page_size);
	values[10] = Float8GetDatum((double) st->elapsed_ns / 1e6);
	values[11] = CStringGetTextDatum(mp2_method_used_name(st));
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* Report the outcome's problems; ERROR for a call-level failure. */
static void
move_report(const Mp2MoveResult *res)
{
	mp2_report_shared(res, WARNING);
	if (res->error != 0)
		ereport(ERROR,
				(errmsg("migration stopped: %s", mp2_strerror(res->error)),
				 errdetail("%llu pages had been moved.",
						   (unsigned long long) res->st.moved)));
}

/* The pages of the pool or of one relation. */
static int64
target_pages(FunctionCallInfo fcinfo, const Mp2Pool *pool, int64 **pages)
{
	if (PG_ARGISNULL(0))
	{
		int64	   *all = mp2_palloc_huge(sizeof(int64) * (Size) Max(pool->npages, 1));

		for (int64 i = 0; i < pool->npages; i++)
			all[i] = i;
		*pages = all;
		return pool->npages;
	}
	return mp2_relation_pages(pool, PG_GETARG_OID(0), pages, NULL, NULL);
}

Datum
mp2_migrate_sql(PG_FUNCTION_ARGS)
{
	Mp2MoveArgs args;
	Mp2MoveResult res;
	Mp2Pool		pool;
	int64	   *pages;
	int64		n;
	int			node;

	not_null(fcinfo, 1, "node");
	node = PG_GETARG_INT32(1);
	parse_move_args(fcinfo, &args);
	mp2_check_node(node);

	mp2_pool_get(&pool);
	n = target_pages(fcinfo, &pool, &pages);
	mp2_move(&pool, pages, n, NULL, node, &args, sql_stop, NULL, &res);
	move_report(&res);
	return move_result(fcinfo, &res);
}

Datum
mp2_interleave_sql(PG_FUNCTION_ARGS)
{
	Mp2MoveArgs args;
	Mp2MoveResult res;
	Mp2Pool		pool;
	int64	   *pages;
	int64		n;
	int		   *nodes;
	int			nnodes;
	int		   *targets;

	if (PG_ARGISNULL(1))
		nnodes = mp2_memory_node_list(&nodes, NULL);
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
		Datum	   *elems;
		bool	   *elnulls;

		deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT,
						  &elems, &elnulls, &nnodes);
		if (nnodes == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nodes must not be empty")));
		nodes = palloc(sizeof(int) * nnodes);
		for (int i = 0; i < nnodes; i++)
		{
			if (elnulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("nodes must not contain NULL")));
			nodes[i] = DatumGetInt32(elems[i]);
		}
	}
	parse_move_args(fcinfo, &args);
	for (int i = 0; i < nnodes; i++)
		mp2_check_node(nodes[i]);

	mp2_pool_get(&pool);
	n = target_pages(fcinfo, &pool, &pages);
	targets = mp2_palloc_huge(sizeof(int) * (Size) Max(n, 1));
	for (int64 i = 0; i < n; i++)
	{
		/* The pool by page number, a relation by its k-th page. */
		int64		k = PG_ARGISNULL(0) ? pages[i] : i;

		targets[i] = mp2_interleave_target(&pool, k, nodes, nnodes);
	}
	mp2_move(&pool, pages, n, targets, -1, &args, sql_stop, NULL, &res);
	move_report(&res);
	return move_result(fcinfo, &res);
}

/* ----------------------------------------------------------------
 *		mp2_stats(), mp2_stats_reset()
 * ----------------------------------------------------------------
 */

Datum
mp2_stats_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Mp2Counters c[MP2_NR_METHODS];
	TimestampTz reset;
	static const char *const names[MP2_NR_METHODS] = {
		[MP2_IDX_MOVE_PAGES2] = "move_pages2",
		[MP2_IDX_MOVE_PAGES] = "move_pages",
	};

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&mp2_shared->mutex);
	memcpy(c, mp2_shared->counters, sizeof(c));
	reset = mp2_shared->stats_reset;
	SpinLockRelease(&mp2_shared->mutex);

	for (int m = 0; m < MP2_NR_METHODS; m++)
	{
		Datum		values[14];
		bool		nulls[14] = {false};

		values[0] = CStringGetTextDatum(names[m]);
		values[1] = Int64GetDatum((int64) c[m].migrations);
		values[2] = Int64GetDatum((int64) c[m].requested);
		values[3] = Int64GetDatum((int64) c[m].moved);
		values[4] = Int64GetDatum((int64) c[m].already);
		values[5] = Int64GetDatum((int64) c[m].not_present);
		values[6] = Int64GetDatum((int64) c[m].failed_busy);
		values[7] = Int64GetDatum((int64) c[m].failed_shared);
		values[8] = Int64GetDatum((int64) c[m].failed_nomem);
		values[9] = Int64GetDatum((int64) c[m].failed_other);
		values[10] = Int64GetDatum((int64) c[m].not_tried);
		values[11] = Int64GetDatum((int64) c[m].move_calls);
		values[12] = Float8GetDatum((double) c[m].elapsed_ns / 1e6);
		values[13] = TimestampTzGetDatum(reset);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

Datum
mp2_stats_reset_sql(PG_FUNCTION_ARGS)
{
	SpinLockAcquire(&mp2_shared->mutex);
	memset(mp2_shared->counters, 0, sizeof(mp2_shared->counters));
	mp2_shared->stats_reset = GetCurrentTimestamp();
	SpinLockRelease(&mp2_shared->mutex);
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 *		mp2_info()
 * ----------------------------------------------------------------
 */

Datum
mp2_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false};
	long		nr;
	int			version;
	bool		has = mp2_kernel_has_move_pages2(&nr, &version);
	Mp2Pool		pool;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	mp2_pool_get(&pool);

	values[0] = BoolGetDatum(has);
	if (has)
		values[1] = Int32GetDatum(version);
	else
		nulls[1] = true;
	values[2] = CStringGetTextDatum(mp2_priv_state_name(mp2_priv_state()));
	values[3] = Int32GetDatum((int32) pool.page_size);
	values[4] = BoolGetDatum(pool.huge);
	values[5] = Int64GetDatum(pool.npages);
	values[6] = BoolGetDatum(mp2_preloaded);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* ----------------------------------------------------------------
 *		mp2_worker_start(), mp2_worker_stop(), mp2_worker_info()
 * ----------------------------------------------------------------
 */

Datum
mp2_worker_start(PG_FUNCTION_ARGS)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid = mp2_worker_find();

	if (pid != 0)
	{
		ereport(NOTICE,
				(errmsg("the mp2 worker is already running")));
		PG_RETURN_INT32(pid);
	}

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "mp2");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "mp2_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "mp2 relocation worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, MP2_WORKER_TYPE);
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not register the mp2 worker"),
				 errhint("Raise max_worker_processes.")));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status != BGWH_STARTED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the mp2 worker"),
				 errhint("More details may be available in the server log.")));
	/* Return once it has connected and shows itself (up to 30 s). */
	for (int i = 0; i < 3000 && mp2_worker_find() != pid; i++)
	{
		if (GetBackgroundWorkerPid(handle, &pid) != BGWH_STARTED)
			ereport(ERROR,
					(errmsg("the mp2 worker exited right after it started"),
					 errhint("More details may be available in the server log.")));
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	PG_RETURN_INT32(pid);
}

Datum
mp2_worker_stop(PG_FUNCTION_ARGS)
{
	pid_t		pid = mp2_worker_find();

	if (pid == 0)
		PG_RETURN_BOOL(false);
	if (kill(pid, SIGTERM) != 0)
		PG_RETURN_BOOL(false);
	/* Wait up to 60 s until it is gone. */
	for (int i = 0; i < 6000; i++)
	{
		if (kill(pid, 0) != 0 || mp2_worker_find() != pid)
			break;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	PG_RETURN_BOOL(true);
}

Datum
mp2_worker_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false};
	Mp2WorkerState w;
	pid_t		pid = mp2_worker_find();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SpinLockAcquire(&mp2_shared->mutex);
	memcpy(&w, &mp2_shared->worker, sizeof(w));
	SpinLockRelease(&mp2_shared->mutex);

	if (pid != 0)
		values[0] = Int32GetDatum(pid);
	else
		nulls[0] = true;
	if (!mp2_preloaded)
	{
		/* The worker's state is private to it without shared memory. */
		for (int i = 1; i < 8; i++)
			nulls[i] = true;
		return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
	}
	if (OidIsValid(w.database) && get_database_name(w.database) != NULL)
		values[1] = CStringGetTextDatum(get_database_name(w.database));
	else
		nulls[1] = true;
	values[2] = CStringGetTextDatum(w.policy == MP2_POLICY_INTERLEAVE ?
									"interleave" :
									w.policy == MP2_POLICY_RULES ?
									"rules" : "off");
	values[3] = Int64GetDatum((int64) w.rounds);
	values[4] = Int64GetDatum((int64) w.failed_rounds);
	values[5] = Int64GetDatum((int64) w.pages_moved);
	if (w.last_round != 0)
		values[6] = TimestampTzGetDatum(w.last_round);
	else
		nulls[6] = true;
	if (w.last_error[0] != '\0')
		values[7] = CStringGetTextDatum(w.last_error);
	else
		nulls[7] = true;
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}
