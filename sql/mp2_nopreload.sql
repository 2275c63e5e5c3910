--
-- mp2_nopreload: without shared_preload_libraries the SQL functions work;
-- counters are of this session and the worker is started on demand
--
CREATE EXTENSION mp2;
SELECT preloaded FROM mp2_info();
SELECT count(*) > 1 AS rows FROM mp2_buffer_nodes();
CREATE TABLE mp2_n AS SELECT g FROM generate_series(1, 1000) g;
SELECT requested > 0 AS pages,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_migrate('mp2_n', 0);
SELECT sum(migrations) AS migrations FROM mp2_stats();
SELECT pid, database, policy, rounds FROM mp2_worker_info();
SELECT mp2_worker_start() > 0 AS started;
SELECT pid IS NOT NULL AS running, database, rounds FROM mp2_worker_info();
SELECT count(*) AS workers FROM pg_catalog.pg_stat_activity
 WHERE backend_type = 'mp2 worker';
SELECT mp2_worker_stop();
SELECT pid FROM mp2_worker_info();
DROP TABLE mp2_n;
DROP EXTENSION mp2;
