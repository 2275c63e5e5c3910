-- SPDX-License-Identifier: MIT
-- YCSB E: 95% short range scans of 1 to 100 rows, 5% inserts.
\set k 1 + permute(random_zipfian(0, :rows - 1, 1.01), :rows)
\set u random(1, 100)
\set len random(1, 100)
\if :u <= 95
SELECT key, field FROM ycsb WHERE key >= :k ORDER BY key LIMIT :len;
\else
INSERT INTO ycsb (field) VALUES (md5(random()::text));
\endif
