// SPDX-License-Identifier: MIT
/*
 * mp2bench migrate: move a buffer from one node to another and back, for
 * every setting in turn (interleaved repeats), next to a memcpy between
 * the same nodes measured in the same run as the physical reference.
 *
 * The buffer is shared anonymous memory of one or more page kinds (base
 * pages, shared THP, hugetlb), optionally mapped by several processes,
 * optionally with reader threads running beside the migration.  Every run
 * checks the page kind the buffer really has (smaps) and where its pages
 * really are, before and after the move.
 */
#include <getopt.h>
#include <stdarg.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "busy.h"
#include "hugetlb.h"
#include "mappers.h"
#include "migrate.h"
#include "smaps.h"

static const char *const CMD = "migrate";

/* The buffer the reader threads read. */
#define BUSY_BYTES ((size_t)32 << 20)

static void help(void)
{
	printf("usage: mp2bench migrate [OPTIONS]\n"
	       "\n"
	       "Allocate a shared buffer on one node, move it to another node\n"
	       "and back for each setting, REPEATS times (settings interleaved),\n"
	       "and write one CSV row per run plus one memcpy row per page kind\n"
	       "and repeat.\n"
	       "\n"
	       "  --mib N               buffer size in MiB (default 64)\n"
	       "  --from NODE           source node (default: first memory node)\n"
	       "  --to NODE             target node (default: second memory node)\n"
	       "  --repeats R           repeats of every setting (default 3)\n"
	       "  --methods LIST        move_pages,move_pages2 (default both;\n"
	       "                        move_pages2 is left out if the kernel lacks it)\n"
	       "  --modes LIST          async,sync_light,sync (default async)\n"
	       "  --kernel-batch LIST   move_pages2 batch sizes, 0 = kernel default\n"
	       "                        (default 0)\n"
	       "  --pages-per-call LIST pages per system call (default 512)\n"
	       "  --threads N           migrating threads (default 1)\n"
	       "  --page-kind LIST      4k,thp,hugetlb: base pages, shared THP,\n"
	       "                        2 MiB hugetlb pages (default 4k)\n"
	       "  --mappers LIST        processes mapping the buffer, children\n"
	       "                        included; above 1 needs CAP_SYS_NICE\n"
	       "                        (default 1)\n"
	       "  --busy-threads LIST   threads reading another buffer during\n"
	       "                        the migration, 0 = none (default 0)\n"
	       "  --csv FILE            write CSV there instead of stdout\n"
	       "  --summary FILE        also write the medians there as CSV\n"
	       "  -h, --help            this text\n"
	       "\n"
	       "A median per setting and its ratio to move_pages go to stderr.\n");
}

static uint64_t pattern(size_t i)
{
	return i * 0x9E3779B97F4A7C15ull;
}

static void fill(char *buf, size_t bytes)
{
	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		((uint64_t *)buf)[i] = pattern(i);
}

static size_t corrupt_words(const char *buf, size_t bytes)
{
	size_t bad = 0;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		bad += ((const uint64_t *)buf)[i] != pattern(i);
	return bad;
}

/* One page kind's buffer, its memcpy target and its page array. */
struct kind_state {
	bool usable;
	struct kind_buf buf;		/* on the source node */
	struct kind_buf dst;		/* on the target node, for memcpy */
	void **pages;			/* one address per page of the kind */
	size_t npages;
	bool copied;			/* memcpy row done in this repeat */
};

/* What the whole command works with. */
struct bench {
	int from, to, threads;
	size_t bytes;
	struct kind_state k[NR_KINDS];
	int *where;			/* one node per base page */
	char *busy_buf;
	FILE *csv;
	struct rows rows;		/* of struct mrow */
};

/* The base pages of [addr, addr + bytes) not on node, in KiB; -1: error. */
static long kib_not_on(struct bench *b, const char *addr, size_t bytes,
		       int node)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), n = bytes / psz, off = 0;

	if (mp2_locate_range((void *)addr, bytes, b->where, 0))
		return -1;
	for (size_t i = 0; i < n; i++)
		off += b->where[i] != node;
	return (long)(off * psz / 1024);
}

