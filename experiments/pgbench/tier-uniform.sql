-- SPDX-License-Identifier: MIT
-- The uniform load of experiments/tiering.sh on pgbench_accounts: one row
-- read, picked evenly (pgbench -S).  pgbench -D rows=N: the rows of the
-- table.
\set aid random(1, :rows)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
