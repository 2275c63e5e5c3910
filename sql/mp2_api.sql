-- SPDX-License-Identifier: MIT
--
-- mp2_api: the SQL API on any machine (one node or several)
--
-- Counts that depend on the machine are compared, not printed.  Whether
-- a server without CAP_SYS_NICE warns depends on where pages were (see
-- mp2_guest_nocap), so warnings are not shown here.
SET client_min_messages = error;

-- The nodes: at least one, sizes that make sense, 10 on the diagonal
SELECT count(*) >= 1 AS has_nodes,
       bool_and(mem_total > 0) AS has_memory,
       bool_and(mem_free >= 0 AND mem_free <= mem_total) AS free_fits,
       bool_and(cpus ~ '^[0-9,-]*$') AS cpu_list
  FROM mp2_numa_nodes();
WITH n AS (SELECT node, distances,
                  row_number() OVER (ORDER BY node) AS k,
                  count(*) OVER () AS nodes
             FROM mp2_numa_nodes())
SELECT bool_and(distances[k] = 10) AS local_is_10,
       bool_and(cardinality(distances) = nodes) AS one_per_node
  FROM n;

-- The pool as mp2 sees it
SELECT page_size IN (4096, 2097152) AS page_size_ok,
       pool_pages > 0 AS has_pool,
       move_pages2 = (move_pages2_abi IS NOT NULL) AS abi_shown,
       cap_sys_nice IN ('none', 'permitted') AS cap_known
  FROM mp2_info();
-- what the pool got: this server does not set mp2.pool_thp, so its pool is
-- in hugetlb pages (huge_pages = try) or mp2 advised nothing; the count of
-- 2 MiB transparent huge pages (shmem_enabled = always gives some) fits,
-- or is NULL where the kernel cannot tell (before Linux 6.7)
SELECT pool_thp = CASE WHEN huge_pages THEN 'hugetlb' ELSE 'off' END AS pool_thp,
       CASE WHEN huge_pages THEN pool_thp_pages IS NULL
            ELSE pool_thp_pages IS NULL OR
                 pool_thp_pages BETWEEN 0 AND pool_pages / 512 END AS thp_pages_fit
  FROM mp2_info();

-- mp2_buffer_nodes: one row per node with memory and one for pages not
-- faulted in; every buffer and every page counted once
SELECT (SELECT count(*) FROM mp2_buffer_nodes()) =
       (SELECT count(*) + 1 FROM mp2_numa_nodes()) AS one_row_per_node,
       (SELECT count(*) FROM mp2_buffer_nodes() WHERE node IS NULL) AS absent_rows;
SELECT sum(buffers) = (SELECT setting::bigint FROM pg_catalog.pg_settings
                        WHERE name = 'shared_buffers') AS all_buffers,
       sum(os_pages) = (SELECT pool_pages FROM mp2_info()) AS all_pages,
       bool_and(page_size = (SELECT page_size FROM mp2_info())) AS page_size
  FROM mp2_buffer_nodes();

-- mp2_relation_nodes: the buffers of one relation, all in memory
CREATE TABLE mp2_t AS
  SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 10000) g;
SELECT count(*) FROM mp2_t;
SELECT sum(buffers) = pg_catalog.pg_relation_size('mp2_t') / 8192 AS all_blocks,
       sum(os_pages) FILTER (WHERE node IS NULL) AS absent_pages,
       sum(buffers) FILTER (WHERE node IS NULL) AS absent_buffers
  FROM mp2_relation_nodes('mp2_t');
-- all forks: the free space map too, after VACUUM
VACUUM mp2_t;
SELECT count(*) FROM mp2_t;
SELECT sum(buffers) >= pg_catalog.pg_relation_size('mp2_t') / 8192 +
                       pg_catalog.pg_relation_size('mp2_t', 'fsm') / 8192 AS with_fsm
  FROM mp2_relation_nodes('mp2_t');
-- an index and a relation without storage
CREATE INDEX mp2_t_id ON mp2_t (id);
SET enable_seqscan = off;
SELECT count(*) FROM mp2_t WHERE id <= 100;
RESET enable_seqscan;
SELECT sum(buffers) > 0 AS index_buffers FROM mp2_relation_nodes('mp2_t_id');
-- a view has no buffers of its own: an error that says so
CREATE VIEW mp2_v AS SELECT 1 AS one;
SELECT node IS NULL AS absent_row, buffers, os_pages FROM mp2_relation_nodes('mp2_v')
 WHERE node IS NULL;

-- mp2_migrate: every page counted once, the method that ran is shown
SELECT mp2_stats_reset();
CREATE TEMP TABLE r AS
  SELECT * FROM mp2_migrate('mp2_t', (SELECT min(node) FROM mp2_numa_nodes()));
