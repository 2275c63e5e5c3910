# SPDX-License-Identifier: MIT
#
# The worker's warm mapping (mapper.c, mp2.warm_mapping), on any machine:
# a backend locates the pool through the worker's page tables without
# faulting the pool into its own, gets the answer it would get alone, and
# faults the pool in itself when the worker is gone.  A server with
# CAP_SYS_NICE also moves through the worker's page tables, faulting in
# none of what it moves; one without moves as without the worker.  Every
# move is checked: all the table's pages on the target, bytes unchanged.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

my $node = mp2_node('mapper');
$node->start;
my $db = 'mp2_mapper';
mp2_q($node, "CREATE DATABASE $db");
sub q_db { return mp2_q($node, $_[0], dbname => $db); }
q_db('CREATE EXTENSION mp2');

is( q_db(
		"SELECT current_setting('mp2.warm_mapping') || (mapper_pid IS NULL)::text FROM mp2_info()"
	),
	'offtrue',
	'mp2.warm_mapping is off by default, and then there is no mapper');

$node->append_conf('postgresql.conf', 'mp2.warm_mapping = on');
$node->reload;
wait_until(30, sub { mp2_q($node, 'SHOW mp2.warm_mapping') eq 'on' });
q_db('SELECT mp2_worker_start()')
  if q_db('SELECT mapper_pid FROM mp2_info()') eq '';

# About 24 MB of buffers that exist (shared_buffers is 128 MB).
# Autovacuum is off for the table, and its forks made now, so that its
# pages stay the same pages while it moves.
q_db(
	"CREATE TABLE mapped WITH (autovacuum_enabled = off) AS
	   SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 100000) g");
q_db('VACUUM mapped');
q_db('SELECT count(*) FROM mapped');
my $pages = q_db(
	'SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL');
my $page_kb = q_db('SELECT page_size FROM mp2_info()') / 1024;
my $pid = q_db('SELECT pid FROM mp2_worker_info()');
is(q_db('SELECT mapper_pid FROM mp2_info()'),
	$pid, "mp2_info() names the worker ($pid) as the mapper");
ok( wait_until(
		30,
		sub {
			q_db("SELECT coalesce(mapper_pages, -1) >= $pages FROM mp2_info()")
			  eq 't';
		}),
	"the worker maps the $pages pages that exist within 30 s");

# In one new session: the node counts of mp2_buffer_nodes()
# ("node:pages,..."), then how many kB of shared memory the call faulted
# into that backend (RssShmem after less before).
sub look_in_new_session
{
	my $out = $node->safe_psql(
		$db, q{
CREATE TEMP TABLE rss AS
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\s+(\d+) kB')::bigint AS kb;
SELECT string_agg(coalesce(node::text, 'none') || ':' || os_pages, ',' ORDER BY node)
  FROM mp2_buffer_nodes();
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\s+(\d+) kB')::bigint - kb
  FROM rss;
});
	return split /\n/, $out;
}

