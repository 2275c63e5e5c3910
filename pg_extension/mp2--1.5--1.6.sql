-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.5--1.6.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.6'" to load this file. \quit

-- 1.6: a round of policy tier looks at a slice of the pool
-- (mp2.tier_slice), and mp2_tier_progress() shows the last one.

-- Policy tier's last round: its slice of the pool (slice of slices, each
-- mp2.tier_slice of buffers; passes: full passes over the pool so far),
-- and its work: buffer headers read, pages located (to survey the slice
-- and to move its pages), pages moved, and how long it took.  No row
-- before the first round of policy tier.
CREATE FUNCTION mp2_tier_progress(
	OUT slice int,
	OUT slices int,
	OUT passes bigint,
	OUT buffers_read bigint,
	OUT pages_located bigint,
	OUT pages_moved bigint,
	OUT round_ms float8,
	OUT rounds bigint,
	OUT last_round timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_tier_progress'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION mp2_tier_progress() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_tier_progress() TO pg_monitor, mp2_mover;
