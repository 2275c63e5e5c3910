-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.3'" to load this file. \quit

-- 1.3: huge pages for the pool (mp2.pool_thp) shown by mp2_info(), and a
-- rate bound for the moving functions.

-- The moving functions gain max_rate, the pages a second they may move
-- at most (0: no limit).  A new argument makes a new function, so the
-- 1.2 forms are dropped: grants given on them beyond mp2_mover's must be
-- given again.
DROP FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int);
DROP FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int);
DROP FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int);
DROP FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int);

-- Move the pages of a relation's buffers to node; needs SELECT on it.
CREATE FUNCTION mp2_migrate(
	rel regclass,
	node int,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_migrate'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Move every page of the shared buffer pool to node.
CREATE FUNCTION mp2_migrate_pool(
	node int,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_migrate_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Spread the pages of a relation's buffers round-robin over nodes (NULL:
-- every node with memory); needs SELECT on the relation.
CREATE FUNCTION mp2_interleave(
	rel regclass,
	nodes int[] DEFAULT NULL,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_interleave'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Spread the whole pool round-robin over nodes (NULL: every node with
-- memory), whole buffers (or huge pages) taking turns.
CREATE FUNCTION mp2_interleave_pool(
	nodes int[] DEFAULT NULL,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_interleave_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

REVOKE ALL ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int, bigint) TO mp2_mover;

-- mp2_info() gains what the pool got: pool_thp and pool_thp_pages.  New
-- OUT parameters change its result type, which CREATE OR REPLACE cannot,
-- so it is created again; EXECUTE stays with PUBLIC, as in mp2--1.3.sql.
DROP FUNCTION mp2_info();

-- The kernel, the capability and the pool as mp2 sees them.  pool_thp:
-- what the pool got: hugetlb (huge_pages), advised (mp2.pool_thp), off, or
-- "unavailable: " and the reason; pool_thp_pages: how many of its 2 MiB are
-- transparent huge pages (mapped whole; see pool_thp.c).
CREATE FUNCTION mp2_info(
	OUT move_pages2 boolean,
	OUT move_pages2_abi int,
	OUT cap_sys_nice text,
	OUT page_size int,
	OUT huge_pages boolean,
	OUT pool_pages bigint,
	OUT preloaded boolean,
	OUT pool_thp text,
	OUT pool_thp_pages bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_info'
LANGUAGE C STRICT VOLATILE;
