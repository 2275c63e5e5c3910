// SPDX-License-Identifier: MIT
/*
 * mp2bench ycsb: the experiment of Rayhan and Aref in miniature.  A
 * B+-Tree over K keys is cut into S slices by key range, each slice a tree
 * of its own in its own arena.  T workers run YCSB-like requests; with
 * probability r a request instead migrates every page of one slice to the
 * other node.  Reported: query throughput and pages migrated per second,
 * per method and setting, interleaved repeats, with a no-migration
 * baseline in every repeat.
 */
#include <getopt.h>
#include <numa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "btree.h"
#include "ycsb.h"
#include "zipf.h"

static const char *const CMD = "ycsb";

enum mix { MIX_C, MIX_A, MIX_E };
static const char *const mix_names[] = { "C", "A", "E" };

#define SCAN_MAX 100

struct slice {
	struct btree tree;
	pthread_rwlock_t lock;		/* guards the tree, not its pages */
	atomic_int node;		/* where its pages are */
	atomic_flag migrating;
};

struct world {
	struct slice *slices;
	long nslices;
	uint64_t keys;			/* logical keys 0..keys-1, stored as 2k */
	struct zipf zipf;
	int from, to;
};

struct run {
	struct world *w;
	enum mix mix;
	double r;			/* migration probability per request */
	const struct setting *set;	/* NULL: no migration */
	atomic_bool stop;
};

struct worker {
	struct run *run;
	pthread_t thread;
	uint64_t rng;
	uint64_t queries, migrations, pages_moved, pages_failed;
	double migration_s;
	uint64_t sink;
};

static void help(void)
{
	printf("usage: mp2bench ycsb [OPTIONS]\n"
	       "\n"
	       "Run YCSB-like queries on an in-memory B+-Tree cut into slices "
	       "while\n"
	       "workers migrate whole slices between two nodes.\n"
	       "\n"
	       "  --mix LIST            C (100%% reads), A (50%% reads, 50%% "
	       "updates),\n"
	       "                        E (95%% scans of 1-100 keys, 5%% "
	       "inserts); default C\n"
	       "  --keys K              keys in the tree (default 2000000)\n"
	       "  --slices S            slices (default 256)\n"
	       "  --threads T           worker threads (default 2)\n"
	       "  --r LIST              probabilities that a request migrates "
	       "a slice\n"
	       "                        (default 0.25); every r is a setting "
	       "of its own\n"
	       "  --theta X             zipfian skew (default 0.99)\n"
	       "  --seconds D           length of each run (default 3)\n"
	       "  --repeats R           repeats (default 3)\n"
	       "  --methods LIST        move_pages,move_pages2 (default both)\n"
	       "  --modes LIST          async,sync_light,sync (default async)\n"
	       "  --kernel-batch LIST   move_pages2 batch sizes (default 0)\n"
	       "  --also LIST           more move_pages2 settings as MODE:BATCH, "
	       "e.g.\n"
	       "                        sync:512 (move_pages' mode and batch)\n"
	       "  --pages-per-call N    pages per system call (default 512; "
	       "a slice\n"
	       "                        is about keys / slices / 200 pages)\n"
	       "  --from NODE, --to NODE  the two nodes (default: first two)\n"
	       "  --csv FILE            write CSV there instead of stdout\n"
	       "  --summary FILE        also write the medians and ratios as "
	       "CSV\n"
	       "  -h, --help            this text\n"
	       "\n"
	       "Every repeat runs every mix, r and setting once, in turn, and a "
	       "baseline\n"
	       "without migration (method none) per mix.  Medians and ratios "
	       "go to\n"
	       "stderr.\n");
}

static struct slice *slice_of(struct world *w, uint64_t k)
{
	return &w->slices[k * (uint64_t)w->nslices / w->keys];
}

