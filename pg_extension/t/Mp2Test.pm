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
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep time);

our @EXPORT = qw(mp2_node mp2_q wait_until log_has mp2_top
  worker_info set_and_reload all_pages_on relation_on log_count
  worker_processes node_huge_pages mp2_background mp2_background_running
  mp2_background_end);

=pod

=over

=item mp2_node(NAME, preload => 1, conf => [LINES], initdb => [OPTIONS])

A new cluster, initialised, not started.  C<preload =E<gt> 0> leaves mp2
out of shared_preload_libraries; C<conf> appends more lines; C<initdb>
passes more options to initdb, which always gets C<--data-checksums>
(as a production cluster would, and for pg_checksums).

=cut

sub mp2_node
{
	my ($name, %opts) = @_;
	my $preload = exists $opts{preload} ? $opts{preload} : 1;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init(extra => [ '--data-checksums', @{ $opts{initdb} || [] } ]);
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

=item mp2_memory_nodes()

The NUMA nodes with memory, from
F</sys/devices/system/node/has_memory> (node 0 alone where the file is
missing).

=cut

sub mp2_memory_nodes
{
	my $f = '/sys/devices/system/node/has_memory';
	return (0) unless -r $f;
	my @nodes;
	foreach my $range (split /,/, slurp_file($f) =~ s/\s+//gr)
	{
		my ($lo, $hi) = split /-/, $range;
		push @nodes, $lo .. (defined $hi ? $hi : $lo);
	}
	return @nodes;
}

=pod

=item mp2_root(ACTION)

Has root run ACTION in the middle of a suite, for what PostgreSQL's user
may not do (reserve huge pages, drop the page cache).  ACTION is the name
of a shell function that the script running the suite offered in
C<TAP_ROOT_ACTIONS> (C<run_tap> in F<scripts/pglib.sh>), which then passes
C<MP2_ROOT> to the suite.  Returns whether the action exited 0 and, in
list context, what it printed too; dies without C<MP2_ROOT>, or when root
does not answer within 600 s.

=cut

sub mp2_root
{
	my ($action) = @_;
	my $dir = $ENV{MP2_ROOT}
	  or die "mp2_root($action): no MP2_ROOT (run_tap offers no root actions)";
	local $SIG{ALRM} = sub { die "mp2_root($action): no answer in 600 s\n" };
	alarm 600;
	open my $req, '>', "$dir/req" or die "mp2_root: $dir/req: $!";
	print $req "$action\n";
	close $req;
	open my $rep, '<', "$dir/rep" or die "mp2_root: $dir/rep: $!";
	my @out = <$rep>;
	close $rep;
	alarm 0;
	my $status = -1;
	$status = $1 if @out && $out[-1] =~ /^exit (\d+)$/;
	pop @out if $status >= 0;
	my $said = join('', @out);
	chomp $said;
	return wantarray ? ($status == 0, $said) : $status == 0;
}

=pod

=item mp2_amcheck(NODE, DB)

Whether pg_amcheck finds every heap and B-tree (with heapallindexed) of
DB intact, installing amcheck where it is missing; in list context, its
output too.

=cut

sub mp2_amcheck
{
	my ($node, $db) = @_;
	my $out = '';
	my $ok = IPC::Run::run(
		[
			'pg_amcheck', '--install-missing', '--heapallindexed',
			'-h', $node->host, '-p', $node->port, '-d', $db
		],
		'>&', \$out);
	return wantarray ? ($ok, $out) : $ok;
}

=pod

=item $PGBENCH_SCALE, $PGBENCH_TX, $PGBENCH_RATE

The deterministic pgbench load of the suites that move the pool under
it: scale C<$MP2_LOAD_SCALE> (5), C<$MP2_LOAD_TX> transactions per
client (600), and C<$MP2_LOAD_RATE> transactions per second (60) where a
run is throttled.  The run under moves is held to that rate so that it
lasts (at least 2 * TX / RATE seconds) while the pool moves, however
fast the machine.  Throttling draws from its own random state in
pgbench, so the transactions stay the same.

=item pgbench_init(NODE, DB)

Creates DB and fills it with C<pgbench -i -q -s $PGBENCH_SCALE>; returns
whether that worked and, in list context, pgbench's output.

=item pgbench_start(NODE, DB, LOG, OPTIONS...)

Starts the run in the background: 2 clients, C<$PGBENCH_TX>
transactions each, a fixed random seed, no vacuum, and OPTIONS (such as
C<-R $PGBENCH_RATE>); its output goes to the file LOG.  Returns a handle
for pgbench_running and pgbench_wait.

=item pgbench_running(HANDLE)

Whether that pgbench still runs.

=item pgbench_wait(HANDLE)

Waits for it; returns whether it exited 0.

=item pgbench_run(NODE, DB, LOG, OPTIONS...)

pgbench_start and pgbench_wait.

=item pgbench_failed_tx(LOG)

The number of failed transactions pgbench reported in LOG (15 and
later), or C<none> when it did not say.

=item pgbench_hashes(NODE, DB)

One line for the pgbench tables of DB, C<name|rows|hash;> each: the sum
of C<hashtext()> of every row (history without its timestamp, whose
values differ per run).  TPC-B's updates commute, so the same run leaves
the same line, with or without moves in between.

=item pgbench_reference(FILE)

In a throw-away cluster, the line pgbench_hashes gives after the run
without options, written to FILE; nothing is written when a step fails.
F<check-guest.sh> runs it on the host, where it is fast, and passes the
line to the guest suites as C<MP2_LOAD_REF>.

=item pgbench_completed(LABEL, LOG)

Two tests named after LABEL on a finished run whose output is LOG: it
reports no failed transaction, and every transaction (2 clients,
C<$PGBENCH_TX> each) was processed; pgbench's counts are noted.

=item pgbench_expected_hashes(NODE, LABEL, LOG)

The line the run without moves leaves: C<MP2_LOAD_REF> when the caller
gave it, else what pgbench_hashes gives after that run on database
mp2ref of NODE (a copy of the suite's database made before any run,
dropped after), its output in LOG, with two tests named after LABEL;
the empty string when that run failed.

=item pgbench_intact(NODE, DB, LABEL, REF)

Two tests named after LABEL on DB after the run under moves: its
pgbench_hashes line equals REF, the line of the run without moves (from
pgbench_expected_hashes), and pg_amcheck finds DB intact.

=cut

push @EXPORT, qw(mp2_memory_nodes mp2_root mp2_amcheck
  $PGBENCH_SCALE $PGBENCH_TX $PGBENCH_RATE
  pgbench_init pgbench_start pgbench_running pgbench_wait pgbench_run
  pgbench_failed_tx pgbench_hashes pgbench_reference
  pgbench_expected_hashes pgbench_completed pgbench_intact);

our $PGBENCH_SCALE = $ENV{MP2_LOAD_SCALE} || 5;
our $PGBENCH_TX = $ENV{MP2_LOAD_TX} || 600;
our $PGBENCH_RATE = $ENV{MP2_LOAD_RATE} || 60;

sub pgbench_init
{
	my ($node, $db) = @_;
	my $out = '';
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my $ok = IPC::Run::run(
		[
			'pgbench', '-i', '-q', '-s', $PGBENCH_SCALE,
			'-h', $node->host, '-p', $node->port, $db
		],
		'>&', \$out);
	return wantarray ? ($ok, $out) : $ok;
}

sub pgbench_start
{
	my ($node, $db, $log, @opts) = @_;
	my @cmd = (
		'pgbench', '-n', '-c', '2', '-j', '2', '-t', $PGBENCH_TX,
		'--random-seed=4242', @opts,
		'-h', $node->host, '-p', $node->port, $db);
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open STDOUT, '>', $log or POSIX::_exit(127);
		open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
		exec @cmd or POSIX::_exit(127);
	}
	return { pid => $pid };
}

sub pgbench_running
{
	my ($h) = @_;
	return 0 if defined $h->{status};
	return 1 if waitpid($h->{pid}, POSIX::WNOHANG()) == 0;
	$h->{status} = $?;
	return 0;
}

sub pgbench_wait
{
	my ($h) = @_;
	if (!defined $h->{status})
	{
		waitpid($h->{pid}, 0);
		$h->{status} = $?;
	}
	return $h->{status} == 0;
}

sub pgbench_run
{
	return pgbench_wait(pgbench_start(@_));
}

sub pgbench_failed_tx
{
	my ($log) = @_;
	return (slurp_file($log) =~ /^number of failed transactions: (\d+)/m)
	  ? $1
	  : 'none';
}

sub pgbench_hashes
{
	my ($node, $db) = @_;
	my $out = $node->safe_psql(
		$db, q{
SELECT 'accounts', count(*), sum(hashtext(t::text)::bigint) FROM pgbench_accounts t
UNION ALL
SELECT 'branches', count(*), sum(hashtext(t::text)::bigint) FROM pgbench_branches t
UNION ALL
SELECT 'tellers', count(*), sum(hashtext(t::text)::bigint) FROM pgbench_tellers t
UNION ALL
SELECT 'history', count(*), sum(hashtext(t::text)::bigint)
  FROM (SELECT tid, bid, aid, delta FROM pgbench_history) t});
	return join('', map { "$_;" } split /\n/, $out);
}

sub pgbench_reference
{
	my ($file) = @_;
	my $node = mp2_node('reference', conf => ['shared_buffers = 32MB']);
	$node->start;
	my $line;
	$line = pgbench_hashes($node, 'mp2ref')
	  if pgbench_init($node, 'mp2ref')
	  && pgbench_run($node, 'mp2ref',
		PostgreSQL::Test::Utils::tempdir() . '/reference.log');
	$node->stop;
	return unless $line;
	open my $fh, '>', $file or die "$file: $!";
	print $fh "$line\n";
	close $fh;
	return;
}

sub pgbench_completed
{
	my ($label, $log) = @_;
	my $tx = 2 * $PGBENCH_TX;
	my $out = slurp_file($log);

	Test::More::note(join "\n",
		grep { /^(number of (transactions|failed)|tps)/ } split /\n/, $out);
	Test::More::is(pgbench_failed_tx($log),
		'0', "$label: pgbench reports 0 failed transactions");
	Test::More::like(
		$out,
		qr{^number of transactions actually processed: $tx/$tx$}m,
		"$label: all transactions done");
	return;
}

sub pgbench_expected_hashes
{
	my ($node, $label, $log) = @_;

	if ($ENV{MP2_LOAD_REF})
	{
		Test::More::note("$label: hashes of the run without moves, taken on the host: $ENV{MP2_LOAD_REF}");
		return $ENV{MP2_LOAD_REF};
	}
	if (!Test::More::ok(
			pgbench_run($node, 'mp2ref', $log),
			"$label: reference pgbench run"))
	{
		Test::More::diag(slurp_file($log));
		return '';
	}
	my $line = pgbench_hashes($node, 'mp2ref');
	Test::More::is(pgbench_failed_tx($log),
		'0', "$label: reference reports 0 failed transactions");
	mp2_q($node, 'DROP DATABASE mp2ref');
	return $line;
}

sub pgbench_intact
{
	my ($node, $db, $label, $ref) = @_;
	my $line = eval { pgbench_hashes($node, $db) } // '';

	Test::More::note("$label: hashes after the moves: $line");
	Test::More::ok($ref ne '' && $ref eq $line,
		"$label: every table's hash equals the run without moves")
	  or Test::More::diag("$label: hashes without moves: $ref");
	my ($clean, $amcheck) = mp2_amcheck($node, $db);
	Test::More::ok($clean, "$label: pg_amcheck clean")
	  or Test::More::diag($amcheck);
	return;
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
