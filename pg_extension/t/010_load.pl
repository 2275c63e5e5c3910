# SPDX-License-Identifier: MIT
#
# Integrity under load: pgbench runs while the whole buffer pool is moved
# back and forth between two nodes, by a server with CAP_SYS_NICE.
#
# With MP2_LOAD_WARM=1 the worker keeps the pool mapped (mp2.warm_mapping),
# so the moves go through its page tables, and it is stopped while they
# run: the moves after that go through the mover's own, and the move it
# cut short leaves at most one window of pages untried.
#
# The pgbench run is deterministic (fixed seed, fixed number of
# transactions per client), and TPC-B's updates commute, so the same run
# without any moves must leave every table with the same contents.  Those
# hashes are taken before the moves: on the host (check-guest.sh passes
# them in MP2_LOAD_REF, from Mp2Test's pgbench_reference), or else on a
# copy of the database in the same cluster.

use strict;
use warnings FATAL => 'all';

use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

my @numa = mp2_memory_nodes();
plan skip_all => 'load: needs 2 memory nodes, this machine has '
  . scalar(@numa)
  if @numa < 2;

my $warm = $ENV{MP2_LOAD_WARM} ? 1 : 0;
# How many times the whole pool moves, alternately to node 1 and node 0;
# with the warm mapping, enough that some begin after the worker is
# stopped (once two are done).
my $moves = $ENV{MP2_LOAD_MOVES} || ($warm ? 16 : 10);
my $out   = PostgreSQL::Test::Utils::tempdir();

# The pages of one libmp2 window (PGMP2_WINDOW_PAGES in mp2_pg.h).
my $window = 16384;

# A pool small enough that pgbench -s 5 fills it.
my $node = mp2_node('load',
	conf => [ 'shared_buffers = 32MB', $warm ? ('mp2.warm_mapping = on') : () ]);
$node->start;

sub q_load { return mp2_q($node, $_[0], dbname => 'mp2load'); }

# The output of SQL in mp2load, or the empty string when it fails (what
# the suite checks after a failure still runs, and fails).
sub q_try
{
	my $r = eval { q_load($_[0]) };
	return defined $r ? $r : '';
}

my ($inited, $init_log) = pgbench_init($node, 'mp2load');
ok($inited, "load: pgbench -i -s $PGBENCH_SCALE") or diag($init_log);
if (!$inited)
{
	$node->stop;
	done_testing();
	exit;
}
mp2_q($node, 'CREATE DATABASE mp2ref TEMPLATE mp2load')
  unless $ENV{MP2_LOAD_REF};
q_load('CREATE EXTENSION mp2; CREATE EXTENSION pg_prewarm');

# Every buffer in use, so every page of the pool exists before the moves
# and none comes into being (on some node) during them.
q_load("SELECT pg_prewarm('pgbench_accounts')");
my $absent =
  q_load('SELECT os_pages FROM mp2_buffer_nodes() WHERE node IS NULL');
is($absent, '0', "load: the whole pool is in memory ($absent pages absent)");

if ($warm)
{
	q_load('SELECT mp2_worker_start()')
	  if q_load('SELECT mapper_pid FROM mp2_info()') eq '';
	my $in_use = q_load(
		'SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL');
	ok( wait_until(
			60,
			sub {
				q_load(
					"SELECT coalesce(mapper_pages, -1) >= $in_use FROM mp2_info()"
				) eq 't';
			}),
		"load: the worker maps the $in_use pages of the pool");
}

# The reference: the same transactions, no moves.
my $ref_h = pgbench_expected_hashes($node, 'load', "$out/ref.log");

# The run under moves.
my $bench =
  pgbench_start($node, 'mp2load', "$out/bench.log", '-R', $PGBENCH_RATE);
sleep 1;
my $moves_sql = "
	CREATE TABLE mp2_moves AS
	SELECT i, i % 2 AS target, m.*
	  FROM generate_series(1, $moves) AS i,
	       LATERAL mp2_migrate_pool(i % 2) AS m";
