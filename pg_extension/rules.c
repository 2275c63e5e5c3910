/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  The short-lived per-database worker of the relocation worker
 *	  (worker.c), started for one task and gone when it is done:
 *
 *	probe	attached to the shared catalogs only, it looks up the OID of
 *			the database named in the slot (a missing database is an
 *			answer, not a FATAL in a restart loop);
 *	rules	connected to that database, it reads the extension's table
 *			mp2_rules and moves each relation's buffers to its node,
 *			within mp2.max_pages_per_round.
 *
 * It runs no SQL: the table and the catalogs are read with the access
 * methods, so no function, operator or cast that a user of the database
 * created can run with the worker's rights, whatever the search_path.
 * A relation that is locked in a conflicting mode is skipped for this
 * round rather than waited for; SIGTERM ends any wait.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

typedef struct Rule
{
	Oid			relid;
	int			node;
	bool		has_file;
	Mp2RelFile	file;
} Rule;

/* The schema the extension mp2 lives in, or InvalidOid. */
static Oid
extension_schema(void)
{
	Oid			extoid = get_extension_oid("mp2", true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	if (!OidIsValid(extoid))
		return InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * The attribute numbers of mp2_rules' columns rel (regclass) and node
 * (int4).  The table's owner may have altered it: its rows are read by
 * these numbers, and only while both columns are there with their types,
 * so that no added, dropped or retyped column makes the worker read a row
 * wrong.  Other columns are left alone.  On a wrong shape, *why says what
 * is wrong.
 */
static bool
rules_columns(TupleDesc desc, AttrNumber *rel_att, AttrNumber *node_att,
			  const char **why)
{
	*rel_att = InvalidAttrNumber;
	*node_att = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		is_rel = strcmp(NameStr(att->attname), "rel") == 0;
		bool		is_node = strcmp(NameStr(att->attname), "node") == 0;

		if (att->attisdropped || !(is_rel || is_node))
			continue;
		if (att->atttypid != (is_rel ? REGCLASSOID : INT4OID))
		{
			*why = psprintf("its column %s is of type %s, not %s",
							NameStr(att->attname),
							format_type_be(att->atttypid),
							is_rel ? "regclass" : "integer");
			return false;
		}
		if (is_rel)
			*rel_att = att->attnum;
		else
			*node_att = att->attnum;
	}
	if (*rel_att == InvalidAttrNumber || *node_att == InvalidAttrNumber)
	{
		*why = psprintf("it has no column %s",
						*rel_att == InvalidAttrNumber ? "rel" : "node");
		return false;
	}
	return true;
}

/*
 * The rows of mp2_rules with their relations' storage, read in a
 * transaction of their own.  Returns the count, -1 if the extension is
 * not installed.  A table whose shape is wrong is an error.
 */
static int
read_rules(Rule **rules_out)
{
	Oid			nsp;
	Oid			relid;
	Rule	   *rules = NULL;
	int			nrules = 0;
	int			cap = 16;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "mp2: reading mp2_rules");

	nsp = extension_schema();
	relid = OidIsValid(nsp) ? get_relname_relid("mp2_rules", nsp) : InvalidOid;
	if (OidIsValid(relid))
	{
		Relation	rel = table_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		TableScanDesc scan;
		HeapTuple	tup;
		AttrNumber	rel_att;
		AttrNumber	node_att;
		const char *why;
		MemoryContext old;

		if (!rules_columns(desc, &rel_att, &node_att, &why))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s.mp2_rules is not as extension mp2 made it: %s; no rules applied",
							get_namespace_name(nsp), why),
					 errhint("Give it back its columns rel regclass and node integer, or drop and create the extension again.")));
		old = MemoryContextSwitchTo(TopMemoryContext);
		rules = palloc(sizeof(Rule) * cap);
		MemoryContextSwitchTo(old);
		scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			Datum		relid_d;
			Datum		node_d;
			bool		relid_null;
			bool		node_null;

			CHECK_FOR_INTERRUPTS();
			relid_d = heap_getattr(tup, rel_att, desc, &relid_null);
			node_d = heap_getattr(tup, node_att, desc, &node_null);
			if (relid_null || node_null)
				continue;
			if (nrules == cap)
			{
				cap *= 2;
				rules = repalloc(rules, sizeof(Rule) * cap);
			}
			rules[nrules].relid = DatumGetObjectId(relid_d);
			rules[nrules].node = DatumGetInt32(node_d);
			rules[nrules].has_file = false;
			nrules++;
		}
		table_endscan(scan);
		table_close(rel, AccessShareLock);

		for (int i = 0; i < nrules; i++)
		{
			bool		busy;

			if (mp2_node_check(rules[i].node) != 0)
			{
				ereport(LOG,
						(errmsg("mp2 worker: rule for relation %u names node %d, which has no memory; skipped",
								rules[i].relid, rules[i].node)));
				continue;
			}
			rules[i].has_file = pgmp2_relation_file(rules[i].relid, false,
													false, &rules[i].file,
													&busy);
			if (busy)
				ereport(DEBUG1,
						(errmsg_internal("mp2 worker: relation %u is locked; skipped this round",
										 rules[i].relid)));
		}
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	*rules_out = rules;
	return OidIsValid(relid) ? nrules : -1;
}

