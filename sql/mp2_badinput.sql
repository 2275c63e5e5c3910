-- SPDX-License-Identifier: MIT
--
-- mp2_badinput: bad arguments are rejected with exact errors before
-- anything moves
--
SELECT mp2_stats_reset();
CREATE TABLE mp2_b AS SELECT g FROM generate_series(1, 1000) g;

-- unknown relation
SELECT * FROM mp2_migrate('mp2_no_such_table', 0);
SELECT * FROM mp2_relation_nodes('mp2_no_such_table');
SELECT * FROM mp2_migrate(4000000000::oid::regclass, 0);
SELECT * FROM mp2_relation_nodes(4000000000::oid::regclass);
SELECT * FROM mp2_interleave(4000000000::oid::regclass);

-- nodes out of range or without memory (the detail lists the nodes with
-- memory, which depend on the machine)
\set VERBOSITY terse
SELECT * FROM mp2_migrate('mp2_b', -1);
SELECT * FROM mp2_migrate('mp2_b', 99);
SELECT * FROM mp2_migrate_pool(4096);
SELECT * FROM mp2_interleave_pool(ARRAY[4096]);
SELECT * FROM mp2_interleave('mp2_b', ARRAY[0, 99]);
SELECT * FROM mp2_interleave('mp2_b', ARRAY[-1]);
\set VERBOSITY default

-- batch_size 0, negative, above the maximum
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => 0);
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => -1);
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => 65537);
SELECT * FROM mp2_interleave('mp2_b', batch_size => 0);

-- unknown mode and method names (names are exact)
SELECT * FROM mp2_migrate('mp2_b', 0, mode => 'fast');
SELECT * FROM mp2_migrate('mp2_b', 0, mode => 'ASYNC');
SELECT * FROM mp2_migrate('mp2_b', 0, method => 'teleport');
SELECT * FROM mp2_migrate('mp2_b', 0, method => 'MOVE_PAGES');
SELECT * FROM mp2_interleave('mp2_b', mode => '');

-- budgets
SELECT * FROM mp2_migrate('mp2_b', 0, max_pages => -1);
SELECT * FROM mp2_migrate('mp2_b', 0, max_ms => -1);
SELECT * FROM mp2_migrate('mp2_b', 0, max_rate => -1);

-- NULL arguments (nodes => NULL is all nodes)
SELECT * FROM mp2_migrate('mp2_b', NULL);
SELECT * FROM mp2_migrate('mp2_b', 0, method => NULL);
SELECT * FROM mp2_migrate('mp2_b', 0, mode => NULL);
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => NULL);
SELECT * FROM mp2_migrate('mp2_b', 0, max_pages => NULL);
SELECT * FROM mp2_migrate('mp2_b', 0, max_ms => NULL);
SELECT * FROM mp2_migrate_pool(0, max_rate => NULL);
SELECT * FROM mp2_interleave('mp2_b', ARRAY[0, NULL]);
SELECT * FROM mp2_interleave('mp2_b', '{}');
SELECT * FROM mp2_interleave('mp2_b', method => NULL);

-- a NULL relation is an error, not the whole pool (a sub-select that
-- finds no relation must not move every buffer)
SELECT * FROM mp2_migrate(NULL, 0);
SELECT * FROM mp2_migrate((SELECT oid FROM pg_catalog.pg_class WHERE relname = 'mp2_no_such'), 0);
SELECT * FROM mp2_interleave(NULL);
SELECT * FROM mp2_interleave(NULL, ARRAY[0]);
SELECT count(*) FROM mp2_relation_nodes(NULL);
SELECT * FROM mp2_migrate_pool(NULL);
SELECT * FROM mp2_migrate_pool(0, method => NULL);
SELECT * FROM mp2_interleave_pool(ARRAY[0], max_ms => NULL);

-- bad settings are refused (they are set in the server's configuration)
ALTER SYSTEM SET mp2.interleave_nodes = '0-';
ALTER SYSTEM SET mp2.interleave_nodes = 'all';
ALTER SYSTEM SET mp2.interleave_nodes = '3-1';
ALTER SYSTEM SET mp2.batch_size = 0;
ALTER SYSTEM SET mp2.batch_size = 65537;
ALTER SYSTEM SET mp2.mode = 'fast';
ALTER SYSTEM SET mp2.method = 'teleport';
ALTER SYSTEM SET mp2.policy = 'everywhere';
ALTER SYSTEM SET mp2.fast_nodes = '9';
ALTER SYSTEM SET mp2.fast_nodes = '1-';
ALTER SYSTEM SET mp2.slow_nodes = '0';
ALTER SYSTEM SET mp2.fast_fraction = 0;
-- (the message for a value out of range differs between versions: the
-- bounds are shown by pg_settings instead)
SELECT name, min_val, max_val, unit FROM pg_catalog.pg_settings
 WHERE name IN ('mp2.naptime', 'mp2.batch_size', 'mp2.max_pages_per_round')
 ORDER BY name;
ALTER SYSTEM SET mp2.max_pages_per_round = -1;
SET mp2.policy = 'interleave';
SET mp2.database = 'other';
-- the pool's pages are chosen before it is first touched, at server start
SET mp2.pool_thp = on;
SHOW mp2.pool_thp;

-- nothing was moved or even tried
SELECT sum(migrations) AS migrations, sum(requested) AS requested,
       sum(moved) AS moved
  FROM mp2_stats();

DROP TABLE mp2_b;
