/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The relocation worker: a long-lived background worker that keeps the
 *	  shared buffers where mp2.policy wants them.
 *
 * It attaches to shared memory only and holds no database connection, so
 * it never keeps a database open (DROP DATABASE works) and runs no SQL.
 * Every mp2.naptime it runs one round:
 *
 *	interleave	buffer k of the pool belongs on the (k mod n)-th node of
 *				mp2.interleave_nodes (interleave.c).  Done here.
 *	rules		the buffers of each relation in the table mp2_rules belong
 *				on that row's node.  Done by a short-lived worker in the
 *				database (rules.c), which this one starts and waits for.
 *	tier		hot pages on the fast nodes, cold ones on the slow nodes
 *				(tier.c).  Done here.
 *
 * Each policy gets the round as an Mp2Round (round.c) and calls nothing
 * here.  A round moves at most mp2.max_pages_per_round pages, paced by
 * libmp2 at mp2.max_rate pages a second (pages already in place cost a
 * lookup, not a move, and are not paced).  SIGHUP and SIGTERM only set
 * flags; a round stops between two system calls to reload or to exit.  An ERROR
 * in a round is logged, counted in mp2_worker_info(), and the worker
 * tries again later; a round that cannot run at all (the database is
 * missing) is logged once and retried with back-off.
 *
 * Before each round the worker maps the next slice of the pool, so that
 * backends can locate pages through its page tables (mapper.c).
 *
 * The worker runs in the one worker slot in shared memory (worker_slot.c).
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <signal.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* The longest wait between two failed rounds. */
#define MAX_BACKOFF_MS	(5 * 60 * 1000)

/* How long the per-database worker may take to get into its database. */
#define CHILD_CONNECT_TIMEOUT_MS	60000

/* Whether the last round logged target nodes out of memory. */
static bool warned_nomem = false;

/* The database of the rules: its OID once known, and what was logged. */
static Oid	rules_dboid = InvalidOid;
static bool warned_no_database = false;
static bool warned_no_extension = false;

/* Wait this long before the next round (doubles while rounds fail). */
static int	backoff_ms = 0;

/*
 * Why the current round could not run, when that was logged once already
 * and is not to be logged again in every round.
 */
static const char *quiet_failure = NULL;

static MemoryContext round_cxt = NULL;

/* ----------------------------------------------------------------
 *		Rounds
 * ----------------------------------------------------------------
 */

/*
 * Wait, polling, for a child told to terminate to exit.  Not
 * WaitForBackgroundWorkerShutdown(): it sleeps until the postmaster's
 * SIGUSR1 sets the latch, and a worker without a database connection
 * ignores SIGUSR1, so it slept until some other wakeup (the next
 * mp2_worker_stop(), 60 s later).
 */
static void
wait_child_exit(BackgroundWorkerHandle *handle)
{
	pid_t		pid;

	for (int waited_ms = 0;; waited_ms += 10)
	{
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

		if (status == BGWH_STOPPED)
			return;
		if (status == BGWH_POSTMASTER_DIED)
			proc_exit(1);
		if (waited_ms == CHILD_CONNECT_TIMEOUT_MS)
			ereport(WARNING,
					(errmsg("mp2 worker: the rules worker (pid %d) has not exited %d s after it was told to",
							(int) pid, CHILD_CONNECT_TIMEOUT_MS / 1000)));
		pgmp2_nap(10);
	}
}

/*
 * Start a per-database worker (rules.c) of the given kind and wait for it
 * to exit; a shutdown request terminates it.  Returns false if we are to
 * stop.
 */
static bool
run_child(int kind, Oid dboid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	Mp2WorkerState *w = &pgmp2_shared->worker;
	pid_t		pid;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	w->child_connected = false;
	w->child_done = false;
	w->child_no_extension = false;
	w->child_found_oid = InvalidOid;
	w->child_error[0] = '\0';
	LWLockRelease(pgmp2_shared->lock);

	pgmp2_worker_fill(&worker, "pgmp2_database_worker_main",
			  kind == PGMP2_CHILD_PROBE ? "mp2 database probe" :
			  "mp2 rules worker",
			  PGMP2_RULES_WORKER_TYPE);
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_main_arg = Int32GetDatum(kind);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &dboid, sizeof(dboid));
	if (kind == PGMP2_CHILD_PROBE)
		strlcpy(worker.bgw_extra + sizeof(Oid), w->database,
				BGW_EXTRALEN - sizeof(Oid));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the mp2 rules worker"),
				 errhint("Raise max_worker_processes.")));
	for (int waited_ms = 0;; waited_ms += 100)
	{
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);
		bool		connected;

		if (status == BGWH_STOPPED)
			return true;
		if (status == BGWH_POSTMASTER_DIED)
			proc_exit(1);
		LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
		connected = w->child_connected;
		LWLockRelease(pgmp2_shared->lock);

		/*
		 * Never waited on without bounds: a stop or a reload ends the
		 * child's round (the reload is taken up by the main loop), and a
		 * child that cannot get into its database in time is given up.
		 */
		if (ShutdownRequestPending || w->stop_requested ||
			ConfigReloadPending ||
			(!connected && waited_ms >= CHILD_CONNECT_TIMEOUT_MS))
		{
			TerminateBackgroundWorker(handle);
			wait_child_exit(handle);
			if (!connected && waited_ms >= CHILD_CONNECT_TIMEOUT_MS)
				quiet_failure = psprintf("the mp2 rules worker did not connect within %d s",
										 CHILD_CONNECT_TIMEOUT_MS / 1000);
			return false;
		}
		pgmp2_nap(100);
	}
}

