-- SPDX-License-Identifier: MIT
--
-- mp2_mover: CREATE EXTENSION uses a role mp2_mover that exists already
-- only if no non-superuser made it or decides who is in it.  Runs first,
-- in a cluster where the extension was never created (the role is shared
-- by all databases); it leaves no role mp2_mover behind.
--
SET client_min_messages = warning;
\set SHOW_CONTEXT never
SELECT count(*) AS mp2_mover_roles FROM pg_catalog.pg_roles
 WHERE rolname = 'mp2_mover';
CREATE ROLE regress_mp2_squatter CREATEROLE;
CREATE ROLE regress_mp2_friend;

-- A CREATEROLE role made it and put a friend in: refused, by name
SET ROLE regress_mp2_squatter;
CREATE ROLE mp2_mover NOLOGIN;
GRANT mp2_mover TO regress_mp2_friend;
RESET ROLE;
CREATE EXTENSION mp2;
SELECT count(*) AS extensions FROM pg_catalog.pg_extension WHERE extname = 'mp2';
DROP ROLE mp2_mover;

-- A CREATEROLE role made it and put nobody in.  From PostgreSQL 16 on its
-- maker holds ADMIN on it (and could put anyone in later): refused.  On
-- 15 nothing records who made it, and CREATEROLE may grant any role,
-- mp2_mover made by a superuser included: used.
SET ROLE regress_mp2_squatter;
CREATE ROLE mp2_mover NOLOGIN;
RESET ROLE;
DO $$
DECLARE
	refused boolean := false;
BEGIN
	BEGIN
		CREATE EXTENSION mp2;
	EXCEPTION WHEN insufficient_privilege THEN
		refused := true;
	END;
	RAISE WARNING 'refused as this version needs: %',
		refused = (pg_catalog.current_setting('server_version_num')::int >= 160000);
END
$$ LANGUAGE plpgsql;
DROP EXTENSION IF EXISTS mp2;
DROP ROLE mp2_mover;

-- Made by a superuser, but able to log in: refused
CREATE ROLE mp2_mover LOGIN;
CREATE EXTENSION mp2;
DROP ROLE mp2_mover;

-- Made by a superuser who also put its members in: used, members kept
CREATE ROLE mp2_mover NOLOGIN;
GRANT mp2_mover TO regress_mp2_friend;
CREATE EXTENSION mp2;
SELECT pg_catalog.pg_has_role('regress_mp2_friend', 'mp2_mover', 'MEMBER') AS member;
SELECT pg_catalog.has_function_privilege('mp2_mover',
         'mp2_migrate_pool(int, text, text, int, bigint, int, bigint)', 'EXECUTE') AS can_move;
DROP EXTENSION mp2;
DROP ROLE mp2_mover;

DROP ROLE regress_mp2_friend;
DROP ROLE regress_mp2_squatter;
