-- SPDX-License-Identifier: MIT
--
-- mp2_privilege: moving memory is for superusers and mp2_mover
--
SET client_min_messages = error;
SELECT mp2_stats_reset();
CREATE ROLE regress_mp2_user;
CREATE ROLE regress_mp2_admin;
GRANT mp2_mover TO regress_mp2_admin;
CREATE TABLE mp2_p AS SELECT g FROM generate_series(1, 1000) g;
GRANT SELECT ON mp2_p TO PUBLIC;

-- an ordinary role may look at the nodes, nothing else
SET ROLE regress_mp2_user;
SELECT count(*) > 0 AS nodes FROM mp2_numa_nodes();
SELECT page_size > 0 AS info FROM mp2_info();
SELECT * FROM mp2_migrate('mp2_p', 0);
SELECT * FROM mp2_migrate_pool(0);
SELECT * FROM mp2_interleave_pool();
SELECT * FROM mp2_interleave('mp2_p', ARRAY[0]);
SELECT mp2_stats_reset();
SELECT mp2_worker_start();
SELECT mp2_worker_stop();
SELECT count(*) FROM mp2_buffer_nodes();
SELECT count(*) FROM mp2_relation_nodes('mp2_p');
SELECT count(*) FROM mp2_stats();
SELECT count(*) FROM mp2_worker_info();
SELECT * FROM mp2_rules;
INSERT INTO mp2_rules VALUES ('mp2_p', 0);
RESET ROLE;

-- nothing moved
SELECT sum(migrations) AS migrations FROM mp2_stats();

-- pg_monitor may look, not move
GRANT pg_monitor TO regress_mp2_user;
SET ROLE regress_mp2_user;
SELECT count(*) > 1 AS rows FROM mp2_buffer_nodes();
SELECT count(*) > 1 AS rows FROM mp2_relation_nodes('mp2_p');
SELECT count(*) AS rows FROM mp2_stats();
SELECT count(*) AS rows FROM mp2_rules;
SELECT * FROM mp2_migrate('mp2_p', 0);
INSERT INTO mp2_rules VALUES ('mp2_p', 0);
RESET ROLE;

-- a member of mp2_mover may move and write rules
SET ROLE regress_mp2_admin;
SELECT requested > 0 AS moved_some FROM mp2_migrate('mp2_p', 0);
SELECT requested > 0 AS moved_some FROM mp2_interleave('mp2_p', ARRAY[0]);
INSERT INTO mp2_rules VALUES ('mp2_p', 0);
SELECT rel, node FROM mp2_rules;
DELETE FROM mp2_rules;
SELECT mp2_stats_reset();
RESET ROLE;
SELECT sum(migrations) AS migrations FROM mp2_stats();

-- relation functions need SELECT on the relation, also for mp2_mover and
-- pg_monitor; nothing is moved or looked at without it
CREATE TABLE mp2_secret AS SELECT g FROM generate_series(1, 1000) g;
SELECT count(*) FROM mp2_secret;
SET ROLE regress_mp2_admin;
SELECT * FROM mp2_migrate('mp2_secret', 0);
SELECT * FROM mp2_interleave('mp2_secret');
SELECT count(*) FROM mp2_relation_nodes('mp2_secret');
RESET ROLE;
SET ROLE regress_mp2_user;
SELECT count(*) FROM mp2_relation_nodes('mp2_secret');
RESET ROLE;
SELECT sum(migrations) AS migrations FROM mp2_stats();
-- nor may a rule have the worker move it, also when the rule names a
-- superuser as its writer
SET ROLE regress_mp2_admin;
INSERT INTO mp2_rules VALUES ('mp2_secret', 0);
INSERT INTO mp2_rules
SELECT 'mp2_secret', 0, oid::regrole FROM pg_catalog.pg_roles
 WHERE rolsuper ORDER BY oid LIMIT 1;
-- a rule on a relation it may read records it as the writer
INSERT INTO mp2_rules
SELECT 'mp2_p', 0, oid::regrole FROM pg_catalog.pg_roles
 WHERE rolsuper ORDER BY oid LIMIT 1;
SELECT rel, node, added_by FROM mp2_rules;
DELETE FROM mp2_rules;
RESET ROLE;
GRANT SELECT ON mp2_secret TO regress_mp2_admin;
SET ROLE regress_mp2_admin;
SELECT requested > 0 AS moved_some FROM mp2_migrate('mp2_secret', 0);
RESET ROLE;
SELECT sum(migrations) AS migrations FROM mp2_stats();

DROP TABLE mp2_secret;
DROP TABLE mp2_p;
DROP ROLE regress_mp2_user;
DROP ROLE regress_mp2_admin;
