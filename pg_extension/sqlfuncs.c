/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *	  The SQL functions that look at and move pages: mp2_numa_nodes(),
 *	  mp2_info(), mp2_buffer_nodes(), mp2_relation_nodes(), mp2_migrate(),
 *	  mp2_migrate_pool(), mp2_interleave(), mp2_interleave_pool().  Those
 *	  that report on mp2 and its worker are in sqlstatus.c.
 *
 * Every argument is checked before anything moves: a function that
 * raises an ERROR for its arguments has moved no page.  A relation
 * argument must not be NULL (the whole pool has functions of its own, so
 * that a sub-select that finds no relation cannot move every buffer) and
 * the caller must be allowed to read the relation.
 *
 * Composite results are filled by column name (resultrow.c).
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <numa.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pgmp2_numa_nodes);
PG_FUNCTION_INFO_V1(pgmp2_info);
PG_FUNCTION_INFO_V1(pgmp2_buffer_nodes);
PG_FUNCTION_INFO_V1(pgmp2_relation_nodes);
PG_FUNCTION_INFO_V1(pgmp2_migrate);
PG_FUNCTION_INFO_V1(pgmp2_migrate_pool);
PG_FUNCTION_INFO_V1(pgmp2_interleave);
PG_FUNCTION_INFO_V1(pgmp2_interleave_pool);

/* ----------------------------------------------------------------
 *		mp2_numa_nodes(), mp2_info()
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
	return pgmp2_format_node_list(list, n);
}

Datum
pgmp2_numa_nodes(PG_FUNCTION_ARGS)
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

/*
 * What the pool got: hugetlb pages (huge_pages), 2 MiB pages advised by
 * mp2.pool_thp, or why not; and how many of its 2 MiB are transparent
 * huge pages (NULL for a hugetlb pool, or when the kernel cannot tell).
 */
static void
info_pool_thp(Mp2ResultRow *row, const Mp2Pool *pool)
{
	int64		thp;

	pgmp2_result_set(row, "pool_thp",
			 CStringGetTextDatum(pgmp2_pool_thp_state(pool->huge)));
	if (pool->huge || !pgmp2_result_has(row, "pool_thp_pages"))
		return;
	thp = pgmp2_pool_thp_pages();
	if (thp >= 0)
		pgmp2_result_set(row, "pool_thp_pages", Int64GetDatum(thp));
}

/*
 * mapper_pid: the worker whose page tables looks go through (NULL: each
 * backend faults in what it locates); mapper_pages: the pages it mapped in
 * its last full pass over the pool (NULL before the first).
 */
static void
info_mapper(Mp2ResultRow *row)
{
	pid_t		pid = pgmp2_mapper_pid();
	int64		mapped;
	uint64		passes;

	if (pid == 0)
		return;
	pgmp2_result_set(row, "mapper_pid", Int32GetDatum((int32) pid));
	pgmp2_mapper_info(&mapped, &passes);
	if (passes > 0)
		pgmp2_result_set(row, "mapper_pages", Int64GetDatum(mapped));
}

Datum
pgmp2_info(PG_FUNCTION_ARGS)
{
	Mp2ResultRow row;
	long		nr;
	int			version;
	bool		has = mp2_kernel_has_move_pages2(&nr, &version);
	Mp2Pool		pool;

	pgmp2_result_init(&row, fcinfo);
	pgmp2_pool_get(&pool);
	pgmp2_result_set(&row, "move_pages2", BoolGetDatum(has));
	if (has)
		pgmp2_result_set(&row, "move_pages2_abi", Int32GetDatum(version));
	pgmp2_result_set(&row, "cap_sys_nice",
			 CStringGetTextDatum(pgmp2_priv_state_name(pgmp2_priv_state())));
	pgmp2_result_set(&row, "page_size", Int32GetDatum((int32) pool.page_size));
	pgmp2_result_set(&row, "huge_pages", BoolGetDatum(pool.huge));
	pgmp2_result_set(&row, "pool_pages", Int64GetDatum(pool.npages));
	pgmp2_result_set(&row, "preloaded", BoolGetDatum(pgmp2_preloaded));
	info_pool_thp(&row, &pool);
	info_mapper(&row);
	return pgmp2_result_datum(&row);
}

