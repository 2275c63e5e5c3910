-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.4'" to load this file. \quit

-- 1.4: a rule records who wrote it, and the worker moves a relation only
-- while that role may read it.  Rules written before have no writer: the
-- worker skips them (and logs which) until someone who may read the
-- relation writes them again, e.g. UPDATE mp2_rules SET node = node.
-- The checks on mp2_mover that CREATE EXTENSION makes (mp2--1.4.sql) are
-- for a role about to be trusted; an update keeps the role it has.
ALTER TABLE mp2_rules ADD COLUMN added_by regrole;

CREATE FUNCTION mp2_rules_write()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgmp2_rules_write'
LANGUAGE C;
REVOKE ALL ON FUNCTION mp2_rules_write() FROM PUBLIC;

CREATE TRIGGER mp2_rules_write BEFORE INSERT OR UPDATE ON mp2_rules
	FOR EACH ROW EXECUTE FUNCTION mp2_rules_write();