static void do_query(struct worker *wk)
{
	struct world *w = wk->run->w;
	uint64_t k = zipf_scrambled(&w->zipf, &wk->rng);
	struct slice *s = slice_of(w, k);
	double u = rng_unit(&wk->rng);
	uint64_t v = 0;

	switch (wk->run->mix) {
	case MIX_C:
		pthread_rwlock_rdlock(&s->lock);
		btree_get(&s->tree, 2 * k, &v);
		pthread_rwlock_unlock(&s->lock);
		break;
	case MIX_A:
		if (u < 0.5) {
			pthread_rwlock_rdlock(&s->lock);
			btree_get(&s->tree, 2 * k, &v);
		} else {
			pthread_rwlock_wrlock(&s->lock);
			btree_update(&s->tree, 2 * k, wk->rng);
		}
		pthread_rwlock_unlock(&s->lock);
		break;
	case MIX_E:
		if (u < 0.95) {
			size_t len = 1 + rng_next(&wk->rng) % SCAN_MAX;

			pthread_rwlock_rdlock(&s->lock);
			btree_scan(&s->tree, 2 * k, len, &v);
		} else {
			/* Odd keys are free: inserts never collide with the load. */
			pthread_rwlock_wrlock(&s->lock);
			if (btree_insert(&s->tree, 2 * k + 1, k) < 0)
				btree_update(&s->tree, 2 * k, k);
		}
		pthread_rwlock_unlock(&s->lock);
		break;
	}
	wk->sink += v;
	wk->queries++;
}

/* Send one slice's pages to the other node; false if none was free. */
static bool do_migration(struct worker *wk)
{
	struct run *run = wk->run;
	struct world *w = run->w;
	struct slice *s = &w->slices[rng_next(&wk->rng) % (uint64_t)w->nslices];
	struct mp2_options o;
	struct mp2_stats st;
	struct mp2_range range;
	double t0;
	int to;

	if (atomic_flag_test_and_set(&s->migrating))
		return false;
	to = atomic_load(&s->node) == w->from ? w->to : w->from;
	mp2_options_init(&o);
	o.method = run->set->method;
	o.mode = run->set->mode;
	o.kernel_batch = run->set->kernel_batch;
	o.pages_per_call = run->set->pages_per_call;
	/* Only pages in use; the tree does not grow during the call. */
	pthread_rwlock_rdlock(&s->lock);
	range.addr = s->tree.arena;
	range.len = s->tree.used;
	pthread_rwlock_unlock(&s->lock);
	t0 = now_s();
	if (mp2_migrate_ranges(&range, 1, to, &o, NULL, &st) == 0) {
		wk->pages_moved += st.moved;
		wk->pages_failed += mp2_stats_failed(&st);
		atomic_store(&s->node, to);
	}
	wk->migration_s += now_s() - t0;
	wk->migrations++;
	atomic_flag_clear(&s->migrating);
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct run *run = wk->run;

	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		if (run->set && rng_unit(&wk->rng) < run->r &&
		    do_migration(wk))
			continue;
		do_query(wk);
	}
	return NULL;
}

/* Put every slice back on the source node between runs. */
static void reset_placement(struct world *w)
{
	for (long i = 0; i < w->nslices; i++) {
		struct slice *s = &w->slices[i];
		struct mp2_range range = { s->tree.arena, s->tree.used };

		if (atomic_load(&s->node) != w->from)
			mp2_migrate_ranges(&range, 1, w->from, NULL, NULL, NULL);
		atomic_store(&s->node, w->from);
	}
}

static int world_build(struct world *w, uint64_t keys, long nslices,
		       double theta, int from, int to)
{
	uint64_t *k = malloc(sizeof(*k) * (keys / (uint64_t)nslices + 2));

	w->keys = keys;
	w->nslices = nslices;
	w->from = from;
	w->to = to;
	w->slices = calloc((size_t)nslices, sizeof(*w->slices));
	if (!k || !w->slices)
		return -1;
	zipf_init(&w->zipf, keys, theta);
	for (long i = 0; i < nslices; i++) {
		struct slice *s = &w->slices[i];
		uint64_t lo = keys * (uint64_t)i / (uint64_t)nslices;
		uint64_t hi = keys * (uint64_t)(i + 1) / (uint64_t)nslices;
		size_t n = 0;

		for (uint64_t x = lo; x < hi; x++)
			k[n++] = 2 * x;
		/* Room for inserts: about one more node per 200 keys. */
		if (btree_build(&s->tree, k, n, n / 200 + 8, from))
			return -1;
		pthread_rwlock_init(&s->lock, NULL);
		atomic_init(&s->node, from);
		atomic_flag_clear(&s->migrating);
	}
	free(k);
	return 0;
}