/* ----------------------------------------------------------------
 *		mp2_buffer_nodes(), mp2_relation_nodes(rel)
 * ----------------------------------------------------------------
 */

/* ERROR for a NULL relation argument. */
static Oid
relation_arg(FunctionCallInfo fcinfo, int arg, const char *pool_function)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation cannot be NULL"),
				 pool_function ?
				 errhint("To act on the whole buffer pool, use %s().",
						 pool_function) : 0));
	return PG_GETARG_OID(arg);
}

/*
 * One row per node with memory, then one with node NULL for the pages not
 * faulted in yet.
 */
static void
node_rows(FunctionCallInfo fcinfo, Mp2Walk *walk)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int		   *nodes;
	int			max_node;
	int			n = pgmp2_memory_node_list(&nodes, &max_node);
	Mp2NodeCount *counts = palloc0(sizeof(Mp2NodeCount) * (max_node + 1));
	Mp2NodeCount absent = {0, 0};

	if (walk != NULL)
		pgmp2_census(walk, counts, max_node, &absent);

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
		values[3] = Int32GetDatum((int32) (walk ? walk->pool.page_size :
										   (Size) sysconf(_SC_PAGESIZE)));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

Datum
pgmp2_buffer_nodes(PG_FUNCTION_ARGS)
{
	Mp2Walk		walk;

	InitMaterializedSRF(fcinfo, 0);
	pgmp2_walk_pool(&walk, 0);
	node_rows(fcinfo, &walk);
	return (Datum) 0;
}

Datum
pgmp2_relation_nodes(PG_FUNCTION_ARGS)
{
	Oid			relid = relation_arg(fcinfo, 0, NULL);
	Mp2RelFile	file;
	Mp2Walk		walk;
	bool		has_storage;

	has_storage = pgmp2_relation_file(relid, true, true, &file, NULL);
	if (!has_storage)
		pgmp2_require_storage(relid);
	InitMaterializedSRF(fcinfo, 0);
	if (has_storage)
	{
		pgmp2_walk_file(&walk, &file);
		node_rows(fcinfo, &walk);
	}
	else
		node_rows(fcinfo, NULL);
	return (Datum) 0;
}

/* ----------------------------------------------------------------
 *		mp2_migrate(), mp2_migrate_pool(), mp2_interleave(),
 *		mp2_interleave_pool()
 * ----------------------------------------------------------------
 */

