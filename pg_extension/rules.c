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
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
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

/* The columns of mp2_rules that mp2 reads, by attribute number. */
typedef struct RulesColumns
{
	AttrNumber	rel;			/* regclass: the relation */
	AttrNumber	node;			/* int4: where its buffers belong */
	AttrNumber	added_by;		/* regrole: who wrote the rule (1.4) */
} RulesColumns;

static const struct
{
	const char *name;
	Oid			type;
	const char *type_name;
}			rules_column_defs[] = {
	{"rel", REGCLASSOID, "regclass"},
	{"node", INT4OID, "integer"},
	{"added_by", REGROLEOID, "regrole"},
};

/*
 * The attribute numbers of mp2_rules' columns.  The table's owner may have
 * altered it: its rows are read by these numbers, and only while every
 * column is there with its type, so that no added, dropped or retyped
 * column makes the worker read a row wrong.  Other columns are left
 * alone.  On a wrong shape, *why says what is wrong.
 */
static bool
rules_columns(TupleDesc desc, RulesColumns *cols, const char **why)
{
	AttrNumber *found[] = {&cols->rel, &cols->node, &cols->added_by};

	for (int c = 0; c < lengthof(found); c++)
		*found[c] = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		for (int c = 0; c < lengthof(rules_column_defs); c++)
		{
			if (strcmp(NameStr(att->attname), rules_column_defs[c].name) != 0)
				continue;
			if (att->atttypid != rules_column_defs[c].type)
			{
				*why = psprintf("its column %s is of type %s, not %s",
								NameStr(att->attname),
								format_type_be(att->atttypid),
								rules_column_defs[c].type_name);
				return false;
			}
			*found[c] = att->attnum;
		}
	}
	for (int c = 0; c < lengthof(found); c++)
	{
		if (*found[c] == InvalidAttrNumber)
		{
			*why = psprintf("it has no column %s", rules_column_defs[c].name);
			return false;
		}
	}
	return true;
}

static void
require_rules_shape(TupleDesc desc, Oid nsp, RulesColumns *cols)
{
	const char *why;

	if (!rules_columns(desc, cols, &why))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.mp2_rules is not as extension mp2 %s made it: %s; no rules applied",
						get_namespace_name(nsp), PGMP2_EXT_VERSION, why),
				 errhint("Give it back its columns rel regclass, node integer and added_by regrole (ALTER EXTENSION mp2 UPDATE adds added_by), or drop and create the extension again.")));
}

/* ----------------------------------------------------------------
 *		Writing a rule: the trigger on mp2_rules
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(pgmp2_rules_write);

/*
 * BEFORE INSERT OR UPDATE, for each row: a rule names a relation with
 * buffers of its own that its writer may read, and a node with memory.
 * added_by records the writer: the current user, unless the row names a
 * role whose rights the current user has (a restore by a superuser keeps
 * what the dump says).  The worker moves a relation only while the rule's
 * writer may read it.
 */
Datum
pgmp2_rules_write(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	RulesColumns cols;
	Datum		d;
	bool		isnull;
	Oid			relid;
	Oid			writer = GetUserId();
	AclResult	acl;
	int			replace_col;
	Datum		replace_value;
	bool		replace_null = false;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		elog(ERROR, "pgmp2_rules_write must run before each row's INSERT or UPDATE");
	tup = TRIGGER_FIRED_BY_UPDATE(trig->tg_event) ?
		trig->tg_newtuple : trig->tg_trigtuple;
	desc = RelationGetDescr(trig->tg_relation);
	require_rules_shape(desc, RelationGetNamespace(trig->tg_relation), &cols);

	d = heap_getattr(tup, cols.rel, desc, &isnull);
	if (isnull)
		return PointerGetDatum(tup);	/* the NOT NULL constraint says so */
	relid = DatumGetObjectId(d);
	d = heap_getattr(tup, cols.added_by, desc, &isnull);
	if (!isnull && has_privs_of_role(writer, DatumGetObjectId(d)))
		writer = DatumGetObjectId(d);

	acl = pg_class_aclcheck(relid, writer, ACL_SELECT);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for relation %s", get_rel_name(relid)),
				 errdetail("Role %s may not read it.", GetUserNameFromId(writer, false)),
				 errhint("A rule moves only what its writer may read.")));
	pgmp2_require_storage(relid);
	d = heap_getattr(tup, cols.node, desc, &isnull);
	if (!isnull)
		pgmp2_require_node(DatumGetInt32(d));

	replace_col = cols.added_by;
	replace_value = ObjectIdGetDatum(writer);
	return PointerGetDatum(heap_modify_tuple_by_cols(tup, desc, 1, &replace_col,
													 &replace_value, &replace_null));
}