static int world_pages(const struct world *w)
{
	size_t bytes = 0;

	for (long i = 0; i < w->nslices; i++)
		bytes += w->slices[i].tree.used;
	return (int)(bytes / 4096 / (size_t)w->nslices);
}

static struct yrow run_once(struct world *w, enum mix mix, double r,
			    const struct setting *set, long threads,
			    double seconds, long repeat, uint64_t seed,
			    FILE *csv)
{
	struct run run = { .w = w, .mix = mix, .r = r, .set = set };
	struct worker *wk = calloc((size_t)threads, sizeof(*wk));
	struct yrow row = { .mix = mix_names[mix][0], .none = !set,
			    .r = set ? r : 0, .threads = threads,
			    .repeat = repeat };
	double t0;

	if (set)
		row.s = *set;
	if (!wk) {
		fprintf(stderr, "mp2bench ycsb: out of memory\n");
		exit(1);
	}
	atomic_init(&run.stop, false);
	reset_placement(w);
	t0 = now_s();
	for (long i = 0; i < threads; i++) {
		wk[i].run = &run;
		wk[i].rng = seed * 1000003u + (uint64_t)i;
		pthread_create(&wk[i].thread, NULL, worker_main, &wk[i]);
	}
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&run.stop, true);
	for (long i = 0; i < threads; i++) {
		pthread_join(wk[i].thread, NULL);
		row.queries += wk[i].queries;
		row.migrations += wk[i].migrations;
		row.pages_moved += wk[i].pages_moved;
		row.pages_failed += wk[i].pages_failed;
		row.migration_s += wk[i].migration_s;
	}
	row.seconds = now_s() - t0;
	yrow_print(csv, &row);
	fflush(csv);
	free(wk);
	return row;
}

/* --also: MODE:BATCH pairs, each one more move_pages2 setting. */
static void add_also(struct sweep *sw, const char *list, long ppc)
{
	char buf[256], *save = NULL;

	if (strlen(list) >= sizeof(buf))
		usage_error(CMD, "--also: list too long");
	strcpy(buf, list);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');
		struct setting *s;
		enum mp2_mode mode;

		if (!colon)
			usage_error(CMD, "--also wants MODE:BATCH, not '%s'", t);
		*colon = '\0';
		if (mp2_mode_parse(t, &mode))
			usage_error(CMD, "--also: unknown mode '%s' (async, "
				    "sync_light, sync)", t);
		if (sw->n == (int)(sizeof(sw->s) / sizeof(sw->s[0])))
			usage_error(CMD, "--also: too many settings");
		s = &sw->s[sw->n];
		s->kernel_batch = (unsigned int)parse_long(
			CMD, "--also", colon + 1, 0, MP2_KBATCH_MAX);
		s->method = MP2_METHOD_MOVE_PAGES2;
		s->mode = mode;
		s->pages_per_call = (size_t)ppc;
		if (mp2_kernel_has_move_pages2(NULL, NULL))
			sw->n++;
	}
}

