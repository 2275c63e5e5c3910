# SPDX-License-Identifier: MIT
#
# Work-sized memory and cancel: a whole-pool migration is stopped by a
# query cancel and by statement_timeout between two system calls, with
# the counters of what moved kept; and the private memory of a backend
# that looks at or moves the whole pool does not grow with
# shared_buffers.  The server needs CAP_SYS_NICE to move the pool, whose
# pages every backend maps (check-guest.sh starts prove with it).
# Stopping a migration midway needs two nodes and is skipped on one; the
# memory is measured on any machine.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use lib 't';
use Mp2Test;

# The table that fills part of the pool in both runs, in MB.
my $table_mb = $ENV{MP2_BOUNDED_TABLE_MB} || 48;

my $node = mp2_node('bounded');

# The peak private memory in kB of the backend of a session of its own
# while SQL ran, and SQL's output: the peak resident set (VmHWM, reset
# right before SQL through clear_refs, which the owner of a process may
# write) less the file and shared pages it maps at the end (they only
# grow, so they were no larger at the peak), plus its page tables.
# Shared buffer pages are not in it.  The kB are undef when the backend
# could not be measured.
sub peak_private_kb
{
	my ($sql) = @_;

	# A move of the whole 1 GB pool, 64 pages a call, takes about a
	# minute in the emulated guest: five times the usual timeout.
	my $s = $node->background_psql('postgres',
		timeout => 5 * $PostgreSQL::Test::Utils::timeout_default);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	my $reset = "/proc/$pid/clear_refs";
	my $fh;
	if (!(open($fh, '>', $reset) && print($fh "5\n") && close($fh)))
	{
		diag("cannot write $reset: $!");
		$s->quit;
		return (undef, '');
	}
	my ($out, $failed) = $s->query($sql);
	diag("$sql: $s->{stderr}") if $failed;
	my $status = slurp_file("/proc/$pid/status");
	$s->quit;

	my %kb = $status =~ /^(\w+):\s+(\d+) kB$/mg;
	note(join ' ',
		map { "$_: " . ($kb{$_} // '?') . ' kB' }
		  qw(VmHWM RssAnon RssFile RssShmem VmPTE));
	return (undef, $out)
	  if grep { !defined $kb{$_} } qw(VmHWM RssFile RssShmem VmPTE);
	return ($kb{VmHWM} - $kb{RssFile} - $kb{RssShmem} + $kb{VmPTE}, $out);
}

# A whole-pool migration that takes seconds (one page per move_pages
# call), stopped after 0.3 s by HOW: cancel (pg_cancel_backend) or
# timeout (statement_timeout).
sub stop_mid_migration
{
	my ($how) = @_;
	my $move =
	  "SELECT * FROM mp2_migrate_pool(1, method => 'move_pages', batch_size => 1)";
	my $msg =
	  $how eq 'cancel'
	  ? 'canceling statement due to user request'
	  : 'canceling statement due to statement timeout';
	my ($out, $err);

	mp2_q($node, "SELECT * FROM mp2_migrate_pool(0, mode => 'sync')");
	mp2_q($node, 'SELECT mp2_stats_reset()');
	my $pages = mp2_q($node,
		'SELECT sum(os_pages) FROM mp2_buffer_nodes() WHERE node IS NOT NULL');
	if ($how eq 'cancel')
	{
		my $bg = mp2_background($node, $move);
		usleep(300_000);
		is(mp2_q($node, "SELECT pg_cancel_backend($bg->{pid})"),
			't', 'pg_cancel_backend() reaches it');
		($out, $err) = mp2_background_end($bg);
	}
	else
	{
		$node->psql(
			'postgres', "SET statement_timeout = '300ms';\n$move;",
			stdout => \$out,
			stderr => \$err);
	}
	note($err);
	like($err, qr/ERROR:  \Q$msg\E/, "$how stops it with \"$msg\"");
	like(
		$err,
		qr/CONTEXT:  mp2_migrate_pool stopped after [0-9]+ of [0-9]+ pages: [1-9][0-9]* moved/,
		"the error's context says what moved");
	my $r = mp2_q($node,
		"SELECT migrations, moved > 0, not_tried > 0, moved < $pages
		   FROM mp2_stats() WHERE method = 'move_pages'");
	is($r, '1|t|t|t',
		"counters kept: one migration, some moved, the rest not tried ($r)");
	return;
}

my (%look, %move);
foreach my $sb (128, 1024)
{
	note("shared_buffers = ${sb}MB");
	$node->append_conf('postgresql.conf', "shared_buffers = ${sb}MB");
	if (!$node->start(fail_ok => 1))
	{
		fail("server starts with shared_buffers = ${sb}MB");
		next;
	}
	mp2_q($node,
		'SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mp2;
		 CREATE EXTENSION IF NOT EXISTS pg_prewarm');
	if (mp2_q($node, "SELECT 1 FROM pg_class WHERE relname = 'mp2_fill'") eq
		'')
	{
		mp2_q($node,
			"CREATE TABLE mp2_fill AS
			 SELECT g AS id, repeat('f', 1000) AS pad
			   FROM generate_series(1, $table_mb * 896) g");
	}
	mp2_q($node, "SELECT pg_prewarm('mp2_fill')");
	mp2_q($node, "SELECT * FROM mp2_migrate_pool(0, mode => 'sync')");
	my $last = mp2_q($node, 'SELECT max(node) FROM mp2_numa_nodes()');

	my $out;
	($look{$sb}, $out) = peak_private_kb('SELECT * FROM mp2_buffer_nodes()');
	note('mp2_buffer_nodes(): ', join(' ', split /\n/, $out));
	($move{$sb}, $out) = peak_private_kb(
		"SELECT requested, moved, already, not_present, not_tried
		   FROM mp2_migrate_pool($last, method => 'move_pages', batch_size => 64)"
	);
	note("mp2_migrate_pool($last): $out");
	note("shared_buffers ${sb}MB: peak private memory of the backend: "
		  . 'looking ' . ($look{$sb} // 'unmeasured') . ' kB, '
		  . 'moving ' . ($move{$sb} // 'unmeasured') . ' kB');

	if ($sb == 128)
	{
	  SKIP:
		{
			skip 'stopping a migration midway needs two nodes', 7
			  unless $last > 0;
			stop_mid_migration('cancel');
			stop_mid_migration('timeout');
		}
	}
	$node->stop;
}

# The old code held several arrays with an entry per page of the pool:
# 2 MB and more for 1 GB of 4 kB pages.
my @measured =
  grep { defined $_ && $_ > 0 } @look{ 128, 1024 }, @move{ 128, 1024 };
ok(@measured == 4, 'the backends were measured');
foreach my $what ([ 'looking at', \%look ], [ 'moving', \%move ])
{
	my ($verb, $kb) = @$what;
	my $grew =
	  defined $kb->{128} && defined $kb->{1024}
	  ? $kb->{1024} - $kb->{128}
	  : undef;
	ok( defined $grew && $grew <= 512,
		"$verb a 1 GB pool takes no more private memory than at 128 MB ("
		  . (defined $grew ? sprintf('%+d kB', $grew) : 'unmeasured')
		  . ')');
}

done_testing();
