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

=cut

package Mp2Test;

use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use Exporter 'import';
use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep time);

our @EXPORT = qw(mp2_node mp2_q wait_until log_has mp2_top
  mp2_background mp2_background_running mp2_background_end);

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

=item mp2_background(NODE, SQL, dbname => DB, timeout => SECONDS)

SQL run by psql in the background, in a session of its own in database
DB (default postgres), as C<psql -c> runs it, without ON_ERROR_STOP.
Returns once the session has told its backend's pid: a hash whose
C<pid> is that pid; SQL starts right after.  psql is killed when it
runs longer than SECONDS (default: the framework's C<timeout_default>).
Dies when psql cannot start the session.

=cut

sub mp2_background
{
	my ($node, $sql, %opts) = @_;
	my $bg = { out => '', err => '' };

	$bg->{timeout} = IPC::Run::timeout($opts{timeout}
		  || $PostgreSQL::Test::Utils::timeout_default);
	$bg->{h} = IPC::Run::start(
		[
			$node->installed_command('psql'), '-X', '-q', '-At',
			'-d', $node->connstr($opts{dbname} || 'postgres'),
			'-c', 'SELECT pg_backend_pid()', '-c', $sql
		],
		'<', \undef, '>', \$bg->{out}, '2>', \$bg->{err},
		$bg->{timeout});
	eval { pump_until($bg->{h}, $bg->{timeout}, \$bg->{out}, qr/^\d+\n/) };
	if ($bg->{out} !~ s/^(\d+)\n//)
	{
		$bg->{h}->kill_kill;
		die "psql did not start a session: $bg->{err}";
	}
	$bg->{pid} = $1;
	return $bg;
}

=pod

=item mp2_background_running(BG)

Whether the psql of BG still runs.

=cut

sub mp2_background_running
{
	my ($bg) = @_;
	my $h = $bg->{h};

	return 0 unless $h->pumpable;
	eval { $h->pump_nb };
	return $h->pumpable ? 1 : 0;
}

=pod

=item mp2_background_end(BG)

Waits for the psql of BG to exit, or kills it at its timeout and says so
in its standard error; returns what it wrote to its standard output (the
pid aside) and to its standard error.

=cut

sub mp2_background_end
{
	my ($bg) = @_;

	if (!eval { $bg->{h}->finish; 1 })
	{
		$bg->{h}->kill_kill;
		$bg->{err} .= "(psql killed: $@)";
	}
	return ($bg->{out}, $bg->{err});
}

=pod

=back

=cut

1;
