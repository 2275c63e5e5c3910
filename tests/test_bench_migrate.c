// SPDX-License-Identifier: MIT
/*
 * Tests of mp2bench migrate that hold on a one-node host: its options and
 * their errors, the page kind read from smaps, the children that map a
 * shared buffer, the reader threads, the CSV row and the summary.
 */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "busy.h"
#include "csv.h"
#include "harness.h"
#include "hugetlb.h"
#include "mappers.h"
#include "migrate.h"
#include "pagekind.h"
#include "smaps.h"
#include "run_tool.h"

/* The matrix's options are accepted (a one-node host then says why not). */
static void test_good_options(void)
{
	const char *args[] = { "migrate", "--mib", "2", "--repeats", "1",
			       "--page-kind", "4k,thp,hugetlb",
			       "--mappers", "1,8,32", "--busy-threads", "0,1",
			       "--pages-per-call", "1,8,64,512,4096",
			       "--csv", "/dev/null", NULL };
	const char *help[] = { "migrate", "--help", NULL };

	T_EQ(run(args), 0);
	T_EQ(run(help), 0);
	T_CHECK(strstr(out, "--page-kind LIST") != NULL);
	T_CHECK(strstr(out, "--mappers LIST") != NULL);
	T_CHECK(strstr(out, "--busy-threads LIST") != NULL);
	T_CHECK(strstr(out, "--summary FILE") != NULL);
}

static void test_page_kind_names(void)
{
	enum page_kind k;

	for (int i = 0; i < NR_KINDS; i++) {
		T_EQ(page_kind_parse(page_kind_name((enum page_kind)i), &k), 0);
		T_EQ(k, i);
	}
	T_EQ(page_kind_parse("4K", &k), -EINVAL);
	T_EQ(page_kind_parse("", &k), -EINVAL);
	T_EQ(page_kind_bytes(KIND_4K), 4096);
	T_EQ(page_kind_bytes(KIND_THP), 2 << 20);
	T_EQ(page_kind_bytes(KIND_HUGETLB), 2 << 20);
}

/* 4k memory: no huge page in smaps, before and after it is faulted in. */
static void test_smaps_4k(void)
{
	struct kind_buf b;
	struct smaps_vma v;
	char why[256];
	size_t bytes = 4 << 20;

	T_REQUIRE(kind_buf_map(&b, KIND_4K, bytes, 0, why, sizeof(why)) == 0);
	T_EQ((uintptr_t)b.addr % HUGE_BYTES, 0);
	T_EQ(smaps_read(0, b.addr, &v), 0);
	T_EQ(v.start, (uintptr_t)b.addr);
	T_EQ(v.end, (uintptr_t)b.addr + bytes);
	T_EQ(v.rss_kb, 0);
	T_CHECK(!strcmp(smaps_page_kind(&v), "partial"));
	memset(b.addr, 7, bytes);
	T_EQ(smaps_read(0, b.addr + bytes - 1, &v), 0);
	T_EQ(v.kernel_page_kb, 4);
	T_EQ(v.rss_kb, bytes >> 10);
	T_EQ(v.shmem_pmd_kb, 0);
	T_EQ(v.anon_huge_kb, 0);
	T_EQ(v.hugetlb_kb, 0);
	T_CHECK(!strcmp(smaps_page_kind(&v), "4k"));
	kind_buf_unmap(&b);
	T_EQ(smaps_read(0, b.addr, &v), -ENOENT);
	T_EQ(smaps_read(0, NULL, &v), -ENOENT);
}

/* The classification of smaps counters, for every kind. */
static void test_smaps_classify(void)
{
	struct smaps_vma v = { .start = 0, .end = 4 << 20,
			       .kernel_page_kb = 4, .rss_kb = 4096 };

	T_CHECK(!strcmp(smaps_page_kind(&v), "4k"));
	v.shmem_pmd_kb = 4096;
	T_CHECK(!strcmp(smaps_page_kind(&v), "thp"));
	v.shmem_pmd_kb = 2048;
	T_CHECK(!strcmp(smaps_page_kind(&v), "mixed"));
	v.shmem_pmd_kb = 0;
	v.anon_huge_kb = 4096;
	T_CHECK(!strcmp(smaps_page_kind(&v), "thp"));
	v.rss_kb = 4092;
	T_CHECK(!strcmp(smaps_page_kind(&v), "partial"));
	v = (struct smaps_vma){ .start = 0, .end = 4 << 20,
				.kernel_page_kb = 2048, .hugetlb_kb = 4096 };
	T_CHECK(!strcmp(smaps_page_kind(&v), "hugetlb"));
	v.hugetlb_kb = 2048;
	T_CHECK(!strcmp(smaps_page_kind(&v), "partial"));
}

