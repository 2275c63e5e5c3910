-- SPDX-License-Identifier: MIT
-- The YCSB table: :rows rows of about 100 bytes, keys 1..:rows; inserts
-- take keys above that from the sequence.
SET client_min_messages = warning;
DROP TABLE IF EXISTS ycsb;
CREATE TABLE ycsb (
	key bigint PRIMARY KEY,
	field text NOT NULL
);
CREATE SEQUENCE ycsb_key_seq OWNED BY ycsb.key;
ALTER TABLE ycsb ALTER COLUMN key SET DEFAULT nextval('ycsb_key_seq');
INSERT INTO ycsb
	SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, :rows) g;
SELECT setval('ycsb_key_seq', :rows);
VACUUM ANALYZE ycsb;