# Two "node:pages,..." lists name the same nodes, the same pages in all,
# and per node differ by at most SLACK pages (a live server writes new
# pages between two looks: on PostgreSQL 18, 2).
sub counts_agree
{
	my ($a, $b, $slack) = @_;
	my @x = split /,/, $a;
	my @y = split /,/, $b;
	return 0 if !@x || @x != @y;
	my ($ta, $tb) = (0, 0);
	for my $i (0 .. $#x)
	{
		my ($na, $pa) = split /:/, $x[$i];
		my ($nb, $pb) = split /:/, $y[$i];
		return 0 if $na ne $nb || abs($pa - $pb) > $slack;
		$ta += $pa;
		$tb += $pb;
	}
	return $ta == $tb;
}

# Moves.  The target is the node that holds the fewest of the table's
# pages (on a one-node machine, that node: everything is already there).
my $cap = q_db('SELECT cap_sys_nice FROM mp2_info()');
my $hash = q_db("SELECT sum(hashtext(t::text)::bigint) FROM mapped t");
my $tpages = q_db(
	"SELECT sum(os_pages) FROM mp2_relation_nodes('mapped') WHERE node IS NOT NULL");
my $table_kb = $tpages * $page_kb;

sub fewest_node
{
	return q_db(
		"SELECT node FROM mp2_relation_nodes('mapped') WHERE node IS NOT NULL
		  ORDER BY os_pages, node LIMIT 1");
}

# In one new session: of mp2_migrate('mapped', TARGET), the pages moved or
# already there and those it failed or did not try, and the kB of shared
# memory the call faulted in.
sub move_in_new_session
{
	my $target = shift;
	my $out = $node->safe_psql(
		$db, qq{
CREATE TEMP TABLE rss AS
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\\s+(\\d+) kB')::bigint AS kb;
SELECT moved + already, requested - moved - already - not_present
  FROM mp2_migrate('mapped', $target);
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\\s+(\\d+) kB')::bigint - kb
  FROM rss;
});
	my ($counts, $kb) = split /\n/, $out;
	return (split(/\|/, $counts), $kb);
}

# Every page of the table that exists is on node, and its bytes are as
# they were.
sub all_on
{
	my ($target, $what) = @_;
	is( q_db(
			"SELECT coalesce(sum(os_pages) FILTER (WHERE node = $target), 0)
			     || '/' || sum(os_pages) FROM mp2_relation_nodes('mapped')
			  WHERE node IS NOT NULL"),
		"$tpages/$tpages",
		"$what: all $tpages pages of the table are on node $target");
	is(q_db("SELECT sum(hashtext(t::text)::bigint) FROM mapped t"),
		$hash, "$what: the table's bytes are unchanged");
}

my $to = fewest_node();
my ($handled, $failed, $kb) = move_in_new_session($to);
note("move to node $to with the worker, CAP_SYS_NICE $cap: $handled pages, $kb kB faulted in");
my $nnodes = q_db(
	"SELECT count(*) FROM mp2_relation_nodes('mapped') WHERE node IS NOT NULL");
if ($cap eq 'none')
{
	cmp_ok($kb, '>=', $table_kb / 2,
		"without CAP_SYS_NICE the move faults in what it moves ($kb of $table_kb kB)");
}
else
{
	cmp_ok($kb, '<', $table_kb / 10,
		"with CAP_SYS_NICE the move goes through the worker, faulting in under a tenth of the table ($kb of $table_kb kB)"
	);
}
if ($cap eq 'none' && $nnodes > 1)
{
	# The worker maps every page too: shared, so MPOL_MF_MOVE refuses them.
	is($handled + $failed, $tpages, "the move tried every page of the table");
	is(q_db("SELECT sum(hashtext(t::text)::bigint) FROM mapped t"),
		$hash, "the table's bytes are unchanged");
}
else
{
	is("$handled/$failed", "$tpages/0", 'the move placed every page of the table');
	all_on($to, 'moved with the worker');
}

my @with = look_in_new_session();
note("through the worker: $with[0], $with[1] kB faulted in");
my $pool_kb = $pages * $page_kb;
cmp_ok($with[1], '<', $pool_kb / 10,
	"a new session locates the pool faulting in under a tenth of it ($with[1] of $pool_kb kB)"
);

# Without the worker, the backend faults in what it locates.
is(q_db('SELECT mp2_worker_stop()'), 't', 'mp2_worker_stop()');
is(q_db('SELECT mapper_pid IS NULL FROM mp2_info()'),
	't', 'mp2_info() has no mapper without the worker');
my @without = look_in_new_session();
note("in the backend: $without[0], $without[1] kB faulted in");
cmp_ok($without[1], '>=', $pool_kb / 2,
	"alone, a new session faults in over half of the pool ($without[1] kB)");
ok(counts_agree($with[0], $without[0], 64),
	"both ways count the same pages per node, but for pages written in between ($with[0]; $without[0])"
);
note('faulting in the pool alone cost ', $without[1] - $with[1],
	' kB more than through the worker');

# And moves as it would without the warm mapping: faulting in the table.
$to = fewest_node();
($handled, $failed, $kb) = move_in_new_session($to);
note("move to node $to without the worker: $handled pages, $kb kB faulted in");
is("$handled/$failed", "$tpages/0", 'the move placed every page of the table');
cmp_ok($kb, '>=', $table_kb / 2,
	"without the worker the move faults in what it moves ($kb of $table_kb kB)");
all_on($to, 'moved without the worker');

# Pages the worker has not mapped: with a naptime of an hour, a worker
# started now maps the pool once, and a table written after that is not
# mapped when the whole pool moves.  The move takes the pages the worker
# maps through it, sets the others aside and moves them itself, and goes
# on with the rest of the pool: every page is handled, and the backend
# faults in the new table.
$node->append_conf('postgresql.conf', 'mp2.naptime = 3600s');
$node->reload;
wait_until(30, sub { mp2_q($node, 'SHOW mp2.naptime') eq '1h' });
q_db('SELECT mp2_worker_start()');
my $in_use = q_db(
	'SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL');
ok( wait_until(
		30,
		sub {
			q_db("SELECT coalesce(mapper_pages, -1) >= $in_use FROM mp2_info()")
			  eq 't';
		}),
	"the restarted worker maps the $in_use pages in use");
q_db(
	"CREATE TABLE unmapped WITH (autovacuum_enabled = off) AS
	   SELECT g AS id, repeat('u', 200) AS pad FROM generate_series(1, 30000) g");
q_db('VACUUM unmapped');
my $new_kb = q_db(
	"SELECT sum(os_pages) FROM mp2_relation_nodes('unmapped') WHERE node IS NOT NULL"
) * $page_kb;
my $uhash = q_db("SELECT sum(hashtext(t::text)::bigint) FROM unmapped t");
$to = fewest_node();
my $out = $node->safe_psql(
	$db, qq{
CREATE TEMP TABLE rss AS
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\\s+(\\d+) kB')::bigint AS kb;
SELECT requested - moved - already - not_present FROM mp2_migrate_pool($to);
SELECT substring(pg_read_file('/proc/self/status') from 'RssShmem:\\s+(\\d+) kB')::bigint - kb
  FROM rss;
});
my ($left, $pool_move_kb) = split /\n/, $out;
note("the pool to node $to: $pool_move_kb kB faulted in, the new table $new_kb kB");
if ($cap eq 'none' && $nnodes > 1)
{
	# Without the capability the pages the worker maps are refused.
	cmp_ok($left, '>', 0, 'without CAP_SYS_NICE the pages the worker maps stay');
}
else
{
	is($left, '0', 'the move of the pool handled every page');
	all_on($to, 'the pool moved');
}
if ($cap ne 'none')
{
	cmp_ok($pool_move_kb, '>=', $new_kb / 2,
		"the backend faulted in the table the worker has not mapped ($pool_move_kb kB, the table $new_kb kB)"
	);
	cmp_ok($pool_move_kb, '<', ($in_use * $page_kb) / 2,
		"and not the pages the worker maps ($pool_move_kb kB, $in_use pages in use)"
	);
}
is(q_db("SELECT sum(hashtext(t::text)::bigint) FROM unmapped t"),
	$uhash, "the new table's bytes are unchanged");

$node->stop;
done_testing();
