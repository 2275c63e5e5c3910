// SPDX-License-Identifier: MIT
/* mp2bench migrate: medians per setting and ratios to move_pages. */
#include <stdlib.h>
#include <string.h>

#include "migrate.h"

/* The medians of one setting's rows. */
struct group {
	int runs, bad;		/* rows whose check was ok, and not */
	double pps, gbps, cpu_pp, qps;
};

static int cmp_setting(const struct mrow *a, const struct mrow *b)
{
	/* memcpy first, then move_pages, then move_pages2 */
	int ma = a->is_memcpy ? 0 : a->s.method == MP2_METHOD_MOVE_PAGES ? 1 : 2;
	int mb = b->is_memcpy ? 0 : b->s.method == MP2_METHOD_MOVE_PAGES ? 1 : 2;

	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	if ((ma == 0) != (mb == 0))
		return ma - mb;
	if (a->mappers != b->mappers)
		return a->mappers - b->mappers;
	if (a->busy != b->busy)
		return a->busy - b->busy;
	if (a->s.pages_per_call != b->s.pages_per_call)
		return a->s.pages_per_call < b->s.pages_per_call ? -1 : 1;
	if (ma != mb)
		return ma - mb;
	return cmp_mode_batch(&a->s, &b->s);
}

static int cmp_row(const void *a, const void *b)
{
	return cmp_setting(a, b);
}

/* Same page kind, mappers, readers and pages per call. */
static bool same_place(const struct mrow *a, const struct mrow *b)
{
	return a->kind == b->kind && a->mappers == b->mappers &&
	       a->busy == b->busy &&
	       a->s.pages_per_call == b->s.pages_per_call;
}

/* The medians (struct group) of the n rows (struct mrow) at first. */
static void group_medians(const void *first, size_t n, void *summary)
{
	const struct mrow *rows = first;
	struct group *g = summary;
	double *v = calloc(4 * (n ? n : 1), sizeof(*v));
	double *pps = v, *gbps = v + n, *cpu = v + 2 * n, *qps = v + 3 * n;

	g->runs = g->bad = 0;
	g->pps = g->gbps = g->cpu_pp = g->qps = 0;
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct mrow *r = &rows[i];
		double t = r->seconds > 0 ? r->seconds : 1e-9;

		if (strcmp(r->check, "ok")) {
			g->bad++;
			continue;
		}
		pps[g->runs] = (double)r->pages / t;
		gbps[g->runs] = (double)r->pages *
				(double)page_kind_bytes(r->kind) / t / 1e9;
		cpu[g->runs] = r->pages ? r->cpu_s * 1e6 / (double)r->pages : 0;
		qps[g->runs] = r->busy_reads_per_s;
		g->runs++;
	}
	g->pps = median(pps, g->runs);
	g->gbps = median(gbps, g->runs);
	g->cpu_pp = median(cpu, g->runs);
	g->qps = median(qps, g->runs);
	free(v);
}

/*
 * The columns that name r's setting (page kind, mappers, readers, method,
 * mode, kernel batch, pages per call): the same values in the table and
 * in the CSV, in the layout of the one or, when csv, the other.
 */
static void setting_columns(FILE *f, bool csv, const struct mrow *r)
{
	const char *kind = page_kind_name(r->kind);

	if (r->is_memcpy && csv)
		fprintf(f, "memcpy,%s,,0,memcpy,,,,", kind);
	else if (r->is_memcpy)
		fprintf(f, "%-8s %7s %4s %-12s %-10s %6s %6s ", kind, "", "",
			"memcpy", "", "", "");
	else
		fprintf(f, csv ? "migrate,%s,%d,%d,%s,%s,%u,%zu," :
				 "%-8s %7d %4d %-12s %-10s %6u %6zu ",
			kind, r->mappers, r->busy, mp2_method_name(r->s.method),
			r->s.method == MP2_METHOD_MOVE_PAGES ?
				"sync" : mp2_mode_name(r->s.mode),
			r->s.kernel_batch, r->s.pages_per_call);
}

