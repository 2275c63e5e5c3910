# SPDX-License-Identifier: MIT
# The SQL examples of docs/postgresql.md, run as written: each ```sql
# block (tests/docs_sql.py extracts them; a block marked
# <!-- not run: REASON --> is skipped with its reason) runs in order, one
# psql session each, with ON_ERROR_STOP, as a superuser in a new database
# where the extension is not yet created (the guide creates it).  Where
# the guide shows the output, the header it shows is in psql's output.
# Source pglib.sh first, then call docs_sql_tests LABEL with the server
# running.

DOCS_DB=mp2docs

# docs_header_shown HEADER OUT: HEADER's column names, in order, are the
# header line of OUT (white space aside).
docs_header_shown() {
	local want
	want=$(tr -s ' \t' ' ' <<<"$1" | sed 's/^ //; s/ $//')
	tr -s ' \t' ' ' <"$2" | sed 's/^ //; s/ $//' | grep -qxF -- "$want"
}

docs_sql_tests() {
	local label=$1 md=$TOP/docs/postgresql.md dir num line reason out
	if [ ! -f "$md" ]; then
		skip "$label: no docs/postgresql.md"
		suite_end "$label"
		return 0
	fi
	dir=$(mktemp -d /tmp/mp2-docs.XXXXXX)
	chmod 755 "$dir"
	if ! /usr/bin/python3 "$TOP/tests/docs_sql.py" "$md" "$dir/sql"; then
		not_ok "$label: the SQL blocks of docs/postgresql.md can be read"
		suite_end "$label"
		rm -rf "$dir"
		return 1
	fi
	chown -R "$PG_USER": "$dir"
	psql_q "DROP DATABASE IF EXISTS $DOCS_DB WITH (FORCE)" >/dev/null
	psql_q "CREATE DATABASE $DOCS_DB TEMPLATE template0" >/dev/null
	while read -r num line reason; do
		if [ "$num" = skip ]; then
			skip "$label: the example at line $line ($reason)"
			continue
		fi
		out=$dir/$num.out
		check "$label: the example at docs/postgresql.md:$line runs as written" \
			as_pg "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -P pager=off \
			-d "$DOCS_DB" -f "$dir/sql/$num.sql" -o "$out"
		if [ -f "$dir/sql/$num.header" ]; then
			check "$label: ... and shows the columns the guide shows ($(cat "$dir/sql/$num.header"))" \
				docs_header_shown "$(cat "$dir/sql/$num.header")" "$out"
		fi
	done <"$dir/sql/index"
	psql_q "DROP DATABASE IF EXISTS $DOCS_DB WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$dir"
	suite_end "$label"
}
