// SPDX-License-Identifier: MIT
/* mp2bench ycsb: one row per run, and medians per setting. */
#include <stdlib.h>

#include "ycsb.h"

const char ycsb_csv_header[] =
	"mix,method,mode,kernel_batch,pages_per_call,r,threads,repeat,"
	"seconds,queries,qps,migrations,pages_moved,pages_per_s,"
	"pages_failed,migration_s";

const char ycsb_summary_header[] =
	"mix,r,method,mode,kernel_batch,pages_per_call,runs,qps,qps_min,"
	"qps_max,pages_per_s,pages_per_s_min,pages_per_s_max,"
	"ms_per_migration,migrating_share,qps_vs_none,qps_vs_move_pages,"
	"pages_per_s_vs_move_pages";

static const char *method_of(const struct yrow *r)
{
	return r->none ? "none" : mp2_method_name(r->s.method);
}

static const char *mode_of(const struct yrow *r)
{
	if (r->none)
		return "";
	return r->s.method == MP2_METHOD_MOVE_PAGES ? "sync" :
						      mp2_mode_name(r->s.mode);
}

void yrow_print(FILE *f, const struct yrow *r)
{
	double t = r->seconds > 0 ? r->seconds : 1e-9;

	fprintf(f, "%c,%s,%s,%u,%zu,%.3f,%ld,%ld,%.3f,%llu,%.0f,%llu,%llu,"
		"%.0f,%llu,%.3f\n", r->mix, method_of(r),
		r->none || r->s.method == MP2_METHOD_MOVE_PAGES ? "" :
			mp2_mode_name(r->s.mode),
		r->none ? 0 : r->s.kernel_batch,
		r->none ? 0 : r->s.pages_per_call, r->none ? 0.0 : r->r,
		r->threads, r->repeat, r->seconds,
		(unsigned long long)r->queries, (double)r->queries / t,
		(unsigned long long)r->migrations,
		(unsigned long long)r->pages_moved,
		(double)r->pages_moved / t,
		(unsigned long long)r->pages_failed, r->migration_s);
}

int yrows_add(struct rows *rows, const struct yrow *r)
{
	return rows_add(rows, r, sizeof(*r));
}

/* 0 none, 1 move_pages, 2 move_pages2 */
static int rank(const struct yrow *r)
{
	return r->none ? 0 : r->s.method == MP2_METHOD_MOVE_PAGES ? 1 : 2;
}

static int mix_rank(char m)
{
	return m == 'C' ? 0 : m == 'A' ? 1 : 2;
}

static int cmp_setting(const struct yrow *a, const struct yrow *b)
{
	if (a->mix != b->mix)
		return mix_rank(a->mix) - mix_rank(b->mix);
	if (rank(a) != rank(b) && (rank(a) == 0 || rank(b) == 0))
		return rank(a) - rank(b);
	if (!a->none && a->r != b->r)
		return a->r < b->r ? -1 : 1;
	if (rank(a) != rank(b))
		return rank(a) - rank(b);
	if (a->none)
		return 0;
	if (a->s.pages_per_call != b->s.pages_per_call)
		return a->s.pages_per_call < b->s.pages_per_call ? -1 : 1;
	if (rank(a) == 1)
		return 0;
	return cmp_mode_batch(&a->s, &b->s);
}

static int cmp_row(const void *a, const void *b)
{
	return cmp_setting(a, b);
}

/* The medians of one setting's rows, and their range. */
struct group {
	size_t n;		/* rows */
	double qps, qps_min, qps_max, pps, pps_min, pps_max, ms_per_mig;
	double share;
};

