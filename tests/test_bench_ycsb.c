// SPDX-License-Identifier: MIT
/*
 * Tests of mp2bench ycsb that hold on a one-node host: its options and
 * their errors, a run of every mix with several r and its summary file,
 * the CSV row, the medians and ratios of the summary, and the zipfian
 * normalisation it needs for millions of keys.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "csv.h"
#include "harness.h"
#include "ycsb.h"
#include "zipf.h"
#include "run_tool.h"

/*
 * The sweep's options are accepted; a run writes a row per run and a
 * summary row per setting.  On a one-node host only the baselines run;
 * in the multi-node guest every r of every setting does too.
 */
static void test_sweep_run(void)
{
	char csv[] = "/tmp/mp2-test-ycsb-csv-XXXXXX";
	char sum[] = "/tmp/mp2-test-ycsb-sum-XXXXXX";
	int fc = mkstemp(csv), fs = mkstemp(sum);
	const char *args[] = { "ycsb", "--mix", "C,A,E", "--r", "0.01,0.5",
			       "--keys", "20000", "--slices", "4",
			       "--seconds", "0.1", "--repeats", "2",
			       "--kernel-batch", "64,4096", "--also", "sync:512",
			       "--pages-per-call", "65536", "--csv", csv,
			       "--summary", sum, NULL };
	const char *help[] = { "ycsb", "--help", NULL };
	int rows = 0, sums = 0, none = 0, per_run;
	struct mp2_topology *topo;
	bool multi = false, has2 = mp2_kernel_has_move_pages2(NULL, NULL);
	char line[1024], want[64];
	FILE *f;

	T_REQUIRE(fc >= 0 && fs >= 0);
	close(fc);
	close(fs);
	if (mp2_topology_read(&topo) == 0) {
		multi = topo->nr_nodes > 1;
		mp2_topology_free(topo);
	}
	T_EQ(run(args), 0);
	/* per repeat and mix: none, then 2 r x (move_pages + 2 + 1) */
	per_run = multi ? 1 + 2 * (1 + (has2 ? 3 : 0)) : 1;
	snprintf(want, sizeof(want), "%d runs of 0.1 s", 2 * 3 * per_run);
	T_CHECK(strstr(out, want) != NULL);
	f = fopen(csv, "r");
	T_REQUIRE(f != NULL);
	while (fgets(line, sizeof(line), f))
		rows++;
	fclose(f);
	T_EQ(rows, 1 + 2 * 3 * per_run);
	f = fopen(sum, "r");
	T_REQUIRE(f != NULL);
	T_CHECK(fgets(line, sizeof(line), f) != NULL);
	T_CHECK(!strncmp(line, ycsb_summary_header,
			 strlen(ycsb_summary_header)));
	while (fgets(line, sizeof(line), f)) {
		sums++;
		none += strstr(line, ",none,,0,0,2,") != NULL;
	}
	fclose(f);
	T_EQ(sums, 3 * per_run);
	T_EQ(none, 3);
	unlink(csv);
	unlink(sum);
	T_EQ(run(help), 0);
	T_CHECK(strstr(out, "--r LIST") != NULL);
	T_CHECK(strstr(out, "--also LIST") != NULL);
	T_CHECK(strstr(out, "--summary FILE") != NULL);
}

static void test_csv_row(void)
{
	struct yrow r = { .mix = 'E', .s = { MP2_METHOD_MOVE_PAGES2,
					     MP2_MODE_ASYNC, 256, 65536 },
			  .r = 0.25, .threads = 2, .repeat = 1, .seconds = 2,
			  .queries = 100, .migrations = 4, .pages_moved = 4000,
			  .pages_failed = 3, .migration_s = 3.5 };
	char line[512];
	FILE *f = tmpfile();

	T_REQUIRE(f != NULL);
	yrow_print(f, &r);
	r.none = true;
	yrow_print(f, &r);
	rewind(f);
	T_CHECK(fgets(line, sizeof(line), f) != NULL);
	T_EQ(csv_columns(line), csv_columns(ycsb_csv_header));
	T_CHECK(!strcmp(line, "E,move_pages2,async,256,65536,0.250,2,1,2.000,"
			"100,50,4,4000,2000,3,3.500\n"));
	T_CHECK(fgets(line, sizeof(line), f) != NULL);
	T_CHECK(!strncmp(line, "E,none,,0,0,0.000,2,1,", 22));
	fclose(f);
}

