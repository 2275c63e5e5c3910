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

-- node arrays: more than one dimension, longer than the kernel's possible
-- nodes (checked before the elements are looked at)
SELECT * FROM mp2_interleave('mp2_b', '{{0},{0}}');
SELECT * FROM mp2_interleave_pool('{{0,0},{0,0}}');
\set VERBOSITY terse
SELECT * FROM mp2_interleave('mp2_b', pg_catalog.array_fill(0, ARRAY[100000]));
SELECT * FROM mp2_interleave_pool(pg_catalog.array_fill(0, ARRAY[5000]));
\set VERBOSITY default

-- relations without buffers of their own are named for what they are
CREATE VIEW mp2_bv AS SELECT * FROM mp2_b;
CREATE TYPE mp2_bt AS (a int);
CREATE TABLE mp2_bp (a int) PARTITION BY RANGE (a);
CREATE TABLE mp2_bp1 PARTITION OF mp2_bp FOR VALUES FROM (0) TO (10);
CREATE INDEX mp2_bpi ON mp2_bp (a);
CREATE FOREIGN DATA WRAPPER mp2_bw;
CREATE SERVER mp2_bs FOREIGN DATA WRAPPER mp2_bw;
CREATE FOREIGN TABLE mp2_bf (a int) SERVER mp2_bs;
SELECT * FROM mp2_migrate('mp2_bv', 0);
SELECT * FROM mp2_relation_nodes('mp2_bv');
SELECT * FROM mp2_interleave('mp2_bt');
SELECT * FROM mp2_migrate('mp2_bp', 0);
SELECT * FROM mp2_relation_nodes('mp2_bpi');
SELECT * FROM mp2_migrate('mp2_bf', 0);
-- the partition and the sequence have buffers
SELECT count(*) >= 0 AS ok FROM mp2_relation_nodes('mp2_bp1');
CREATE SEQUENCE mp2_bseq;
SELECT count(*) >= 0 AS ok FROM mp2_relation_nodes('mp2_bseq');

-- rules are checked when written: a relation with buffers, a node with
-- memory
INSERT INTO mp2_rules VALUES ('mp2_bv', 0);
INSERT INTO mp2_rules VALUES ('mp2_bp', 0);
\set VERBOSITY terse
INSERT INTO mp2_rules VALUES ('mp2_b', 99);
\set VERBOSITY default
INSERT INTO mp2_rules VALUES ('mp2_b', 0);
\set VERBOSITY terse
UPDATE mp2_rules SET node = 99;
\set VERBOSITY default
SELECT rel, node, added_by = current_user::text::regrole AS by_me FROM mp2_rules;
DELETE FROM mp2_rules;
DROP VIEW mp2_bv;
DROP TYPE mp2_bt;
DROP TABLE mp2_bp;
DROP FOREIGN TABLE mp2_bf;
DROP SERVER mp2_bs;
DROP FOREIGN DATA WRAPPER mp2_bw;
DROP SEQUENCE mp2_bseq;

-- a call with more arguments than the loaded library reads (SQL of a newer
-- version with an older library preloaded) is refused, not half-read
CREATE FUNCTION pg_temp.mp2_migrate_next(regclass, int, text, text, int,
                                         bigint, int, bigint, int)
RETURNS record AS 'mp2', 'pgmp2_migrate' LANGUAGE C;
SELECT pg_temp.mp2_migrate_next('mp2_b', 0, 'auto', 'async', 512, 0, 0, 0, 1);

-- batch_size 0, negative, above the maximum
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => 0);
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => -1);
SELECT * FROM mp2_migrate('mp2_b', 0, batch_size => 65537);
SELECT * FROM mp2_interleave('mp2_b', batch_size => 0);

-- unknown mode and method names (names are exact)
SELECT * FROM mp2_migrate('mp2_b', 0, mode => 'fast');
SELECT * FROM mp2_migrate('mp2_b', 0, mode => 'ASYNC');
SELECT * FROM mp2_migrate('mp2_b', 0, mode => '1');
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
ALTER SYSTEM SET mp2.interleave_nodes = '0,99';
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
