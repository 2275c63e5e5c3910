/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * resultrow.c
 *	  A composite result of an SQL function, filled by column name.
 *
 * A column the function's SQL definition does not have is skipped, so
 * that the functions still work for an older definition with fewer
 * columns (an extension not yet updated after the library was).
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "access/htup_details.h"
#include "funcapi.h"

void
pgmp2_result_init_desc(Mp2ResultRow *row, TupleDesc desc)
{
	row->desc = desc;
	row->values = palloc0(sizeof(Datum) * Max(row->desc->natts, 1));
	row->nulls = palloc(sizeof(bool) * Max(row->desc->natts, 1));
	memset(row->nulls, true, sizeof(bool) * Max(row->desc->natts, 1));
}

void
pgmp2_result_init(Mp2ResultRow *row, FunctionCallInfo fcinfo)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	pgmp2_result_init_desc(row, desc);
}

/* The index of the column called name, or -1 if the definition has none. */
static int
result_column(const Mp2ResultRow *row, const char *name)
{
	for (int i = 0; i < row->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(row->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	return -1;
}

bool
pgmp2_result_has(const Mp2ResultRow *row, const char *name)
{
	return result_column(row, name) >= 0;
}

/* Set the column called name, if the definition has one. */
void
pgmp2_result_set(Mp2ResultRow *row, const char *name, Datum value)
{
	int			i = result_column(row, name);

	if (i < 0)
		return;
	row->values[i] = value;
	row->nulls[i] = false;
}

Datum
pgmp2_result_datum(Mp2ResultRow *row)
{
	return HeapTupleGetDatum(heap_form_tuple(row->desc, row->values, row->nulls));
}

