-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.6.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION mp2" to load this file. \quit

-- Every statement here names pg_catalog objects and operators explicitly,
-- so that nothing in the schema the extension goes into can change what
-- it does.  The functions are in C and run no SQL.

-- Members of mp2_mover may move shared buffers and run the worker.  The
-- role is shared by all databases of the cluster and outlives the
-- extension; it is created by the first CREATE EXTENSION mp2.  One that
-- exists already is used only if nothing in it says a non-superuser made
-- it or controls who is in it: whoever does would decide who may move
-- memory.  (On PostgreSQL 16 and later the creator of a role holds ADMIN
-- on it; on 15 a CREATEROLE role may grant any role, mp2_mover included.)
DO $$
DECLARE
	why text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	               WHERE rolname OPERATOR(pg_catalog.=) 'mp2_mover') THEN
		CREATE ROLE mp2_mover NOLOGIN;
		RETURN;
	END IF;
	SELECT 'it has attributes a group role of mp2 does not have ' ||
	       '(LOGIN, SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS)'
	  INTO why
	  FROM pg_catalog.pg_roles r
	 WHERE r.rolname OPERATOR(pg_catalog.=) 'mp2_mover'
	   AND (r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR
	        r.rolreplication OR r.rolbypassrls);
	IF why IS NULL THEN
		SELECT pg_catalog.format('%s was made a member by %s, who is not a superuser',
		                         pg_catalog.quote_ident(m.rolname),
		                         pg_catalog.quote_ident(g.rolname))
		  INTO why
		  FROM pg_catalog.pg_auth_members a
		  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.roleid
		  JOIN pg_catalog.pg_roles m ON m.oid OPERATOR(pg_catalog.=) a.member
		  JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) a.grantor
		 WHERE r.rolname OPERATOR(pg_catalog.=) 'mp2_mover' AND NOT g.rolsuper
		 LIMIT 1;
	END IF;
	IF why IS NULL THEN
		SELECT pg_catalog.format('%s, not a superuser, may grant it (ADMIN OPTION)',
		                         pg_catalog.quote_ident(m.rolname))
		  INTO why
		  FROM pg_catalog.pg_auth_members a
		  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.roleid
		  JOIN pg_catalog.pg_roles m ON m.oid OPERATOR(pg_catalog.=) a.member
		 WHERE r.rolname OPERATOR(pg_catalog.=) 'mp2_mover' AND a.admin_option
		   AND NOT m.rolsuper
		 LIMIT 1;
	END IF;
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'role mp2_mover exists and cannot be trusted: %', why
			USING ERRCODE = 'insufficient_privilege',
			      HINT = 'A superuser should look at the role and its members, ' ||
			             'then drop it (DROP ROLE mp2_mover) or revoke what is shown, ' ||
			             'and run CREATE EXTENSION mp2 again.';
	END IF;
END
$$;

