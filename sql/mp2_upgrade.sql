-- SPDX-License-Identifier: MIT
--
-- mp2_upgrade: ALTER EXTENSION mp2 UPDATE from 1.0 (through 1.1) gives the
-- objects of a fresh install of the current version and keeps the rules
--
SET client_min_messages = warning;

-- Every object of the extension: its description, definition and rights
-- (its row types aside, which 18 lists and 15 does not).  Run in a
-- database with the update and in one with a fresh install below.
SELECT $q$
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
       CASE d.classid
         WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
           (SELECT pg_catalog.pg_get_functiondef(p.oid) ||
                   coalesce(p.proacl::text, '')
              FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)
         WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN
           (SELECT pg_catalog.string_agg(a.attname || ' ' ||
                     pg_catalog.format_type(a.atttypid, a.atttypmod) ||
                     CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                     ', ' ORDER BY a.attnum)
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = d.objid AND a.attnum > 0) || ' ' ||
           (SELECT pg_catalog.string_agg(pg_catalog.pg_get_constraintdef(c.oid),
                                         ', ' ORDER BY c.conname)
              FROM pg_catalog.pg_constraint c WHERE c.conrelid = d.objid) || ' ' ||
           (SELECT coalesce(c.relacl::text, '') FROM pg_catalog.pg_class c
             WHERE c.oid = d.objid)
         ELSE ''
       END AS definition
  FROM pg_catalog.pg_depend d
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mp2')
   AND d.deptype = 'e'
   AND d.classid <> 'pg_catalog.pg_type'::pg_catalog.regclass
$q$ AS objects_query \gset

CREATE DATABASE regress_mp2_up;
\c regress_mp2_up
SET client_min_messages = warning;
CREATE EXTENSION mp2 VERSION '1.0';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'mp2';

-- used as 1.0: a migration through 1.0's definition (its result has no
-- stop_reason column), a rule
CREATE TABLE mp2_u AS SELECT g FROM generate_series(1, 1000) g;
SELECT count(*) FROM mp2_u;
SELECT requested > 0 AS pages,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_migrate('mp2_u', 0);
-- with the 1.1 library, 1.0's NULL relation no longer means the whole pool
SELECT * FROM mp2_migrate(NULL, 0);
INSERT INTO mp2_rules VALUES ('mp2_u', 0);

ALTER EXTENSION mp2 UPDATE;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'mp2';
SELECT rel, node FROM mp2_rules;
SELECT requested > 0 AS pages, stop_reason
  FROM mp2_migrate('mp2_u', 0, max_pages => 1);

CREATE VIEW pg_temp.mp2_objects AS :objects_query;
SELECT object FROM pg_temp.mp2_objects ORDER BY object;
SELECT pg_catalog.md5(pg_catalog.string_agg(object || ': ' || definition, E'\n'
                                            ORDER BY object)) AS updated
  FROM pg_temp.mp2_objects \gset
SELECT extconfig::pg_catalog.regclass[] AS config FROM pg_catalog.pg_extension
 WHERE extname = 'mp2';

-- A fresh install of the current version: the same objects
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE regress_mp2_up;
CREATE DATABASE regress_mp2_new;
\c regress_mp2_new
SET client_min_messages = warning;
CREATE EXTENSION mp2;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'mp2';
CREATE VIEW pg_temp.mp2_objects AS :objects_query;
SELECT pg_catalog.md5(pg_catalog.string_agg(object || ': ' || definition, E'\n'
                                            ORDER BY object)) = :'updated' AS same_objects
  FROM pg_temp.mp2_objects;
SELECT extconfig::pg_catalog.regclass[] AS config FROM pg_catalog.pg_extension
 WHERE extname = 'mp2';
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE regress_mp2_new;

-- An update keeps the rights the DBA gave: a function re-created by an
-- update script has the same grantees as before (1.3 re-creates mp2_info()
-- and the moving functions)
CREATE ROLE regress_mp2_up_reader;
CREATE DATABASE regress_mp2_acl;
\c regress_mp2_acl
SET client_min_messages = warning;
CREATE EXTENSION mp2 VERSION '1.2';
REVOKE EXECUTE ON FUNCTION mp2_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_info() TO regress_mp2_up_reader;
REVOKE EXECUTE ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int) FROM mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int) TO regress_mp2_up_reader;
ALTER EXTENSION mp2 UPDATE;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'mp2';
SELECT p.proname,
       CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
       a.privilege_type
  FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
 WHERE p.proname IN ('mp2_info', 'mp2_migrate', 'mp2_migrate_pool',
                     'mp2_interleave', 'mp2_interleave_pool')
   AND a.grantee <> p.proowner
 ORDER BY 1, 2;
SELECT pg_catalog.has_function_privilege('public', 'mp2_info()', 'EXECUTE') AS public_info;
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE regress_mp2_acl;
DROP ROLE regress_mp2_up_reader;