static const char *kind_seen(const void *addr)
{
	struct smaps_vma v;

	return smaps_read(0, addr, &v) ? "?" : smaps_page_kind(&v);
}

/* Note the first thing that did not hold in r->check. */
static void check_fail(struct mrow *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check_fail(struct mrow *r, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(r->check, "ok"))
		return;
	va_start(ap, fmt);
	vsnprintf(r->check, sizeof(r->check), fmt, ap);
	va_end(ap);
}

static void check_where(struct bench *b, struct mrow *r, const char *addr,
			int node, const char *when)
{
	long kib = kib_not_on(b, addr, b->bytes, node);

	if (kib < 0)
		check_fail(r, "cannot locate the pages %s", when);
	else if (kib > 0)
		check_fail(r, "%ld KiB not on node %d %s", kib, node, when);
}

/* CPU and wall time of the process and of the reader threads. */
struct clocks {
	double wall, cpu, sys, busy_cpu;
	uint64_t reads;
};

static void clocks_read(struct clocks *c, const struct busy *busy)
{
	struct timespec ts;
	struct rusage ru;

	c->wall = now_s();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	c->cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	c->sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	busy_sample(busy, &c->reads, &c->busy_cpu);
}

/* Add what happened between a and z to r. */
static void clocks_add(struct mrow *r, const struct clocks *a,
		       const struct clocks *z, uint64_t *reads)
{
	r->seconds += z->wall - a->wall;
	r->cpu_s += (z->cpu - a->cpu) - (z->busy_cpu - a->busy_cpu);
	r->sys_s += z->sys - a->sys;
	*reads += z->reads - a->reads;
}

static int emit(struct bench *b, const struct mrow *r)
{
	mrow_print(b->csv, r);
	fflush(b->csv);
	return mrows_add(&b->rows, r);
}

static int memcpy_row(struct bench *b, enum page_kind k, long repeat)
{
	struct kind_state *ks = &b->k[k];
	struct mrow r = { .is_memcpy = true, .kind = k, .repeat = repeat,
			  .threads = 1, .check = "ok" };
	struct clocks c0, c1;
	uint64_t reads = 0;

	r.seen = kind_seen(ks->buf.addr);
	clocks_read(&c0, NULL);
	memcpy(ks->dst.addr, ks->buf.addr, b->bytes);
	clocks_read(&c1, NULL);
	clocks_add(&r, &c0, &c1, &reads);
	r.moved = kind_seen(ks->dst.addr);
	r.pages = ks->npages;
	if (strcmp(r.seen, page_kind_name(k)))
		check_fail(&r, "the source was %s", r.seen);
	if (strcmp(r.moved, page_kind_name(k)))
		check_fail(&r, "the copy was %s", r.moved);
	check_where(b, &r, ks->dst.addr, b->to, "(the copy)");
	return emit(b, &r);
}

/*
 * Put back on the source node what a run before left on the target (a
 * page that failed to move back), untimed, so that it does not count
 * against this run.
 */
static void settle(struct bench *b, struct kind_state *ks, int mappers)
{
	long kib = kib_not_on(b, ks->buf.addr, b->bytes, b->from);
	struct mp2_options o;

	if (kib <= 0)
		return;
	mp2_options_init(&o);
	o.mode = MP2_MODE_SYNC;
	o.move_all = mappers > 1;
	o.busy_retries = 5;
	mp2_migrate(ks->pages, ks->npages, NULL, b->from, &o, NULL, NULL);
	fprintf(stderr, "mp2bench migrate: %ld KiB of the %s buffer were not "
		"on node %d after the run before; moved back\n", kib,
		page_kind_name(ks->buf.kind), b->from);
}