-- The NUMA nodes with memory.  distances[k] is the distance to the k-th
-- node of this list (10 = local).
CREATE FUNCTION mp2_numa_nodes(
	OUT node int,
	OUT cpus text,
	OUT mem_total bigint,
	OUT mem_free bigint,
	OUT distances int[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_numa_nodes'
LANGUAGE C STRICT VOLATILE;

-- The kernel, the capability and the pool as mp2 sees them.  pool_thp:
-- what the pool got: hugetlb (huge_pages), advised (mp2.pool_thp), off, or
-- "unavailable: " and the reason; pool_thp_pages: how many of its 2 MiB are
-- transparent huge pages (mapped whole; see pool_thp.c).  mapper_pid: the
-- worker whose page tables pages are located through (NULL: each backend
-- faults in what it locates); mapper_pages: the pages it mapped in its
-- last full pass over the pool (NULL before the first).
CREATE FUNCTION mp2_info(
	OUT move_pages2 boolean,
	OUT move_pages2_abi int,
	OUT cap_sys_nice text,
	OUT page_size int,
	OUT huge_pages boolean,
	OUT pool_pages bigint,
	OUT preloaded boolean,
	OUT pool_thp text,
	OUT pool_thp_pages bigint,
	OUT mapper_pid int,
	OUT mapper_pages bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmp2_info'
LANGUAGE C STRICT VOLATILE;

-- Where the shared buffer pool is: per node with memory its buffers and
-- OS pages, and a row with node NULL for pages no process has faulted in.
CREATE FUNCTION mp2_buffer_nodes(
	OUT node int,
	OUT buffers bigint,
	OUT os_pages bigint,
	OUT page_size int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_buffer_nodes'
LANGUAGE C STRICT VOLATILE;

-- The same for the shared buffers of one relation (all forks); needs
-- SELECT on it.
CREATE FUNCTION mp2_relation_nodes(
	rel regclass,
	OUT node int,
	OUT buffers bigint,
	OUT os_pages bigint,
	OUT page_size int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmp2_relation_nodes'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Move the pages of a relation's buffers to node; needs SELECT on it.
CREATE FUNCTION mp2_migrate(
	rel regclass,
	node int,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
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

-- Move every page of the shared buffer pool to node.
CREATE FUNCTION mp2_migrate_pool(
	node int,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
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

-- Spread the pages of a relation's buffers round-robin over nodes (NULL:
-- every node with memory); needs SELECT on the relation.
CREATE FUNCTION mp2_interleave(
	rel regclass,
	nodes int[] DEFAULT NULL,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
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

-- Spread the whole pool round-robin over nodes (NULL: every node with
-- memory), whole buffers (or huge pages) taking turns.
CREATE FUNCTION mp2_interleave_pool(
	nodes int[] DEFAULT NULL,
	method text DEFAULT 'auto',
	mode text DEFAULT 'async',
	batch_size int DEFAULT 512,
	max_pages bigint DEFAULT 0,
	max_ms int DEFAULT 0,
	max_rate bigint DEFAULT 0,
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

-- Cumulative counters per method since the server started (or since
-- mp2_stats_reset()); without shared_preload_libraries, of this session.
CREATE FUNCTION mp2_stats(
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

CREATE FUNCTION mp2_stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'pgmp2_stats_reset'
LANGUAGE C STRICT VOLATILE;

-- The relocation worker.
CREATE FUNCTION mp2_worker_start()
RETURNS int
AS 'MODULE_PATHNAME', 'pgmp2_worker_start'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION mp2_worker_stop()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pgmp2_worker_stop'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION mp2_worker_info(
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

-- Rules of the worker's policy "rules": the buffers of rel belong on node.
-- added_by is who wrote the rule; the worker moves rel only while that
-- role may read it.  The trigger fills it in and refuses a rule for a
-- relation without buffers of its own, one its writer may not read, or a
-- node without memory.
CREATE TABLE mp2_rules (
	rel regclass PRIMARY KEY,
	node int NOT NULL CHECK (node OPERATOR(pg_catalog.>=) 0),
	added_by regrole
);
SELECT pg_catalog.pg_extension_config_dump('mp2_rules', '');

CREATE FUNCTION mp2_rules_write()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgmp2_rules_write'
LANGUAGE C;

CREATE TRIGGER mp2_rules_write BEFORE INSERT OR UPDATE ON mp2_rules
	FOR EACH ROW EXECUTE FUNCTION mp2_rules_write();

-- Moving memory and steering the worker: superusers and mp2_mover only.
REVOKE ALL ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_stats_reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_rules_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_worker_start() FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_worker_stop() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_migrate(regclass, int, text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_interleave(regclass, int[], text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_migrate_pool(int, text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_interleave_pool(int[], text, text, int, bigint, int, bigint) TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_stats_reset() TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_worker_start() TO mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_worker_stop() TO mp2_mover;

-- Looking (it reads every buffer page): also pg_monitor.
REVOKE ALL ON FUNCTION mp2_buffer_nodes() FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_relation_nodes(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION mp2_worker_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mp2_buffer_nodes() TO pg_monitor, mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_relation_nodes(regclass) TO pg_monitor, mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_stats() TO pg_monitor, mp2_mover;
GRANT EXECUTE ON FUNCTION mp2_worker_info() TO pg_monitor, mp2_mover;

REVOKE ALL ON TABLE mp2_rules FROM PUBLIC;
GRANT SELECT ON TABLE mp2_rules TO pg_monitor;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE mp2_rules TO mp2_mover;

-- What policy tier knows of each tier, one row per tier: the pool pages
-- on the tier's nodes and the hot ones among them (used in the last 8
-- visits of their slice), as each slice's last round left them, the most
-- the tier may hold, the pages moved into it and out of it in the last
-- round and in all, and the share of the buffers used at the last visit
-- of their slice that were on the tier.  No rows before the first round
-- of policy tier (or without shared_preload_libraries).
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
