-- SPDX-License-Identifier: MIT
--
-- mp2_guest_nocap: two NUMA nodes and a server without CAP_SYS_NICE:
-- pages that other processes map are refused, counted, and a WARNING
-- says how to grant the capability
--
-- The WARNING's hint names this server's binary, whose path differs
-- between installs: check-guest.sh finds it in the server log.
\set VERBOSITY terse
SELECT count(*) AS nodes FROM mp2_numa_nodes();
SELECT move_pages2, cap_sys_nice FROM mp2_info();

CREATE TABLE mp2_g AS
  SELECT g AS id, repeat('y', 200) AS pad FROM generate_series(1, 5000) g;
SELECT count(*) FROM mp2_g;
CHECKPOINT;
SELECT mp2_stats_reset();

-- the node that holds fewer of its pages, and how many it holds
SELECT node AS target, os_pages AS before FROM mp2_relation_nodes('mp2_g')
 WHERE node IS NOT NULL ORDER BY os_pages, node LIMIT 1 \gset

SELECT failed_shared > 0 AS refused,
       moved + already + failed_shared + failed_busy = requested AS accounted,
       not_tried
  FROM mp2_migrate('mp2_g', :target);
-- the refused pages stayed where they were
SELECT os_pages <= :before + (SELECT moved FROM mp2_stats() WHERE method = 'move_pages2')
       AS stayed
  FROM mp2_relation_nodes('mp2_g') WHERE node = :target;

-- the same for the whole pool and for interleaving, with move_pages too
SELECT failed_shared > 0 AS refused, not_tried
  FROM mp2_migrate_pool(:target);
SELECT failed_shared > 0 AS refused, method_used
  FROM mp2_interleave('mp2_g', method => 'move_pages');

-- the counters show the refusals
SELECT sum(failed_shared) > 0 AS refused_counted FROM mp2_stats();

DROP TABLE mp2_g;