int cmd_ycsb(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mix", required_argument, NULL, 'x' },
		{ "keys", required_argument, NULL, 'K' },
		{ "slices", required_argument, NULL, 'S' },
		{ "threads", required_argument, NULL, 'T' },
		{ "r", required_argument, NULL, 'r' },
		{ "theta", required_argument, NULL, 'z' },
		{ "seconds", required_argument, NULL, 's' },
		{ "repeats", required_argument, NULL, 'R' },
		SWEEP_OPTIONS,
		{ "pages-per-call", required_argument, NULL, 'p' },
		OUTPUT_OPTIONS,
		{ "also", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct common_args common = COMMON_ARGS_INIT;
	const char *mixes = "C", *also = NULL;
	struct int_list ppc = { 1, { 512 } };
	struct double_list rs = { 1, { 0.25 } };
	long keys = 2000000, slices = 256, threads = 2, repeats = 3;
	double theta = 0.99, seconds = 3;
	int c, nmix = 0;
	enum mix mix[3];
	static struct sweep sw;
	static struct world w;
	struct rows rows = { 0 };
	bool one_node;

	optind = 1;
	while ((c = next_option(CMD, argc, argv, opts, &common)) != -1) {
		switch (c) {
		case 'x': mixes = optarg; break;
		case 'K': keys = parse_long(CMD, "--keys", optarg, 1000, 1L << 32); break;
		case 'S': slices = parse_long(CMD, "--slices", optarg, 1, 65536); break;
		case 'T': threads = parse_long(CMD, "--threads", optarg, 1, 256); break;
		case 'r': parse_double_list(CMD, "--r", optarg, 0, 1, &rs); break;
		case 'z': theta = parse_double(CMD, "--theta", optarg, 0.01, 0.999); break;
		case 's': seconds = parse_double(CMD, "--seconds", optarg, 0.1, 3600); break;
		case 'R': repeats = parse_long(CMD, "--repeats", optarg, 1, 1000); break;
		case 'a': also = optarg; break;
		case 'p':
			ppc.n = 1;
			ppc.v[0] = parse_long(CMD, "--pages-per-call", optarg, 1,
					      1 << 20);
			break;
		case 'h': help(); return 0;
		}
	}
	for (const char *p = mixes; *p; p++) {
		if (*p == ',')
			continue;
		if (nmix == 3 || (*p != 'A' && *p != 'C' && *p != 'E') ||
		    (p[1] && p[1] != ','))
			usage_error(CMD, "--mix wants a list of A, C and E, not "
				    "'%s'", mixes);
		mix[nmix++] = *p == 'C' ? MIX_C : *p == 'A' ? MIX_A : MIX_E;
	}
	if (nmix == 0)
		usage_error(CMD, "--mix: empty list");
	if (slices > keys)
		usage_error(CMD, "--slices %ld is more than --keys %ld", slices,
			    keys);
	sweep_build(CMD, &sw, common.methods, common.modes, &common.kbatch,
		    &ppc);
	if (also)
		add_also(&sw, also, ppc.v[0]);
	one_node = pick_nodes(CMD, &common.from, &common.to) != 0;
	if (one_node) {
		printf("mp2bench ycsb: running the no-migration baseline only\n");
		sw.n = 0;
		common.to = common.from;
	}

	fprintf(stderr, "mp2bench ycsb: building %ld keys in %ld slices on "
		"node %d\n", keys, slices, common.from);
	if (world_build(&w, (uint64_t)keys, slices, theta, common.from,
			common.to)) {
		fprintf(stderr, "mp2bench ycsb: out of memory for %ld keys\n",
			keys);
		return 1;
	}
	fprintf(stderr, "mp2bench ycsb: %d pages a slice; %d runs of %g s\n",
		world_pages(&w), (int)(repeats * nmix * (1 + rs.n * sw.n)),
		seconds);
	fprintf(common.csv, "%s\n", ycsb_csv_header);
	/* Every setting once per repeat, in turn: drifts hit all alike. */
	for (long rep = 0; rep < repeats; rep++)
		for (int m = 0; m < nmix; m++)
			for (int j = 0; j < rs.n; j++)
				for (int i = j ? 0 : -1; i < sw.n; i++) {
					struct yrow row = run_once(
						&w, mix[m], rs.v[j],
						i < 0 ? NULL : &sw.s[i],
						threads, seconds, rep,
						(uint64_t)(rep * 131 + m * 7 +
							   j * 1009 + i + 2),
						common.csv);

					if (yrows_add(&rows, &row)) {
						fprintf(stderr, "mp2bench ycsb: "
							"out of memory\n");
						return 1;
					}
				}
	ycsb_summary(&rows, stderr, common.summary);
	close_outputs(&common);
	free(rows.v);
	return 0;
}
