// SPDX-License-Identifier: MIT
/* mp2bench: reading the options of a subcommand's command line. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mp2bench %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mp2bench %s --help'.\n", cmd);
	exit(2);
}

long parse_long(const char *cmd, const char *flag, const char *s, long min,
		long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error(cmd, "%s wants an integer from %ld to %ld, not '%s'",
			    flag, min, max, s);
	return v;
}

double parse_double(const char *cmd, const char *flag, const char *s,
		    double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		usage_error(cmd, "%s wants a number from %g to %g, not '%s'",
			    flag, min, max, s);
	return v;
}

#define LIST_CHARS 256		/* a list's longest text, its NUL included */

/*
 * Split s at its commas into item[], copying it to buf (LIST_CHARS bytes):
 * a usage error for a list too long, of more than MAX_LIST items, or
 * empty.  Returns the number of items.
 */
static int split_list(const char *cmd, const char *flag, const char *s,
		      char *buf, char *item[MAX_LIST])
{
	char *save = NULL;
	int n = 0;

	if (strlen(s) >= LIST_CHARS)
		usage_error(cmd, "%s: list too long", flag);
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			usage_error(cmd, "%s: at most %d values", flag, MAX_LIST);
		item[n++] = t;
	}
	if (n == 0)
		usage_error(cmd, "%s: empty list", flag);
	return n;
}

/*
 * parse_int_list() and parse_double_list(): one body for both list types,
 * which differ only in the type of their values and its parser.
 */
#define DEFINE_LIST_PARSER(name, list_type, value_type, parse_value)         \
	void name(const char *cmd, const char *flag, const char *s,          \
		  value_type min, value_type max, struct list_type *out)     \
	{                                                                    \
		char buf[LIST_CHARS], *item[MAX_LIST];                       \
                                                                             \
		out->n = split_list(cmd, flag, s, buf, item);                \
		for (int i = 0; i < out->n; i++)                             \
			out->v[i] = parse_value(cmd, flag, item[i], min,     \
						max);                        \
	}

DEFINE_LIST_PARSER(parse_int_list, int_list, long, parse_long)
DEFINE_LIST_PARSER(parse_double_list, double_list, double, parse_double)

/*
 * Open path for writing in place of old, the file an earlier --csv or
 * --summary opened (or stdout, or NULL), which is closed.
 */
static FILE *open_output(const char *cmd, const char *path, FILE *old)
{
	FILE *f;

	if (old && old != stdout)
		fclose(old);
	f = fopen(path, "w");
	if (!f)
		usage_error(cmd, "cannot write '%s'", path);
	return f;
}

/* Read option c, with argument arg, into a: false if c is not common. */
static bool common_option(const char *cmd, int c, const char *arg,
			  struct common_args *a)
{
	switch (c) {
	case 'M': a->methods = arg; break;
	case 'd': a->modes = arg; break;
	case 'k':
		parse_int_list(cmd, "--kernel-batch", arg, 0, MP2_KBATCH_MAX,
			       &a->kbatch);
		break;
	case 'f': a->from = (int)parse_long(cmd, "--from", arg, 0, 4095); break;
	case 't': a->to = (int)parse_long(cmd, "--to", arg, 0, 4095); break;
	case 'c': a->csv = open_output(cmd, arg, a->csv); break;
	case 'u': a->summary = open_output(cmd, arg, a->summary); break;
	default: return false;
	}
	return true;
}

int next_option(const char *cmd, int argc, char **argv,
		const struct option *opts, struct common_args *a)
{
	int c;

	do {
		c = getopt_long(argc, argv, "h", opts, NULL);
		if (c == '?')	/* getopt_long() has said what is wrong */
			usage_error(cmd, "bad option");
	} while (c != -1 && common_option(cmd, c, optarg, a));
	if (c == -1 && optind < argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return c;
}

void close_outputs(struct common_args *a)
{
	if (a->csv != stdout)
		fclose(a->csv);
	if (a->summary)
		fclose(a->summary);
}
