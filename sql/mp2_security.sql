-- SPDX-License-Identifier: MIT
--
-- mp2_security: a role that owns a database and creates functions,
-- operators, casts, types and settings wherever it can cannot get any of
-- them run with more rights, by CREATE EXTENSION (every script, 1.0 to
-- the newest), by mp2's functions or by the worker.  Every trap bumps a
-- sequence (which no rollback undoes): trap_count() must stay 0.  Each
-- trap is first shown to fire in a control: an unqualified call under
-- the search path it is meant for.
--
SET client_min_messages = warning;
CREATE ROLE regress_mp2_evil LOGIN;
CREATE DATABASE regress_mp2_evil OWNER regress_mp2_evil;
\c regress_mp2_evil regress_mp2_evil
SET client_min_messages = warning;
CREATE SEQUENCE public.trap_calls;
CREATE FUNCTION public.trap() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_catalog.nextval('public.trap_calls'::pg_catalog.regclass);
	RETURN true;
END
$$;
CREATE FUNCTION public.trap_count() RETURNS bigint
LANGUAGE sql AS $$
	SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.trap_calls
$$;
-- Whether running sql falls into a trap; the count starts again at 0.
CREATE FUNCTION public.fires(sql text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM pg_catalog.setval('public.trap_calls'::pg_catalog.regclass, 1, false);
	EXECUTE sql;
	n := public.trap_count();
	PERFORM pg_catalog.setval('public.trap_calls'::pg_catalog.regclass, 1, false);
	RETURN n OPERATOR(pg_catalog.>) 0;
END
$$;
CREATE SCHEMA evil;
CREATE TYPE evil.t AS (a int);
CREATE FUNCTION evil.t_to_oid(evil.t) RETURNS pg_catalog.oid
LANGUAGE plpgsql AS 'BEGIN PERFORM public.trap(); RETURN 0; END';
CREATE CAST (evil.t AS pg_catalog.oid) WITH FUNCTION evil.t_to_oid(evil.t) AS IMPLICIT;
-- Operators that catalog queries use and functions named like built-ins:
-- in evil all of them, which win under the database's search path below
-- (evil before pg_catalog); in public those that pg_catalog has no exact
-- match for, which win under the search path of CREATE EXTENSION ...
-- SCHEMA public (pg_catalog first, then public).
DO $$
DECLARE
	p text[];
	i int := 0;
BEGIN
	FOREACH p SLICE 1 IN ARRAY ARRAY[
		['evil', '=', 'oid', 'regclass'], ['evil', '=', 'regclass', 'oid'],
		['evil', '=', 'oid', 'oid'], ['evil', '=', 'name', 'text'],
		['evil', '=', 'text', 'name'], ['evil', '=', 'name', 'name'],
		['evil', '=', 'text', 'text'], ['evil', '=', 'int4', 'int4'],
		['evil', '>=', 'int4', 'int4'], ['evil', '<', 'oid', 'oid'],
		['evil', '=', 'regclass', 'regclass'], ['evil', '=', 'regrole', 'regrole'],
		['public', '=', 'oid', 'regclass'], ['public', '=', 'regclass', 'oid'],
		['public', '=', 'regclass', 'regclass'], ['public', '=', 'regrole', 'oid']]
	LOOP
		i := i OPERATOR(pg_catalog.+) 1;
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION %I.trap_op%s(pg_catalog.%s, pg_catalog.%s) RETURNS boolean '
			'LANGUAGE sql AS ''SELECT public.trap()''', p[1], i, p[3], p[4]);
		EXECUTE pg_catalog.format(
			'CREATE OPERATOR %I.%s (LEFTARG = pg_catalog.%s, RIGHTARG = pg_catalog.%s, '
			'FUNCTION = %I.trap_op%s)', p[1], p[2], p[3], p[4], p[1], i);
	END LOOP;
	FOREACH p SLICE 1 IN ARRAY ARRAY[
		['evil', 'lower', 'pg_catalog.text'], ['evil', 'quote_ident', 'pg_catalog.text'],
		['evil', 'format_type', 'pg_catalog.oid, pg_catalog.int4'],
		['evil', 'pg_get_userbyid', 'pg_catalog.oid'],
		['evil', 'nextval', 'pg_catalog.regclass'],
		['evil', 'textlike', 'pg_catalog.text, pg_catalog.text'],
		['evil', 'mp2_rules', ''], ['public', 'mp2_rules', ''],
		['public', 'get_database_name', 'pg_catalog.oid']]
	LOOP
		EXECUTE pg_catalog.format(
			'CREATE FUNCTION %I.%I(%s) RETURNS boolean '
			'LANGUAGE sql AS ''SELECT public.trap()''', p[1], p[2], p[3]);
	END LOOP;
