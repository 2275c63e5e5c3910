# SPDX-License-Identifier: MIT
#
# huge_page_size = 1GB: the pool in one 1 GiB page.  Looking and moving
# take a whole 1 GiB page at a time, whose residency vector is larger
# than any fixed buffer.  The pool's page is looked at, moved to the
# other node and back, and the table's bytes are unchanged.
#
# A 1 GiB page can only be reserved at boot: check-guest.sh runs this
# suite in a guest that reserved MP2_HUGE_1G_PER_NODE of them on each
# node (run-guest.sh --huge-1g).  Needs two NUMA nodes.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

my $kb = 1048576;
my $per_node = $ENV{MP2_HUGE_1G_PER_NODE};

plan skip_all => '1 GiB pages: no node 1'
  unless -d '/sys/devices/system/node/node1';
plan skip_all =>
  '1 GiB pages: none reserved for the suite (boot with hugepagesz=1G hugepages=0:1,1:1 and set MP2_HUGE_1G_PER_NODE=1, as check-guest.sh does)'
  unless $per_node;

# 1 GiB pages in use on node N.
sub used { return (node_huge_pages($_[0], $kb))[1] // 'none'; }

for my $n (0, 1)
{
	is((node_huge_pages($n, $kb))[0] // 'none',
		$per_node, "1 GiB pages: $per_node reserved on node $n at boot");
}

my $node = mp2_node('huge1g',
	conf => [ 'shared_buffers = 32MB', 'huge_pages = on', 'huge_page_size = 1GB' ]);
ok($node->start(fail_ok => 1),
	'1 GiB pages: server starts with huge_page_size = 1GB')
  or BAIL_OUT('no server with huge_page_size = 1GB');

sub sql { return mp2_q($node, $_[0]); }
sql('SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2');
is(sql('SELECT huge_pages AND page_size = 1073741824 FROM mp2_info()'),
	't', '1 GiB pages: mp2 sees 1 GiB pages');
sql("CREATE TABLE mp2_g AS
     SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
my $sum_sql = "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM mp2_g";
my $sum0 = sql($sum_sql);
my $r = sql('SELECT node, os_pages, page_size FROM mp2_buffer_nodes()');
$r =~ s/\n/ /g;
note("pool: $r");
is( sql(
		'SELECT sum(os_pages) = 1 AND bool_and(page_size = 1073741824)
		   FROM mp2_buffer_nodes() WHERE node IS NOT NULL'),
	't',
	'1 GiB pages: mp2_buffer_nodes() counts the pool in one 1 GiB page');
is( sql(
		"SELECT sum(os_pages) FROM mp2_relation_nodes('mp2_g')
		  WHERE node IS NOT NULL"),
	1,
	'1 GiB pages: mp2_relation_nodes() sees the table');

# To the other node, then back.
my $on_sql =
  'SELECT node FROM mp2_buffer_nodes() WHERE os_pages > 0 AND node IS NOT NULL';
my $on = sql($on_sql) || 0;
for my $n (1 - $on, $on)
{
	my $other = 1 - $n;
	my @before = (used(0), used(1));
	$r = sql(
		"SELECT moved, already, failed_busy, failed_nomem, page_size
		   FROM mp2_migrate_pool($n, mode => 'sync')");
	my @after = (used(0), used(1));
	note("whole pool to node $n: moved|already|busy|nomem|page_size = $r");
	is($r, '1|0|0|0|1073741824',
		"1 GiB pages: the pool's page moved to node $n ($r)");
	is("$after[$n],$after[$other]", '1,0',
		"1 GiB pages: node $n holds it (in use: node 0 $before[0] -> $after[0], node 1 $before[1] -> $after[1])"
	);
	is(sql($on_sql), $n, "1 GiB pages: mp2_buffer_nodes() shows it on node $n");
}
is(sql($sum_sql), $sum0, "1 GiB pages: the table's bytes are unchanged");
ok( !log_has(
		$node, qr/terminated by signal|server process .* was terminated/),
	'1 GiB pages: no backend crashed');
sql('DROP TABLE mp2_g');

$node->stop;
done_testing();