static struct yrow row(char mix, int method, unsigned int kb, double r,
		       double qps, double pps)
{
	struct yrow y = { .mix = mix, .none = method == 0, .r = r,
			  .threads = 2, .seconds = 2 };

	y.s.method = method == 1 ? MP2_METHOD_MOVE_PAGES :
				   MP2_METHOD_MOVE_PAGES2;
	y.s.mode = method == 1 ? MP2_MODE_SYNC : MP2_MODE_ASYNC;
	y.s.kernel_batch = kb;
	y.s.pages_per_call = 65536;
	y.queries = (uint64_t)(qps * 2);
	y.pages_moved = (uint64_t)(pps * 2);
	y.migrations = method ? 10 : 0;
	y.migration_s = method ? 2 : 0;
	return y;
}

/*
 * Medians over the repeats, ratios to the baseline of the mix and to
 * move_pages at the same mix and r, and the smallest and largest run.
 */
static void test_summary(void)
{
	struct yrow add[] = {
		/* mix C: none 1000; at r 0.5, move_pages 10, 20, 30 q/s */
		row('C', 1, 0, 0.5, 10, 100), row('C', 0, 0, 0, 1000, 0),
		row('C', 2, 64, 0.5, 40, 300), row('C', 1, 0, 0.5, 30, 300),
		row('C', 2, 64, 0.5, 40, 300), row('C', 1, 0, 0.5, 20, 200),
		row('C', 2, 64, 0.5, 40, 300), row('C', 0, 0, 0, 3000, 0),
		row('C', 0, 0, 0, 2000, 0),
		/* at r 0.01 another move_pages: ratios must not mix r */
		row('C', 1, 0, 0.01, 80, 800), row('C', 2, 64, 0.01, 40, 400),
		/* mix A has no move_pages: no ratio */
		row('A', 2, 64, 0.5, 40, 300),
	};
	FILE *csv = summary_csv(add, sizeof(add) / sizeof(add[0]),
				sizeof(add[0]), ycsb_summary);
	char line[512];
	int found = 0, n = 0;

	T_REQUIRE(csv != NULL);
	while (fgets(line, sizeof(line), csv)) {
		n++;
		if (n == 2) /* C's baseline first */
			T_CHECK(!strcmp(line, "C,0.000,none,,0,0,3,2000.0,"
					"1000.0,3000.0,0,0,0,0.00,0.000,"
					"1.0000,0.000,0.000\n"));
		if (!strncmp(line, "C,0.500,move_pages,sync,0,65536,3,", 34)) {
			T_CHECK(!strcmp(line + 34, "20.0,10.0,30.0,200,100,"
					"300,200.00,0.500,0.0100,1.000,"
					"1.000\n"));
			found++;
		}
		if (!strncmp(line, "C,0.500,move_pages2,async,64,65536,3,",
			     37)) {
			T_CHECK(strstr(line, ",0.0200,2.000,1.500\n") != NULL);
			found++;
		}
		if (!strncmp(line, "C,0.010,move_pages2,async,64,65536,1,",
			     37)) {
			T_CHECK(strstr(line, ",0.500,0.500\n") != NULL);
			found++;
		}
		if (!strncmp(line, "A,0.500,move_pages2,async,64,", 29)) {
			T_CHECK(strstr(line, ",0.0000,0.000,0.000\n") != NULL);
			found++;
		}
	}
	T_EQ(found, 4);
	/* header, C: none, two r x (move_pages, move_pages2); A: one */
	T_EQ(n, 1 + 1 + 4 + 1);
	fclose(csv);
}

/* The Euler-Maclaurin tail agrees with the plain sum. */
static void test_zipf_zeta(void)
{
	struct zipf z;
	double sum = 0;
	const uint64_t n = 3000000;
	uint64_t rng = 1, hits0 = 0;

	for (uint64_t i = 1; i <= n; i++)
		sum += 1.0 / pow((double)i, 0.99);
	zipf_init(&z, n, 0.99);
	T_CHECK(fabs(z.zetan - sum) / sum < 1e-10);
	for (int i = 0; i < 100000; i++) {
		uint64_t k = zipf_rank(&z, &rng);

		T_REQUIRE(k < n);
		hits0 += k == 0;
	}
	/* rank 0 draws 1/zeta(n) of the time: about 6% */
	T_CHECK(fabs((double)hits0 / 100000 - 1 / sum) < 0.01);
}

int main(void)
{
	bench_suite_init("ycsb");
	T_RUN(test_bad_options);
	T_RUN(test_sweep_run);
	T_RUN(test_csv_row);
	T_RUN(test_summary);
	T_RUN(test_zipf_zeta);
	return t_finish("mp2bench-ycsb");
}