/* Shared THP, where the host's shmem_enabled allows it. */
static void test_smaps_thp(void)
{
	struct kind_buf b;
	struct smaps_vma v;
	char why[512];
	size_t bytes = 4 << 20;

	if (page_kind_usable(KIND_THP, why, sizeof(why))) {
		T_CHECK(strstr(why, THP_SHMEM_ENABLED) != NULL);
		T_SKIP("%.200s", why);
	}
	T_REQUIRE(kind_buf_map(&b, KIND_THP, bytes, 0, why, sizeof(why)) == 0);
	memset(b.addr, 7, bytes);
	T_EQ(smaps_read(0, b.addr, &v), 0);
	/* The kernel may lack free 2 MiB blocks: then it must not say thp. */
	if (v.shmem_pmd_kb == bytes >> 10)
		T_CHECK(!strcmp(smaps_page_kind(&v), "thp"));
	else
		T_CHECK(strcmp(smaps_page_kind(&v), "thp"));
	kind_buf_unmap(&b);
}

static bool alive(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

/* Each child maps every page: its Rss is the buffer, its Pss a 1/N share. */
static void test_mappers_map_every_page(void)
{
	const int n = 4;
	size_t bytes = 4 << 20;
	unsigned long kb = (unsigned long)(bytes >> 10);
	struct kind_buf b;
	struct smaps_vma v;
	struct mappers m;
	pid_t pids[4];
	char why[256];

	T_REQUIRE(kind_buf_map(&b, KIND_4K, bytes, 0, why, sizeof(why)) == 0);
	memset(b.addr, 3, bytes);
	T_REQUIRE(mappers_start(&m, n, b.addr, bytes) == 0);
	T_EQ(m.nr_children, n - 1);
	for (int i = 0; i < m.nr_children; i++) {
		pids[i] = m.pids[i];
		T_EQ(smaps_read(m.pids[i], b.addr, &v), 0);
		T_EQ(v.rss_kb, kb);
		T_CHECK(v.pss_kb >= kb / n - 4 && v.pss_kb <= kb / n + 4);
	}
	T_EQ(smaps_read(0, b.addr, &v), 0);
	T_EQ(v.rss_kb, kb);
	T_CHECK(v.pss_kb >= kb / n - 4 && v.pss_kb <= kb / n + 4);
	T_EQ(mappers_stop(&m), 0);
	for (int i = 0; i < n - 1; i++)
		T_CHECK(!alive(pids[i]));
	/* Alone again: all of it is this process's. */
	T_EQ(smaps_read(0, b.addr, &v), 0);
	T_EQ(v.pss_kb, kb);
	/* One mapper is this process only. */
	T_EQ(mappers_start(&m, 1, b.addr, bytes), 0);
	T_EQ(m.nr_children, 0);
	T_EQ(mappers_stop(&m), 0);
	T_EQ(mappers_start(&m, 0, b.addr, bytes), -EINVAL);
	T_EQ(mappers_start(&m, MAPPERS_MAX + 1, b.addr, bytes), -EINVAL);
	kind_buf_unmap(&b);
}

/* Without CAP_SYS_NICE in the effective set, move_all is not possible. */
static void test_can_move_all(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int st;
	pid_t pid;

	if (!can_move_all())
		T_SKIP("this process has no CAP_SYS_NICE to drop");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (syscall(SYS_capget, &h, d))
			_exit(3);
		d[0].effective &= ~(1u << CAP_SYS_NICE);
		if (syscall(SYS_capset, &h, d))
			_exit(3);
		_exit(can_move_all() ? 1 : 0);
	}
	T_REQUIRE(pid > 0);
	waitpid(pid, &st, 0);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_busy_readers(void)
{
	static char buf[1 << 20];
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	uint64_t r0, r1;
	double c0, c1;
	struct busy *b = busy_start(2, buf, sizeof(buf));

	T_REQUIRE(b != NULL);
	busy_sample(b, &r0, &c0);
	nanosleep(&pause, NULL);
	busy_sample(b, &r1, &c1);
	T_CHECK(r1 > r0);
	T_CHECK(c1 > c0);
	busy_stop(b);
	busy_sample(NULL, &r0, &c0);
	T_EQ(r0, 0);
	busy_stop(NULL);
}

/* Read the first line of f into buf. */
static void first_line(FILE *f, char *buf, size_t len)
{
	rewind(f);
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
}

static void test_csv_row(void)
{
	static const char *const want[] = {
		"kind", "method", "mode", "kernel_batch", "pages_per_call",
		"threads", "repeat", "pages", "seconds", "pages_per_s",
		"gb_per_s", "failed", "page_kind", "page_bytes",
		"page_kind_seen", "page_kind_moved", "mappers",
		"busy_threads", "busy_reads_per_s", "cpu_s", "sys_s",
		"cpu_us_per_page", "check",
	};
	int cols = csv_columns(migrate_csv_header);
	char line[1024], hdr[1024];
	struct mrow r = { .s = { MP2_METHOD_MOVE_PAGES2, MP2_MODE_ASYNC, 0, 64 },
			  .threads = 1, .pages = 1000, .seconds = 0.5,
			  .kind = KIND_THP, .seen = "thp", .moved = "thp",
			  .mappers = 8, .busy = 1, .cpu_s = 0.25,
			  .check = "ok" };
	FILE *f = tmpfile();
	char *save = NULL, *t;
	int i = 0;

	T_REQUIRE(f != NULL);
	T_EQ(cols, sizeof(want) / sizeof(want[0]));
	snprintf(hdr, sizeof(hdr), "%s", migrate_csv_header);
	for (t = strtok_r(hdr, ",", &save); t && i < cols;
	     t = strtok_r(NULL, ",", &save), i++)
		T_CHECK(!strcmp(t, want[i]));
	mrow_print(f, &r);
	first_line(f, line, sizeof(line));
	T_EQ(csv_columns(line), cols);
	T_CHECK(!strncmp(line, "migrate,move_pages2,async,0,64,1,0,1000,"
			 "0.500000,2000,4.194,0,thp,2097152,thp,thp,8,1,",
			 strlen("migrate,move_pages2,async,0,64,1,0,1000,"
				"0.500000,2000,4.194,0,thp,2097152,thp,thp,"
				"8,1,")));
	T_CHECK(strstr(line, ",250.00,ok\n") != NULL);
	r.is_memcpy = true;
	rewind(f);
	mrow_print(f, &r);
	first_line(f, line, sizeof(line));
	T_EQ(csv_columns(line), cols);
	T_CHECK(!strncmp(line, "memcpy,,,,,1,", 13));
	fclose(f);
}

static struct mrow summary_row(enum mp2_method m, double seconds,
			       const char *check)
{
	struct mrow r = { .s = { m, MP2_MODE_ASYNC, 0, 512 }, .threads = 1,
			  .pages = 1000, .seconds = seconds, .kind = KIND_4K,
			  .seen = "4k", .moved = "4k", .mappers = 1,
			  .cpu_s = seconds / 2 };

	snprintf(r.check, sizeof(r.check), "%s", check);
	return r;
}

/* Medians over the good runs only, and the ratio to move_pages. */
static void test_summary(void)
{
	struct mrow add[] = {
		summary_row(MP2_METHOD_MOVE_PAGES, 1, "ok"),
		summary_row(MP2_METHOD_MOVE_PAGES2, 0.5, "ok"),
		summary_row(MP2_METHOD_MOVE_PAGES, 2, "ok"),
		summary_row(MP2_METHOD_MOVE_PAGES2, 0.5, "ok"),
		summary_row(MP2_METHOD_MOVE_PAGES, 3, "ok"),
		summary_row(MP2_METHOD_MOVE_PAGES2, 0.01, "the buffer was 4k"),
	};
	FILE *csv = summary_csv(add, sizeof(add) / sizeof(add[0]),
				sizeof(add[0]), migrate_summary);
	char line[512];
	int found = 0;

	T_REQUIRE(csv != NULL);
	while (fgets(line, sizeof(line), csv)) {
		/*
		 * move_pages: 1000, 500, 333 pages/s and 500, 1000, 1500 us
		 * of CPU a page; move_pages2: 2000 pages/s, 250 us a page.
		 */
		if (!strncmp(line, "migrate,4k,1,0,move_pages,sync,0,512,3,0,"
			     "500,", 45)) {
			T_CHECK(strstr(line, ",1.000,1.000\n") != NULL);
			found++;
		}
		if (!strncmp(line, "migrate,4k,1,0,move_pages2,async,0,512,2,"
			     "1,2000,", 48)) {
			T_CHECK(strstr(line, ",4.000,0.250\n") != NULL);
			found++;
		}
	}
	T_EQ(found, 2);
	fclose(csv);
}

/* A pool that already has the pages asked for is left alone. */
static void test_hugetlb_enough(void)
{
	struct hugetlb_pools p = { 0 };
	char why[256] = "";

	T_EQ(hugetlb_reserve(&p, 0, 0, why, sizeof(why)), 0);
	T_EQ(p.n, 0);
	T_EQ(hugetlb_reserve(&p, 4095, 1, why, sizeof(why)), -1);
	T_CHECK(strstr(why, "node 4095") != NULL);
	T_EQ(p.n, 0);
	hugetlb_restore(&p);
}

int main(void)
{
	bench_suite_init("migrate");
	T_RUN(test_bad_options);
	T_RUN(test_good_options);
	T_RUN(test_page_kind_names);
	T_RUN(test_smaps_4k);
	T_RUN(test_smaps_classify);
	T_RUN(test_smaps_thp);
	T_RUN(test_mappers_map_every_page);
	T_RUN(test_can_move_all);
	T_RUN(test_busy_readers);
	T_RUN(test_csv_row);
	T_RUN(test_summary);
	T_RUN(test_hugetlb_enough);
	return t_finish("mp2bench-migrate");
}
