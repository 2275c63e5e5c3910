/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * compat_1_0.c
 *	  The C entry points that the SQL script of mp2 1.0 names.
 *
 * A server that loads this library while a database still has mp2 1.0
 * installed (before ALTER EXTENSION mp2 UPDATE) calls these.  Each is the
 * 1.1 function; results are filled by column name, so 1.0's definitions
 * work unchanged.  One difference is deliberate: a NULL relation is an
 * error, no longer the whole pool.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "fmgr.h"

#define ENTRY_1_0(name_1_0, name_1_1) \
	extern Datum name_1_1(PG_FUNCTION_ARGS); \
	PG_FUNCTION_INFO_V1(name_1_0); \
	Datum \
	name_1_0(PG_FUNCTION_ARGS) \
	{ \
		return name_1_1(fcinfo); \
	}

ENTRY_1_0(mp2_numa_nodes, pgmp2_numa_nodes)
ENTRY_1_0(mp2_info, pgmp2_info)
ENTRY_1_0(mp2_buffer_nodes, pgmp2_buffer_nodes)
ENTRY_1_0(mp2_relation_nodes, pgmp2_relation_nodes)
ENTRY_1_0(mp2_migrate_sql, pgmp2_migrate)
ENTRY_1_0(mp2_interleave_sql, pgmp2_interleave)
ENTRY_1_0(mp2_stats_sql, pgmp2_stats)
ENTRY_1_0(mp2_stats_reset_sql, pgmp2_stats_reset)
ENTRY_1_0(mp2_worker_start, pgmp2_worker_start)
ENTRY_1_0(mp2_worker_stop, pgmp2_worker_stop)
ENTRY_1_0(mp2_worker_info, pgmp2_worker_info)
