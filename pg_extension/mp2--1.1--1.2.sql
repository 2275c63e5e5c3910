-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.2'" to load this file. \quit

-- 1.2: the worker's policy "tier" and its view.

-- What policy tier saw and did in its last round, one row per tier: the
-- pool pages on the tier's nodes and the hot ones among them (used in the
-- last 8 rounds), as the round found them before it moved any, the most
-- the tier may hold, the pages moved into it and out of it in the last
-- round and in all, and the share of the buffers used in the last round
-- that were on the tier.  No rows before the
-- first round of policy tier (or without shared_preload_libraries).
CREATE FUNCTION mp2_tier_info(
	OUT tier text,
	OUT nodes text,
	OUT pages bigint,
	OUT hot_pages bigint,
	OUT cap_pages bigint,
	OUT promoted_last_round bigint,
	OUT demoted_last_round bigint,
	OUT promoted_total bigint,
	OUT demoted_total bigint,
	OUT use_share float8,
	OUT last_round timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_tier_info'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION mp2_tier_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_tier_info() TO pg_monitor, mp2_mover;
