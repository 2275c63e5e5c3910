-- SPDX-License-Identifier: MIT
-- YCSB C: 100% point reads, zipfian keys scattered over the table.
\set k 1 + permute(random_zipfian(0, :rows - 1, 1.01), :rows)
SELECT field FROM ycsb WHERE key = :k;
