-- SPDX-License-Identifier: MIT
--
-- mp2_guest_cap: two NUMA nodes, move_pages2, and a server that has
-- CAP_SYS_NICE (in its permitted set: raised only while migrating)
--
SELECT count(*) AS nodes FROM mp2_numa_nodes();
SELECT move_pages2, move_pages2_abi, cap_sys_nice FROM mp2_info();

-- A table whose pages other processes map too: the checkpointer writes them
CREATE TABLE mp2_g AS
  SELECT g AS id, repeat('y', 200) AS pad FROM generate_series(1, 5000) g;
SELECT count(*) FROM mp2_g;
CHECKPOINT;
SELECT mp2_stats_reset();

-- to node 1: every page moves (shared ones too), nothing is refused
SELECT moved + already + failed_busy = requested AS accounted,
       failed_shared, failed_nomem, failed_other, not_tried, method_used
  FROM mp2_migrate('mp2_g', 1, mode => 'sync');
SELECT node, buffers > 0 AS has_buffers, os_pages > 0 AS has_pages
  FROM mp2_relation_nodes('mp2_g') ORDER BY node;
SELECT cap_sys_nice FROM mp2_info();

-- back to node 0 with move_pages
SELECT moved > 0 AS moved, failed_shared, not_tried, method_used
  FROM mp2_migrate('mp2_g', 0, method => 'move_pages');
SELECT node, buffers > 0 AS has_buffers, os_pages > 0 AS has_pages
  FROM mp2_relation_nodes('mp2_g') ORDER BY node;

-- every mode and a few batch sizes of move_pages2, back and forth
SELECT mode, batch,
       a.moved + a.already + a.failed_busy = a.requested AND
       b.moved + b.already + b.failed_busy = b.requested AS accounted,
       a.moved > 0 AND b.moved > 0 AS moved_both_ways,
       a.failed_shared + b.failed_shared AS failed_shared,
       a.not_tried + b.not_tried AS not_tried
  FROM unnest(ARRAY['async', 'sync_light', 'sync']) AS mode,
       unnest(ARRAY[1, 64, 65536]) AS batch,
       LATERAL mp2_migrate('mp2_g', 1, mode => mode, batch_size => batch) AS a,
       LATERAL mp2_migrate('mp2_g', 0, mode => mode, batch_size => batch) AS b
 ORDER BY 1, 2;

-- a budget in pages: at most that many tried
SELECT moved <= 10 AS at_most_10, not_tried > 0 AS stopped
  FROM mp2_migrate('mp2_g', 1, max_pages => 10);
SELECT moved + already + failed_busy = requested AS accounted
  FROM mp2_migrate('mp2_g', 0, mode => 'sync');

-- interleaving: half of the pages on each node; weights by repetition
SELECT failed_shared, not_tried FROM mp2_interleave('mp2_g', ARRAY[0, 1], mode => 'sync');
SELECT abs(sum(os_pages) FILTER (WHERE node = 0) -
           sum(os_pages) FILTER (WHERE node = 1)) <= 2 AS halves
  FROM mp2_relation_nodes('mp2_g');
SELECT failed_shared, not_tried FROM mp2_interleave('mp2_g', ARRAY[1, 1, 0], mode => 'sync');
SELECT sum(os_pages) FILTER (WHERE node = 1) >= 2 * sum(os_pages) FILTER (WHERE node = 0) - 4
       AS two_thirds_on_1
  FROM mp2_relation_nodes('mp2_g');

-- the whole pool to node 1 and back; pages that come into use meanwhile
-- (first touch by another process) may appear on the other node
SELECT failed_shared, not_tried FROM mp2_migrate_pool(1, mode => 'sync');
SELECT os_pages <= 32 AS pool_on_1 FROM mp2_buffer_nodes() WHERE node = 0;
SELECT failed_shared, not_tried FROM mp2_migrate_pool(0, mode => 'sync');
SELECT os_pages <= 32 AS pool_on_0 FROM mp2_buffer_nodes() WHERE node = 1;

-- the counters: both methods moved pages, none was refused
SELECT method, migrations > 0 AS used, moved > 0 AS moved, failed_shared,
       move_calls > 0 AS calls
  FROM mp2_stats() ORDER BY method;

-- max_rate paces the pages moved: at 1000 pages a second in calls of 10,
-- the last call may not start before (moved - 10) ms
SELECT moved >= 100 AS enough_pages, elapsed_ms >= moved - 10 AS paced,
       stop_reason
  FROM mp2_migrate('mp2_g', 1, batch_size => 10, max_rate => 1000);
-- ... and a cancel ends the wait: at 1 page a second, 300 ms of
-- statement_timeout stop the call after its first page
SET statement_timeout = '300ms';
\set VERBOSITY terse
SELECT * FROM mp2_migrate('mp2_g', 0, batch_size => 1, max_rate => 1);
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) = 1 AS one_page_moved_back
  FROM mp2_relation_nodes('mp2_g') WHERE node = 0 AND os_pages = 1;

DROP TABLE mp2_g;
