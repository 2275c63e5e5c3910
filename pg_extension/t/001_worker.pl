# SPDX-License-Identifier: MIT
#
# The relocation worker (worker.c, rules.c), with mp2 preloaded so that
# its worker runs in database postgres: policies interleave and rules
# take effect within a bounded number of rounds and follow a reload;
# mp2.max_rate paces the moves; rules that became wrong are skipped and
# named once; an altered or locked mp2_rules, and database defaults that
# make a transaction wait, neither stop the rounds nor the server; the
# server and its data come through a kill -9 of the worker;
# mp2_worker_stop() stops it for good; two concurrent starts start one;
# the rules' database dropped, or missing from the start, is logged once,
# without a FATAL loop.
#
# On one node every placement check holds trivially, and the checks that
# need pages to move are skipped; on several they show that the policy
# took effect.

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use POSIX qw(strftime);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use Mp2Test;

# shared_buffers = 32MB, as in the two-node guest, where the placement
# checks mean something: the bounds below (rounds to interleave, pages
# mp2.max_rate lets through) were set for that pool, and on one node they
# hold for any.  With it the host runs the same test as the guest, and
# mp2_w (120000 rows, about 28 MB) fills most of the pool.  Under prove
# with CAP_SYS_NICE ambient (check-guest.sh), the server and every
# restart of it have the capability.  restart_after_crash is on, as in a
# server (PostgreSQL::Test::Cluster turns it off): the postmaster
# reinitializes after the kill -9 below.
my $node = mp2_node('worker',
	conf => [ 'shared_buffers = 32MB', 'restart_after_crash = on' ]);
$node->start;

sub sql    { return mp2_q($node, @_); }
sub w_info { return worker_info($node, $_[0]); }

# A heading with the time, to see where the time goes.
sub phase { note(strftime('%T', localtime), ' ', $_[0]); }

# V is an integer greater than N (V is empty when there is no worker).
sub num_gt
{
	my ($v, $n) = @_;
	return defined $v && $v =~ /^-?\d+$/ && $v > $n;
}

# The worker has ended at least N rounds.
sub rounds_past { return num_gt(w_info('rounds'), $_[0] - 1); }

# The worker's last error contains TEXT ('': there is none).
sub last_error_has
{
	my ($text) = @_;
	my $e = w_info('last_error');
	return $text eq '' ? $e eq '' : index($e, $text) >= 0;
}

# The worker reports a policy once a round under it has ended.
sub policy_is { return w_info('policy') eq $_[0]; }

sub w_running { return w_info('pid') ne ''; }

# The worker has moved more than N pages in all.  The count is taken
# before the policy that moves them is set: a round of one page a call
# can end within the 2 s a check before and after it would take.
sub moved_past { return num_gt(w_info('pages_moved'), $_[0]); }

# The server log has a line that contains TEXT.
sub logged { return log_has($node, qr/\Q$_[0]\E/); }

# Lines of the server log that contain TEXT.
sub logged_count { return log_count($node, qr/\Q$_[0]\E/); }

# SQL fails with an error that contains TEXT.
sub sql_fails
{
	my ($sql, $text) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return 1 if $ret != 0 && index($err, $text) >= 0;
	diag("got: $err");
	return 0;
}

# The interleave policy is in effect: every node holds its share of the
# pages that exist, within 2% (pages busy in a round are moved later).
sub interleaved
{
	return sql(
		"WITH b AS (SELECT node, os_pages FROM mp2_buffer_nodes()
		             WHERE node IS NOT NULL),
		      t AS (SELECT sum(os_pages)::float8 AS s, count(*) AS n FROM b)
		 SELECT bool_and(abs(os_pages - s / n) <= 0.02 * s / n + 8)
		   FROM b, t") eq 't';
}

# psql in the background, in a session named APPNAME, running SQL; its
# output is dropped.
sub background_session
{
	my ($appname, $sql) = @_;
	my $out = '';
	return IPC::Run::start(
		[
			'psql', '-X', '-q', '-At', '-d',
			$node->connstr('postgres') . " application_name=$appname",
			'-c', $sql
		],
		'>&',
		\$out);
}

