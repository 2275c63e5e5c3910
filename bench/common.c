// SPDX-License-Identifier: MIT
/* mp2bench: settings, node choice, timing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

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
