/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * round.c
 *	  What every policy's round gets from the worker: the pages it may
 *	  move, the one question whether to stop, and the one way to move
 *	  pages and report them.
 *
 * A policy (interleave.c, rules.c, tier.c) takes an Mp2Round and calls
 * nothing of the worker's own.  A round moves at most
 * mp2.max_pages_per_round pages, and its moves are paced by libmp2 at
 * mp2.max_rate pages a second, the measure of mp2_migrate()'s max_rate
 * argument: pages handed to the kernel, not those already in place.  The
 * rules worker, another process, reads the same settings.  What the moves did is
 * published in the worker's shared state as they happen, so that
 * mp2_worker_info() sees a long round progress.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "miscadmin.h"
#include "postmaster/interrupt.h"

void
pgmp2_round_begin(Mp2Round *round, const char *what)
{
	memset(round, 0, sizeof(*round));
	round->budget = pgmp2_max_pages_per_round;
	round->what = what;
}

/* Add moved pages of the move under way to the worker's pages_moved. */
static void
publish_moved(Mp2Round *round, uint64 moved)
{
	uint64		delta;

	if (moved <= round->reported)
		return;
	delta = moved - round->reported;
	SpinLockAcquire(&pgmp2_shared->mutex);
	pgmp2_shared->worker.pages_moved += delta;
	SpinLockRelease(&pgmp2_shared->mutex);
	round->reported = moved;
}

static bool
stop_asked(void)
{
	return ShutdownRequestPending || ConfigReloadPending || ProcDiePending ||
		pgmp2_shared->worker.stop_requested;
}

bool
pgmp2_round_should_stop(Mp2Round *round)
{
	return stop_asked() ||
		(round->budget > 0 && round->moved >= round->budget);
}

/*
 * libmp2's should_stop for a move of the round: between two calls, with
 * what the move did so far; between two windows (migrate.c), with NULL.
 */
static bool
move_should_stop(void *arg, const struct mp2_stats *sofar)
{
	Mp2Round   *round = arg;
	uint64		moved = sofar != NULL ? sofar->moved : round->reported;

	publish_moved(round, moved);
	if (round->budget > 0 && round->moved + (int64) moved >= round->budget)
		return true;
	return stop_asked();
}

void
pgmp2_round_move(Mp2Round *round, Mp2Walk *walk, Mp2MoveArgs *args,
				 Mp2MoveResult *res)
{
	Mp2WorkerState *w = &pgmp2_shared->worker;

	args->method = (enum mp2_method) pgmp2_method;
	args->mode = (enum mp2_mode) pgmp2_mode;
	args->batch_size = pgmp2_batch_size;
	args->max_rate = pgmp2_max_rate;
	args->should_stop = move_should_stop;
	args->stop_arg = round;
	args->what = round->what;
	round->reported = 0;

	pgmp2_move(walk, args, res);

	publish_moved(round, res->st.moved);
	SpinLockAcquire(&pgmp2_shared->mutex);
	w->pages_nomem += res->st.failed_nomem;
	SpinLockRelease(&pgmp2_shared->mutex);
	round->moved += (int64) res->st.moved;

	/* Shared pages refused are logged once, until pages move again. */
	if (res->st.failed_access > 0 && !res->privileged)
	{
		if (!w->warned_shared)
			pgmp2_report_shared(res, LOG);
		w->warned_shared = true;
	}
	else if (res->st.moved > 0)
		w->warned_shared = false;
	if (res->error != 0)
		ereport(ERROR,
				(errmsg("migration failed: %s", mp2_strerror(res->error))));
}
