# SPDX-License-Identifier: MIT

=pod

=head1 NAME

Mp2Test - what mp2's TAP suites share on top of PostgreSQL::Test::Cluster

=head1 SYNOPSIS

  use PostgreSQL::Test::Cluster;
  use Test::More;
  use lib 't';
  use Mp2Test;

  my $node = mp2_node('main');
  $node->start;
  ok(wait_until(30, sub { mp2_q($node, 'SELECT pid FROM mp2_worker_info()') ne '' }),
     'the worker runs');

=head1 DESCRIPTION

A cluster as every suite wants it: mp2 in shared_preload_libraries, the
worker waking every second, the pool in base pages (the outputs count
pages of the base size whatever huge pages the machine reserved), and no
statement logging, so that a suite looking for a message in the server
log finds what the server said, not the query that looked for it.

The tests run as the user that owns the cluster (PostgreSQL refuses root):
pg_extension/check-host.sh and check-guest.sh start prove as postgres,
with CAP_SYS_NICE in its ambient set where a part needs the capability.
What a suite needs root for (reserving huge pages, writing a sysfs knob)
check-guest.sh does before it runs the suite, and names to it in
environment variables (pglib.sh's run_tap LABEL FILE cap VAR=VALUE); the
suite skips without them.

=cut

package Mp2Test;

use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use Exporter 'import';
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep time);

our @EXPORT = qw(mp2_node mp2_q wait_until log_has mp2_top
  node_huge_pages);

=pod

=over

=item mp2_node(NAME, preload => 1, conf => [LINES])

A new cluster, initialised, not started.  C<preload =E<gt> 0> leaves mp2
out of shared_preload_libraries; C<conf> appends more lines.

=cut

sub mp2_node
{
	my ($name, %opts) = @_;
	my $preload = exists $opts{preload} ? $opts{preload} : 1;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init;
	$node->append_conf(
		'postgresql.conf', join(
			"\n",
			($preload ? "shared_preload_libraries = 'mp2'" : ()),
			'max_worker_processes = 16',
			"mp2.naptime = '1s'",
			'huge_pages = off',
			'log_statement = none',
			@{ $opts{conf} || [] }, ''));
	return $node;
}

=pod

=item mp2_q(NODE, SQL, dbname => DB)

The output of SQL as psql -At prints it, in database DB (default
postgres); dies when it fails.

=cut

sub mp2_q
{
	my ($node, $sql, %opts) = @_;
	return $node->safe_psql($opts{dbname} || 'postgres', $sql);
}

=pod

=item wait_until(SECONDS, CODE)

Calls CODE every half second until it returns true, for at most SECONDS
of wall time; returns whether it did.  An exception in CODE counts as
false.

=cut

sub wait_until
{
	my ($secs, $code) = @_;
	my $end = time + $secs;

	while (1)
	{
		my $done = eval { $code->() };
		return 1 if $done;
		return 0 if time >= $end;
		usleep(500_000);
	}
}

=pod

=item log_has(NODE, REGEX)

Whether the server log of NODE matches REGEX.

=cut

sub log_has
{
	my ($node, $re) = @_;
	return slurp_file($node->logfile) =~ $re;
}

=pod

=item mp2_top()

The top of the mp2 tree the suites came from: C<$MP2_TOP>, else the
parent of the directory prove runs in (pg_extension).

=cut

sub mp2_top
{
	return $ENV{MP2_TOP} || abs_path('..');
}

=pod

=item node_huge_pages(NODE, SIZE_KB)

The huge pages of SIZE_KB kB of NUMA node NODE, from its counters in
sysfs, as a list: how many are reserved (nr_hugepages) and how many of
them are in use (nr_hugepages less free_hugepages).  The empty list
where the node or that page size does not exist.  Reading needs no
privilege; reserving does (root writes nr_hugepages before the suite).

=cut

sub node_huge_pages
{
	my ($n, $kb) = @_;
	my $dir = "/sys/devices/system/node/node$n/hugepages/hugepages-${kb}kB";

	return () unless -d $dir;
	my $nr = slurp_file("$dir/nr_hugepages");
	my $free = slurp_file("$dir/free_hugepages");
	chomp($nr, $free);
	return ($nr, $nr - $free);
}

=pod

=back

=cut

1;