# End the session named APPNAME that background_session started.
sub end_session
{
	my ($appname, $h) = @_;
	sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	      WHERE application_name = '$appname'");
	$h->finish;
	return;
}

sql('CREATE EXTENSION mp2; CREATE EXTENSION amcheck;
     CREATE EXTENSION pg_prewarm');
sql("CREATE TABLE mp2_w AS SELECT g AS id, repeat('x', 200) AS pad
       FROM generate_series(1, 120000) g");
sql("SELECT pg_prewarm('mp2_w')");
sql('CREATE INDEX mp2_w_id ON mp2_w (id)');
my $last = sql('SELECT max(node) FROM mp2_numa_nodes()');
my $pool = sql('SELECT pool_pages FROM mp2_info()');
note("nodes 0-$last, $pool pool pages, CAP_SYS_NICE ",
	sql('SELECT cap_sys_nice FROM mp2_info()'));
my ($r0, $r1, $m0, $m1, $f0);

ok(wait_until(30, \&w_running), 'the preloaded worker runs');
my $pid = w_info('pid');

# Interleave within a bounded number of naptimes.  A round moves at most
# 4096 pages, so ceil(pool / 4096) rounds reach every page, plus 3 for
# pages that were busy or came into use meanwhile.
my $bound = int(($pool + 4095) / 4096) + 3;
my $limit = $bound * 3 + 20;
sql('SELECT * FROM mp2_migrate_pool(0)');
$r0 = w_info('rounds');
set_and_reload(
	$node,
	"mp2.policy = 'interleave'",
	"mp2.naptime = '1s'",
	'mp2.max_pages_per_round = 4096',
	"mp2.interleave_nodes = ''");
if (wait_until($limit, \&interleaved))
{
	my $took = w_info('rounds') - $r0;
	cmp_ok($took, '<=', $bound,
		"interleave in effect after $took rounds (bound $bound)");
}
else
{
	fail("interleave in effect within $limit s");
	diag(sql('SELECT * FROM mp2_buffer_nodes()'));
	diag(sql('SELECT * FROM mp2_worker_info()'));
}
ok(wait_until(10, sub { policy_is('interleave') }),
	'policy interleave reported');

phase('SIGHUP');
# SIGHUP: a new node list is followed.
set_and_reload($node, "mp2.interleave_nodes = '$last'");
ok( wait_until($limit, sub { all_pages_on($node, $last) }),
	"SIGHUP change followed (all pages on node $last)");
# On one node the pages were on it before the reload: the message is
# waited for, not taken to be there already.
ok(wait_until(10, sub { logged('mp2 worker: reloaded') }), 'reload logged');
is(w_info('pid'), $pid, 'same process after reload');

# A node without memory is refused when it is set, not once a round (a
# failed round is tested with the rules below).
ok( sql_fails(
		"ALTER SYSTEM SET mp2.interleave_nodes = '63'",
		'Node 63 is not a NUMA node with memory'),
	'mp2.interleave_nodes naming a node without memory is refused');
is(sql('SHOW mp2.interleave_nodes'), $last, '... and the setting stays');
set_and_reload($node, "mp2.interleave_nodes = ''");

phase('mp2.max_rate');
SKIP:
{
	skip 'mp2.max_rate: one node, nothing to move', 2 if $last == 0;

	# The whole pool to move again (half of its pages: 4096 with 32 MB), at
	# 200 pages a second at most: 6 s allow well under half.
	set_and_reload($node, "mp2.policy = 'off'");
	sql('SELECT * FROM mp2_migrate_pool(0)');
	# libmp2 paces each move from its start, whose first call goes at once:
	# at most 200 pages a second plus one call (mp2.batch_size pages) a
	# round.
	set_and_reload(
		$node,
		'mp2.max_pages_per_round = 0',
		'mp2.max_rate = 200',
		'mp2.batch_size = 32');
	$m0 = w_info('pages_moved');
	$r0 = w_info('rounds');
	my $t0 = time;
	set_and_reload($node, "mp2.policy = 'interleave'");
	sleep 6;
	$m1 = w_info('pages_moved');
	$r1 = w_info('rounds');
	my $ms = int((time - $t0) * 1000);
	my $moved = $m1 - $m0;
	note("$moved pages in $ms ms, ", $r1 - $r0, ' rounds');
	cmp_ok($m1, '>', $m0, 'mp2.max_rate = 200 moves pages');
	cmp_ok(
		$moved * 1000,
		'<=',
		200 * $ms + 32000 * ($r1 - $r0 + 1),
		"... at most 200 a second, a call a round aside ($moved in $ms ms)");
	set_and_reload(
		$node,
		'mp2.max_rate = 0',
		'mp2.max_pages_per_round = 4096',
		'mp2.batch_size = DEFAULT');
}

phase('rules');
# Rules: the buffers of mp2_w go to the last node; rules naming a node
# without memory or a dropped table are skipped.
sql('SELECT count(*) FROM mp2_w');
sql("SELECT * FROM mp2_migrate('mp2_w', 0)");
sql("CREATE TABLE mp2_gone (a int);
     INSERT INTO mp2_rules VALUES ('mp2_gone', 0)");
sql('DROP TABLE mp2_gone');
sql("INSERT INTO mp2_rules VALUES ('mp2_w', $last)");
ok( sql_fails(
		"INSERT INTO mp2_rules VALUES ('pg_class', 99)",
		'node 99 is not a NUMA node with memory'),
	'a rule naming node 99 is refused when written');
# Rules that became wrong after they were written: a node gone (the
# trigger, disabled here, refuses to write one), a writer who may no
# longer read the relation, a rule from before 1.4 with no writer.
sql("CREATE ROLE regress_w_mover; GRANT mp2_mover TO regress_w_mover;
     CREATE TABLE mp2_w_lost AS SELECT 1 AS a;
     GRANT SELECT ON mp2_w_lost TO regress_w_mover;
     SET ROLE regress_w_mover;
     INSERT INTO mp2_rules VALUES ('mp2_w_lost', 0);
     RESET ROLE;
     REVOKE SELECT ON mp2_w_lost FROM regress_w_mover;
     CREATE TABLE mp2_w_old AS SELECT 1 AS a;
     ALTER TABLE mp2_rules DISABLE TRIGGER mp2_rules_write;
     INSERT INTO mp2_rules VALUES ('pg_class', 99, current_user::text::regrole),
                                  ('mp2_w_old', 0, NULL);
     ALTER TABLE mp2_rules ENABLE TRIGGER mp2_rules_write");
is( sql("SELECT added_by FROM mp2_rules WHERE rel = 'mp2_w_lost'::regclass"),
	'regress_w_mover', 'the writer of the rule is recorded');
set_and_reload($node, "mp2.policy = 'rules'");
ok(wait_until(60, sub { relation_on($node, 'mp2_w', $last) }),
	"rules put mp2_w on node $last");
ok( wait_until(
		10,
		sub {
			logged(
				'rules skipped: mp2_w_lost (its writer may not read it); mp2_w_old (no writer recorded: write the rule again); pg_class (node 99 has no memory)'
			);
		}),
	'skipped rules named once, each with its reason');
# The log line above comes from within the round that then reports.
ok(wait_until(10, sub { policy_is('rules') }), 'policy rules reported');
$r0 = w_info('rounds');
ok(wait_until(20, sub { rounds_past($r0 + 2) }), 'two more rules rounds');
is(logged_count('rules skipped:'),
	1, '... and the skipped rules not logged again in them');
sql("DELETE FROM mp2_rules
      WHERE rel IN ('mp2_w_lost'::regclass, 'pg_class'::regclass,
                    'mp2_w_old'::regclass);
     DROP TABLE mp2_w_lost, mp2_w_old; DROP ROLE regress_w_mover");

# mp2_rules altered by its owner: columns added or dropped change nothing
# (1.3 deformed each row into two slots: 20 more columns wrote past them
# in the rules worker); a retyped column fails the round with one clear
# error; no crash, no restart.
my $pm0 = sql('SELECT pg_postmaster_start_time()');
sql('ALTER TABLE mp2_rules '
	  . join(', ', map { "ADD COLUMN c$_ text DEFAULT 'x'" } 1 .. 20));
$r0 = w_info('rounds');
$f0 = w_info('failed_rounds');
ok( wait_until(20, sub { rounds_past($r0 + 2) }),
	'rules rounds go on with 20 columns added');
is(w_info('failed_rounds'), $f0, '... and none failed');
sql('ALTER TABLE mp2_rules ' . join(', ', map { "DROP COLUMN c$_" } 1 .. 20));
$r0 = w_info('rounds');
ok( wait_until(20, sub { rounds_past($r0 + 2) }),
	'rules rounds go on with them dropped');
sql('ALTER TABLE mp2_rules ALTER COLUMN node TYPE bigint');
ok( wait_until(
		20,
		sub {
			logged(
				'made it: its column node is of type bigint, not integer; no rules applied'
			);
		}),
	'a retyped column fails the round, saying why');
ok( wait_until(
		10, sub { last_error_has('its column node is of type bigint') }),
	'... shown as the last error');
sql('ALTER TABLE mp2_rules ALTER COLUMN node TYPE int');
ok( wait_until(60, sub { last_error_has('') }),
	'rounds succeed again once it is given back');
is(sql('SELECT pg_postmaster_start_time()'),
	$pm0, 'the server never restarted');

# A session that holds mp2_rules locked, and database defaults that make
# a transaction wait (serializable, read only, deferrable, while a
# serializable read-write transaction is open), do not stop the rounds or
# a reload.  Needs rules in effect and a worker with rounds 1 s apart.
my $bg = background_session('mp2_locker',
	'BEGIN; LOCK TABLE mp2_rules IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)'
);
ok( wait_until(
		10,
		sub {
			sql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			      WHERE a.application_name = 'mp2_locker' AND l.mode = 'AccessExclusiveLock'
			        AND l.relation = 'mp2_rules'::regclass AND l.granted") eq '1';
		}),
	'a session locks mp2_rules');
ok( wait_until(
		20,
		sub {
			logged(
				'mp2_rules is locked by another session; no rules applied this round'
			);
		}),
	'with mp2_rules locked, rounds skip the rules and say so');
ok(wait_until(10, sub { last_error_has('is locked by another session') }),
	'... shown as the last error');
set_and_reload($node, "mp2.policy = 'off'");
ok(wait_until(10, sub { policy_is('off') }),
	'a reload to policy off takes effect while the lock is held');
set_and_reload($node, "mp2.policy = 'rules'");
end_session('mp2_locker', $bg);
ok( wait_until(30, sub { last_error_has('') }),
	'rules rounds succeed again once the lock is gone');

{
	# The test's own sessions are read-write and not deferrable, so that
	# they neither fail nor wait.
	local $ENV{PGOPTIONS} =
	  '-c default_transaction_read_only=off -c default_transaction_deferrable=off';
	sql("ALTER DATABASE postgres SET default_transaction_isolation = 'serializable';
	     ALTER DATABASE postgres SET default_transaction_read_only = on;
	     ALTER DATABASE postgres SET default_transaction_deferrable = on");
	$bg = background_session('mp2_serial',
		'BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE; SELECT count(*) FROM mp2_rules; SELECT pg_sleep(60)'
	);
	ok( wait_until(
			10,
			sub {
				sql("SELECT count(*) FROM pg_stat_activity
				      WHERE application_name = 'mp2_serial' AND state = 'active'
				        AND backend_xmin IS NOT NULL") eq '1';
			}),
		'a serializable read-write transaction is open');
	$r0 = w_info('rounds');
	ok( wait_until(20, sub { rounds_past($r0 + 2) }),
		'rules rounds go on under serializable deferrable read-only database defaults'
	);
	ok(last_error_has(''), '... without an error');
	sql("ALTER DATABASE postgres RESET default_transaction_isolation;
	     ALTER DATABASE postgres RESET default_transaction_read_only;
	     ALTER DATABASE postgres RESET default_transaction_deferrable");
	end_session('mp2_serial', $bg);
}
sql('DELETE FROM mp2_rules');

phase('long rounds');
# Long rounds: one page per move_pages call (the slowest way) and no
# bound, the pool on one node first so that interleaving has half of it
# to move.
sql('SELECT * FROM mp2_migrate_pool(0)');
$m0 = w_info('pages_moved');
set_and_reload(
	$node,
	"mp2.policy = 'interleave'",
	'mp2.batch_size = 1',
	"mp2.method = 'move_pages'",
	"mp2.mode = 'sync'",
	'mp2.max_pages_per_round = 0');
SKIP:
{
	skip 'mid-round moves need two nodes', 1 if $last == 0;
	ok(wait_until(30, sub { moved_past($m0) }), 'moving one page a call');
}

phase('kill -9');
# kill -9 during or right after a round: the postmaster reinitializes,
# the server is healthy afterwards, the worker comes back.
kill 'KILL', $pid;
sleep 2;
ok(wait_until(120, sub { sql('SELECT 1') eq '1' }),
	'server back after kill -9');
ok(wait_until(60, \&w_running), 'worker restarted');
my $pid2 = w_info('pid');
ok($pid2 ne '' && $pid2 ne $pid, 'new worker process');
ok(logged('was terminated by signal 9'), 'kill logged');
is(sql('SELECT count(*) FROM mp2_w'), '120000', 'data intact (count)');
ok(eval { sql("SELECT bt_index_check('mp2_w_id', true)"); 1 },
	'index intact (amcheck)');
is(sql("SELECT count(*) FROM verify_heapam('mp2_w')"), '0', 'heap clean');

phase('SIGTERM');
# SIGTERM during or right after a round: it stops cleanly and soon, and
# is not restarted.  The new shared memory after the crash holds only the
# pages used since: read the table and gather the pool on node 0 with the
# policy off, so that the worker does not race the gathering and its next
# round, once the policy is back, has half of them to move.
set_and_reload($node, "mp2.policy = 'off'");
wait_until(10, sub { policy_is('off') });
sql("SELECT pg_prewarm('mp2_w')");
sql('SELECT * FROM mp2_migrate_pool(0)');
$m0 = w_info('pages_moved');
set_and_reload($node, "mp2.policy = 'interleave'");
SKIP:
{
	skip 'moves after the crash need two nodes', 1 if $last == 0;
	ok(wait_until(60, sub { moved_past($m0) }), 'moving again');
}
my $t0 = time;
# The slot is stopped, not a pid: the worker that came back after the
# crash is the one that ends.
is(sql('SELECT mp2_worker_stop()'), 't', 'mp2_worker_stop() stops it');
ok( wait_until(10, sub { !kill(0, $pid2) }),
	"the restarted worker (pid $pid2) is gone");
my $secs = time - $t0;
cmp_ok($secs, '<=', 10, sprintf('stopped within 10 s (%.1f s)', $secs));
ok(logged('mp2 worker stopping'), 'stop logged');
sleep 7;
is(w_info('pid'), '', 'not restarted after a clean stop');
is(worker_processes($node), 0, 'no worker process');

# On demand again, then stopped.
like(sql('SELECT mp2_worker_start()'),
	qr/^[1-9][0-9]*$/, 'mp2_worker_start()');
ok(wait_until(10, \&w_running), 'runs');
is(sql('SELECT mp2_worker_stop()'), 't', 'stopped again');

# Starts and stops that race, a dropped or missing database of the rules.
phase('concurrent starts');
my @out = ('', '');
my @h = map {
	IPC::Run::start(
		[
			'psql', '-X',
			'-q', '-At',
			'-d', $node->connstr('postgres'),
			'-c', 'SELECT mp2_worker_start()'
		],
		'>&',
		\$out[$_]);
} 0, 1;
$_->finish foreach @h;
my $both = join("\n", @out);
my $started = () = $both =~ /^[0-9]+$/mg;
my $refused = () =
  $both =~ /already (?:running \(pid [0-9]+\)|being started)/g;
(my $shown = $both) =~ s/\n/ /g;
ok($started == 1 && $refused == 1,
	"two concurrent starts start one ($shown)");
is(worker_processes($node), 1, 'one worker process');
is(sql('SELECT mp2_worker_stop()'), 't', 'stopped');
is(worker_processes($node), 0, 'no worker process left');

phase("DROP DATABASE of the worker's database");
sql('CREATE DATABASE mp2_wdb');
mp2_q(
	$node, "SET client_min_messages = warning; CREATE EXTENSION mp2;
	        CREATE TABLE mp2_x AS SELECT g FROM generate_series(1, 10000) g;
	        INSERT INTO mp2_rules VALUES ('mp2_x', 0)",
	dbname => 'mp2_wdb');
set_and_reload($node, "mp2.policy = 'rules'", "mp2.naptime = '1s'");
# A stop while the leader starts its rules child: the leader, which gets
# no SIGUSR1, used to sleep until the next wakeup (the stop's WARNING
# after 60 s).
my ($ret, $o, $e) = $node->psql('mp2_wdb',
	'SELECT mp2_worker_start() > 0; SELECT mp2_worker_stop()');
(my $oe = join(' ', grep { $_ ne '' } $o, $e)) =~ s/\s+/ /g;
ok($ret == 0 && $o eq "t\nt" && $e eq '',
	"a stop right after a start ends the worker at once ($oe)");
ok(wait_until(5, sub { worker_processes($node) == 0 }),
	'... and leaves no worker process');
my $wpid = mp2_q($node, 'SELECT mp2_worker_start()', dbname => 'mp2_wdb');
like($wpid, qr/^[1-9][0-9]*$/, 'started in mp2_wdb');
ok(wait_until(30, sub { num_gt(w_info('rounds'), 1) }),
	'rules rounds in mp2_wdb');
my $fatal0 = logged_count('FATAL');
is($node->psql('postgres', 'DROP DATABASE mp2_wdb'),
	0, 'DROP DATABASE mp2_wdb succeeds while the worker runs');
$f0 = w_info('failed_rounds');
ok(wait_until(30, sub { num_gt(w_info('failed_rounds'), $f0) }),
	'failed rounds counted');
ok( wait_until(
		30,
		sub {
			logged(
				'database "mp2_wdb" does not exist; policy rules waits for it'
			);
		}),
	'logged with a hint');
ok(logged('HINT:  Create the database and the extension mp2 in it'),
	'the hint is in the log');
sleep 8;
my $n = logged_count('database "mp2_wdb" does not exist;');
is($n, 1, "logged once ($n times)");
is(w_info('pid'), $wpid, 'same process carries on');
is( w_info('last_error'),
	'database "mp2_wdb" does not exist',
	'last_error names the database');
my $fatals = logged_count('FATAL') - $fatal0;
cmp_ok($fatals, '<=', 1, "no FATAL loop ($fatals new)");
is(sql('SELECT mp2_worker_stop()'), 't', 'stopped');

phase('mp2.database that does not exist');
set_and_reload($node, "mp2.database = 'mp2_missing'", "mp2.policy = 'rules'");
$node->stop;
$fatal0 = logged_count('FATAL');
$node->start;
ok(wait_until(30, \&w_running), 'runs with a missing database');
$pid = w_info('pid');
ok( wait_until(
		30,
		sub {
			logged(
				'database "mp2_missing" does not exist; policy rules waits for it'
			);
		}),
	'says the database is missing');
sleep 8;
is(logged_count('"mp2_missing" does not exist;'), 1, 'logged once');
is(logged_count('FATAL'), $fatal0, 'no FATAL, no restarts');
is(w_info('pid'), $pid, 'same process');
ok(num_gt(w_info('failed_rounds'), 1), 'rounds counted as failed');
# Created meanwhile: found after a reload.
sql('CREATE DATABASE mp2_missing');
mp2_q(
	$node,
	'SET client_min_messages = warning; CREATE EXTENSION mp2',
	dbname => 'mp2_missing');
$r0 = w_info('rounds');
set_and_reload($node, "mp2.naptime = '1s'");
ok(wait_until(30, sub { num_gt(w_info('rounds'), $r0) }),
	'rounds succeed once the database exists');

$node->stop;
done_testing();