static void
not_null(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/*
 * The options method, mode, batch_size, max_pages, max_ms and, from 1.3
 * on, max_rate: arguments first .. first + 5.  A function declared by an
 * older version's script has no max_rate.
 */
static void
parse_move_args(FunctionCallInfo fcinfo, int first, Mp2MoveArgs *args)
{
	char	   *s;
	int32		batch;

	not_null(fcinfo, first, "method");
	not_null(fcinfo, first + 1, "mode");
	not_null(fcinfo, first + 2, "batch_size");
	not_null(fcinfo, first + 3, "max_pages");
	not_null(fcinfo, first + 4, "max_ms");

	s = text_to_cstring(PG_GETARG_TEXT_PP(first));
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

	s = text_to_cstring(PG_GETARG_TEXT_PP(first + 1));
	/* By name only: libmp2 also takes the kernel's numbers. */
	if (mp2_mode_parse(s, &args->mode) != 0 ||
		strcmp(mp2_mode_name(args->mode), s) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown migrate mode \"%s\"", s),
				 errhint("Valid modes are async, sync_light and sync.")));

	batch = PG_GETARG_INT32(first + 2);
	if (batch < 1 || batch > PGMP2_MAX_BATCH_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be between 1 and %d", PGMP2_MAX_BATCH_SIZE)));
	args->batch_size = batch;

	args->max_pages = PG_GETARG_INT64(first + 3);
	if (args->max_pages < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_pages must not be negative")));
	args->max_ms = PG_GETARG_INT32(first + 4);
	if (args->max_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_ms must not be negative")));
	if (PG_NARGS() > first + 6)
		pgmp2_sql_newer_than_library(fcinfo, first + 6);
	args->max_rate = 0;
	if (PG_NARGS() > first + 5)
	{
		not_null(fcinfo, first + 5, "max_rate");
		args->max_rate = PG_GETARG_INT64(first + 5);
		if (args->max_rate < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_rate must not be negative"),
					 errhint("max_rate is in pages a second; 0 means no limit.")));
	}
	args->should_stop = pgmp2_cancel_pending;
}

/* The target nodes of interleaving: an int[] argument, NULL for all. */
static void
parse_nodes_arg(FunctionCallInfo fcinfo, int arg, Mp2MoveArgs *args)
{
	int		   *nodes;
	int			nnodes;

	if (PG_ARGISNULL(arg))
		nnodes = pgmp2_memory_node_list(&nodes, NULL);
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(arg);
		Datum	   *elems;
		bool	   *elnulls;
		int			possible = numa_num_possible_nodes();

		/* Checked before the elements are looked at: they may be many. */
		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("nodes must be a one-dimensional array"),
					 errhint("List the nodes as '{0,1}'.")));
		nnodes = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
		if (nnodes == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nodes must not be empty")));
		if (nnodes > possible)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("nodes has more elements than this kernel has possible NUMA nodes"),
					 errdetail("It has %d; the kernel has %d possible nodes.",
							   nnodes, possible)));
		deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT,
						  &elems, &elnulls, &nnodes);
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
	args->nodes = nodes;
	args->nnodes = nnodes;
}

static const char *
stop_reason(const Mp2MoveResult *res)
{
	switch (res->st.stopped)
	{
		case MP2_STOP_MAX_PAGES:
			return "max_pages";
		case MP2_STOP_MAX_TIME:
			return "max_ms";
		case MP2_STOP_CALLER:
			return "cancel";
		case MP2_STOP_NONE:
			break;
	}
	return NULL;
}

static Datum
move_result(FunctionCallInfo fcinfo, const Mp2MoveResult *res)
{
	Mp2ResultRow row;
	Mp2Counters c;
	const char *why = stop_reason(res);

	pgmp2_result_counters(res, &c);
	pgmp2_result_init(&row, fcinfo);
	pgmp2_result_set(&row, "requested", Int64GetDatum((int64) c.requested));
	pgmp2_result_set(&row, "moved", Int64GetDatum((int64) c.moved));
	pgmp2_result_set(&row, "already", Int64GetDatum((int64) c.already));
	pgmp2_result_set(&row, "not_present", Int64GetDatum((int64) c.not_present));
	pgmp2_result_set(&row, "failed_busy", Int64GetDatum((int64) c.failed_busy));
	pgmp2_result_set(&row, "failed_shared", Int64GetDatum((int64) c.failed_shared));
	pgmp2_result_set(&row, "failed_nomem", Int64GetDatum((int64) c.failed_nomem));
	pgmp2_result_set(&row, "failed_other", Int64GetDatum((int64) c.failed_other));
	pgmp2_result_set(&row, "not_tried", Int64GetDatum((int64) c.not_tried));
	pgmp2_result_set(&row, "page_size", Int32GetDatum((int32) res->page_size));
	pgmp2_result_set(&row, "elapsed_ms", Float8GetDatum((double) c.elapsed_ns / 1e6));
	pgmp2_result_set(&row, "method_used",
			 CStringGetTextDatum(mp2_method_name(res->st.method_used)));
	if (why != NULL)
		pgmp2_result_set(&row, "stop_reason", CStringGetTextDatum(why));
	return pgmp2_result_datum(&row);
}