static void minmax(const double *v, size_t n, double *lo, double *hi)
{
	*lo = *hi = n ? v[0] : 0;
	for (size_t i = 1; i < n; i++) {
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
}

/* The medians (struct group) of the n rows (struct yrow) at first. */
static void group_medians(const void *first, size_t n, void *summary)
{
	const struct yrow *rows = first;
	struct group *g = summary;
	double *v = calloc(4 * n, sizeof(*v));
	double *q = v, *p = v + n, *ms = v + 2 * n, *sh = v + 3 * n;
	int nms = 0;

	g->n = n;
	g->qps = g->qps_min = g->qps_max = 0;
	g->pps = g->pps_min = g->pps_max = g->ms_per_mig = g->share = 0;
	if (!v)
		return;
	for (size_t i = 0; i < g->n; i++) {
		const struct yrow *r = &rows[i];
		double t = r->seconds > 0 ? r->seconds : 1e-9;

		q[i] = (double)r->queries / t;
		p[i] = (double)r->pages_moved / t;
		sh[i] = r->migration_s / t / (double)(r->threads ? r->threads : 1);
		if (r->migrations)
			ms[nms++] = r->migration_s * 1e3 /
				    (double)r->migrations;
	}
	minmax(q, g->n, &g->qps_min, &g->qps_max);
	minmax(p, g->n, &g->pps_min, &g->pps_max);
	g->qps = median(q, (int)g->n);
	g->pps = median(p, (int)g->n);
	g->ms_per_mig = median(ms, nms);
	g->share = median(sh, (int)g->n);
	free(v);
}

static void print_groups(const struct row_groups *rg, const void *summaries,
			 FILE *table, FILE *csv)
{
	const struct yrow *sorted = rg->v;
	const struct group *gs = summaries;

	fprintf(table, "%-3s %5s %-12s %-10s %6s %6s %4s %10s %7s %7s %10s "
		"%7s %9s\n", "mix", "r", "method", "mode", "kbatch", "ppc",
		"runs", "qps", "vs none", "vs m_p", "pages/s", "vs m_p",
		"ms/migr");
	if (csv)
		fprintf(csv, "%s\n", ycsb_summary_header);
	for (size_t k = 0; k < rg->n; k++) {
		const struct yrow *r = &sorted[rg->g[k].first];
		const struct group *g = &gs[k], *none = NULL, *mp = NULL;
		double vs_none = 0, q_mp = 0, p_mp = 0;

		for (size_t j = 0; j < rg->n; j++) {
			const struct yrow *b = &sorted[rg->g[j].first];

			if (b->mix != r->mix)
				continue;
			if (b->none)
				none = &gs[j];
			else if (!r->none && rank(b) == 1 && b->r == r->r &&
				 b->s.pages_per_call == r->s.pages_per_call)
				mp = &gs[j];
		}
		if (none && none->qps > 0)
			vs_none = g->qps / none->qps;
		if (mp && mp->qps > 0)
			q_mp = g->qps / mp->qps;
		if (mp && mp->pps > 0)
			p_mp = g->pps / mp->pps;
		fprintf(table, "%-3c %5.2f %-12s %-10s %6u %6zu %4zu %10.0f "
			"%7.3f %7.2f %10.0f %7.2f %9.1f\n", r->mix,
			r->none ? 0.0 : r->r, method_of(r), mode_of(r),
			r->none ? 0 : r->s.kernel_batch,
			r->none ? 0 : r->s.pages_per_call, g->n, g->qps,
			vs_none, q_mp, g->pps, p_mp, g->ms_per_mig);
		if (csv)
			fprintf(csv, "%c,%.3f,%s,%s,%u,%zu,%zu,%.1f,%.1f,%.1f,"
				"%.0f,%.0f,%.0f,%.2f,%.3f,%.4f,%.3f,%.3f\n",
				r->mix,
				r->none ? 0.0 : r->r, method_of(r), mode_of(r),
				r->none ? 0 : r->s.kernel_batch,
				r->none ? 0 : r->s.pages_per_call, g->n,
				g->qps, g->qps_min, g->qps_max, g->pps,
				g->pps_min, g->pps_max, g->ms_per_mig,
				g->share, vs_none, q_mp, p_mp);
	}
}

static const struct summary_ops ycsb_summary_ops = {
	.cmd = "ycsb",
	.row_size = sizeof(struct yrow),
	.group_size = sizeof(struct group),
	.cmp = cmp_row,
	.summarize = group_medians,
	.print = print_groups,
};

void ycsb_summary(const struct rows *rows, FILE *table, FILE *csv)
{
	summarize_rows(rows, &ycsb_summary_ops, table, csv);
}
