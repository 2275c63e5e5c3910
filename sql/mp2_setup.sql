-- SPDX-License-Identifier: MIT
--
-- mp2_setup: CREATE EXTENSION and what it installs
--
CREATE EXTENSION mp2;

-- The functions and who may call them
SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
       p.proacl
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mp2')
 ORDER BY p.proname;

-- The rules table of the worker's policy "rules"
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'mp2_rules'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum;
SELECT conname, contype FROM pg_catalog.pg_constraint
 WHERE conrelid = 'mp2_rules'::regclass AND contype IN ('c', 'p') ORDER BY conname;
\set VERBOSITY terse
INSERT INTO mp2_rules VALUES ('pg_class', -1);
\set VERBOSITY default
-- who may do what with it, but its owner (whose rights differ by version)
SELECT a.grantee::regrole AS grantee, a.privilege_type
  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
 WHERE c.oid = 'mp2_rules'::regclass AND a.grantee <> c.relowner
 ORDER BY 1, 2;

-- The role that may move memory
SELECT rolname, rolcanlogin, rolsuper FROM pg_catalog.pg_roles
 WHERE rolname = 'mp2_mover';

-- The settings, all under mp2.
SELECT name, setting, unit, context, vartype FROM pg_catalog.pg_settings
 WHERE name LIKE 'mp2.%' ORDER BY name;
SET mp2.no_such_setting = 1;

-- Preloaded: the worker runs (it may take a moment to start)
DO $$
BEGIN
	FOR i IN 1..100 LOOP
		EXIT WHEN (SELECT pid FROM mp2_worker_info()) IS NOT NULL;
		PERFORM pg_catalog.pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT pid IS NOT NULL AS running, database, policy FROM mp2_worker_info();
SELECT preloaded FROM mp2_info();

-- Dropping and re-creating works; the role stays
DROP EXTENSION mp2;
SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = 'mp2_mover';
CREATE EXTENSION mp2;
