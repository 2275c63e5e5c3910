# SPDX-License-Identifier: MIT
#
# Policy tier (tier.c) on four nodes, 0-1 with CPUs and 2-3 memory only,
# the pool first touched on the slow ones (2, 3): under pgbench the hot
# table moves to nodes 0-1 while a cold table stays on 2-3; the fast tier
# never holds more than its cap (mp2.fast_fraction) by the worker's count
# or the kernel's; steady load moves few pages; a lower cap is honoured
# within a few rounds; without load the hot pages go cold and back to
# 2-3, after which next to nothing moves; no transaction is lost and the
# tables are intact.  On a machine without that layout it skips.
#
# The server needs CAP_SYS_NICE to move the pool's shared pages:
# check-guest.sh runs this file with the capability in prove's ambient
# set (pglib.sh's run_tap ... cap), which pg_ctl and the server inherit.

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

sub sysfs
{
	my ($f) = @_;
	return '' unless -r $f;
	my $s = slurp_file($f);
	chomp $s;
	return $s;
}
my $has_cpu = sysfs('/sys/devices/system/node/has_cpu');
my $has_memory = sysfs('/sys/devices/system/node/has_memory');
plan skip_all =>
  "needs nodes 0-1 with CPUs and 2-3 with memory only (this machine: CPUs on $has_cpu, memory on $has_memory)"
  unless $has_cpu eq '0-1' && $has_memory eq '0-3';

# pg_ctl waits up to 300 s for the server to start or stop, not 60: the
# guest emulates its CPUs.
$ENV{PGCTLTIMEOUT} = 300;

my $script = mp2_top() . '/experiments/pgbench/tier-hot.sql';
BAIL_OUT("no $script") unless -r $script;
my $dir = PostgreSQL::Test::Utils::tempdir;

my $node = mp2_node(
	'tier',
	conf => [
		'shared_buffers = 256MB',
		'synchronous_commit = off',
		'mp2.fast_fraction = 0.25',
		'mp2.max_pages_per_round = 0'
	]);

# Every process of the server allocates on the slow nodes only: the worst
# start a server can have.  Only mp2 moves pages to 0 and 1.
#
# numactl --membind=2,3 sets a memory policy that fork and exec keep, so
# pg_ctl started under it starts a postmaster, and every process it forks,
# bound to 2-3.  Cluster.pm's start runs the pg_ctl it finds in PATH and
# has no way to put a command before it: here PATH finds, for the start
# only, a pg_ctl that is numactl in front of the real one.  (Binding the
# whole test instead would bind pgbench and psql too, and stop and reload
# need no binding.)
my ($pg_ctl) = grep { -x $_ } map { "$_/pg_ctl" } split /:/, $ENV{PATH};
BAIL_OUT('no pg_ctl in PATH') unless $pg_ctl;
mkdir "$dir/membind" or die "mkdir $dir/membind: $!";
append_to_file("$dir/membind/pg_ctl",
	"#!/bin/sh\nexec numactl --membind=2,3 '$pg_ctl' \"\$@\"\n");
chmod 0755, "$dir/membind/pg_ctl" or die "chmod: $!";
{
	local $ENV{PATH} = "$dir/membind:$ENV{PATH}";
	$node->start(fail_ok => 1)
	  or BAIL_OUT('the server does not start under numactl --membind=2,3');
}
my ($postmaster) = split /\n/,
  slurp_file($node->data_dir . '/postmaster.pid');
my %policies =
  map { (split / /)[1] => 1 } split /\n/,
  slurp_file("/proc/$postmaster/numa_maps");
note("the postmaster's memory policies: ", join(' ', sort keys %policies));

sub query { return mp2_q($node, $_[0]); }