END
$$;
-- Types named like built-ins, found before pg_catalog's under evil's path.
CREATE DOMAIN evil.oid AS pg_catalog.int8 CHECK (public.trap());
CREATE DOMAIN evil.regclass AS pg_catalog.int8 CHECK (public.trap());
-- Settings of the database apply to every session that connects to it,
-- the worker's too.
ALTER DATABASE regress_mp2_evil SET search_path = evil, pg_catalog, public;
-- A table it owns, for the rules.
CREATE TABLE public.victim AS SELECT g FROM pg_catalog.generate_series(1, 1000) g;
SELECT pg_catalog.count(*) FROM public.victim;
SELECT public.trap_count() AS trapped;

-- Controls: each trap fires when called unqualified under the path it
-- is meant for.  First the database's own path.
\c regress_mp2_evil regress_mp2_evil
SHOW search_path;
SELECT t AS unqualified, public.fires(pg_catalog.format('SELECT %s', t)) AS fires
  FROM (VALUES
	('0::pg_catalog.oid = ''pg_class''::pg_catalog.regclass'),
	('''pg_class''::pg_catalog.regclass = 0::pg_catalog.oid'),
	('0::pg_catalog.oid = 0::pg_catalog.oid'),
	('''a''::pg_catalog.name = ''a''::pg_catalog.text'),
	('''a''::pg_catalog.text = ''a''::pg_catalog.name'),
	('''a''::pg_catalog.name = ''a''::pg_catalog.name'),
	('''a''::pg_catalog.text = ''a''::pg_catalog.text'),
	('1 = 1'),
	('1 >= 1'),
	('0::pg_catalog.oid < 1::pg_catalog.oid'),
	('''pg_class''::pg_catalog.regclass = ''pg_class''::pg_catalog.regclass'),
	('''postgres''::pg_catalog.regrole = ''postgres''::pg_catalog.regrole'),
	('lower(''A''::pg_catalog.text)'),
	('quote_ident(''a''::pg_catalog.text)'),
	('format_type(23::pg_catalog.oid, -1)'),
	('pg_get_userbyid(10::pg_catalog.oid)'),
	('nextval(''public.trap_calls''::pg_catalog.regclass)'),
	('textlike(''a''::pg_catalog.text, ''a''::pg_catalog.text)'),
	('mp2_rules()'),
	('5::oid'),
	('5::regclass'),
	('(ROW(1)::evil.t)::pg_catalog.oid')) v(t);
-- Then the path of CREATE EXTENSION mp2 SCHEMA public.
SET search_path = public;
SELECT t AS unqualified, public.fires(pg_catalog.format('SELECT %s', t)) AS fires
  FROM (VALUES
	('0::oid = ''pg_class''::regclass'),
	('''pg_class''::regclass = 0::oid'),
	('''pg_class''::regclass = ''pg_class''::regclass'),
	('''postgres''::regrole = 10::oid'),
	('mp2_rules()'),
	('get_database_name(0::oid)')) v(t);
-- The query the worker of mp2 1.0 ran, resolving c.oid = r.rel by name,
-- falls into one under the database's path.
RESET search_path;
CREATE TABLE public.rules_1_0 (rel pg_catalog.regclass);
INSERT INTO public.rules_1_0 VALUES ('public.victim');
SELECT public.fires('SELECT count(*) FROM public.rules_1_0 r JOIN pg_class c ON c.oid = r.rel')
	AS worker_1_0_fires;
DROP TABLE public.rules_1_0;

-- The superuser installs mp2 1.0 into public, which the owner controls,
-- and updates it to the newest: no script runs a trap.
\c regress_mp2_evil postgres
SET client_min_messages = warning;
SHOW search_path;
CREATE EXTENSION mp2 VERSION '1.0' SCHEMA public;
SELECT public.trap_count() AS trapped;
ALTER EXTENSION mp2 UPDATE;
SELECT default_version OPERATOR(pg_catalog.=) installed_version AS newest,
       public.trap_count() AS trapped
  FROM pg_catalog.pg_available_extensions WHERE name OPERATOR(pg_catalog.=) 'mp2';

-- mp2's functions, called schema-qualified with typed arguments (the
-- docs/security.md says why), run none of them either.
SELECT requested > 0 AS pages
  FROM public.mp2_migrate('public.victim'::pg_catalog.regclass, 0);
SELECT requested > 0 AS pages
  FROM public.mp2_interleave('public.victim'::pg_catalog.regclass, NULL::pg_catalog.int4[]);
SELECT pg_catalog.count(*) > 0 AS rows
  FROM public.mp2_relation_nodes('public.victim'::pg_catalog.regclass);
SELECT pg_catalog.count(*) > 0 AS rows FROM public.mp2_buffer_nodes();
SELECT requested > 0 AS pages FROM public.mp2_migrate_pool(0::pg_catalog.int4, max_pages => 100::pg_catalog.int8);
SELECT requested > 0 AS pages FROM public.mp2_interleave_pool(NULL::pg_catalog.int4[], max_pages => 100::pg_catalog.int8);
SELECT pg_catalog.count(*) > 0 AS rows FROM public.mp2_stats();
SELECT pg_catalog.count(*) > 0 AS rows FROM public.mp2_numa_nodes();
SELECT page_size > 0 AS info FROM public.mp2_info();
SELECT public.trap_count() AS trapped;

-- The worker, started in this database, follows a rule that names the
-- owner's table.  Rounds that applied the rule (the table's pages in
-- mp2_stats(), one migration a round) run none of the traps.
SELECT pid IS NULL AS no_worker FROM public.mp2_worker_info();
SELECT rounds AS r0, failed_rounds AS f0 FROM public.mp2_worker_info() \gset
SELECT pg_catalog.set_config('mp2_test.r0', :'r0', false) IS NOT NULL AS r0_set;
INSERT INTO public.mp2_rules VALUES ('public.victim'::pg_catalog.regclass, 0);
SELECT pg_catalog.sum(os_pages) AS victim_pages
  FROM public.mp2_relation_nodes('public.victim'::pg_catalog.regclass) \gset
ALTER SYSTEM SET mp2.policy = 'rules';
SELECT pg_catalog.pg_reload_conf();
SELECT public.mp2_stats_reset();
SELECT public.mp2_worker_start() > 0 AS started;
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		EXIT WHEN (SELECT rounds FROM public.mp2_worker_info())
			OPERATOR(pg_catalog.>=)
			(pg_catalog.current_setting('mp2_test.r0')::pg_catalog.int8 OPERATOR(pg_catalog.+) 2);
		PERFORM pg_catalog.pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT rounds >= :r0 + 2 AS two_rounds, failed_rounds - :f0 AS failed,
       last_error, policy
  FROM public.mp2_worker_info();
SELECT public.mp2_worker_stop() AS stopped;
SELECT migrations >= 2 AS applied_in_rounds,
       requested = migrations * :victim_pages AS the_rule_each_round
  FROM (SELECT pg_catalog.sum(migrations) AS migrations,
               pg_catalog.sum(requested) AS requested
          FROM public.mp2_stats()) s;
SELECT public.trap_count() AS trapped;
ALTER SYSTEM RESET mp2.policy;
SELECT pg_catalog.pg_reload_conf();

-- The owner itself may not move memory or start the worker.
\c regress_mp2_evil regress_mp2_evil
SELECT * FROM public.mp2_migrate('public.victim'::pg_catalog.regclass, 0);
SELECT public.mp2_worker_start();
SELECT public.trap_count() AS trapped;

\c contrib_regression postgres
SET client_min_messages = warning;
DROP DATABASE regress_mp2_evil;
DROP ROLE regress_mp2_evil;
