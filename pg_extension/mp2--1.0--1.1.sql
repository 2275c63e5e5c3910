-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.1'" to load this file. \quit

-- 1.1: a NULL relation is an error (the whole pool has functions of its
-- own), relation functions check SELECT privilege, results may say why
-- a migration stopped, and the C entry points have the names of 1.1.

CREATE OR REPLACE FUNCTION mp2_numa_nodes(
	OUT node int,
	OUT cpus text,
	OUT mem_total bigint,
	OUT mem_free bigint,
	OUT distances int[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_numa_nodes'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_info(
	OUT move_pages2 boolean,
	OUT move_pages2_abi int,
	OUT cap_sys_nice text,
	OUT page_size int,
	OUT huge_pages boolean,
	OUT pool_pages bigint,
	OUT preloaded boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_info'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_buffer_nodes(
	OUT node int,
	OUT buffers bigint,
	OUT os_pages bigint,
	OUT page_size int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_buffer_nodes'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_relation_nodes(
	rel regclass,
	OUT node int,
	OUT buffers bigint,
	OUT os_pages bigint,
	OUT page_size int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_relation_nodes'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_stats(
	OUT method text,
	OUT migrations bigint,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT move_calls bigint,
	OUT elapsed_ms float8,
	OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_stats'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'pgmp2_stats_reset'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_worker_start()
RETURNS int
AS 'MODULE_PATHNAME', 'pgmp2_worker_start'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_worker_stop()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pgmp2_worker_stop'
LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION mp2_worker_info(
	OUT pid int,
	OUT database text,
	OUT policy text,
	OUT rounds bigint,
	OUT failed_rounds bigint,
	OUT pages_moved bigint,
	OUT last_round timestamptz,
	OUT last_error text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_worker_info'
LANGUAGE C STRICT VOLATILE;

-- New result column stop_reason: dropped and created again.
DROP FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int);
DROP FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int);

CREATE FUNCTION mp2_migrate(
	rel regclass,
	node int,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_migrate'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION mp2_migrate_pool(
	node int,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_migrate_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION mp2_interleave(
	rel regclass,
	nodes int[] DEFAULT NULL,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_interleave'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION mp2_interleave_pool(
	nodes int[] DEFAULT NULL,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	OUT requested bigint,
	OUT moved bigint,
	OUT already bigint,
	OUT not_present bigint,
	OUT failed_busy bigint,
	OUT failed_shared bigint,
	OUT failed_nomem bigint,
	OUT failed_other bigint,
	OUT not_tried bigint,
	OUT page_size int,
	OUT elapsed_ms float8,
	OUT method_used text,
	OUT stop_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_interleave_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

REVOKE ALL ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int) TO mp2_mover;
