// SPDX-License-Identifier: MIT
/* mp2bench: argument parsing, settings, node choice, timing. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void parse_int_list(const char *cmd, const char *flag, const char *s,
		    long min, long max, struct int_list *out)
{
	char buf[LIST_CHARS], *item[MAX_LIST];

	out->n = split_list(cmd, flag, s, buf, item);
	for (int i = 0; i < out->n; i++)
		out->v[i] = parse_long(cmd, flag, item[i], min, max);
}

void parse_double_list(const char *cmd, const char *flag, const char *s,
		       double min, double max, struct double_list *out)
{
	char buf[LIST_CHARS], *item[MAX_LIST];

	out->n = split_list(cmd, flag, s, buf, item);
	for (int i = 0; i < out->n; i++)
		out->v[i] = parse_double(cmd, flag, item[i], min, max);
}

bool sweep_option(const char *cmd, int c, const char *arg,
		  struct sweep_args *a)
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
	default: return false;
	}
	return true;
}

static void add_setting(struct sweep *sw, enum mp2_method m, enum mp2_mode md,
			long kb, long ppc)
{
	struct setting *s = &sw->s[sw->n++];

	s->method = m;
	s->mode = md;
	s->kernel_batch = (unsigned int)kb;
	s->pages_per_call = (size_t)ppc;
}

void sweep_build(const char *cmd, struct sweep *sw, const char *methods,
		 const char *modes, const struct int_list *kbatch,
		 const struct int_list *ppc)
{
	char mbuf[128], dbuf[128];
	char *save1 = NULL, *save2 = NULL;
	bool has2 = mp2_kernel_has_move_pages2(NULL, NULL);

	if (strlen(methods) >= sizeof(mbuf) || strlen(modes) >= sizeof(dbuf))
		usage_error(cmd, "method or mode list too long");
	strcpy(mbuf, methods);
	sw->n = 0;
	for (char *m = strtok_r(mbuf, ",", &save1); m;
	     m = strtok_r(NULL, ",", &save1)) {
		enum mp2_method method;

		if (mp2_method_parse(m, &method) || method == MP2_METHOD_AUTO)
			usage_error(cmd, "unknown method '%s' (move_pages or "
				    "move_pages2)", m);
		if (method == MP2_METHOD_MOVE_PAGES2 && !has2) {
			fprintf(stderr, "mp2bench %s: %s; leaving move_pages2 "
				"out\n", cmd, mp2_strerror(-ENOSYS));
			continue;
		}
		for (int p = 0; p < ppc->n; p++) {
			if (method == MP2_METHOD_MOVE_PAGES) {
				add_setting(sw, method, MP2_MODE_SYNC, 0,
					    ppc->v[p]);
				continue;
			}
			strcpy(dbuf, modes);
			save2 = NULL;
			for (char *d = strtok_r(dbuf, ",", &save2); d;
			     d = strtok_r(NULL, ",", &save2)) {
				enum mp2_mode mode;

				if (mp2_mode_parse(d, &mode))
					usage_error(cmd, "unknown mode '%s' "
						    "(async, sync_light, sync)",
						    d);
				for (int k = 0; k < kbatch->n; k++)
					add_setting(sw, method, mode,
						    kbatch->v[k], ppc->v[p]);
			}
		}
	}
}

int pick_nodes(const char *cmd, int *from, int *to)
{
	struct mp2_topology *t;
	int ret = mp2_topology_read(&t);

	if (ret) {
		fprintf(stderr, "mp2bench %s: %s\n", cmd, mp2_strerror(ret));
		return 1;
	}
	if (*from < 0)
		*from = t->nodes[0].id;
	if (*to < 0 && t->nr_nodes > 1)
		*to = t->nodes[*from == t->nodes[0].id ? 1 : 0].id;
	if (*to < 0) {
		printf("mp2bench %s: this machine has one memory node (%d): "
		       "nothing can move, the target node is missing. Run it "
		       "in the multi-node guest (kernel/run-guest.sh).\n",
		       cmd, t->nodes[0].id);
		mp2_topology_free(t);
		return 1;
	}
	mp2_topology_free(t);
	if (mp2_node_check(*from) || mp2_node_check(*to) || *from == *to)
		usage_error(cmd, "--from %d / --to %d: need two different "
			    "nodes with memory (see numactl --hardware)",
			    *from, *to);
	return 0;
}

int cmp_mode_batch(const struct setting *a, const struct setting *b)
{
	if (a->mode != b->mode)
		return (int)a->mode - (int)b->mode;
	if (a->kernel_batch != b->kernel_batch)
		return a->kernel_batch < b->kernel_batch ? -1 : 1;
	return 0;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, int n)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