/* Report the outcome's problems; ERROR for a call-level failure. */
static void
move_report(const Mp2MoveResult *res)
{
	pgmp2_report_shared(res, WARNING);
	if (res->error != 0)
		ereport(ERROR,
				(errmsg("migration stopped: %s", mp2_strerror(res->error)),
				 errdetail("%llu pages had been moved.",
						   (unsigned long long) res->st.moved)));
}

static void
check_nodes(const Mp2MoveArgs *args)
{
	if (args->nodes == NULL)
		pgmp2_require_node(args->node);
	for (int i = 0; i < args->nnodes; i++)
		pgmp2_require_node(args->nodes[i]);
}

/*
 * The arguments from arg on: the target, then the options.  The target is
 * the node to migrate to or, to interleave, the nodes to take turns on;
 * whether its nodes have memory is checked after the options.
 */
static void
parse_target_args(FunctionCallInfo fcinfo, int arg, bool interleave,
				  Mp2MoveArgs *args)
{
	if (interleave)
		parse_nodes_arg(fcinfo, arg, args);
	else
	{
		not_null(fcinfo, arg, "node");
		args->node = PG_GETARG_INT32(arg);
	}
	parse_move_args(fcinfo, arg + 1, args);
	check_nodes(args);
}

static Datum
run_move(FunctionCallInfo fcinfo, Mp2Walk *walk, const Mp2MoveArgs *args)
{
	Mp2MoveResult res;

	pgmp2_move(walk, args, &res);
	move_report(&res);
	return move_result(fcinfo, &res);
}

/* The walk over a relation's buffers; ERROR when it has none of its own. */
static Mp2Walk *
relation_walk(Oid relid)
{
	Mp2RelFile	file;
	Mp2Walk    *walk = palloc(sizeof(Mp2Walk));

	if (pgmp2_relation_file(relid, true, true, &file, NULL))
		pgmp2_walk_file(walk, &file);
	else
	{
		pgmp2_require_storage(relid);
		pgmp2_walk_none(walk);
	}
	return walk;
}

Datum
pgmp2_migrate(PG_FUNCTION_ARGS)
{
	Mp2MoveArgs args = {0};
	Oid			relid = relation_arg(fcinfo, 0, "mp2_migrate_pool");

	args.what = "mp2_migrate";
	parse_target_args(fcinfo, 1, false, &args);
	return run_move(fcinfo, relation_walk(relid), &args);
}

Datum
pgmp2_migrate_pool(PG_FUNCTION_ARGS)
{
	Mp2MoveArgs args = {0};
	Mp2Walk		walk;

	args.what = "mp2_migrate_pool";
	parse_target_args(fcinfo, 0, false, &args);
	pgmp2_walk_pool(&walk, 0);
	return run_move(fcinfo, &walk, &args);
}

Datum
pgmp2_interleave(PG_FUNCTION_ARGS)
{
	Mp2MoveArgs args = {0};
	Oid			relid = relation_arg(fcinfo, 0, "mp2_interleave_pool");

	args.what = "mp2_interleave";
	parse_target_args(fcinfo, 1, true, &args);
	/* A relation's pages take turns by their place in the relation. */
	args.by_pool_page = false;
	return run_move(fcinfo, relation_walk(relid), &args);
}

Datum
pgmp2_interleave_pool(PG_FUNCTION_ARGS)
{
	Mp2MoveArgs args = {0};
	Mp2Walk		walk;

	args.what = "mp2_interleave_pool";
	parse_target_args(fcinfo, 0, true, &args);
	args.by_pool_page = true;
	pgmp2_walk_pool(&walk, 0);
	return run_move(fcinfo, &walk, &args);
}