SELECT requested > 0 AS some_pages,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up,
       not_present, not_tried,
       page_size = (SELECT page_size FROM mp2_info()) AS page_size,
       method_used = CASE WHEN (SELECT move_pages2 FROM mp2_info())
                          THEN 'move_pages2' ELSE 'move_pages' END AS method_auto,
       elapsed_ms >= 0 AS timed
  FROM r;
-- the counters add it up, under the method used
SELECT sum(migrations) AS migrations,
       sum(requested) = (SELECT requested FROM r) AS requested,
       sum(moved) = (SELECT moved FROM r) AS moved,
       sum(already) = (SELECT already FROM r) AS already
  FROM mp2_stats();
SELECT sum(migrations) FILTER (WHERE method = (SELECT method_used FROM r)) AS used,
       sum(migrations) FILTER (WHERE method <> (SELECT method_used FROM r)) AS other
  FROM mp2_stats();
DROP TABLE r;

-- the whole pool, with every option given
SELECT requested = (SELECT pool_pages FROM mp2_info()) AS whole_pool,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up,
       method_used, stop_reason
  FROM mp2_migrate_pool(node => (SELECT min(node) FROM mp2_numa_nodes()),
                   method => 'move_pages', mode => 'sync', batch_size => 1,
                   max_pages => 100, max_ms => 0);
SELECT requested = (SELECT pool_pages FROM mp2_info()) AS whole_pool,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up,
       stop_reason
  FROM mp2_migrate_pool(node => (SELECT min(node) FROM mp2_numa_nodes()),
                   method => 'auto', mode => 'async', batch_size => 4096,
                   max_pages => 0, max_ms => 0);

-- budgets: max_pages stops after that many pages (the rest not tried)
SELECT requested - not_tried - not_present AS tried, not_tried > 0 AS stopped,
       stop_reason
  FROM mp2_migrate_pool((SELECT min(node) FROM mp2_numa_nodes()), max_pages => 10);
SELECT requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_migrate_pool((SELECT min(node) FROM mp2_numa_nodes()), max_ms => 1);

-- max_rate paces the pages moved, not those in place: at 1 page a second
-- a call over mp2_t's pages, all on their node, ends at once (paced, it
-- would last minutes; the timeout would say so).  The pace of pages that
-- move is tested where there are two nodes (mp2_guest_cap).
SELECT count(*) > 0 AS placed
  FROM mp2_migrate('mp2_t', (SELECT min(node) FROM mp2_numa_nodes()));
SET statement_timeout = '30s';
SELECT moved, already >= 100 AS in_place, stop_reason
  FROM mp2_migrate('mp2_t', (SELECT min(node) FROM mp2_numa_nodes()),
                   batch_size => 1, max_rate => 1);
RESET statement_timeout;

-- method move_pages2 runs exactly when the kernel has it
CREATE FUNCTION pg_temp.try_move_pages2() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM * FROM mp2_migrate('mp2_t', 0, method => 'move_pages2');
	RETURN (SELECT move_pages2 FROM mp2_info());
EXCEPTION WHEN feature_not_supported THEN
	RETURN NOT (SELECT move_pages2 FROM mp2_info());
END
$$;
SELECT pg_temp.try_move_pages2() AS consistent;

-- every mode and the largest batch
SELECT mode, requested = moved + already + not_present + failed_busy + failed_shared +
                         failed_nomem + failed_other + not_tried AS adds_up
  FROM unnest(ARRAY['async', 'sync_light', 'sync']) AS mode,
       LATERAL mp2_migrate('mp2_t', 0, mode => mode, batch_size => 65536);

-- mp2_interleave: the pool and one relation, over all nodes and a list
SELECT requested = (SELECT pool_pages FROM mp2_info()) AS whole_pool,
       requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_interleave_pool();
SELECT requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_interleave('mp2_t', (SELECT array_agg(node) FROM mp2_numa_nodes()));
SELECT requested = moved + already + not_present + failed_busy + failed_shared +
                   failed_nomem + failed_other + not_tried AS adds_up
  FROM mp2_interleave('mp2_t', ARRAY[0, 0]);

-- put it back, and reset the counters
SELECT not_tried FROM mp2_migrate('mp2_t', 0);
SELECT mp2_stats_reset();
SELECT sum(migrations) AS migrations, sum(requested) AS requested,
       bool_and(stats_reset > now() - interval '1 minute') AS reset_now
  FROM mp2_stats();

DROP VIEW mp2_v;
DROP TABLE mp2_t;
