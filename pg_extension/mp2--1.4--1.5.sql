-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.5'" to load this file. \quit

-- 1.5: backends locate pages through the worker's warm mapping of the
-- pool, and mp2_info() says whether they can (mapper_pid, mapper_pages).
-- New OUT parameters change its result type, which CREATE OR REPLACE
-- cannot, so it is created again, with the rights it had: saved here for
-- this transaction, given back below.
SELECT pg_catalog.set_config('mp2_update.acl_mp2_info',
                             COALESCE(p.proacl::text, ''), true)
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d
    ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
   AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND d.refobjid OPERATOR(pg_catalog.=)
       (SELECT e.oid FROM pg_catalog.pg_extension e
         WHERE e.extname OPERATOR(pg_catalog.=) 'mp2')
   AND p.proname OPERATOR(pg_catalog.=) 'mp2_info';

DROP FUNCTION mp2_info();

-- The kernel, the capability and the pool as mp2 sees them.  pool_thp:
-- what the pool got: hugetlb (huge_pages), advised (mp2.pool_thp), off, or
-- "unavailable: " and the reason; pool_thp_pages: how many of its 2 MiB are
-- transparent huge pages (mapped whole; see pool_thp.c).  mapper_pid: the
-- worker whose page tables pages are located through (NULL: each backend
-- faults in what it locates); mapper_pages: the pages it mapped in its
-- last full pass over the pool (NULL before the first).
CREATE FUNCTION mp2_info(
	OUT move_pages2 boolean,
	OUT move_pages2_abi int,
	OUT cap_sys_nice text,
	OUT page_size int,
	OUT huge_pages boolean,
	OUT pool_pages bigint,
	OUT preloaded boolean,
	OUT pool_thp text,
	OUT pool_thp_pages bigint,
	OUT mapper_pid int,
	OUT mapper_pages bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_info'
LANGUAGE C STRICT VOLATILE;

-- The rights saved above, given back, where they had been changed from
-- the defaults.
DO $$
DECLARE
	a record;
	saved text := pg_catalog.current_setting('mp2_update.acl_mp2_info', true);
	func text := pg_catalog.format('%I.mp2_info()',
		(SELECT n.nspname FROM pg_catalog.pg_extension e
		   JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
		  WHERE e.extname OPERATOR(pg_catalog.=) 'mp2'));
BEGIN
	IF saved IS NULL OR saved OPERATOR(pg_catalog.=) '' THEN
		RETURN;
	END IF;
	EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', func);
	FOR a IN SELECT x.grantee, x.privilege_type, x.is_grantable
	           FROM pg_catalog.aclexplode(saved::pg_catalog.aclitem[]) x
	LOOP
		EXECUTE pg_catalog.format('GRANT %s ON FUNCTION %s TO %s%s',
			a.privilege_type, func,
			CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
			     ELSE a.grantee::pg_catalog.regrole::text END,
			CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$$;