/* The OID of the rules' database, looked up by name when not known. */
static Oid
rules_database(void)
{
	Mp2WorkerState *w = &pgmp2_shared->worker;
	Oid			oid;
	char		name[NAMEDATALEN];

	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	oid = w->database_oid;
	strlcpy(name, w->database, sizeof(name));
	LWLockRelease(pgmp2_shared->lock);
	if (OidIsValid(oid))
		return oid;
	if (OidIsValid(rules_dboid))
		return rules_dboid;

	if (!run_child(PGMP2_CHILD_PROBE, InvalidOid))
		return InvalidOid;
	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	oid = w->child_found_oid;
	LWLockRelease(pgmp2_shared->lock);
	if (!OidIsValid(oid) && !ShutdownRequestPending)
	{
		if (!warned_no_database)
			ereport(LOG,
					(errmsg("mp2 worker: database \"%s\" does not exist; policy rules waits for it", name),
					 errhint("Create the database and the extension mp2 in it, or set mp2.database to the database that has the rules.")));
		warned_no_database = true;
		quiet_failure = psprintf("database \"%s\" does not exist", name);
		return InvalidOid;
	}
	warned_no_database = false;
	rules_dboid = oid;
	return oid;
}

static int64
round_rules(void)
{
	Mp2WorkerState *w = &pgmp2_shared->worker;
	Oid			dboid = rules_database();
	bool		connected;
	bool		done;
	bool		no_extension;
	char		error[sizeof(w->child_error)];
	uint64		moved0;
	uint64		moved1;

	if (!OidIsValid(dboid))
		return 0;
	SpinLockAcquire(&pgmp2_shared->mutex);
	moved0 = w->pages_moved;
	SpinLockRelease(&pgmp2_shared->mutex);

	if (!run_child(PGMP2_CHILD_RULES, dboid))
		return 0;

	LWLockAcquire(pgmp2_shared->lock, LW_SHARED);
	connected = w->child_connected;
	done = w->child_done;
	no_extension = w->child_no_extension;
	strlcpy(error, w->child_error, sizeof(error));
	LWLockRelease(pgmp2_shared->lock);
	SpinLockAcquire(&pgmp2_shared->mutex);
	moved1 = w->pages_moved;
	SpinLockRelease(&pgmp2_shared->mutex);

	if (!connected)
	{
		/*
		 * Dropped since it was looked up (the rules worker logged why):
		 * look it up by name next time.
		 */
		rules_dboid = InvalidOid;
		LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
		w->database_oid = InvalidOid;
		LWLockRelease(pgmp2_shared->lock);
		quiet_failure = psprintf("could not connect to database \"%s\"",
								 w->database);
		return 0;
	}
	if (no_extension)
	{
		if (!warned_no_extension)
			ereport(LOG,
					(errmsg("mp2 worker: extension mp2 is not installed in database \"%s\", policy rules has no rules",
							w->database)));
		warned_no_extension = true;
		return 0;
	}
	warned_no_extension = false;
	if (error[0] != '\0')
		ereport(ERROR, (errmsg("%s", error)));
	if (!done)
		ereport(ERROR,
				(errmsg("the mp2 rules worker exited before it finished its round")));
	return (int64) (moved1 - moved0);
}

/* Failing rounds back off: naptime, twice that, ... up to 5 min. */
static void
next_backoff(void)
{
	backoff_ms = Min(Max(backoff_ms * 2, pgmp2_naptime_ms),
					 Max(MAX_BACKOFF_MS, pgmp2_naptime_ms));
}

static void
publish_round(const char *error)
{
	TimestampTz now = GetCurrentTimestamp();
	Mp2WorkerState *w = &pgmp2_shared->worker;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	w->policy = pgmp2_policy;
	if (error != NULL)
	{
		w->failed_rounds++;
		strlcpy(w->last_error, error, sizeof(w->last_error));
	}
	else
	{
		w->rounds++;
		w->last_error[0] = '\0';
	}
	w->last_round = now;
	LWLockRelease(pgmp2_shared->lock);
}

/*
 * A round whose target nodes ran out of memory for some pages moved what
 * fit; it counts as failed, so that the next rounds back off instead of
 * pressing the nodes every naptime.  Logged once until a round has room.
 */