/* The ratios of a setting to move_pages at the same place. */
struct ratios {
	double pps, cpu_pp;	/* of pages/s and of CPU time per page */
};

static void table_row(FILE *f, const struct mrow *r, const struct group *g,
		      const struct ratios *x)
{
	setting_columns(f, false, r);
	fprintf(f, "%10.0f %7.3f %8.2f ", g->pps, g->gbps, g->cpu_pp);
	if (r->is_memcpy)
		fprintf(f, "%6s %6s ", "", "");
	else
		fprintf(f, "%6.2f %6.2f ", x->pps, x->cpu_pp);
	fprintf(f, "%2d/%-2d\n", g->runs, g->runs + g->bad);
}

static void csv_row(FILE *f, const struct mrow *r, const struct group *g,
		    const struct ratios *x)
{
	setting_columns(f, true, r);
	fprintf(f, "%d,%d,%.0f,%.3f,%.2f,", g->runs, g->bad, g->pps, g->gbps,
		g->cpu_pp);
	if (r->is_memcpy)
		fprintf(f, ",,\n");
	else
		fprintf(f, "%.0f,%.3f,%.3f\n", g->qps, x->pps, x->cpu_pp);
}

/*
 * The ratios of group k to the move_pages group at the same place: 0 where
 * there is no such group, and for memcpy.
 */
static struct ratios ratios_of(const struct row_groups *rg,
			       const struct group *gs, size_t k)
{
	const struct mrow *sorted = rg->v, *r = &sorted[rg->g[k].first];
	const struct group *base = NULL;
	struct ratios x = { 0, 0 };

	for (size_t j = 0; !r->is_memcpy && j < rg->n; j++) {
		const struct mrow *b = &sorted[rg->g[j].first];

		if (!b->is_memcpy && b->s.method == MP2_METHOD_MOVE_PAGES &&
		    same_place(b, r))
			base = &gs[j];
	}
	if (base && base->pps > 0)
		x.pps = gs[k].pps / base->pps;
	if (base && base->cpu_pp > 0)
		x.cpu_pp = gs[k].cpu_pp / base->cpu_pp;
	return x;
}

static void print_groups(const struct row_groups *rg, const void *summaries,
			 FILE *table, FILE *csv)
{
	const struct mrow *sorted = rg->v;
	const struct group *gs = summaries;

	fprintf(table, "%-8s %7s %4s %-12s %-10s %6s %6s %10s %7s %8s %6s "
		"%6s %5s\n", "pages", "mappers", "busy", "method", "mode",
		"kbatch", "ppc", "pages/s", "GB/s", "cpu_us/p", "ratio",
		"cpu_r", "runs");
	if (csv)
		fprintf(csv, "kind,page_kind,mappers,busy_threads,method,mode,"
			"kernel_batch,pages_per_call,runs,bad_runs,"
			"pages_per_s,gb_per_s,cpu_us_per_page,"
			"busy_reads_per_s,ratio_pages_per_s,"
			"ratio_cpu_per_page\n");
	for (size_t k = 0; k < rg->n; k++) {
		const struct mrow *r = &sorted[rg->g[k].first];
		struct ratios x = ratios_of(rg, gs, k);

		table_row(table, r, &gs[k], &x);
		if (csv)
			csv_row(csv, r, &gs[k], &x);
	}
}

static const struct summary_ops migrate_summary_ops = {
	.cmd = "migrate",
	.row_size = sizeof(struct mrow),
	.group_size = sizeof(struct group),
	.cmp = cmp_row,
	.summarize = group_medians,
	.print = print_groups,
};

void migrate_summary(const struct rows *rows, FILE *table, FILE *csv)
{
	summarize_rows(rows, &migrate_summary_ops, table, csv);
}
