-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.3'" to load this file. \quit

-- 1.3: huge pages for the pool (mp2.pool_thp) shown by mp2_info(), and a
-- rate bound for the moving functions.

-- The functions re-created below keep the rights they had: what the
-- DBA granted or revoked on them is saved here (for this transaction) and
-- given back at the end, so that no update widens who may call them.
DO $$
DECLARE
	f record;
BEGIN
	FOR f IN
		SELECT p.proname, p.proacl
		  FROM pg_catalog.pg_proc p
		  JOIN pg_catalog.pg_depend d
		    ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
		 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
		   AND d.refobjid OPERATOR(pg_catalog.=)
		       (SELECT e.oid FROM pg_catalog.pg_extension e
		         WHERE e.extname OPERATOR(pg_catalog.=) 'mp2')
		   AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY['mp2_info', 'mp2_migrate',
		       'mp2_migrate_pool', 'mp2_interleave', 'mp2_interleave_pool'])
	LOOP
		PERFORM pg_catalog.set_config('mp2_update.acl_' OPERATOR(pg_catalog.||) f.proname,
		                              COALESCE(f.proacl::text, ''), true);
	END LOOP;
END
$$;

-- The moving functions gain max_rate, the pages a second they may move
-- at most (0: no limit).  A new argument makes a new function, so the
-- 1.2 forms are dropped; the rights on them carry over.
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
-- so it is created again, with the rights it had.
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

-- The rights saved above, given back: where a function's rights had been
-- changed from its defaults, exactly those rights.
DO $$
DECLARE
	f record;
	a record;
	saved text;
BEGIN
	FOR f IN
		SELECT p.oid::pg_catalog.regprocedure AS func, p.proname, p.proacl
		  FROM pg_catalog.pg_proc p
		  JOIN pg_catalog.pg_depend d
		    ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
		 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
		   AND d.refobjid OPERATOR(pg_catalog.=)
		       (SELECT e.oid FROM pg_catalog.pg_extension e
		         WHERE e.extname OPERATOR(pg_catalog.=) 'mp2')
		   AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY['mp2_info', 'mp2_migrate',
		       'mp2_migrate_pool', 'mp2_interleave', 'mp2_interleave_pool'])
	LOOP
		saved := pg_catalog.current_setting('mp2_update.acl_' OPERATOR(pg_catalog.||) f.proname, true);
		CONTINUE WHEN saved IS NULL OR saved OPERATOR(pg_catalog.=) '';
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.func);
		FOR a IN SELECT x.grantee FROM pg_catalog.aclexplode(f.proacl) x
		          WHERE x.grantee OPERATOR(pg_catalog.<>) 0
		LOOP
			EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM %s', f.func,
			                          a.grantee::pg_catalog.regrole);
		END LOOP;
		FOR a IN SELECT x.grantee, x.privilege_type, x.is_grantable
		           FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) x
		LOOP
			EXECUTE pg_catalog.format('GRANT %s ON FUNCTION %s TO %s%s',
				a.privilege_type, f.func,
				CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
				     ELSE a.grantee::pg_catalog.regrole::text END,
				CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		END LOOP;
	END LOOP;
END
$$;