static void
check_nomem(uint64 nomem0)
{
	uint64		nomem;

	SpinLockAcquire(&pgmp2_shared->mutex);
	nomem = pgmp2_shared->worker.pages_nomem - nomem0;
	SpinLockRelease(&pgmp2_shared->mutex);
	if (nomem == 0)
	{
		warned_nomem = false;
		return;
	}
	if (!warned_nomem)
		ereport(LOG,
				(errmsg("mp2 worker: %llu pages not moved: their target nodes are out of memory",
						(unsigned long long) nomem),
				 errhint("The worker backs off while this lasts.  Free memory on those nodes, or leave them out of the policy.")));
	warned_nomem = true;
	if (quiet_failure == NULL)
		quiet_failure = psprintf("%llu pages not moved: their target nodes are out of memory",
								 (unsigned long long) nomem);
}

static void
run_round(void)
{
	static int	last_policy = PGMP2_POLICY_OFF;
	Mp2Round	round;
	uint64		nomem0;

	/* Policy tier starts with a fresh history each time it is chosen. */
	if (pgmp2_policy == PGMP2_POLICY_TIER && last_policy != PGMP2_POLICY_TIER)
		pgmp2_tier_reset();
	last_policy = pgmp2_policy;
	pgmp2_round_begin(&round, "mp2 worker round");
	quiet_failure = NULL;
	SpinLockAcquire(&pgmp2_shared->mutex);
	nomem0 = pgmp2_shared->worker.pages_nomem;
	SpinLockRelease(&pgmp2_shared->mutex);
	MemoryContextReset(round_cxt);
	MemoryContextSwitchTo(round_cxt);
	switch ((Mp2Policy) pgmp2_policy)
	{
		case PGMP2_POLICY_OFF:
			break;
		case PGMP2_POLICY_INTERLEAVE:
			(void) pgmp2_interleave_round(&round);
			break;
		case PGMP2_POLICY_RULES:
			(void) round_rules();
			break;
		case PGMP2_POLICY_TIER:
			(void) pgmp2_tier_round(&round);
			break;
	}
	check_nomem(nomem0);
	if (round.idle != NULL && quiet_failure == NULL)
		quiet_failure = round.idle;
	MemoryContextSwitchTo(TopMemoryContext);
	if (quiet_failure != NULL)
	{
		publish_round(quiet_failure);
		next_backoff();
	}
	else if (pgmp2_policy != PGMP2_POLICY_OFF)
	{
		publish_round(NULL);
		backoff_ms = 0;
	}
	else
	{
		LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
		pgmp2_shared->worker.policy = PGMP2_POLICY_OFF;
		LWLockRelease(pgmp2_shared->lock);
		backoff_ms = 0;
	}
	MemoryContextReset(round_cxt);
	quiet_failure = NULL;
}

static bool
stop_requested(void)
{
	return ShutdownRequestPending || pgmp2_shared->worker.stop_requested;
}

void
pgmp2_worker_main(Datum main_arg)
{
	uint32		gen = DatumGetUInt32(main_arg);
	sigjmp_buf	local_sigjmp_buf;
	pid_t		other;
	static volatile bool wait_first = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	other = pgmp2_worker_slot_take(gen);
	if (other != 0)
	{
		if (other > 0)
			ereport(LOG,
					(errmsg("mp2 worker: another mp2 worker is running (pid %d); exiting",
							(int) other)));
		else
			ereport(LOG,
					(errmsg("mp2 worker: another mp2 worker is being started; exiting")));
		proc_exit(0);
	}
	before_shmem_exit(pgmp2_worker_slot_leave, (Datum) 0);
	pgmp2_mapper_reset();

	ereport(LOG,
			(errmsg("mp2 worker started: policy %s, naptime %d ms, rules in database \"%s\"",
					GetConfigOption("mp2.policy", false, false),
					pgmp2_naptime_ms, pgmp2_shared->worker.database)));

	round_cxt = AllocSetContextCreate(TopMemoryContext, "mp2 worker round",
									  ALLOCSET_DEFAULT_SIZES);

	/* An ERROR in a round comes back here: log it, count it, go on. */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		ErrorData  *edata;

		error_context_stack = NULL;
		HOLD_INTERRUPTS();
		/* Whatever threw, CAP_SYS_NICE is not left effective. */
		pgmp2_priv_drop();
		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		MemoryContextReset(round_cxt);
		publish_round(edata->message ? edata->message : "unknown error");
		FreeErrorData(edata);
		RESUME_INTERRUPTS();
		next_backoff();
		wait_first = true;
	}
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
		if (wait_first && !stop_requested())
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Max(backoff_ms, pgmp2_naptime_ms),
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		wait_first = true;
		CHECK_FOR_INTERRUPTS();
		if (stop_requested())
			break;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			ereport(LOG,
					(errmsg("mp2 worker: reloaded: policy %s, naptime %d ms, max_pages_per_round %d",
							GetConfigOption("mp2.policy", false, false),
							pgmp2_naptime_ms, pgmp2_max_pages_per_round)));
			/* A round cut short by the reload resumes at once. */
			backoff_ms = 0;
			wait_first = false;
			continue;
		}
		pgmp2_mapper_tick(stop_requested);
		if (stop_requested())
			break;
		run_round();
	}

	ereport(LOG, (errmsg("mp2 worker stopping")));
	proc_exit(0);
}
