-- SPDX-License-Identifier: MIT
--
-- mp2_nopreload: without shared_preload_libraries the SQL functions work;
-- counters are of this session, and there is no worker
--
CREATE EXTENSION mp2;
SELECT preloaded FROM mp2_info();
-- mp2.pool_thp exists only where mp2 is preloaded: the pool was not advised
SELECT pool_thp IN ('off', 'hugetlb') AS not_advised FROM mp2_info();
SELECT count(*) > 1 AS rows FROM mp2_buffer_nodes();
CREATE TABLE mp2_n AS SELECT g FROM generate_series(1, 1000) g;
SELECT requested > 0 AS pages,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_migrate('mp2_n', 0);
SELECT sum(migrations) AS migrations FROM mp2_stats();
-- the worker needs shared memory, so shared_preload_libraries
SELECT pid, database, policy, rounds FROM mp2_worker_info();
SELECT mp2_worker_start();
SELECT mp2_worker_stop();
DROP TABLE mp2_n;
DROP EXTENSION mp2;
