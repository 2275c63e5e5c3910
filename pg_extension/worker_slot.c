/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * worker_slot.c
 *	  The relocation worker's one slot in shared memory, seen from SQL
 *	  (mp2_worker_start(), mp2_worker_stop()) and from the worker (take
 *	  it, leave it), and how a worker of mp2 is registered.
 *
 * mp2_worker_start() claims the slot under the lock before it registers
 * a worker, so two concurrent starts cannot start two; the worker takes
 * over the claim.  The static worker (shared_preload_libraries) claims a
 * free slot.  mp2_worker_stop() addresses the slot: it sets a flag and
 * the latch of whichever worker runs in it, never a pid looked up
 * earlier.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"

/* How long a start or stop waits for the worker. */
#define START_WAIT_MS	30000
#define STOP_WAIT_MS	60000

void
pgmp2_worker_fill(BackgroundWorker *worker, const char *function,
				  const char *name, const char *type)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "mp2");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
}

void
pgmp2_worker_register_static(void)
{
	BackgroundWorker worker;

	pgmp2_worker_fill(&worker, "pgmp2_worker_main", "mp2 relocation worker",
				PGMP2_WORKER_TYPE);
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_restart_time = 5;
	worker.bgw_main_arg = UInt32GetDatum(0);
	RegisterBackgroundWorker(&worker);
}

/* ----------------------------------------------------------------
 *		The slot, seen from SQL: start and stop on demand
 * ----------------------------------------------------------------
 */

static void
require_preload(void)
{
	if (!pgmp2_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the mp2 worker needs mp2 in shared_preload_libraries"),
				 errhint("Add mp2 to shared_preload_libraries and restart the server.")));
}

/* Give the slot back if it is still claimed for generation gen. */
static void
unclaim(uint32 gen)
{
	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	if (pgmp2_shared->worker.state == PGMP2_SLOT_STARTING &&
		pgmp2_shared->worker.generation == gen)
		pgmp2_shared->worker.state = PGMP2_SLOT_FREE;
	LWLockRelease(pgmp2_shared->lock);
}

/* Whether the worker of generation gen has taken over the slot. */
static bool
claimed_by_worker(uint32 gen)
{
	bool		running;

	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	running = pgmp2_shared->worker.state == PGMP2_SLOT_RUNNING &&
		pgmp2_shared->worker.generation == gen;
	LWLockRelease(pgmp2_shared->lock);
	return running;
}

void
pgmp2_nap(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

pid_t
pgmp2_worker_launch(void)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	char	   *dbname;
	Mp2SlotState state;
	pid_t		other;
	pid_t		pid = 0;
	uint32		gen;

	require_preload();
	dbname = get_database_name(MyDatabaseId);

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	state = pgmp2_shared->worker.state;
	other = pgmp2_shared->worker.pid;
	if (state == PGMP2_SLOT_FREE)
	{
		Mp2WorkerState *w = &pgmp2_shared->worker;

		w->state = PGMP2_SLOT_STARTING;
		w->generation++;
		w->stop_requested = false;
		w->database_oid = MyDatabaseId;
		strlcpy(w->database, dbname ? dbname : "", sizeof(w->database));
		gen = w->generation;
	}
	LWLockRelease(pgmp2_shared->lock);

	if (state == PGMP2_SLOT_RUNNING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("the mp2 worker is already running (pid %d)", (int) other),
				 errhint("Stop it first with mp2_worker_stop().")));
	if (state == PGMP2_SLOT_STARTING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("the mp2 worker is already being started")));

	pgmp2_worker_fill(&worker, "pgmp2_worker_main", "mp2 relocation worker",
				PGMP2_WORKER_TYPE);
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_main_arg = UInt32GetDatum(gen);
	worker.bgw_notify_pid = MyProcPid;

	PG_TRY();
	{
		BgwHandleStatus status;

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
		/* Return once it has taken over the slot. */
		for (int waited = 0; !claimed_by_worker(gen); waited += 10)
		{
			if (GetBackgroundWorkerPid(handle, &pid) != BGWH_STARTED ||
				waited >= START_WAIT_MS)
				ereport(ERROR,
						(errmsg("the mp2 worker exited right after it started"),
						 errhint("More details may be available in the server log.")));
			pgmp2_nap(10);
		}
	}
	PG_CATCH();
	{
		unclaim(gen);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return pid;
}

/*
 * mp2_worker_stop(): ask the worker to stop and wait, cancellably, up to
 * STOP_WAIT_MS for its slot to be free.  False if no worker held it.
 */
bool
pgmp2_worker_stop_and_wait(void)
{
	Latch	   *latch = NULL;
	uint32		gen = 0;
	bool		found = false;

	if (!pgmp2_preloaded)
		return false;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	if (pgmp2_shared->worker.state != PGMP2_SLOT_FREE)
	{
		pgmp2_shared->worker.stop_requested = true;
		latch = pgmp2_shared->worker.latch;
		gen = pgmp2_shared->worker.generation;
		found = true;
	}
	LWLockRelease(pgmp2_shared->lock);
	if (!found)
		return false;
	if (latch != NULL)
		SetLatch(latch);

	/* Wait until the slot is free or taken by another generation. */
	for (int waited = 0; waited < STOP_WAIT_MS; waited += 10)
	{
		bool		gone;

		LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
		gone = pgmp2_shared->worker.state == PGMP2_SLOT_FREE ||
			pgmp2_shared->worker.generation != gen;
		LWLockRelease(pgmp2_shared->lock);
		if (gone)
			return true;
		pgmp2_nap(10);
	}
	ereport(WARNING,
			(errmsg("the mp2 worker has not stopped after %d s", STOP_WAIT_MS / 1000)));
	return true;
}

/* ----------------------------------------------------------------
 *		The slot, seen from the worker
 * ----------------------------------------------------------------
 */

/*
 * Take the slot: the one claimed for generation gen by
 * mp2_worker_start(), or a free one (gen 0: the static worker; or a
 * start that gave up waiting).  Returns 0, or the pid of the worker that
 * holds it.
 */
pid_t
pgmp2_worker_slot_take(uint32 gen)
{
	Mp2WorkerState *w = &pgmp2_shared->worker;
	pid_t		other = 0;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	if (w->state == PGMP2_SLOT_FREE ||
		(gen != 0 && w->state == PGMP2_SLOT_STARTING && w->generation == gen))
	{
		if (w->state == PGMP2_SLOT_FREE)
		{
			w->generation++;
			w->stop_requested = false;
			if (gen == 0)
			{
				w->database_oid = InvalidOid;
				strlcpy(w->database, pgmp2_database ? pgmp2_database : "",
						sizeof(w->database));
			}
		}
		w->state = PGMP2_SLOT_RUNNING;
		w->pid = MyProcPid;
		w->latch = MyLatch;
		w->policy = pgmp2_policy;
	}
	else
		other = w->state == PGMP2_SLOT_RUNNING ? w->pid : -1;
	LWLockRelease(pgmp2_shared->lock);
	return other;
}

void
pgmp2_worker_slot_leave(int code, Datum arg)
{
	Mp2WorkerState *w = &pgmp2_shared->worker;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	if (w->state == PGMP2_SLOT_RUNNING && w->pid == MyProcPid)
	{
		w->state = PGMP2_SLOT_FREE;
		w->pid = 0;
		w->latch = NULL;
		w->stop_requested = false;
	}
	LWLockRelease(pgmp2_shared->lock);
}
