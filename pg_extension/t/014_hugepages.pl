# SPDX-License-Identifier: MIT
#
# huge_pages = on: the pool lives in 2 MiB pages, each the unit of
# locating and moving.  Looking faults nothing in (the per-node huge page
# counters before and after), pages never faulted in are reported as
# such, the pool is counted in 2 MiB units, and whole 2 MiB pages move,
# as the counters confirm.
#
# Reserving huge pages needs root: check-guest.sh writes
# MP2_HUGE_PER_NODE to each node's nr_hugepages before this suite, and
# gives them back after it.  Needs two NUMA nodes.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

my $kb = 2048;
my $per_node = $ENV{MP2_HUGE_PER_NODE};

my @node1 = node_huge_pages(1, $kb);
plan skip_all => 'huge pages: no node 1 or no 2 MiB huge pages in this kernel'
  unless @node1;
plan skip_all =>
  'huge pages: none reserved for the suite (as root, write N to each node\'s nr_hugepages and set MP2_HUGE_PER_NODE=N, as check-guest.sh does)'
  unless $per_node;

# Huge pages in use on node N.
sub used { return (node_huge_pages($_[0], $kb))[1]; }

for my $n (0, 1)
{
	is((node_huge_pages($n, $kb))[0],
		$per_node, "huge pages: $per_node reserved on node $n");
}

# A pool that fits in the pages reserved on one node (the whole pool
# moves to each node in turn).
my $node = mp2_node('huge', conf => [ 'shared_buffers = 32MB', 'huge_pages = on' ]);
ok($node->start(fail_ok => 1), 'huge pages: server starts with huge_pages = on')
  or BAIL_OUT('no server with huge_pages = on');

sub sql { return mp2_q($node, $_[0]); }
sql('SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2');
is(sql('SELECT huge_pages AND page_size = 2097152 FROM mp2_info()'),
	't', 'huge pages: mp2 sees 2 MiB pages');

# Looking allocates nothing: on a fresh server most huge pages of the
# pool were never faulted in, and must stay so.
my ($used0, $used1) = (used(0), used(1));
my $r = sql('SELECT node, os_pages FROM mp2_buffer_nodes()');
my ($aft0, $aft1) = (used(0), used(1));
$r =~ s/\n/ /g;
note("fresh pool: $r; huge pages in use: node 0 $used0 -> $aft0, node 1 $used1 -> $aft1");
ok($aft0 == $used0 && $aft1 == $used1,
	"huge pages: mp2_buffer_nodes() faults nothing in (node 0 $used0 -> $aft0, node 1 $used1 -> $aft1)"
);
is(sql('SELECT os_pages > 0 FROM mp2_buffer_nodes() WHERE node IS NULL'),
	't', 'huge pages: pages never faulted in are reported so (node NULL)');
($used0, $used1) = (used(0), used(1));
sql("SELECT count(*) FROM mp2_relation_nodes('pg_class')");
($aft0, $aft1) = (used(0), used(1));
ok($aft0 == $used0 && $aft1 == $used1,
	"huge pages: mp2_relation_nodes() faults nothing in (node 0 $used0 -> $aft0, node 1 $used1 -> $aft1)"
);
sql("CREATE TABLE mp2_h AS
   SELECT g AS id, repeat('h', 200) AS pad FROM generate_series(1, 30000) g");
sql('SELECT count(*) FROM mp2_h');
note(sql('SELECT * FROM mp2_buffer_nodes()'));
is( sql(
		'SELECT sum(os_pages) = (SELECT pool_pages FROM mp2_info())
		        AND bool_and(page_size = 2097152) FROM mp2_buffer_nodes()'),
	't',
	'huge pages: every page counted in 2 MiB units');

# The huge pages that exist may all be on node 1 already (where the
# table's writer ran): gather them on node 0 first, so that each move
# below has pages to move.
sql("SELECT * FROM mp2_migrate_pool(0, mode => 'sync')");
for my $n (1, 0)
{
	my $other = 1 - $n;
	my @before = (used(0), used(1));
	$r = sql(
		"SELECT moved, already, failed_busy, failed_shared, not_tried, page_size
		   FROM mp2_migrate_pool($n, mode => 'sync')");
	my @after = (used(0), used(1));
	my ($moved, $ps) = (split(/\|/, $r))[ 0, 5 ];
	note("whole pool to node $n: moved|already|busy|shared|not_tried|page_size = $r");
	note("huge pages in use: node 0 $before[0] -> $after[0], node 1 $before[1] -> $after[1]");
	is($ps, 2097152, "huge pages: reported in 2 MiB pages (to node $n)");
	cmp_ok($moved, '>', 0, "huge pages: some moved to node $n");
	is($after[$n] - $before[$n],
		$moved, "huge pages: node $n gained the $moved moved pages");
	is($before[$other] - $after[$other],
		$moved, "huge pages: node $other gave them up");
	is( sql(
			"SELECT coalesce(sum(os_pages) FILTER (WHERE node <> $n), 0) = 0
			   FROM mp2_buffer_nodes()"),
		't',
		"huge pages: mp2_buffer_nodes() shows the pool on node $n");
}

# One relation: the huge pages that hold its buffers.
is( sql(
		"SELECT moved > 0 AND page_size = 2097152
		   FROM mp2_migrate('mp2_h', 1, mode => 'sync')"),
	't',
	"huge pages: a relation's huge pages move");
is( sql(
		"SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM 1), 0) = 0
		   FROM mp2_relation_nodes('mp2_h')"),
	't',
	'huge pages: the relation is on node 1');
is(sql('SELECT count(*) FROM mp2_h'), 30000, 'huge pages: data intact');
sql('DROP TABLE mp2_h');

$node->stop;
done_testing();
