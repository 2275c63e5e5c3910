/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * globals.c
 *	  The extension's global variables: the settings under "mp2." (defined
 *	  as GUCs in mp2.c), the shared state, and the names of mp2.policy.
 *
 * Data only, as PostgreSQL's own globals.c: the files that read them
 * depend on this one, not on the module's entry point, which depends on
 * them.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

/* GUC variables */
int			pgmp2_policy = PGMP2_POLICY_OFF;
char	   *pgmp2_interleave_nodes = NULL;
int			pgmp2_naptime_ms = 10000;
int			pgmp2_max_pages_per_round = 8192;
int			pgmp2_max_rate = 0;
int			pgmp2_batch_size = PGMP2_DEFAULT_BATCH_SIZE;
int			pgmp2_mode = MP2_MODE_ASYNC;
int			pgmp2_method = MP2_METHOD_AUTO;
char	   *pgmp2_database = NULL;
bool		pgmp2_start_worker = true;
bool		pgmp2_warm_mapping = false;
char	   *pgmp2_fast_nodes = NULL;
char	   *pgmp2_slow_nodes = NULL;
double		pgmp2_fast_fraction = 1.0;
int			pgmp2_tier_slice_mb = 4096;
bool		pgmp2_pool_thp = false;

Mp2Shared  *pgmp2_shared = NULL;
bool		pgmp2_preloaded = false;

const struct config_enum_entry pgmp2_policy_options[] = {
	{"off", PGMP2_POLICY_OFF, false},
	{"interleave", PGMP2_POLICY_INTERLEAVE, false},
	{"rules", PGMP2_POLICY_RULES, false},
	{"tier", PGMP2_POLICY_TIER, false},
	{NULL, 0, false}
};
