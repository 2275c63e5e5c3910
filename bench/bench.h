/* SPDX-License-Identifier: MIT */
/* mp2bench: declarations shared by its subcommands. */
#ifndef MP2BENCH_H
#define MP2BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mp2.h"

#define MAX_LIST 16

/* A comma-separated list of integers from the command line. */
struct int_list {
	int n;
	long v[MAX_LIST];
};

/* A comma-separated list of numbers from the command line. */
struct double_list {
	int n;
	double v[MAX_LIST];
};

/* One migration setting to compare. */
struct setting {
	enum mp2_method method;		/* MOVE_PAGES or MOVE_PAGES2 */
	enum mp2_mode mode;
	unsigned int kernel_batch;
	size_t pages_per_call;
};

/* The settings named on the command line. */
struct sweep {
	struct setting s[MAX_LIST * MAX_LIST * 4];
	int n;
};

int cmd_migrate(int argc, char **argv);
int cmd_ycsb(int argc, char **argv);

/* options.c: reading a subcommand's command line. */

/* Exit with a usage error: message, then a pointer to --help. */
void usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

long parse_long(const char *cmd, const char *flag, const char *s, long min,
		long max);
double parse_double(const char *cmd, const char *flag, const char *s,
		    double min, double max);
void parse_int_list(const char *cmd, const char *flag, const char *s,
		    long min, long max, struct int_list *out);
void parse_double_list(const char *cmd, const char *flag, const char *s,
		       double min, double max, struct double_list *out);

/*
 * The options both subcommands take: the settings to compare, the nodes,
 * and where the rows and the summary go.  Their getopt_long() entries,
 * their values (from COMMON_ARGS_INIT on), and next_option() to read a
 * command line.
 */
#define SWEEP_OPTIONS                                                        \
	{ "methods", required_argument, NULL, 'M' },                         \
	{ "modes", required_argument, NULL, 'd' },                           \
	{ "kernel-batch", required_argument, NULL, 'k' },                    \
	{ "from", required_argument, NULL, 'f' },                            \
	{ "to", required_argument, NULL, 't' }

#define OUTPUT_OPTIONS                                                       \
	{ "csv", required_argument, NULL, 'c' },                             \
	{ "summary", required_argument, NULL, 'u' }

struct common_args {
	const char *methods, *modes;	/* lists, for sweep_build() */
	struct int_list kbatch;
	int from, to;			/* nodes; -1: pick_nodes() picks */
	FILE *csv;			/* the rows: --csv, or stdout */
	FILE *summary;			/* the medians: --summary, or NULL */
};

#define COMMON_ARGS_INIT                                                     \
	{ "move_pages,move_pages2", "async", { 1, { 0 } }, -1, -1, stdout,   \
	  NULL }

struct option;

/*
 * The next option of the command line that is the subcommand's own (in
 * opts, beside SWEEP_OPTIONS and OUTPUT_OPTIONS), or -1 at its end.  The
 * common options are read into a on the way; the files of --csv and
 * --summary are opened for writing as they come.  An unknown option, a
 * missing value or an argument after the options is a usage error.  Set
 * optind to 1 before the first call.
 */
int next_option(const char *cmd, int argc, char **argv,
		const struct option *opts, struct common_args *a);

/* Close the files of --csv and --summary. */
void close_outputs(struct common_args *a);

/* common.c: the settings, the nodes, timing. */

/*
 * Build the cross product of methods x modes x kernel batches x pages per
 * call.  Modes and kernel batches apply to move_pages2 only: move_pages
 * gets one setting per pages-per-call value.
 */
void sweep_build(const char *cmd, struct sweep *sw, const char *methods,
		 const char *modes, const struct int_list *kbatch,
		 const struct int_list *ppc);

/*
 * Pick the source and target nodes: from/to < 0 means the first and
 * second memory nodes.  Returns 0, or 1 after saying why nothing can move.
 */
int pick_nodes(const char *cmd, int *from, int *to);

/*
 * The order of two settings of one method and pages per call, for the
 * summaries: by mode, then by kernel batch.
 */
int cmp_mode_batch(const struct setting *a, const struct setting *b);

double now_s(void);

/* The median of n values (sorts them). */
double median(double *v, int n);

#endif /* MP2BENCH_H */
