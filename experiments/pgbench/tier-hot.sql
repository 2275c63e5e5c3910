-- SPDX-License-Identifier: MIT
-- The load of policy tier's test and experiment on pgbench_accounts:
-- ranges of 2000 rows read, spread evenly, and rows picked by a zipfian
-- distribution updated.  pgbench -D rows=N: the rows of the table.
\set a random_zipfian(1, :rows - 1000, 1.05)
\set u random(1, :rows - 2000)
SELECT sum(abalance) FROM pgbench_accounts WHERE aid BETWEEN :u AND :u + 2000;
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :a;
