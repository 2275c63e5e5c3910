-- SPDX-License-Identifier: MIT
-- YCSB A: 50% point reads, 50% updates, zipfian keys.
\set k 1 + permute(random_zipfian(0, :rows - 1, 1.01), :rows)
\set u random(1, 100)
\if :u <= 50
SELECT field FROM ycsb WHERE key = :k;
\else
UPDATE ycsb SET field = md5(:k::text || random()::text) WHERE key = :k;
\endif