/* Move kind k's buffer there and back with setting s; one row. */
static int migrate_row(struct bench *b, enum page_kind k,
		       const struct setting *s, int mappers, int busy,
		       long repeat)
{
	struct kind_state *ks = &b->k[k];
	struct mrow r = { .s = *s, .kind = k, .repeat = repeat,
			  .threads = b->threads, .mappers = mappers,
			  .busy = busy, .check = "ok" };
	struct mp2_options o;
	struct mp2_stats there, back;
	struct clocks c0, c1;
	struct busy *readers = NULL;
	uint64_t reads = 0;
	int err;

	mp2_options_init(&o);
	o.method = s->method;
	o.mode = s->mode;
	o.kernel_batch = s->kernel_batch;
	o.pages_per_call = s->pages_per_call;
	o.threads = b->threads;
	o.move_all = mappers > 1;

	settle(b, ks, mappers);
	r.seen = kind_seen(ks->buf.addr);
	if (strcmp(r.seen, page_kind_name(k)))
		check_fail(&r, "the buffer was %s before the move", r.seen);
	check_where(b, &r, ks->buf.addr, b->from, "before the move");
	if (busy > 0) {
		readers = busy_start(busy, b->busy_buf, BUSY_BYTES);
		if (!readers) {
			fprintf(stderr, "mp2bench migrate: cannot start %d "
				"reader threads\n", busy);
			return -1;
		}
	}
	clocks_read(&c0, readers);
	err = mp2_migrate(ks->pages, ks->npages, NULL, b->to, &o, NULL,
			  &there);
	clocks_read(&c1, readers);
	clocks_add(&r, &c0, &c1, &reads);
	if (!err) {
		r.moved = kind_seen(ks->buf.addr);
		if (strcmp(r.moved, page_kind_name(k)))
			check_fail(&r, "the buffer was %s after the move",
				   r.moved);
		check_where(b, &r, ks->buf.addr, b->to, "after the move");
		clocks_read(&c0, readers);
		err = mp2_migrate(ks->pages, ks->npages, NULL, b->from, &o,
				  NULL, &back);
		clocks_read(&c1, readers);
		clocks_add(&r, &c0, &c1, &reads);
	}
	busy_stop(readers);
	if (err) {
		fprintf(stderr, "mp2bench migrate: %s\n", mp2_strerror(err));
		return -1;
	}
	check_where(b, &r, ks->buf.addr, b->from, "after the move back");
	r.pages = there.moved + back.moved;
	r.failed = mp2_stats_failed(&there) + mp2_stats_failed(&back);
	r.busy_reads_per_s = r.seconds > 0 ? (double)reads / r.seconds : 0;
	return emit(b, &r);
}

/* Map, fill and place kind k's buffers; false (and why) if it cannot. */
static bool kind_setup(struct bench *b, enum page_kind k,
		       struct hugetlb_pools *pools)
{
	struct kind_state *ks = &b->k[k];
	size_t pb = page_kind_bytes(k);
	char why[512];

	if (page_kind_usable(k, why, sizeof(why)))
		goto skip;
	if (k == KIND_HUGETLB) {
		long need = (long)(b->bytes / pb);

		/* The buffer, then the copy and the migrated buffer. */
		if (hugetlb_reserve(pools, b->from, need, why, sizeof(why)) ||
		    hugetlb_reserve(pools, b->to, 2 * need, why, sizeof(why)))
			goto skip;
	}
	if (kind_buf_map(&ks->buf, k, b->bytes, b->from, why, sizeof(why)) ||
	    kind_buf_map(&ks->dst, k, b->bytes, b->to, why, sizeof(why)))
		goto skip;
	fill(ks->buf.addr, b->bytes);
	memset(ks->dst.addr, 0, b->bytes);
	ks->npages = b->bytes / pb;
	ks->pages = calloc(ks->npages, sizeof(*ks->pages));
	if (!ks->pages) {
		snprintf(why, sizeof(why), "out of memory");
		goto skip;
	}
	for (size_t i = 0; i < ks->npages; i++)
		ks->pages[i] = ks->buf.addr + i * pb;
	fprintf(stderr, "mp2bench migrate: page kind %s: the buffer is %s, "
		"its copy %s\n", page_kind_name(k), kind_seen(ks->buf.addr),
		kind_seen(ks->dst.addr));
	ks->usable = true;
	return true;
skip:
	fprintf(stderr, "mp2bench migrate: page kind %s skipped: %s\n",
		page_kind_name(k), why);
	kind_buf_unmap(&ks->buf);
	kind_buf_unmap(&ks->dst);
	return false;
}

