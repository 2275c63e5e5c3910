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

A cluster as every suite wants it: data checksums on (a page that a
move spoiled fails when it is read), mp2 in shared_preload_libraries,
the worker waking every second, the pool in base pages (the outputs count
pages of the base size whatever huge pages the machine reserved), and no
statement logging, so that a suite looking for a message in the server
log finds what the server said, not the query that looked for it.

The tests run as the user that owns the cluster (PostgreSQL refuses root):
pg_extension/check-host.sh and check-guest.sh start prove as postgres,
with CAP_SYS_NICE in its ambient set where a part needs the capability.

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
  worker_info set_and_reload all_pages_on relation_on log_count
  worker_processes);

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

	$node->init(extra => ['--data-checksums']);
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

# Reloading the configuration: knowing the postmaster read it, and what
# it said then.
push @EXPORT, qw(mp2_reload mp2_alter_system log_from);

=pod

=item mp2_reload(NODE)

Reloads the configuration of NODE (C<pg_ctl reload>) and waits up to
30 s until the server log says C<received SIGHUP>, that is until the
postmaster has read the files (a value it refuses leaves nothing else to
wait for), then one second more for the worker and the backends to read
them too.  Dies when the line does not come.  Returns the length of the
server log before the reload, for C<log_from>.

=cut

sub mp2_reload
{
	my ($node) = @_;
	my $offset = -s $node->logfile;

	$node->reload;
	wait_until(30, sub { log_from($node, $offset) =~ /received SIGHUP/ })
	  or die 'the postmaster did not log "received SIGHUP" within 30 s';
	sleep 1;
	return $offset;
}

=pod

=item mp2_alter_system(NODE, SETTINGS...)

C<ALTER SYSTEM SET> each of SETTINGS (C<"mp2.policy = 'tier'">), then
C<mp2_reload>; returns what it returns.

=cut

sub mp2_alter_system
{
	my ($node, @settings) = @_;

	mp2_q($node, "ALTER SYSTEM SET $_") foreach @settings;
	return mp2_reload($node);
}

=pod

=item log_from(NODE, OFFSET)

The server log of NODE from byte OFFSET on (what C<mp2_reload> returned).

=cut

sub log_from
{
	my ($node, $offset) = @_;
	return slurp_file($node->logfile, $offset);
}

=pod

=back

=head2 The relocation worker and where pages are

These run their SQL in database postgres, where the suites create the
extension.

=over

=item worker_info(NODE, COLUMN)

COLUMN of mp2_worker_info() as psql prints it (the empty string for
NULL).

=cut

sub worker_info
{
	my ($node, $column) = @_;
	return mp2_q($node, "SELECT $column FROM mp2_worker_info()");
}

=pod

=item set_and_reload(NODE, SETTING...)

C<ALTER SYSTEM SET> each SETTING (C<"mp2.policy = 'rules'">), then
pg_reload_conf().  It does not wait for the server to read them: a
suite waits for what the setting changes.

=cut

sub set_and_reload
{
	my ($node, @settings) = @_;
	mp2_q($node,
		join('', map { "ALTER SYSTEM SET $_;\n" } @settings)
		  . 'SELECT pg_reload_conf();');
	return;
}

=pod

=item all_pages_on(NODE, N)

Whether the pool's pages that exist are all on NUMA node N, but for 1%
and 8 pages (buffers busy when the worker passed by).

=cut

sub all_pages_on
{
	my ($node, $numa) = @_;
	return mp2_q(
		$node, "
		SELECT coalesce(sum(os_pages) FILTER (WHERE node <> $numa), 0) <=
		       0.01 * sum(os_pages) + 8
		  FROM mp2_buffer_nodes() WHERE node IS NOT NULL") eq 't';
}

=pod

=item relation_on(NODE, RELATION, N)

Whether RELATION has pages in the pool, and all of them are on NUMA node
N.

=cut

sub relation_on
{
	my ($node, $rel, $numa) = @_;
	return mp2_q(
		$node, "
		SELECT coalesce(sum(os_pages) FILTER (WHERE node IS DISTINCT FROM $numa), 0) = 0
		   AND sum(os_pages) > 0
		  FROM mp2_relation_nodes('$rel')") eq 't';
}

=pod

=item log_count(NODE, REGEX)

How many lines of the server log of NODE match REGEX.

=cut

sub log_count
{
	my ($node, $re) = @_;
	return scalar grep { $_ =~ $re } split /\n/, slurp_file($node->logfile);
}

=pod

=item worker_processes(NODE)

How many processes of the relocation worker NODE's postmaster has (the
worker is in no database, so not in pg_stat_activity).  Only NODE's:
another server on the machine may have a worker of its own.

=cut

sub worker_processes
{
	my ($node) = @_;
	my $pidfile = $node->data_dir . '/postmaster.pid';
	return 0 unless -f $pidfile;
	my ($postmaster) = split /\n/, slurp_file($pidfile);
	my $n = 0;

	foreach my $proc (glob '/proc/[0-9]*')
	{
		open(my $fh, '<', "$proc/stat") or next;
		my $stat = <$fh>;
		close $fh;
		# The parent is the second field after the command, in parentheses.
		next unless defined $stat && $stat =~ /.*\) \S+ (\d+) /s;
		next unless $1 == $postmaster;
		open($fh, '<', "$proc/cmdline") or next;
		my $cmd = <$fh>;
		close $fh;
		$n++ if defined $cmd && $cmd =~ /mp2 relocation worker/;
	}
	return $n;
}

=pod

=back

=cut

1;
