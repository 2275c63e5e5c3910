# SPDX-License-Identifier: MIT
#
# The SQL examples of docs/postgresql.md, run as written: each ```sql
# block (tests/docs_sql.py extracts them; a block marked
# <!-- not run: REASON --> is skipped with its reason) runs in order, one
# psql session each, with ON_ERROR_STOP, as a superuser in a new database
# where the extension is not yet created (the guide creates it).  Where
# the guide shows the output, the header it shows is psql's header line.

use strict;
use warnings FATAL => 'all';

use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use Mp2Test;

my $md = mp2_top() . '/docs/postgresql.md';
plan skip_all => "no $md" unless -f $md;

my $dir = tempdir(CLEANUP => 1);
system('python3', mp2_top() . '/tests/docs_sql.py', $md, "$dir/sql") == 0
  or BAIL_OUT("the SQL blocks of $md cannot be read");

my $node = mp2_node('docs');
$node->start;
mp2_q($node, 'CREATE DATABASE mp2docs TEMPLATE template0');

# White space folded, ends trimmed.
sub folded
{
	my ($s) = @_;
	$s =~ s/[ \t]+/ /g;
	$s =~ s/^ | $//g;
	return $s;
}

foreach my $entry (split /\n/, slurp_file("$dir/sql/index"))
{
	my ($num, $line, $reason) = split / /, $entry, 3;
	if ($num eq 'skip')
	{
		SKIP: { skip "the example at line $line ($reason)", 1; }
		next;
	}
	# psql as a reader would run it: aligned, with the header.
	my ($out, $err) = ('', '');
	my $ran = IPC::Run::run(
		[
			'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-P', 'pager=off',
			'-d', $node->connstr('mp2docs'), '-f', "$dir/sql/$num.sql"
		],
		'>', \$out, '2>', \$err);
	ok($ran, "the example at docs/postgresql.md:$line runs as written")
	  or diag($err);
	next unless -f "$dir/sql/$num.header";
	my $header = slurp_file("$dir/sql/$num.header");
	chomp $header;
	ok( (grep { folded($_) eq folded($header) } split /\n/, $out),
		"... and shows the columns the guide shows ($header)");
}

$node->stop;
done_testing();
