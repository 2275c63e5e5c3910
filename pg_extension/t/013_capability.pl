# SPDX-License-Identifier: MIT
#
# CAP_SYS_NICE is effective only inside the migrating system calls: not
# while a paced migration sleeps; and a failure to lower it ends the
# process's use of it (ERROR), or the process (FATAL) when even giving it
# up fails.  The failures come from capfail.c beside this file, a
# cap_set_proc() that fails on demand, built as the shared object that
# $MP2_CAPFAIL_SO names (check-guest.sh builds it) and preloaded into the
# server, told what to refuse through the file in $MP2_CAPFAIL; without
# MP2_CAPFAIL_SO those checks are skipped.  The server has CAP_SYS_NICE
# when prove has it (check-guest.sh starts prove with it in its ambient
# set).  A program the server runs does not inherit it.  The moves need
# two nodes: on one they are skipped.

use strict;
use warnings FATAL => 'all';

use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use lib 't';
use Mp2Test;

# A table of about 290 pages, which a move paced at $cap_rate pages a
# second takes some 15 s over; the samples need 2-4 s of it.
my $cap_table_rows = 5000;
my $cap_rate = 20;
my $cap_samples = 20;
# One page a call, $cap_rate calls a second: the capability is effective
# for the length of a call, which in the emulated guest took up to 15% of
# a 10 ms period (3 of 20 samples at 100 calls a second).  At 20 calls a
# second that is about 3% of the time, so 5 of 20 samples is far above
# chance; a capability left effective across the sleeps shows in all 20.
my $cap_max_raised = 5;

my $shim = $ENV{MP2_CAPFAIL_SO};
die "MP2_CAPFAIL_SO names no file: $shim\n" if defined $shim && !-f $shim;

my $node = mp2_node('capability');
# Absolute: the server reads it from its data directory, and basedir is
# relative to the test's directory on PostgreSQL 18.
my $capfail_mode = File::Spec->rel2abs($node->basedir . '/capfail.mode');

# capfail.so fails what MODE says from now on ('': nothing).
sub capfail
{
	my ($mode) = @_;
	open(my $fh, '>', $capfail_mode) or die "cannot write $capfail_mode: $!";
	print $fh "$mode\n";
	close($fh) or die "cannot write $capfail_mode: $!";
	return;
}

capfail('');
my %server_env = (MP2_CAPFAIL => $capfail_mode);
$server_env{LD_PRELOAD} = $shim if defined $shim;
my $started;
{
	local @ENV{ keys %server_env } = values %server_env;
	$started = $node->start(fail_ok => 1);
}
if (!$started)
{
	fail('server starts with CAP_SYS_NICE'
		  . (defined $shim ? ' and the capfail shim' : ''));
	done_testing();
	exit;
}
mp2_q($node, 'SET client_min_messages = warning; CREATE EXTENSION mp2');

# 1 if CAP_SYS_NICE (bit 23) is in the set NAME (CapPrm, CapEff, CapAmb)
# of a /proc/PID/status text; undef when the line is not there.
sub cap_bit_in
{
	my ($name, $status) = @_;
	return undef
	  unless defined $status && $status =~ /^\Q$name\E:\s*([0-9a-f]+)$/m;
	return (hex($1) >> 23) & 1;
}

# The same for process PID.
sub cap_bit
{
	my ($name, $pid) = @_;
	return cap_bit_in($name, eval { slurp_file("/proc/$pid/status") });
}

# Programs the server runs do not inherit the capability: the module
# lowers it from the ambient set at load, so a program that COPY ... FROM
# PROGRAM starts (no file capabilities) has it in none of its sets, while
# the backend that started it holds it permitted.
is(mp2_q($node, 'SELECT cap_sys_nice FROM mp2_info()'),
	'permitted', 'the backend holds CAP_SYS_NICE in its permitted set only');
