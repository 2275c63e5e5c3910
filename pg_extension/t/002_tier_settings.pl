# SPDX-License-Identifier: MIT
#
# Policy tier's settings (tier_settings.c), on any machine: a bad
# mp2.fast_nodes, mp2.slow_nodes or mp2.fast_fraction is refused when the
# configuration is reloaded, with a message saying why, and the previous
# value is kept; a node cannot be in both lists; mp2_tier_info() is not
# for PUBLIC; and where every node has CPUs, a round of policy tier fails
# saying there is no slow tier.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

my $node = mp2_node('tier_settings');
$node->start;
mp2_q($node, 'CREATE EXTENSION mp2');

sub show { return mp2_q($node, "SHOW $_[0]"); }

# Put NAME = 'VALUE' in postgresql.conf, reload, and wait until the
# postmaster has read it; returns the length of the server log before.
sub reload_with
{
	my ($name, $value) = @_;
	$node->append_conf('postgresql.conf', "$name = '$value'");
	return mp2_reload($node);
}

# Take the lines reload_with added out again.
sub reload_clean
{
	$node->adjust_conf('postgresql.conf', $_, undef)
	  foreach qw(mp2.fast_nodes mp2.slow_nodes mp2.fast_fraction);
	mp2_reload($node);
	return;
}

# refused(NAME, VALUE, KEPT, MESSAGES...): reloading with NAME = 'VALUE'
# is refused, each MESSAGE is in what the server logged from that reload
# on, and NAME stays KEPT.
sub refused
{
	my ($name, $value, $kept, @messages) = @_;
	my $log = log_from($node, reload_with($name, $value));

	like($log, qr/\Q$_\E/, "$name = '$value' is refused at reload: $_")
	  foreach @messages;
	is(show($name), $kept, "... and $name stays '$kept'");
	reload_clean();
	return;
}

is(show('mp2.fast_fraction'), '1', 'mp2.fast_fraction is 1 by default');
refused(
	'mp2.fast_nodes', '9', '',
	'invalid value for parameter "mp2.fast_nodes": "9"',
	'Node 9 does not exist or has no memory.');
refused(
	'mp2.fast_nodes', '0-', '',
	'invalid value for parameter "mp2.fast_nodes": "0-"',
	'A node list looks like');
refused(
	'mp2.fast_fraction', '0', '1',
	'invalid value for parameter "mp2.fast_fraction": 0',
	'more than 0, at most 1');
refused('mp2.fast_fraction', '1.5', '1',
	'1.5 is outside the valid range for parameter "mp2.fast_fraction" (0 .. 1)'
);
# A node in both lists: node 0 has CPUs, so it is a fast node by default.
refused(
	'mp2.slow_nodes',
	'0',
	'',
	'invalid value for parameter "mp2.slow_nodes": "0"',
	'Node 0 is also a fast node (mp2.fast_nodes is "the nodes with CPUs").');

reload_with('mp2.fast_nodes', '0');
is(show('mp2.fast_nodes'), '0', "mp2.fast_nodes = '0' is taken");
my $offset = reload_with('mp2.slow_nodes', '0');
is(show('mp2.slow_nodes'), '', "then mp2.slow_nodes = '0' is refused");
like(
	log_from($node, $offset),
	qr/\QNode 0 is also a fast node (mp2.fast_nodes is "0").\E/,
	'... saying node 0 is a fast node');
reload_clean();

is( mp2_q(
		$node,
		"SELECT has_function_privilege('public', 'mp2_tier_info()', 'EXECUTE')"
	),
	'f',
	'mp2_tier_info() is not for PUBLIC');
is( mp2_q(
		$node,
		"SELECT has_function_privilege('public', 'mp2_tier_progress()', 'EXECUTE')"
	),
	'f',
	'mp2_tier_progress() is not for PUBLIC');

my $memory_only =
  mp2_q($node, "SELECT count(*) FROM mp2_numa_nodes() WHERE cpus = ''");
if ($memory_only == 0)
{
	# Every node has CPUs and, on the kernels mp2 runs on, is in the
	# kernel's one memory tier: the round says there is no slow tier, once
	# in the log however many rounds it fails.
	my $why =
	  'policy tier has no slow nodes: the kernel reports no lower memory tier and every node with memory has CPUs';
	my $offset =
	  mp2_alter_system($node, "mp2.policy = 'tier'", "mp2.naptime = '1s'");
	my $failed0 = mp2_q($node, 'SELECT failed_rounds FROM mp2_worker_info()');
	ok( wait_until(
			60,
			sub {
				mp2_q($node,
					'SELECT failed_rounds FROM mp2_worker_info()') >=
				  $failed0 + 3;
			}),
		'without a slower tier, rounds fail');
	is(mp2_q($node, 'SELECT last_error FROM mp2_worker_info()'),
		$why, '... each saying why in last_error');
	my $log = log_from($node, $offset);
	my @said = $log =~ /\Q$why\E; policy tier moves nothing/g;
	is(scalar @said, 1, '... which the log says once, for 3 rounds or more');
	unlike($log, qr/ERROR:.*policy tier/, '... with no ERROR');
	is(mp2_q($node, 'SELECT count(*) FROM mp2_tier_info()'),
		'0', '... and mp2_tier_info() has no rows');
	mp2_alter_system($node, "mp2.policy = 'off'");
}
else
{
  SKIP:
	{
		skip 'rounds without memory-only nodes (this machine has some)', 5;
	}
}

$node->stop;
done_testing();