my ($rc, $moves_out, $moves_err, $before_stop);
if ($warm)
{
	# The moves in a session of their own; the worker stops after two.
	my $done = q_load('SELECT sum(migrations) FROM mp2_stats()');
	my $mover = fork;
	die "fork: $!" unless defined $mover;
	if ($mover == 0)
	{
		my ($r) = $node->psql('mp2load', $moves_sql);
		POSIX::_exit($r);
	}
	ok( wait_until(
			120,
			sub {
				q_load('SELECT sum(migrations) FROM mp2_stats()') >= $done + 2;
			}),
		'load: two moves done while the worker ran');
	# The moves done once the worker is gone, read in the same psql as
	# the stop: the moves after the one then under way begin without it.
	my ($stopped, $count) = split /\n/,
	  q_load('SELECT mp2_worker_stop(); SELECT sum(migrations) FROM mp2_stats()');
	is($stopped, 't', 'load: the worker stopped while the moves ran');
	$before_stop = $count - $done;
	waitpid($mover, 0);
	$rc = $? >> 8;
	$moves_err = "the moves' psql exited $rc";
}
else
{
	($rc, $moves_out, $moves_err) = $node->psql('mp2load', $moves_sql);
}
ok(pgbench_running($bench),
	"load: $moves moves of the whole pool while pgbench ran")
  or diag("pgbench ended before the $moves moves did (raise MP2_LOAD_TX)");
ok(pgbench_wait($bench), 'load: pgbench exited 0');
is($rc, 0, 'load: the moves ran') or diag($moves_err);
note(
	q_try(
		'SELECT i, target, requested, moved, already, failed_busy, failed_shared,
		        failed_other, not_tried, round(elapsed_ms::numeric, 1) AS ms,
		        method_used
		   FROM mp2_moves ORDER BY i'));
is(q_try('SELECT bool_and(moved > 0) FROM mp2_moves'),
	't', 'load: every move moved pages');
is( q_try('SELECT sum(failed_shared + failed_other) FROM mp2_moves'),
	'0', 'load: no page refused or failed');
if ($warm)
{
	is(q_try("SELECT count(*) FILTER (WHERE not_tried > $window) FROM mp2_moves"),
		'0', "load: no move left more than a window ($window pages) untried");
	is(q_try('SELECT count(*) FILTER (WHERE not_tried > 0) <= 1 FROM mp2_moves'),
		't', 'load: only the move the worker cut short left pages untried');

	# Which path each move took: through the worker's mapping it is
	# move_pages(2) with the worker's pid; once the worker is gone, the
	# backend's own path, move_pages2 where the kernel has it.
	is( q_try(
			"SELECT string_agg(DISTINCT method_used, ',') FROM mp2_moves WHERE i <= 2"
		),
		'move_pages',
		'load: the moves done while the worker ran went through its mapping');
	my $own = q_load('SELECT move_pages2 FROM mp2_info()') eq 't'
	  ? 'move_pages2' : 'move_pages';
	my $after = $before_stop + 1;
	ok($after < $moves,
		"load: moves began after the worker stopped ($before_stop done before)")
	  or diag('the moves ended too soon (raise MP2_LOAD_MOVES)');
	is( q_try(
			"SELECT string_agg(DISTINCT method_used, ',') FROM mp2_moves WHERE i > $after"
		),
		$own, "load: the moves begun after the worker stopped used $own");
}
else
{
	is(q_try('SELECT sum(not_tried) FROM mp2_moves'),
		'0', 'load: no page left untried');
}
pgbench_completed('load', "$out/bench.log");

# The same contents as without moves.
pgbench_intact($node, 'mp2load', 'load', $ref_h);

# The pages are where the last move sent them, but for the pages that
# move could not take (busy).
my $last   = q_try('SELECT target FROM mp2_moves ORDER BY i DESC LIMIT 1');
my $others = $last eq '' ? '' : q_try(
	"SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM $last), 0) -
	        (SELECT failed_busy FROM mp2_moves ORDER BY i DESC LIMIT 1)
	   FROM mp2_buffer_nodes()");
note(q_try('SELECT * FROM mp2_buffer_nodes()'));
ok($others ne '' && $others <= 0,
	"load: mp2_buffer_nodes() shows the pool on node $last");

$node->stop;
done_testing();
