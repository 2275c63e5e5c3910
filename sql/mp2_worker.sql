-- SPDX-License-Identifier: MIT
--
-- mp2_worker: start and stop the relocation worker from SQL
--
-- the preloaded worker follows the rules of database postgres, policy off
-- (it is attached to no database, so pg_stat_activity does not list it)
SELECT pid IS NOT NULL AS running, database, policy FROM mp2_worker_info();

-- stop it: it exits and, having stopped cleanly, is not restarted
SELECT mp2_worker_stop();
SELECT pid IS NULL AS stopped FROM mp2_worker_info();
SELECT pg_catalog.pg_sleep(1);
SELECT pid IS NULL AS not_restarted FROM mp2_worker_info();
SELECT mp2_worker_stop();

-- start one on demand, in this database; a second start is refused with
-- the pid of the running one
SELECT mp2_worker_start() > 0 AS started;
SELECT pid IS NOT NULL AS running, database = current_database() AS here
  FROM mp2_worker_info();
DO $$
DECLARE
	msg text;
	hint text;
BEGIN
	PERFORM mp2_worker_start();
EXCEPTION WHEN object_in_use THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RAISE NOTICE '% (hint: %)',
		pg_catalog.replace(msg, (SELECT pid FROM mp2_worker_info())::text, 'PID'),
		hint;
END
$$;
SELECT mp2_worker_stop();
SELECT pid IS NULL AS stopped FROM mp2_worker_info();