/* ----------------------------------------------------------------
 *		Reading the rules: the per-database worker
 * ----------------------------------------------------------------
 */

/* The rule's relation as the log names it. */
static const char *
rule_name(Oid relid)
{
	char	   *name = get_rel_name(relid);

	return name ? quote_identifier(name) : psprintf("relation %u", relid);
}

/*
 * Rules skipped for a reason that lasts are logged when the set of them
 * changes, not every round.
 */
static void
report_skipped(StringInfo skipped)
{
	Mp2WorkerState *w = &pgmp2_shared->worker;
	bool		changed;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	changed = strncmp(w->rules_skipped, skipped->data,
					  sizeof(w->rules_skipped) - 1) != 0;
	strlcpy(w->rules_skipped, skipped->data, sizeof(w->rules_skipped));
	LWLockRelease(pgmp2_shared->lock);
	if (changed && skipped->len > 0)
		ereport(LOG,
				(errmsg("mp2 worker: rules skipped: %s", skipped->data)));
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
		Relation	rel;
		TupleDesc	desc;
		TableScanDesc scan;
		HeapTuple	tup;
		RulesColumns cols;
		MemoryContext old;
		StringInfoData skipped;

		/* A session that holds the table locked does not wedge the worker. */
		if (!ConditionalLockRelationOid(relid, AccessShareLock))
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("table %s.mp2_rules is locked by another session; no rules applied this round",
							get_namespace_name(nsp))));
		rel = table_open(relid, NoLock);
		desc = RelationGetDescr(rel);
		require_rules_shape(desc, nsp, &cols);
		initStringInfo(&skipped);
		old = MemoryContextSwitchTo(TopMemoryContext);
		rules = palloc(sizeof(Rule) * cap);
		MemoryContextSwitchTo(old);
		scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			Datum		relid_d;
			Datum		node_d;
			Datum		by_d;
			bool		relid_null;
			bool		node_null;
			bool		by_null;
			bool		missing = false;

			CHECK_FOR_INTERRUPTS();
			relid_d = heap_getattr(tup, cols.rel, desc, &relid_null);
			node_d = heap_getattr(tup, cols.node, desc, &node_null);
			by_d = heap_getattr(tup, cols.added_by, desc, &by_null);
			if (relid_null || node_null)
				continue;
			/*
			 * Moved only while the rule's writer may read the relation (a
			 * dropped one is passed over below).
			 */
			if (by_null ||
				(pg_class_aclcheck_ext(DatumGetObjectId(relid_d),
									   DatumGetObjectId(by_d),
									   ACL_SELECT, &missing) != ACLCHECK_OK &&
				 !missing))
			{
				appendStringInfo(&skipped, "%s%s (%s)",
								 skipped.len > 0 ? "; " : "",
								 rule_name(DatumGetObjectId(relid_d)),
								 by_null ? "no writer recorded: write the rule again" :
								 "its writer may not read it");
				continue;
			}
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
				appendStringInfo(&skipped, "%s%s (node %d has no memory)",
								 skipped.len > 0 ? "; " : "",
								 rule_name(rules[i].relid), rules[i].node);
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
		report_skipped(&skipped);
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
	Mp2Round	round;

	if (nrules < 0)
	{
		LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
		pgmp2_shared->worker.child_no_extension = true;
		LWLockRelease(pgmp2_shared->lock);
		return;
	}
	pgmp2_round_begin(&round, "mp2 worker rules round");
	for (int i = 0; i < nrules; i++)
	{
		Mp2MoveArgs args;
		Mp2MoveResult res;
		Mp2Walk		walk;

		if (!rules[i].has_file)
			continue;
		if (pgmp2_round_should_stop(&round))
			break;
		memset(&args, 0, sizeof(args));
		args.node = rules[i].node;
		pgmp2_walk_file(&walk, &rules[i].file);
		pgmp2_round_move(&round, &walk, &args, &res);
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
pgmp2_database_worker_main(Datum main_arg)
{
	int			kind = DatumGetInt32(main_arg);
	Oid			dboid;
	char		dbname[NAMEDATALEN];

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(dboid));
	strlcpy(dbname, MyBgworkerEntry->bgw_extra + sizeof(Oid), sizeof(dbname));

	/* SIGTERM: the usual die(), so that every wait ends with it. */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (kind == PGMP2_CHILD_PROBE)
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

	/*
	 * The database's owner may have set transaction defaults for it
	 * (ALTER DATABASE ... SET): a serializable, deferrable one would wait
	 * for a safe snapshot, and lock_timeout ends waits this worker does not
	 * make.  Its short transactions read the rules as the defaults give.
	 */
	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_deferrable", "off",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);

	PG_TRY();
	{
		run_rules();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		pgmp2_priv_drop();
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