my $program = mp2_q(
	$node, q{
CREATE TEMP TABLE caps (line text);
COPY caps FROM PROGRAM 'awk ''/^Cap/ { print $1 $2 }'' /proc/self/status';
SELECT string_agg(line, E'\n' ORDER BY line) FROM caps;
});
note($program);
is( join(',', map { cap_bit_in($_, $program) // 'unread' } qw(CapPrm CapEff CapAmb)),
	'0,0,0',
	'a program the server runs has CAP_SYS_NICE in none of its permitted, effective and ambient sets'
);

my $last = mp2_q($node, 'SELECT max(node) FROM mp2_numa_nodes()');
if ($last == 0)
{
  SKIP: { skip('the moves: moving a table to node 1 needs two nodes', 1); }
	$node->stop;
	done_testing();
	exit;
}

mp2_q($node,
	"CREATE TABLE capt AS
	   SELECT g, repeat(md5(g::text), 6) AS v
	     FROM generate_series(1, $cap_table_rows) g;
	 SELECT count(*) FROM mp2_migrate('capt', 0, mode => 'sync')");
my $sum0 =
  mp2_q($node, "SELECT md5(string_agg(v, ',' ORDER BY g)) FROM capt");

note('a paced move');
my $bg = mp2_background($node,
	"SELECT moved, failed_shared
	   FROM mp2_migrate('capt', 1, batch_size => 1, max_rate => $cap_rate)");
is(cap_bit('CapPrm', $bg->{pid}),
	1, 'the migrating backend holds CAP_SYS_NICE in its permitted set');
my ($taken, $raised) = (0, 0);
while ($taken < $cap_samples && mp2_background_running($bg))
{
	my $b = cap_bit('CapEff', $bg->{pid});
	last unless defined $b;
	$taken++;
	$raised += $b;
	usleep(100_000);
}
my ($out, $err) = mp2_background_end($bg);
note("$out\n$err");
is($taken, $cap_samples,
	"$cap_samples samples of the backend's effective set taken while it moved ($taken)"
);
cmp_ok($raised, '<=', $cap_max_raised,
	"CAP_SYS_NICE effective in at most $cap_max_raised of them ($raised)");
my ($r) = split /\n/, $out;
like($out, qr/^[1-9][0-9]*\|0$/m,
	'the paced move moved pages, none refused as shared (' . ($r // '') . ')');
is( mp2_q(
		$node,
		"SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM 1), 0) = 0
		        AND sum(os_pages) > 0
		   FROM mp2_relation_nodes('capt')"),
	't',
	'the table is on node 1 after it');

# With capfail.so failing as MODE says, a session moves capt, then says
# "after" and what mp2_info() reports; returns its output and errors.
sub capfail_session
{
	my ($mode) = @_;
	my ($stdout, $stderr);

	capfail($mode);
	$node->psql(
		'postgres',
		"SELECT moved FROM mp2_migrate('capt', 0, batch_size => 8);
		 SELECT 'after', cap_sys_nice FROM mp2_info();",
		on_error_stop => 0,
		stdout => \$stdout,
		stderr => \$stderr);
	capfail('');
	note("$stdout\n$stderr");
	return ($stdout, $stderr);
}

SKIP:
{
	skip 'lowering it fails: MP2_CAPFAIL_SO names no capfail.so', 6
	  unless defined $shim;
	note('lowering it fails');

	($out, $err) = capfail_session('drop');
	like(
		$err,
		qr/ERROR:  could not lower the capability CAP_SYS_NICE after migrating pages/,
		'a failed drop is an error');
	like($out, qr/^after\|none$/m,
		'... and the session has given the capability up');
	is(mp2_q($node, 'SELECT cap_sys_nice FROM mp2_info()'),
		'permitted', 'a new session has it again');

	($out, $err) = capfail_session('all');
	like(
		$err,
		qr/FATAL:  could not lower the capability CAP_SYS_NICE after migrating pages/,
		'a failed drop that cannot give the capability up ends the session (FATAL)'
	);
	unlike($out, qr/^after/m, '... before its next statement');
	is(mp2_q($node, 'SELECT 1'), '1', 'the server still serves');
}

mp2_q($node, "SELECT count(*) FROM mp2_migrate('capt', 0, mode => 'sync')");
my $sum1 =
  mp2_q($node, "SELECT md5(string_agg(v, ',' ORDER BY g)) FROM capt");
is($sum1, $sum0, "the table's bytes are unchanged after the moves");

mp2_q($node, 'DROP TABLE capt');
$node->stop;
done_testing();