# Pages of relation REL (or of the pool, with REL '') on NODES (a list
# such as "0,1"), and in all.
sub pages_on
{
	my ($rel, $nodes) = @_;
	my $src =
	  $rel eq '' ? 'mp2_buffer_nodes()' : "mp2_relation_nodes('$rel')";
	return split /\|/, query(
		"SELECT coalesce(sum(os_pages) FILTER (WHERE node IN ($nodes)), 0),
		        coalesce(sum(os_pages) FILTER (WHERE node IS NOT NULL), 0)
		   FROM $src");
}

# share_on(REL, NODES, MIN): at least MIN (0..1) of REL's pages are on
# NODES.
sub share_on
{
	my ($rel, $nodes, $min) = @_;
	my ($on, $all) = pages_on($rel, $nodes);
	return $all > 0 && $on >= $min * $all;
}

sub tier_row
{
	my ($tier, $expr) = @_;
	return query("SELECT $expr FROM mp2_tier_info() WHERE tier = '$tier'");
}

sub tier_rounds { return query('SELECT rounds FROM mp2_worker_info()'); }

# Wait for the next round of the worker to end, for at most two minutes
# (a round that moves much of the pool is slow in an emulated guest).
sub next_round
{
	my $r0 = tier_rounds();
	return wait_until(120, sub { tier_rounds() > $r0 });
}

# Wait round by round until DONE holds after one, for as long as fewer
# than MAX rounds have ended since R0; EACH, when given, runs after every
# round, before DONE is asked.  The rounds since R0 when DONE held; undef
# when it did not, or a round did not end.
sub rounds_until
{
	my ($r0, $max, $done, $each) = @_;
	while (tier_rounds() - $r0 < $max)
	{
		next_round() or return;
		$each->() if $each;
		return tier_rounds() - $r0 if $done->();
	}
	return;
}

# Wait until ROUNDS rounds have ended since R0 or one does not end; EACH
# as for rounds_until.
sub rounds_since
{
	my ($r0, $rounds, $each) = @_;
	rounds_until($r0, $rounds, sub { 0 }, $each);
	return;
}

# The fast tier holds no more than its cap, by the worker's count (as its
# last round found it) and by the kernel's (the pool's pages on nodes 0
# and 1, now).
sub within_cap
{
	my $cap = tier_row('fast', 'cap_pages');
	my $fast = tier_row('fast', 'pages');
	my ($on) = pages_on('', '0,1');
	return 1
	  if $cap ne '' && $fast ne '' && $fast <= $cap && $on <= $cap;
	note("over the cap: cap $cap, worker counts $fast, kernel $on");
	return 0;
}

query(
	'CREATE EXTENSION mp2; CREATE EXTENSION amcheck; CREATE EXTENSION pg_prewarm'
);
$node->run_log([ 'pgbench', '-i', '-s', '1', '-q', 'postgres' ])
  or BAIL_OUT('pgbench -i failed');
query(
	"CREATE TABLE tier_cold AS
     SELECT g, md5(g::text) || repeat('x', 400) AS pad
       FROM generate_series(1, 120000) g");
my $cold_md5 = "SELECT md5(string_agg(pad, '' ORDER BY g)) FROM tier_cold";
my $cold0 = query($cold_md5);
query(
	"SELECT pg_prewarm('tier_cold'), pg_prewarm('pgbench_accounts'),
          pg_prewarm('pgbench_accounts_pkey')");
ok(share_on('', '2,3', 1),
	'before the policy, none of the pool is on nodes 0-1');
note(
	'pool: ',
	join(' of ', pages_on('', '0,1')),
	' pages on 0-1; tier_cold ',
	join(' of ', pages_on('tier_cold', '2,3')),
	' on 2-3');

my $tier_log = mp2_alter_system($node, "mp2.policy = 'tier'");
# Long enough for the phases below; what is left is waited for.
my $pgbench_log = "$dir/pgbench.log";
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2',
		'-j', '2', '-T', '150',
		'-D', 'rows=100000', '-f', $script,
		'-h', $node->host, '-p', $node->port,
		'postgres'
	],
	'>',
	$pgbench_log,
	'2>&1');

note('the hot table moves to nodes 0-1');
my $ok_cap = 1;
my $check_cap = sub { within_cap() or $ok_cap = 0 };
my $r0 = tier_rounds();
my $rounds = rounds_until($r0, 60,
	sub { share_on('pgbench_accounts', '0,1', 0.85) }, $check_cap);
ok( defined $rounds,
	'85% of the hot table on nodes 0-1 within 60 rounds (took '
	  . ($rounds // 'more') . ')');
note(
	'hot table ',
	join(' of ', pages_on('pgbench_accounts', '0,1')),
	' on 0-1; ',
	join(
		';',
		split /\n/,
		query(
			"SELECT tier, pages, hot_pages, cap_pages, promoted_total, demoted_total,
		        round(use_share::numeric, 3)
		   FROM mp2_tier_info()")));
ok(share_on('tier_cold', '2,3', 0.99), 'the cold table stayed on nodes 2-3');
# With mp2.fast_nodes and mp2.slow_nodes unset the tiers are the kernel's
# (the rig's ACPI HMAT puts 2-3 in a lower memory tier), said once.
my @said = log_from($node, $tier_log) =~ /mp2 worker: policy tier: (.*)/g;
is( join(' | ', @said),
	"fast nodes 0-1 (the kernel's top memory tier), slow nodes 2-3 (the kernel's lower memory tiers)",
	"the worker logs once that it took the kernel's memory tiers");

note('steady load, few moves');
my $moved = 'promoted_total + demoted_total';
$r0 = tier_rounds();
my $m0 = tier_row('fast', $moved);
rounds_since($r0, 10, $check_cap);
my $r1 = tier_rounds();
my $m1 = tier_row('fast', $moved);
my $hot = tier_row('fast', 'hot_pages');
my $per = $r1 > $r0 ? int(($m1 - $m0) / ($r1 - $r0)) : undef;
note(
	$m1 - $m0, ' pages moved in ',
	$r1 - $r0, ' rounds: ',
	$per // '?',
	" a round; $hot hot pages on the fast tier");
ok( defined $per && $per <= int($hot / 10) + 5,
	'steady load moves at most 10% of the hot pages a round ('
	  . ($per // '?')
	  . " of $hot)");
is( query("SELECT use_share >= 0.9 FROM mp2_tier_info() WHERE tier = 'fast'"),
	't', 'the fast tier is mostly used pages');

note('a lower cap is honoured');
mp2_alter_system($node, 'mp2.fast_fraction = 0.01');
for (1 .. 5)
{
	next_round() or last;
	last if within_cap();
}
ok(within_cap(), 'within 5 rounds the fast tier is within a cap of 1%');
is(tier_row('fast', 'hot_pages = pages'), 't',
	'... and holds hot pages only');
mp2_alter_system($node, 'mp2.fast_fraction = 0.25');
ok($ok_cap, 'the fast tier never held more than its cap');

$pgbench->finish;
my $out = slurp_file($pgbench_log);
note($_) foreach grep { /processed|failed|tps/ } split /\n/, $out;
my ($txns) = $out =~ /^number of transactions actually processed: (\d+)/m;
like(
	$out,
	qr/^number of failed transactions: 0 /m,
	'pgbench ran, no failed transaction');
my $sum = query('SELECT sum(abalance) FROM pgbench_accounts');
ok( defined $txns && $sum eq $txns,
	"every update is there (sum of balances $sum = "
	  . ($txns // '?')
	  . ' transactions)');

note('without load, the fast tier keeps what it holds while it has room');
# A page is cold after 8 rounds without a use: 12 rounds are counted.
$r0 = tier_rounds();
my $d0 = tier_row('fast', 'demoted_total');
rounds_since($r0, 12);
my $d1 = tier_row('fast', 'demoted_total');
# (The catalog pages the test's own queries use may still move.)
cmp_ok($d1 - $d0, '<=', 64,
	    '12 rounds without load demote next to nothing ('
	  . ($d1 - $d0)
	  . ' pages): the tier has room');
ok(share_on('pgbench_accounts', '0,1', 0.85),
	'... and the table is still on nodes 0-1');

note('nothing to move and nothing else moving pages: the survey is skipped');
# Once the pages the test's own queries use are on the fast tier, and
# nothing but the worker moved pages for 8 passes (/proc/vmstat), a round
# reads the buffer headers only: no page located, none moved.
my $quiet_at = mp2_alter_system($node, 'log_min_messages = debug1');
my $skipped =
  qr/mp2 worker: tier round, slice \d+ of \d+: nodes [\d.]+ ms, history [\d.]+ ms \((\d+) buffers\), survey [\d.]+ ms \((\d+) pages located in [\d.]+ ms\), moves [\d.]+ ms \((\d+) demoted, (\d+) promoted\), survey skipped: nothing to move/;
$r0 = tier_rounds();
$rounds = rounds_until($r0, 30, sub { log_from($node, $quiet_at) =~ $skipped });
my @skip = log_from($node, $quiet_at) =~ $skipped;
ok( defined $rounds && "@skip" eq '32768 0 0 0',
	'without load a round reads the 32768 buffer headers and skips its survey: no page located or moved (after '
	  . ($rounds // 'more')
	  . ' rounds: '
	  . (@skip ? "@skip" : 'no such round') . ')');
mp2_alter_system($node, 'log_min_messages = warning');

note('the hot set moves to a table the tier has no room for beside the first');
# Counted from before the table is made: reading it to make its index and
# its checksum makes it hot at once.
$d0 = tier_row('fast', 'demoted_total');
my $p0 = tier_row('fast', 'promoted_total');
query(
	"CREATE TABLE tier_next AS SELECT * FROM pgbench_accounts;
	 ALTER TABLE tier_next ADD PRIMARY KEY (aid);
	 SELECT pg_prewarm('tier_next'), pg_prewarm('tier_next_pkey')");
my $next_md5 = "SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM tier_next";
my $next0 = query($next_md5);
my ($first_on) = pages_on('pgbench_accounts', '0,1');
my (undef, $next_pages) = pages_on('tier_next', '0,1');
$next_pages += (pages_on('tier_next_pkey', '0,1'))[1];
# Room for the first table and half the next: half of it must displace
# pages of the first, which went cold.
my $pool_pages = 4 * tier_row('fast', 'cap_pages');
my $fraction = sprintf('%.4f', ($first_on + $next_pages / 2) / $pool_pages);
note("pgbench_accounts: $first_on pages on 0-1; tier_next: $next_pages pages; ",
	"fast_fraction $fraction of $pool_pages pages");
mp2_alter_system($node, "mp2.fast_fraction = $fraction");
append_to_file("$dir/tier-next.sql",
	"\\set u random(1, 100000 - 2000)\n"
	  . "SELECT sum(abalance) FROM tier_next WHERE aid BETWEEN :u AND :u + 2000;\n");
my $next_log = "$dir/pgbench-next.log";
my $pgbench_next = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-T', '300',
		'-f', "$dir/tier-next.sql",
		'-h', $node->host, '-p', $node->port,
		'postgres'
	],
	'>', $next_log, '2>&1');
$ok_cap = 1;
my ($pool_fast0) = pages_on('', '0,1');
$r0 = tier_rounds();
$rounds = rounds_until($r0, 60,
	sub { share_on('tier_next', '0,1', 0.85) }, $check_cap);
ok( defined $rounds,
	'85% of the new hot table on nodes 0-1 within 60 rounds (took '
	  . ($rounds // 'more') . ')');
$d1 = tier_row('fast', 'demoted_total');
my $p1 = tier_row('fast', 'promoted_total');
ok($ok_cap, '... the fast tier within its cap all along');
my ($first_after, $first_all) = pages_on('pgbench_accounts', '0,1');
my ($pool_fast1) = pages_on('', '0,1');
note("pgbench_accounts: $first_after of $first_all pages on 0-1 now; ",
	$p1 - $p0, ' pages promoted, ', $d1 - $d0, ' demoted; pool pages on 0-1: ',
	"$pool_fast0 -> $pool_fast1");
ok( $first_after < $first_on && $d1 - $d0 >= $first_on - $first_after,
	"... having demoted the first table's cold pages to make room ($first_on -> $first_after on 0-1)"
);
ok(share_on('tier_cold', '2,3', 0.99), 'the cold table is still on nodes 2-3');

note('a round looks at one slice of the pool');
# 256 MB of buffers in slices of 64 MB: 4 slices of 8192 buffers, each
# 16384 pages of 4 kB, located once to survey and at most twice more to
# move.
mp2_alter_system($node, "mp2.tier_slice = '64MB'");
my %progress;

# Placement is kept between rounds: a round that moves nothing, in a
# slice whose last visit (4 rounds before) moved nothing either, locates
# its refresh share only.  The rounds sampled that are such rounds.
sub quiet_rounds
{
	return grep {
		my $last = $progress{ $_ - 4 };
		defined $last
		  && (split /\|/, $last)[5] == 0
		  && (split /\|/, $progress{$_})[5] == 0
	} @_;
}
# 9 rounds, and more (up to 24) until a quiet one is among them.
wait_until(
	180,
	sub {
		my $row = query(
			'SELECT slice, slices, rounds, buffers_read, pages_located, pages_moved FROM mp2_tier_progress()'
		);
		$progress{ (split /\|/, $row)[2] } = $row;
		my @seen = sort { $a <=> $b } keys %progress;
		shift @seen;
		return @seen >= 8 && (quiet_rounds(@seen) > 0 || @seen >= 24);
	});
my @quiet = do
{
	my @seen = sort { $a <=> $b } keys %progress;
	shift @seen;
	quiet_rounds(@seen);
};
# The first row may be that of the round before the new slices.
my @rounds = sort { $a <=> $b } keys %progress;
shift @rounds;
splice @rounds, 8 if @rounds > 8;
my @progress = @progress{@rounds};
$check_cap->();
note("slice|slices|rounds|buffers_read|pages_located|pages_moved: ",
	join(' ', @progress));
# Whatever rounds were sampled, slice + (rounds since) mod 4 is the same.
my %start = map { my ($sl, undef, $r) = split /\|/; (($sl - $r) % 4 => 1) } @progress;
is(scalar(grep { (split /\|/)[1] == 4 && (split /\|/)[3] == 8192 } @progress),
	scalar(@progress),
	'each of 8 rounds reads the headers of one slice: 8192 buffers of 32768');
# (A page at either end of a slice may also hold a buffer of the next.)
is(scalar(grep { (split /\|/)[4] <= 3 * (16384 + 2) } @progress),
	scalar(@progress), '... and locates at most 3 x 16386 pages');
ok(@progress == 8 && keys %start == 1,
	'... one slice after the other (' . scalar(@progress) . ' rounds sampled)');
# A quiet round locates the pages of 4 runs of 512 in its 16384 (and a
# page at either end) at most.
ok( @quiet > 0 && !grep({ (split /\|/, $progress{$_})[4] > 4 * 512 + 2 } @quiet),
	'... and a round that moves nothing, after a visit that moved nothing, locates at most 4 x 512 + 2 pages ('
	  . scalar(@quiet)
	  . ' such rounds)');
ok($ok_cap, '... the fast tier within its cap');
ok(share_on('tier_next', '0,1', 0.85),
	'... and the hot table still on nodes 0-1');

# With log_min_messages = debug1 the worker logs where each round's time
# went: here a slice of 8192 buffers, and no more pages located than the
# progress function allows.
my $log_at = mp2_alter_system($node, 'log_min_messages = debug1');
$node->wait_for_log(qr/mp2 worker: tier round, slice \d+ of 4: /, $log_at);
my ($round_buffers, $round_located) = log_from($node, $log_at) =~
  /mp2 worker: tier round, slice \d+ of 4: nodes [\d.]+ ms, history [\d.]+ ms \((\d+) buffers\), survey [\d.]+ ms \((\d+) pages located in [\d.]+ ms\), moves [\d.]+ ms \(\d+ demoted, \d+ promoted\)/;
is($round_buffers, 8192,
	"at log_min_messages = debug1 a round's line gives its phases' times and its slice's 8192 buffers"
);
ok(defined $round_located && $round_located <= 3 * (16384 + 2),
	'... and the pages it located (' . ($round_located // 'none') . ')');
mp2_alter_system($node, 'log_min_messages = warning');

note('pages moved by another process are found again');
# The worker knows the new hot table's pages as fast.  Moved to node 2
# behind its back, one of them is located again within 8 rounds (each
# page's run comes up once in 8 visits), and then every page in the next
# round: they are promoted.
mp2_alter_system($node, "mp2.tier_slice = '4GB'");
next_round();
my (undef, $next_all) = pages_on('tier_next', '0,1');
my $away = query("SELECT moved FROM mp2_migrate('tier_next', 2)");
note("mp2_migrate moved $away of the $next_all pages of tier_next to node 2");
$r0 = tier_rounds();
$rounds = rounds_until($r0, 16,
	sub { share_on('tier_next', '0,1', 0.85) }, $check_cap);
# More than 15% moved away: below 85% on 0-1 until the worker moves them.
ok( $away > 0.15 * $next_all && defined $rounds,
	'... and 85% of them back on nodes 0-1 within 16 rounds (took '
	  . ($rounds // 'more') . ')');
$pgbench_next->kill_kill;
mp2_alter_system($node, 'mp2.fast_fraction = 0.25');
is(query($next_md5), $next0, "the new hot table's bytes are unchanged");

mp2_alter_system($node, "mp2.policy = 'off'");
is(query($cold_md5), $cold0, "the cold table's bytes are unchanged");
is(query("SELECT count(*) FROM verify_heapam('pgbench_accounts')"),
	'0', 'amcheck finds the heap and index intact');
is( scalar $node->psql(
		'postgres', "SELECT bt_index_check('pgbench_accounts_pkey', true)"),
	0,
	'... and the primary key');
is(query('SELECT failed_rounds FROM mp2_worker_info()'),
	'0', 'no worker round failed');

$node->stop;
done_testing();