/* A page kind and a number of mappers: the runs that share children. */
struct group {
	enum page_kind kind;
	int mappers;
};

/* One run within a group: a setting with a number of reader threads. */
struct run {
	const struct setting *s;
	int busy;
};

static int run_group(struct bench *b, const struct group *g,
		     const struct run *runs, int nruns, long repeat)
{
	struct kind_state *ks = &b->k[g->kind];
	struct mappers m;
	int err;

	if (!ks->copied) {
		ks->copied = true;
		if (memcpy_row(b, g->kind, repeat))
			return -1;
	}
	err = mappers_start(&m, g->mappers, ks->buf.addr, b->bytes);
	if (err) {
		fprintf(stderr, "mp2bench migrate: cannot start %d mappers: "
			"%s\n", g->mappers, strerror(-err));
		return -1;
	}
	for (int i = 0; i < nruns && !err; i++) {
		const struct run *u = &runs[(i + repeat) % nruns];

		err = migrate_row(b, g->kind, u->s, g->mappers, u->busy,
				  repeat);
	}
	if (mappers_stop(&m) && !err) {
		fprintf(stderr, "mp2bench migrate: a mapping child failed\n");
		err = -1;
	}
	return err;
}

static void parse_kinds(const char *s, bool *want)
{
	char buf[128], *save = NULL;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		usage_error(CMD, "--page-kind: list too long");
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		enum page_kind k;

		if (page_kind_parse(t, &k))
			usage_error(CMD, "--page-kind: unknown page kind '%s' "
				    "(4k, thp or hugetlb)", t);
		want[k] = true;
		n++;
	}
	if (n == 0)
		usage_error(CMD, "--page-kind: empty list");
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "repeats", required_argument, NULL, 'r' },
		SWEEP_OPTIONS,
		{ "pages-per-call", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 'T' },
		{ "page-kind", required_argument, NULL, 'K' },
		{ "mappers", required_argument, NULL, 'P' },
		{ "busy-threads", required_argument, NULL, 'B' },
		OUTPUT_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct common_args common = COMMON_ARGS_INIT;
	struct int_list ppc = { 1, { 512 } };
	struct int_list mappers = { 1, { 1 } }, busy = { 1, { 0 } };
	bool want[NR_KINDS] = { [KIND_4K] = true };
	long mib = 64, repeats = 3, threads = 1;
	int c, ngroups = 0, nruns = 0, rc = 0;
	static struct sweep sw;
	static struct bench b;
	struct hugetlb_pools pools = { 0 };
	struct group groups[NR_KINDS * MAX_LIST];
	struct run *runs = NULL;
	bool cap, any_busy = false;

	optind = 1;
	while ((c = next_option(CMD, argc, argv, opts, &common)) != -1) {
		switch (c) {
		case 'm': mib = parse_long(CMD, "--mib", optarg, 1, 1 << 20); break;
		case 'r': repeats = parse_long(CMD, "--repeats", optarg, 1, 1000); break;
		case 'p':
			parse_int_list(CMD, "--pages-per-call", optarg, 1,
				       1 << 20, &ppc);
			break;
		case 'T': threads = parse_long(CMD, "--threads", optarg, 1, 256); break;
		case 'K':
			memset(want, 0, sizeof(want));
			parse_kinds(optarg, want);
			break;
		case 'P':
			parse_int_list(CMD, "--mappers", optarg, 1,
				       MAPPERS_MAX, &mappers);
			break;
		case 'B':
			parse_int_list(CMD, "--busy-threads", optarg, 0, 64,
				       &busy);
			break;
		case 'h': help(); return 0;
		}
	}
	if ((want[KIND_THP] || want[KIND_HUGETLB]) && mib % 2)
		usage_error(CMD, "--mib %ld: page kinds thp and hugetlb need a "
			    "multiple of 2 MiB", mib);
	sweep_build(CMD, &sw, common.methods, common.modes, &common.kbatch,
		    &ppc);
	if (pick_nodes(CMD, &common.from, &common.to))
		return 0;
	if (sw.n == 0)
		usage_error(CMD, "no method to run");

	b.from = common.from;
	b.to = common.to;
	b.threads = (int)threads;
	b.bytes = (size_t)mib << 20;
	b.csv = common.csv;
	b.where = calloc(b.bytes / (size_t)sysconf(_SC_PAGESIZE),
			 sizeof(*b.where));
	runs = calloc((size_t)sw.n * (size_t)busy.n, sizeof(*runs));
	if (!b.where || !runs) {
		fprintf(stderr, "mp2bench migrate: out of memory for %ld MiB\n",
			mib);
		return 1;
	}
	for (int i = 0; i < busy.n; i++) {
		any_busy |= busy.v[i] > 0;
		for (int j = 0; j < sw.n; j++)
			runs[nruns++] = (struct run){ &sw.s[j], (int)busy.v[i] };
	}
	if (any_busy) {
		b.busy_buf = numa_alloc_onnode(BUSY_BYTES, b.from);
		if (!b.busy_buf) {
			fprintf(stderr, "mp2bench migrate: out of memory for "
				"the readers' buffer\n");
			return 1;
		}
		memset(b.busy_buf, 1, BUSY_BYTES);
	}

	cap = can_move_all();
	for (int k = 0; k < NR_KINDS; k++) {
		if (!want[k] || !kind_setup(&b, (enum page_kind)k, &pools))
			continue;
		for (int i = 0; i < mappers.n; i++) {
			if (mappers.v[i] > 1 && !cap)
				continue;
			groups[ngroups++] = (struct group){
				(enum page_kind)k, (int)mappers.v[i] };
		}
	}
	for (int i = 0; i < mappers.n && !cap; i++)
		if (mappers.v[i] > 1)
			fprintf(stderr, "mp2bench migrate: mappers %ld "
				"skipped: moving pages that other processes "
				"map too (move_all) needs CAP_SYS_NICE, which "
				"this process lacks\n", mappers.v[i]);

	fprintf(b.csv, "%s\n", migrate_csv_header);
	for (long r = 0; r < repeats && !rc; r++) {
		for (int k = 0; k < NR_KINDS; k++)
			b.k[k].copied = false;
		for (int i = 0; i < ngroups && !rc; i++)
			if (run_group(&b, &groups[(i + r) % ngroups], runs,
				      nruns, r))
				rc = 1;
	}
	for (int k = 0; k < NR_KINDS; k++) {
		struct kind_state *ks = &b.k[k];

		if (ks->usable && corrupt_words(ks->buf.addr, b.bytes)) {
			fprintf(stderr, "mp2bench migrate: DATA CORRUPTED "
				"after migration (page kind %s)\n",
				page_kind_name((enum page_kind)k));
			rc = 1;
		}
	}
	migrate_summary(&b.rows, stderr, common.summary);
	close_outputs(&common);
	for (int k = 0; k < NR_KINDS; k++) {
		kind_buf_unmap(&b.k[k].buf);
		kind_buf_unmap(&b.k[k].dst);
		free(b.k[k].pages);
	}
	hugetlb_restore(&pools);
	if (b.busy_buf)
		numa_free(b.busy_buf, BUSY_BYTES);
	free(b.where);
	free(b.rows.v);
	free(runs);
	return rc;
}
