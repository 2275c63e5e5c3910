--
-- mp2_worker: start and stop the relocation worker from SQL
--
-- the preloaded worker runs in database postgres with policy off
SELECT pid IS NOT NULL AS running, database, policy FROM mp2_worker_info();
SELECT count(*) AS workers FROM pg_catalog.pg_stat_activity
 WHERE backend_type = 'mp2 worker';

-- stop it: it exits and, having stopped cleanly, is not restarted
SELECT mp2_worker_stop();
SELECT pid IS NULL AS stopped FROM mp2_worker_info();
SELECT pg_catalog.pg_sleep(1);
SELECT count(*) AS workers FROM pg_catalog.pg_stat_activity
 WHERE backend_type = 'mp2 worker';
SELECT mp2_worker_stop();

-- start one on demand, in this database; a second start finds it
SELECT mp2_worker_start() > 0 AS started;
SELECT pid IS NOT NULL AS running, database = current_database() AS here
  FROM mp2_worker_info();
SELECT mp2_worker_start() = (SELECT pid FROM mp2_worker_info()) AS same;
SELECT count(*) AS workers FROM pg_catalog.pg_stat_activity
 WHERE backend_type = 'mp2 worker';
SELECT mp2_worker_stop();
SELECT pid IS NULL AS stopped FROM mp2_worker_info();
