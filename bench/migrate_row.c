// SPDX-License-Identifier: MIT
/* mp2bench migrate: one row per run, as CSV. */
#include "migrate.h"

const char migrate_csv_header[] =
	"kind,method,mode,kernel_batch,pages_per_call,threads,repeat,pages,"
	"seconds,pages_per_s,gb_per_s,failed,page_kind,page_bytes,"
	"page_kind_seen,page_kind_moved,mappers,busy_threads,"
	"busy_reads_per_s,cpu_s,sys_s,cpu_us_per_page,check";

void mrow_print(FILE *f, const struct mrow *r)
{
	size_t pb = page_kind_bytes(r->kind);
	double t = r->seconds > 0 ? r->seconds : 1e-9;

	if (r->is_memcpy)
		fprintf(f, "memcpy,,,,,1,");
	else
		fprintf(f, "migrate,%s,%s,%u,%zu,%d,",
			mp2_method_name(r->s.method),
			r->s.method == MP2_METHOD_MOVE_PAGES ?
				"" : mp2_mode_name(r->s.mode),
			r->s.kernel_batch, r->s.pages_per_call, r->threads);
	fprintf(f, "%ld,%zu,%.6f,%.0f,%.3f,%zu,%s,%zu,%s,%s,", r->repeat,
		r->pages, r->seconds, (double)r->pages / t,
		(double)r->pages * (double)pb / t / 1e9, r->failed,
		page_kind_name(r->kind), pb, r->seen, r->moved);
	if (r->is_memcpy)
		fprintf(f, ",0,,");
	else
		fprintf(f, "%d,%d,%.0f,", r->mappers, r->busy,
			r->busy_reads_per_s);
	fprintf(f, "%.6f,%.6f,%.2f,%s\n", r->cpu_s, r->sys_s,
		r->pages ? r->cpu_s * 1e6 / (double)r->pages : 0.0, r->check);
}

int mrows_add(struct rows *rows, const struct mrow *r)
{
	return rows_add(rows, r, sizeof(*r));
}
