-- SPDX-License-Identifier: MIT
--
-- mp2_security: a role that owns a database and creates functions,
-- operators, casts and settings wherever it can cannot get any of them
-- run with more rights, by CREATE EXTENSION, by mp2's functions or by the
-- worker.  Every trap bumps a sequence (which no rollback undoes); it
-- must never move.
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
	PERFORM pg_catalog.nextval('public.trap_calls');
	RETURN true;
END
$$;
CREATE SCHEMA evil;
CREATE TYPE evil.t AS (a int);
CREATE FUNCTION evil.t_to_oid(evil.t) RETURNS oid
LANGUAGE plpgsql AS 'BEGIN PERFORM public.trap(); RETURN 0; END';
CREATE CAST (evil.t AS oid) WITH FUNCTION evil.t_to_oid(evil.t) AS IMPLICIT;
-- In public and in its own schema: the operators that catalog queries
-- use, functions named like built-ins, types named like built-ins.
DO $$
DECLARE
	s text;
	p text[];
	i int := 0;
BEGIN
	FOREACH s IN ARRAY ARRAY['public', 'evil'] LOOP
		FOREACH p SLICE 1 IN ARRAY ARRAY[
			['=', 'oid', 'regclass'], ['=', 'regclass', 'oid'],
			['=', 'oid', 'oid'], ['=', 'name', 'text'], ['=', 'text', 'name'],
			['=', 'name', 'name'], ['=', 'text', 'text'], ['=', 'int4', 'int4'],
			['>=', 'int4', 'int4'], ['<', 'oid', 'oid'], ['=', 'regclass', 'regclass']]
		LOOP
			i := i + 1;
			EXECUTE pg_catalog.format(
				'CREATE FUNCTION %I.trap_op%s(%s, %s) RETURNS boolean '
				'LANGUAGE sql AS ''SELECT public.trap()''', s, i, p[2], p[3]);
			EXECUTE pg_catalog.format(
				'CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I.trap_op%s)',
				s, p[1], p[2], p[3], s, i);
		END LOOP;
		FOREACH p SLICE 1 IN ARRAY ARRAY[
			['lower', 'text'], ['quote_ident', 'text'], ['format_type', 'oid, int4'],
			['pg_get_userbyid', 'oid'], ['nextval', 'regclass'], ['mp2_rules', ''],
			['get_database_name', 'oid'], ['textlike', 'text, text']]
		LOOP
			EXECUTE pg_catalog.format(
				'CREATE FUNCTION %I.%I(%s) RETURNS boolean '
				'LANGUAGE sql AS ''SELECT public.trap()''', s, p[1], p[2]);
		END LOOP;
	END LOOP;
END
$$;
CREATE DOMAIN public.oid AS pg_catalog.int8 CHECK (public.trap());
CREATE DOMAIN evil.regclass AS pg_catalog.int8 CHECK (public.trap());
-- Settings of the database apply to every session that connects to it,
-- the worker's too.
ALTER DATABASE regress_mp2_evil SET search_path = evil, public;
-- A table it owns, for the rules.
CREATE TABLE public.victim AS SELECT g FROM pg_catalog.generate_series(1, 1000) g;
SELECT pg_catalog.count(*) FROM public.victim;
SELECT is_called AS trapped FROM public.trap_calls;

-- The superuser installs mp2 into public, which the owner controls:
-- the script runs none of the traps.
\c regress_mp2_evil postgres
SET client_min_messages = warning;
SHOW search_path;
CREATE EXTENSION mp2 SCHEMA public;
SELECT is_called AS trapped FROM public.trap_calls;

-- mp2's functions, called schema-qualified with typed arguments (the
-- README says why), run none of them either.
SELECT requested > 0 AS pages
  FROM public.mp2_migrate('public.victim'::pg_catalog.regclass, 0);
SELECT requested > 0 AS pages
  FROM public.mp2_interleave('public.victim'::pg_catalog.regclass, NULL::int[]);
SELECT pg_catalog.count(*) > 0 AS rows
  FROM public.mp2_relation_nodes('public.victim'::pg_catalog.regclass);
SELECT pg_catalog.count(*) > 0 AS rows FROM public.mp2_buffer_nodes();
SELECT requested > 0 AS pages FROM public.mp2_migrate_pool(0::int4, max_pages => 100::int8);
SELECT requested > 0 AS pages FROM public.mp2_interleave_pool(NULL::int[], max_pages => 100::int8);
SELECT pg_catalog.count(*) > 0 AS rows FROM public.mp2_stats();
SELECT pg_catalog.count(*) > 0 AS rows FROM public.mp2_numa_nodes();
SELECT page_size > 0 AS info FROM public.mp2_info();
SELECT is_called AS trapped FROM public.trap_calls;

-- The worker, started in this database, follows a rule that names the
-- owner's table: its rounds run none of them.
INSERT INTO public.mp2_rules VALUES ('public.victim'::pg_catalog.regclass, 0);
SELECT public.mp2_worker_stop() IS NOT NULL AS stopped;
ALTER SYSTEM SET mp2.policy = 'rules';
SELECT pg_catalog.pg_reload_conf();
SELECT public.mp2_worker_start() > 0 AS started;
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		EXIT WHEN (SELECT rounds FROM public.mp2_worker_info()) >= 3;
		PERFORM pg_catalog.pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT rounds >= 3 AS rounds, failed_rounds, last_error, policy
  FROM public.mp2_worker_info();
SELECT is_called AS trapped FROM public.trap_calls;
SELECT public.mp2_worker_stop();
ALTER SYSTEM RESET mp2.policy;
SELECT pg_catalog.pg_reload_conf();

-- The traps work: the query the worker of mp2 1.0 ran, resolving
-- c.oid = r.rel by name, falls into one when run here.
SELECT count(*) > 0 AS joined
  FROM public.mp2_rules r JOIN pg_catalog.pg_class c ON c.oid = r.rel;
SELECT is_called AS trapped FROM public.trap_calls;
SELECT pg_catalog.setval('public.trap_calls', 1, false);

-- The owner itself may not move memory or start the worker.
\c regress_mp2_evil regress_mp2_evil
SELECT * FROM public.mp2_migrate('public.victim'::pg_catalog.regclass, 0);
SELECT public.mp2_worker_start();
SELECT is_called AS trapped FROM public.trap_calls;

\c contrib_regression postgres
SET client_min_messages = warning;
DROP DATABASE regress_mp2_evil;
DROP ROLE regress_mp2_evil;