static void
run_rules(void)
{
	Rule	   *rules;
	int			nrules = read_rules(&rules);
	int64		moved = 0;

	if (nrules < 0)
	{
		LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
		pgmp2_shared->worker.child_no_extension = true;
		LWLockRelease(pgmp2_shared->lock);
		return;
	}
	for (int i = 0; i < nrules; i++)
	{
		Mp2MoveArgs args;
		Mp2WorkerProgress progress;
		Mp2MoveResult res;
		Mp2Walk		walk;

		if (!rules[i].has_file)
			continue;
		if (pgmp2_round_budget() > 0 && moved >= pgmp2_round_budget())
			break;
		if (pgmp2_worker_should_stop(NULL, NULL))
			break;
		pgmp2_worker_move_args(&args, moved, &progress);
		args.node = rules[i].node;
		pgmp2_walk_file(&walk, &rules[i].file);
		pgmp2_move(&walk, &args, &res);
		moved += (int64) res.st.moved;
		if (res.st.failed_access > 0 && !res.privileged)
			pgmp2_report_shared(&res, LOG);
		if (res.error != 0)
			ereport(ERROR,
					(errmsg("migration failed: %s", mp2_strerror(res.error))));
	}
}

/*
 * The probe: the OID of the database named in bgw_extra, or 0.  Without a
 * database the catalog indexes are not available, so pg_database is
 * scanned (it is small), as the logical replication launcher does for
 * pg_subscription.
 */
static void
run_probe(const char *dbname)
{
	Oid			oid = InvalidOid;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), dbname) == 0)
		{
			oid = db->oid;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	pgmp2_shared->worker.child_found_oid = oid;
	LWLockRelease(pgmp2_shared->lock);
}

void
pgmp2_rules_main(Datum main_arg)
{
	int			kind = DatumGetInt32(main_arg);
	Oid			dboid;
	char		dbname[NAMEDATALEN];

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(dboid));
	strlcpy(dbname, MyBgworkerEntry->bgw_extra + sizeof(Oid), sizeof(dbname));

	/* SIGTERM: the usual die(), so that every wait ends with it. */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (kind == MP2_CHILD_PROBE)
	{
		/* The shared catalogs only: no database is held. */
		BackgroundWorkerInitializeConnection(NULL, NULL, 0);
		run_probe(dbname);
		proc_exit(0);
	}

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	pgmp2_shared->worker.child_connected = true;
	LWLockRelease(pgmp2_shared->lock);

	/* No SQL runs here; should any, it sees only the system's objects. */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET,
					PGC_S_OVERRIDE);

	PG_TRY();
	{
		run_rules();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
		strlcpy(pgmp2_shared->worker.child_error,
				edata->message ? edata->message : "unknown error",
				sizeof(pgmp2_shared->worker.child_error));
		LWLockRelease(pgmp2_shared->lock);
		PG_RE_THROW();
	}
	PG_END_TRY();

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	pgmp2_shared->worker.child_done = true;
	LWLockRelease(pgmp2_shared->lock);
	proc_exit(0);
}
