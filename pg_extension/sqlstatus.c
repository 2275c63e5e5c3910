/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * sqlstatus.c
 *	  The SQL functions that report what mp2 did and what its worker
 *	  does, and start and stop the worker: mp2_stats(),
 *	  mp2_stats_reset(), mp2_worker_start(), mp2_worker_stop(),
 *	  mp2_worker_info(), mp2_tier_info(), mp2_tier_progress().
 *
 * Each reads shared memory under its lock into a local copy first, so
 * no lock is held while a row is built.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pgmp2_stats);
PG_FUNCTION_INFO_V1(pgmp2_stats_reset);
PG_FUNCTION_INFO_V1(pgmp2_worker_start);
PG_FUNCTION_INFO_V1(pgmp2_worker_stop);
PG_FUNCTION_INFO_V1(pgmp2_worker_info);
PG_FUNCTION_INFO_V1(pgmp2_tier_info);
PG_FUNCTION_INFO_V1(pgmp2_tier_progress);

/* ----------------------------------------------------------------
 *		mp2_stats(), mp2_stats_reset()
 * ----------------------------------------------------------------
 */

Datum
pgmp2_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Mp2Counters c[PGMP2_NR_METHODS];
	TimestampTz reset;
	static const char *const names[PGMP2_NR_METHODS] = {
		[PGMP2_IDX_MOVE_PAGES2] = "move_pages2",
		[PGMP2_IDX_MOVE_PAGES] = "move_pages",
	};

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&pgmp2_shared->mutex);
	for (int m = 0; m < PGMP2_NR_METHODS; m++)
		c[m] = pgmp2_shared->counters[m];
	reset = pgmp2_shared->stats_reset;
	SpinLockRelease(&pgmp2_shared->mutex);

	for (int m = 0; m < PGMP2_NR_METHODS; m++)
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
pgmp2_stats_reset(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&pgmp2_shared->mutex);
	memset(pgmp2_shared->counters, 0, sizeof(pgmp2_shared->counters));
	pgmp2_shared->stats_reset = now;
	SpinLockRelease(&pgmp2_shared->mutex);
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 *		mp2_worker_start(), mp2_worker_stop(), mp2_worker_info()
 * ----------------------------------------------------------------
 */

Datum
pgmp2_worker_start(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pgmp2_worker_launch());
}

Datum
pgmp2_worker_stop(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pgmp2_worker_stop_and_wait());
}

static const char *
policy_name(int policy)
{
	for (const struct config_enum_entry *e = pgmp2_policy_options; e->name; e++)
		if (e->val == policy)
			return e->name;
	return "off";
}

Datum
pgmp2_worker_info(PG_FUNCTION_ARGS)
{
	Mp2ResultRow row;
	Mp2WorkerState w;

	pgmp2_result_init(&row, fcinfo);
	/* Without shared memory there is no worker. */
	if (!pgmp2_preloaded)
		return pgmp2_result_datum(&row);

	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	w = pgmp2_shared->worker;
	LWLockRelease(pgmp2_shared->lock);

	if (w.state == PGMP2_SLOT_RUNNING)
		pgmp2_result_set(&row, "pid", Int32GetDatum(w.pid));
	if (w.database[0] != '\0')
		pgmp2_result_set(&row, "database", CStringGetTextDatum(w.database));
	pgmp2_result_set(&row, "policy", CStringGetTextDatum(policy_name(w.policy)));
	pgmp2_result_set(&row, "rounds", Int64GetDatum((int64) w.rounds));
	pgmp2_result_set(&row, "failed_rounds", Int64GetDatum((int64) w.failed_rounds));
	pgmp2_result_set(&row, "pages_moved", Int64GetDatum((int64) w.pages_moved));
	if (w.last_round != 0)
		pgmp2_result_set(&row, "last_round", TimestampTzGetDatum(w.last_round));
	if (w.last_error[0] != '\0')
		pgmp2_result_set(&row, "last_error", CStringGetTextDatum(w.last_error));
	return pgmp2_result_datum(&row);
}

/*
 * For the set-returning functions of policy tier: their result set begun,
 * and a copy of what the worker published into *t; false (no rows) before
 * the first round, or without shared_preload_libraries.
 */
static bool
tier_state(FunctionCallInfo fcinfo, Mp2TierState *t)
{
	InitMaterializedSRF(fcinfo, 0);
	if (!pgmp2_preloaded)
		return false;
	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	*t = pgmp2_shared->tier;
	LWLockRelease(pgmp2_shared->lock);
	return t->rounds > 0;
}

Datum
pgmp2_tier_info(PG_FUNCTION_ARGS)
{
	static const char *const names[PGMP2_NR_TIERS] = {"fast", "slow"};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Mp2TierState t;
	int64		used = 0;

	if (!tier_state(fcinfo, &t))
		return (Datum) 0;

	for (int i = 0; i < PGMP2_NR_TIERS; i++)
		used += t.tiers[i].used;
	for (int i = 0; i < PGMP2_NR_TIERS; i++)
	{
		const Mp2TierCounts *c = &t.tiers[i];
		Mp2ResultRow row;

		pgmp2_result_init_desc(&row, rsinfo->setDesc);
		pgmp2_result_set(&row, "tier", CStringGetTextDatum(names[i]));
		pgmp2_result_set(&row, "nodes", CStringGetTextDatum(c->nodes));
		pgmp2_result_set(&row, "pages", Int64GetDatum(c->pages));
		pgmp2_result_set(&row, "hot_pages", Int64GetDatum(c->hot_pages));
		if (c->cap_pages >= 0)
			pgmp2_result_set(&row, "cap_pages", Int64GetDatum(c->cap_pages));
		pgmp2_result_set(&row, "promoted_last_round", Int64GetDatum(c->promoted));
		pgmp2_result_set(&row, "demoted_last_round", Int64GetDatum(c->demoted));
		pgmp2_result_set(&row, "promoted_total", Int64GetDatum((int64) c->promoted_total));
		pgmp2_result_set(&row, "demoted_total", Int64GetDatum((int64) c->demoted_total));
		if (used > 0)
			pgmp2_result_set(&row, "use_share", Float8GetDatum((double) c->used / (double) used));
		pgmp2_result_set(&row, "last_round", TimestampTzGetDatum(t.last_round));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row.values,
							 row.nulls);
	}
	return (Datum) 0;
}

/* The last round of policy tier: its slice of the pool and its work. */
Datum
pgmp2_tier_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Mp2TierState t;
	Mp2ResultRow row;

	if (!tier_state(fcinfo, &t))
		return (Datum) 0;

	pgmp2_result_init_desc(&row, rsinfo->setDesc);
	pgmp2_result_set(&row, "slice", Int32GetDatum(t.slice));
	pgmp2_result_set(&row, "slices", Int32GetDatum(t.slices));
	pgmp2_result_set(&row, "passes", Int64GetDatum((int64) t.passes));
	pgmp2_result_set(&row, "buffers_read", Int64GetDatum(t.buffers_read));
	pgmp2_result_set(&row, "pages_located", Int64GetDatum(t.pages_located));
	pgmp2_result_set(&row, "pages_moved",
					 Int64GetDatum(t.tiers[PGMP2_TIER_FAST].promoted +
								   t.tiers[PGMP2_TIER_FAST].demoted));
	pgmp2_result_set(&row, "round_ms", Float8GetDatum(t.round_ms));
	pgmp2_result_set(&row, "rounds", Int64GetDatum((int64) t.rounds));
	pgmp2_result_set(&row, "last_round", TimestampTzGetDatum(t.last_round));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row.values,
						 row.nulls);
	return (Datum) 0;
}
