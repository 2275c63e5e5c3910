/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What differs between the PostgreSQL versions mp2 builds against, in
 *	  one place: the rest of the extension uses only these names.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGMP2_COMPAT_H
#define PGMP2_COMPAT_H

#include "postgres.h"

#include "storage/buf_internals.h"
#include "utils/rel.h"

#if PG_VERSION_NUM < 150000
#error "mp2 needs PostgreSQL 15 or later"
#endif

/*
 * The storage a buffer belongs to: RelFileNode up to 15, RelFileLocator
 * from 16 on.
 */
#if PG_VERSION_NUM >= 160000
typedef RelFileLocator Mp2RelFile;
#define PGMP2_REL_FILE(rel)	((rel)->rd_locator)
#define mp2_tag_matches(tag, rf) BufTagMatchesRelFileLocator((tag), (rf))
#else
typedef RelFileNode Mp2RelFile;
#define PGMP2_REL_FILE(rel)	((rel)->rd_node)
#define mp2_tag_matches(tag, rf) RelFileNodeEquals((tag)->rnode, *(rf))
#endif

/* The module's magic block: with its name and version from 18 on. */
#if PG_VERSION_NUM >= 180000
#define PGMP2_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "mp2", .version = PGMP2_EXT_VERSION)
#else
#define PGMP2_MODULE_MAGIC PG_MODULE_MAGIC
#endif

#endif							/* PGMP2_COMPAT_H */
