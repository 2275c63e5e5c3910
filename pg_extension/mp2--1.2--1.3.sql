-- SPDX-License-Identifier: MIT
/* pg_extension/mp2--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mp2 UPDATE TO '1.3'" to load this file. \quit

-- 1.3: huge pages for the pool (mp2.pool_thp) shown by mp2_info(), and a
-- rate bound for the moving functions.
