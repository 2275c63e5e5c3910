// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the move_pages2() system call (kernel/patches/).
 *
 * The system call number comes from /sys/kernel/mm/move_pages2/syscall_nr.
 * Where move_pages2() is missing or the machine has fewer than two memory
 * nodes, every test is skipped with the reason.  The results are TAP, one
 * per test; a failed check is a diagnostic line with its source line.
 *
 * The node of a page is checked with move_pages(2) (nodes == NULL), and the
 * bytes of every page are compared with a per-page pattern after each move.
 *
 * "move_pages2 --bench [PAGES [REPEATS]]" instead compares the throughput
 * of move_pages() and move_pages2() (see run_bench()).
 *
 * One file of some 1,800 lines, as a kselftest is one program per system
 * call under tools/testing/selftests/mm/, built by its Makefile alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"

/* The ABI of move_pages2(), as in <linux/move_pages2.h> */
#define MP2_MODE_ASYNC		0
#define MP2_MODE_SYNC_LIGHT	1
#define MP2_MODE_SYNC		2
#define MP2_MODE_MASK		0x3
#define MP2_MOVE_ALL		0x100
#define MP2_MAX_BATCH		65536

#define SYSFS_DIR "/sys/kernel/mm/move_pages2"
#define MAX_NODES 64

static long mp2_nr = -1;		/* the syscall number, or -1 */
static char mp2_absent[256];		/* why it is not usable */
static int mem_nodes[MAX_NODES];	/* nodes with memory */
static int nr_mem_nodes;
static long psz;			/* page size */

static long mp2(unsigned long nr, void **pages, const int *nodes,
		int *status, unsigned int flags, unsigned int batch)
{
	return syscall(mp2_nr, nr, pages, nodes, status, flags, batch);
}

/* ---- checks -------------------------------------------------------- */

/*
 * Each test is one TAP result.  A failed check is reported as a diagnostic
 * with its line, and the test goes on; a test that cannot go on returns.
 */
static int t_cur_failed;
static bool t_cur_skipped;
static char t_skip_reason[256];

static __printf(3, 4) void t_fail_at(const char *file, int line,
				     const char *fmt, ...)
{
	va_list ap;

	ksft_print_msg("%s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	t_cur_failed++;
}

static bool t_ok(bool ok, const char *file, int line, const char *what)
{
	if (!ok)
		t_fail_at(file, line, "check failed: %s", what);
	return ok;
}

static bool t_eq(long long a, long long b, const char *file, int line,
		 const char *what_a, const char *what_b)
{
	if (a != b)
		t_fail_at(file, line, "%s == %s: got %lld, expected %lld",
			  what_a, what_b, a, b);
	return a == b;
}

/* A check that fails the test when false; its value is the condition's. */
#define T_OK(cond) t_ok(!!(cond), __FILE__, __LINE__, #cond)
#define T_CHECK(cond) ((void)T_OK(cond))
/* Compare two integers (as long long) and print both on a mismatch. */
#define T_EQ(a, b) \
	t_eq((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)

/* Mark the test skipped, saying why; the test then returns. */
static __printf(1, 2) void t_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t_skip_reason, sizeof(t_skip_reason), fmt, ap);
	va_end(ap);
	t_cur_skipped = true;
}

struct t_test {
	const char *name;
	void (*fn)(void);
};

static void t_run(const struct t_test *t)
{
	t_cur_failed = 0;
	t_cur_skipped = false;
	fflush(stdout);
	t->fn();
	if (t_cur_failed)
		ksft_test_result_fail("%s\n", t->name);
	else if (t_cur_skipped)
		ksft_test_result_skip("%s: %s\n", t->name, t_skip_reason);
	else
		ksft_test_result_pass("%s\n", t->name);
	fflush(stdout);
}

/* ---- set-up -------------------------------------------------------- */

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* Parse a node list such as "0-1,3" into out[]; returns the count. */
static int parse_node_list(const char *s, int *out, int max)
{
	int n = 0;

	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s)
			break;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			s = end;
		}
		for (long i = a; i <= b && n < max; i++)
			out[n++] = (int)i;
		if (*s == ',')
			s++;
	}
	return n;
}

static void setup(void)
{
	char buf[256];

	psz = sysconf(_SC_PAGESIZE);
	if (read_file("/sys/devices/system/node/has_memory", buf,
		      sizeof(buf)) > 0)
		nr_mem_nodes = parse_node_list(buf, mem_nodes, MAX_NODES);
	else
		nr_mem_nodes = 1;

	if (read_file(SYSFS_DIR "/syscall_nr", buf, sizeof(buf)) <= 0) {
		snprintf(mp2_absent, sizeof(mp2_absent),
			 "move_pages2 is not in this kernel (no %s)",
			 SYSFS_DIR "/syscall_nr");
		return;
	}
	mp2_nr = strtol(buf, NULL, 10);
	if (read_file(SYSFS_DIR "/version", buf, sizeof(buf)) <= 0 ||
	    strcmp(buf, "1\n") != 0) {
		snprintf(mp2_absent, sizeof(mp2_absent),
			 "move_pages2 interface version is not 1");
		mp2_nr = -1;
	}
}

/* Whether move_pages2() and n_nodes memory nodes are there; else skip. */
static bool need(int n_nodes)
{
	if (mp2_nr < 0)
		t_skip("%s", mp2_absent);
	else if (nr_mem_nodes < n_nodes)
		t_skip("needs %d memory nodes, this machine has %d", n_nodes,
		       nr_mem_nodes);
	return !t_cur_skipped;
}

/* ---- memory with a per-page pattern -------------------------------- */

struct region {
	char *base;
	size_t len;
	int npages;
	unsigned int tag;
};

static uint64_t pattern(const struct region *r, int page, size_t word)
{
	return ((uint64_t)r->tag << 48) ^ ((uint64_t)page << 20) ^ word ^
	       0x9e3779b97f4a7c15ull;
}

static void fill_page(struct region *r, int i)
{
	uint64_t *w = (uint64_t *)(r->base + (size_t)i * psz);

	for (size_t j = 0; j < psz / sizeof(*w); j++)
		w[j] = pattern(r, i, j);
}

/* Number of pages in [first, first + n) whose bytes differ from the pattern */
static int bad_pages(const struct region *r, int first, int n)
{
	int bad = 0;

	for (int i = first; i < first + n; i++) {
		const uint64_t *w = (const uint64_t *)(r->base + (size_t)i * psz);

		for (size_t j = 0; j < psz / sizeof(*w); j++) {
			if (w[j] != pattern(r, i, j)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

static unsigned int next_tag = 1;

/* Map npages of anonymous memory; touch (fill) them if fill is set. */
static bool region_map(struct region *r, int npages, int flags, bool thp,
		       bool fill)
{
	size_t align = thp ? 2u << 20 : 0;
	char *p;

	r->npages = npages;
	r->len = (size_t)npages * psz;
	r->tag = next_tag++;
	p = mmap(NULL, r->len + align, PROT_READ | PROT_WRITE,
		 flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	if (align) {
		char *a = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));

		if (a > p)
			munmap(p, a - p);
		if (p + align > a)
			munmap(a + r->len, p + align - a);
		p = a;
	}
	r->base = p;
	madvise(p, r->len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (fill)
		for (int i = 0; i < npages; i++)
			fill_page(r, i);
	return true;
}

static void region_unmap(struct region *r)
{
	if (r->base)
		munmap(r->base, r->len);
	r->base = NULL;
}

static void *page_addr(const struct region *r, int i)
{
	return r->base + (size_t)i * psz;
}

/* Nodes of pages [0, n) per move_pages(nodes = NULL), into st[] */
static long query_nodes(void **pages, int n, int *st)
{
	return move_pages(0, n, pages, NULL, st, 0);
}

/* Number of pages of r that are not on node */
static int pages_not_on(const struct region *r, int node)
{
	void **pages = calloc(r->npages, sizeof(*pages));
	int *st = calloc(r->npages, sizeof(*st));
	int off = 0;

	for (int i = 0; i < r->npages; i++)
		pages[i] = page_addr(r, i);
	if (query_nodes(pages, r->npages, st))
		off = r->npages;
	else
		for (int i = 0; i < r->npages; i++)
			off += st[i] != node;
	free(pages);
	free(st);
	return off;
}

/* Move pages of r to node with move_pages(2) */
static int mp1_move_all(const struct region *r, int node)
{
	void **pages = calloc(r->npages, sizeof(*pages));
	int *nodes = calloc(r->npages, sizeof(*nodes));
	int *st = calloc(r->npages, sizeof(*st));
	long rc;

	for (int i = 0; i < r->npages; i++) {
		pages[i] = page_addr(r, i);
		nodes[i] = node;
	}
	rc = move_pages(0, r->npages, pages, nodes, st, MPOL_MF_MOVE);
	free(pages);
	free(nodes);
	free(st);
	return (int)rc;
}

/* Array arguments for a call that names every page of r */
struct args {
	int n;
	void **pages;
	int *nodes;
	int *status;
};

static void args_init(struct args *a, const struct region *r, int node)
{
	a->n = r->npages;
	a->pages = calloc(a->n, sizeof(*a->pages));
	a->nodes = calloc(a->n, sizeof(*a->nodes));
	a->status = calloc(a->n, sizeof(*a->status));
	for (int i = 0; i < a->n; i++) {
		a->pages[i] = page_addr(r, i);
		a->nodes[i] = node;
		a->status[i] = INT_MIN;
	}
}

static void args_free(struct args *a)
{
	free(a->pages);
	free(a->nodes);
	free(a->status);
}

static int count_status_not(const struct args *a, int value)
{
	int n = 0;

	for (int i = 0; i < a->n; i++)
		n += a->status[i] != value;
	return n;
}

static int first_status_not(const struct args *a, int value)
{
	for (int i = 0; i < a->n; i++)
		if (a->status[i] != value)
			return i;
	return -1;
}

/* ---- tests --------------------------------------------------------- */

static void test_sysfs(void)
{
	char buf[64];
	struct stat sb;

	if (!need(1))
		return;
	T_CHECK(read_file(SYSFS_DIR "/syscall_nr", buf, sizeof(buf)) > 0);
#ifdef __x86_64__
	T_EQ(mp2_nr, 463);
#endif
	T_CHECK(mp2_nr > 0);
	T_CHECK(read_file(SYSFS_DIR "/version", buf, sizeof(buf)) > 0);
	T_CHECK(strcmp(buf, "1\n") == 0);
	if (!T_OK(stat(SYSFS_DIR "/syscall_nr", &sb) == 0))
		return;
	T_EQ(sb.st_mode & 07777, 0444);
	if (!T_OK(stat(SYSFS_DIR "/version", &sb) == 0))
		return;
	T_EQ(sb.st_mode & 07777, 0444);
	/* read-only even for root */
	T_CHECK(open(SYSFS_DIR "/version", O_WRONLY) < 0);
}

/*
 * Move npages to the other node and back, checking every status, every
 * node and every byte.  Returns false on a failed check.
 */
static bool move_there_and_back(int npages, int mode, unsigned int batch,
				bool thp)
{
	struct region r;
	struct args a;
	int from = mem_nodes[0], to = mem_nodes[1];
	long rc;
	bool ok = true;

	if (!region_map(&r, npages, MAP_PRIVATE, thp, true)) {
		T_CHECK(!"mmap");
		return false;
	}
	if (mp1_move_all(&r, from) < 0) {
		T_CHECK(!"move_pages to the first node");
		region_unmap(&r);
		return false;
	}
	for (int round = 0; round < 2; round++) {
		int node = round ? from : to;
		int fails = t_cur_failed;

		args_init(&a, &r, node);
		errno = 0;
		rc = mp2(a.n, a.pages, a.nodes, a.status, mode, batch);
		T_EQ(rc, 0);
		T_EQ(errno, 0);
		T_EQ(count_status_not(&a, node), 0);
		T_EQ(pages_not_on(&r, node), 0);
		T_EQ(bad_pages(&r, 0, r.npages), 0);
		if (t_cur_failed != fails) {
			ksft_print_msg("(%d pages to node %d, mode %d, batch %u%s;"
			       " first bad status at %d)\n", npages, node,
			       mode, batch, thp ? ", THP" : "",
			       first_status_not(&a, node));
			ok = false;
		}
		args_free(&a);
	}
	region_unmap(&r);
	return ok;
}

static void test_modes_and_batches(void)
{
	static const unsigned int batches[] = { 0, 1, 64, 512, 4096 };

	if (!need(2))
		return;
	for (int mode = 0; mode <= 2; mode++) {
		for (size_t b = 0; b < sizeof(batches) / sizeof(*batches); b++) {
			unsigned int batch = batches[b];
			int n = batch >= 4096 ? 4096 + 300 : 700;

			if (!move_there_and_back(n, mode, batch, false))
				return;
		}
	}
	/* The largest batch that is accepted */
	move_there_and_back(700, MP2_MODE_ASYNC, MP2_MAX_BATCH, false);
}

static void test_thp(void)
{
	if (!need(2))
		return;
	/* 4 MiB: two huge pages if THP is available; batches below 512 */
	move_there_and_back(1024, MP2_MODE_SYNC, 64, true);
	move_there_and_back(1024, MP2_MODE_ASYNC, 0, true);
}

/*
 * A region with holes and odd pages in the middle of the array:
 *   unmapped pages        -EFAULT (no VMA, as move_pages(2))
 *   never-touched pages   -ENOENT
 *   zero page (read only) -EFAULT
 *   page held by a pipe   -EBUSY  (vmsplice: extra reference)
 *   already on the target the target node
 *   mlocked pages         moved
 * Every other page is moved, and the return value is the count of
 * negative entries.
 */
enum kind { K_MOVE, K_HOLE, K_UNTOUCHED, K_ZERO, K_PIPE, K_THERE, K_MLOCK };

static void partial_once(int mode, unsigned int batch)
{
	enum { N = 96 };
	static enum kind kind[N];
	int from = mem_nodes[0], to = mem_nodes[1];
	struct region r;
	struct args a;
	int pfd[2], expect_fail = 0;
	void *there[8];
	int nthere = 0;
	long rc;

	for (int i = 0; i < N; i++) {
		kind[i] = K_MOVE;
		if (i >= 10 && i < 13)
			kind[i] = K_HOLE;
		else if (i >= 20 && i < 25)
			kind[i] = K_UNTOUCHED;
		else if (i == 30 || i == 31)
			kind[i] = K_ZERO;
		else if (i == 40)
			kind[i] = K_PIPE;
		else if (i >= 50 && i < 55)
			kind[i] = K_THERE;
		else if (i >= 60 && i < 64)
			kind[i] = K_MLOCK;
		else if (i == N - 1)
			kind[i] = K_UNTOUCHED;
	}

	if (!T_OK(region_map(&r, N, MAP_PRIVATE, false, false)))
		return;
	for (int i = 0; i < N; i++) {
		/* a read fault maps the zero page */
		if (kind[i] == K_ZERO)
			T_CHECK(madvise(page_addr(&r, i), psz,
					MADV_POPULATE_READ) == 0);
		else if (kind[i] != K_UNTOUCHED && kind[i] != K_HOLE)
			fill_page(&r, i);
	}
	/* Everything present starts on "from" */
	args_init(&a, &r, from);
	move_pages(0, a.n, a.pages, a.nodes, a.status, MPOL_MF_MOVE);
	for (int i = 0; i < N; i++)
		if (kind[i] == K_THERE)
			there[nthere++] = page_addr(&r, i);
	{
		int nodes[8], st[8];

		for (int i = 0; i < nthere; i++)
			nodes[i] = to;
		if (!T_OK(move_pages(0, nthere, there, nodes, st,
				     MPOL_MF_MOVE) == 0))
			return;
		for (int i = 0; i < nthere; i++)
			T_EQ(st[i], to);
	}
	if (!T_OK(munmap(page_addr(&r, 10), 3 * psz) == 0))
		return;
	if (!T_OK(mlock(page_addr(&r, 60), 4 * psz) == 0))
		return;
	if (!T_OK(pipe(pfd) == 0))
		return;
	{
		struct iovec iov = { page_addr(&r, 40), psz };

		if (!T_OK(vmsplice(pfd[1], &iov, 1, 0) == psz))
			return;
	}

	for (int i = 0; i < N; i++) {
		a.nodes[i] = to;
		a.status[i] = INT_MIN;
	}
	errno = 0;
	rc = mp2(a.n, a.pages, a.nodes, a.status, mode, batch);
	for (int i = 0; i < N; i++) {
		int want;

		switch (kind[i]) {
		case K_HOLE:
		case K_ZERO:
			want = -EFAULT;
			break;
		case K_UNTOUCHED:
			want = -ENOENT;
			break;
		case K_PIPE:
			want = -EBUSY;
			break;
		default:
			want = to;
			break;
		}
		if (a.status[i] != want)
			ksft_print_msg("mode %d batch %u: status[%d] = %d, expected %d\n",
				       mode, batch, i, a.status[i], want);
		T_EQ(a.status[i], want);
		expect_fail += want < 0;
	}
	T_EQ(rc, expect_fail);
	T_EQ(errno, 0);

	/* Check where the pages are and their bytes */
	{
		int st[N];

		if (!T_OK(query_nodes(a.pages, N, st) == 0))
			return;
		for (int i = 0; i < N; i++) {
			switch (kind[i]) {
			case K_HOLE:
			case K_ZERO:
				T_EQ(st[i], -EFAULT);
				break;
			case K_UNTOUCHED:
				T_EQ(st[i], -ENOENT);
				break;
			case K_PIPE:
				T_EQ(st[i], from);
				T_EQ(bad_pages(&r, i, 1), 0);
				break;
			default:
				T_EQ(st[i], to);
				T_EQ(bad_pages(&r, i, 1), 0);
				break;
			}
		}
	}
	/* The pipe still holds the original bytes */
	{
		char *buf = malloc(psz);

		T_EQ(read(pfd[0], buf, psz), psz);
		T_CHECK(memcmp(buf, page_addr(&r, 40), psz) == 0);
		free(buf);
	}
	close(pfd[0]);
	close(pfd[1]);
	munlock(page_addr(&r, 60), 4 * psz);
	args_free(&a);
	munmap(r.base, 10 * psz);
	munmap(page_addr(&r, 13), (N - 13) * psz);
}

static void test_partial(void)
{
	if (!need(2))
		return;
	for (int mode = 0; mode <= 2; mode++) {
		partial_once(mode, 0);
		partial_once(mode, 1);
		partial_once(mode, 7);
	}
}

/*
 * Half the pages of one batch are held by a pipe (vmsplice): they are
 * isolated but cannot be migrated.  Each of them gets -EBUSY and stays,
 * each page between them moves.
 */
static void pinned_once(int mode, unsigned int batch)
{
	enum { N = 64 };
	int from = mem_nodes[0], to = mem_nodes[1];
	struct iovec iov[N / 2];
	struct region r;
	struct args a;
	int pfd[2], st[N];
	char *buf;
	long rc;

	if (!T_OK(region_map(&r, N, MAP_PRIVATE, false, true)))
		return;
	if (!T_OK(mp1_move_all(&r, from) == 0))
		return;
	if (!T_OK(pipe(pfd) == 0))
		return;
	if (!T_OK(fcntl(pfd[1], F_SETPIPE_SZ, N / 2 * psz) >= N / 2 * psz))
		return;
	for (int i = 0; i < N / 2; i++) {
		iov[i].iov_base = page_addr(&r, 2 * i + 1);
		iov[i].iov_len = psz;
	}
	if (!T_OK(vmsplice(pfd[1], iov, N / 2, 0) == N / 2 * psz))
		return;

	args_init(&a, &r, to);
	errno = 0;
	rc = mp2(a.n, a.pages, a.nodes, a.status, mode, batch);
	T_EQ(rc, N / 2);
	T_EQ(errno, 0);
	if (T_OK(query_nodes(a.pages, N, st) == 0)) {
		for (int i = 0; i < N; i++) {
			T_EQ(a.status[i], i & 1 ? -EBUSY : to);
			T_EQ(st[i], i & 1 ? from : to);
		}
	}
	T_EQ(bad_pages(&r, 0, N), 0);
	if (t_cur_failed)
		ksft_print_msg("(pinned pages, mode %d, batch %u)\n", mode,
			       batch);

	/* The pipe still holds the pages' bytes */
	buf = malloc(psz);
	for (int i = 0; buf && i < N / 2; i++) {
		T_EQ(read(pfd[0], buf, psz), psz);
		T_CHECK(memcmp(buf, page_addr(&r, 2 * i + 1), psz) == 0);
	}
	free(buf);
	close(pfd[0]);
	close(pfd[1]);
	args_free(&a);
	region_unmap(&r);
}

/*
 * Each page named twice in one call, the second time while the call has
 * its folio queued (and not as the folio queued last): that entry fails
 * isolation and must be matched to the queued folio.  With the same node
 * it shares the folio's status; with another node it gets -EBUSY and the
 * page goes where its first entry asked.  On THP memory the entries
 * alternate between two huge pages.
 */
static void twice_once(int mode, unsigned int batch, bool thp,
		       bool other_node)
{
	enum { N = 1024 };
	int from = mem_nodes[0], to = mem_nodes[1];
	int third = mem_nodes[nr_mem_nodes - 1];
	int *want, *where, st[2 * N];
	struct region r;
	struct args a;
	int expect = 0;
	long rc;

	if (!T_OK(region_map(&r, N, MAP_PRIVATE, thp, true)))
		return;
	if (!T_OK(mp1_move_all(&r, from) == 0))
		return;
	a.n = 2 * N;
	a.pages = calloc(a.n, sizeof(*a.pages));
	a.nodes = calloc(a.n, sizeof(*a.nodes));
	a.status = calloc(a.n, sizeof(*a.status));
	want = calloc(a.n, sizeof(*want));
	where = calloc(N, sizeof(*where));
	if (!T_OK(a.pages && a.nodes && a.status && want && where))
		return;
	for (int i = 0; i < N; i++)
		where[i] = -1;
	for (int k = 0; k < a.n; k++) {
		/*
		 * THP: pages 0, N/2, 1, N/2 + 1, ... twice over;
		 * else: pages 0, N-1, 1, 0, 2, 1, ...
		 */
		int i = thp ? (k / 2 % (N / 2)) + (k & 1) * (N / 2) :
			      (k / 2 + (k & 1) * (N - 1)) % N;

		a.pages[k] = page_addr(&r, i);
		a.nodes[k] = other_node && (k & 1) ? third : to;
		a.status[k] = INT_MIN;
		if (where[i] < 0) {
			where[i] = a.nodes[k];
			want[k] = a.nodes[k];
		} else {
			want[k] = where[i] == a.nodes[k] ? a.nodes[k] : -EBUSY;
		}
		expect += want[k] < 0;
	}

	errno = 0;
	rc = mp2(a.n, a.pages, a.nodes, a.status, mode, batch);
	T_EQ(rc, expect);
	T_EQ(errno, 0);
	for (int k = 0; k < a.n; k++)
		T_EQ(a.status[k], want[k]);
	if (T_OK(query_nodes(a.pages, a.n, st) == 0))
		for (int k = 0; k < a.n; k++)
			T_EQ(st[k], where[((char *)a.pages[k] - r.base) / psz]);
	T_EQ(bad_pages(&r, 0, N), 0);
	if (t_cur_failed)
		ksft_print_msg("(pages named twice, mode %d, batch %u%s%s)\n",
			       mode, batch, thp ? ", THP" : "",
			       other_node ? ", another node" : "");
	free(want);
	free(where);
	args_free(&a);
	region_unmap(&r);
}

static void test_many_failures(void)
{
	static const unsigned int batches[] = { 0, 1, 4096 };

	if (!need(2))
		return;
	for (int mode = 0; mode <= 2; mode++)
		for (size_t b = 0; b < sizeof(batches) / sizeof(*batches); b++)
			pinned_once(mode, batches[b]);
	for (int mode = 0; mode <= 2; mode++) {
		twice_once(mode, 4096, false, false);
		twice_once(mode, 4096, true, false);
		/* batches that end between the two entries of a page */
		twice_once(mode, 7, false, false);
		if (nr_mem_nodes >= 3)
			twice_once(mode, 4096, false, true);
	}
}

/*
 * Pages faulted in by a thread on another CPU may sit in that CPU's LRU
 * cache; they must still be moved.
 */
struct toucher {
	struct region *r;
	int cpu;
	bool mlock;
};

static void *touch_on_cpu(void *arg)
{
	struct toucher *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (int i = 0; i < t->r->npages; i++)
		fill_page(t->r, i);
	/* mlock queues the folios, with a reference, in this CPU's batch */
	if (t->mlock)
		mlock(t->r->base, t->r->len);
	return NULL;
}

static void test_remote_cpu_pages(void)
{
	int to = mem_nodes[1];
	struct toucher t;
	struct region r;
	struct args a;
	pthread_t th;
	cpu_set_t set;
	long rc;

	if (!need(2))
		return;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		t_skip("needs 2 CPUs");
		return;
	}
	for (int round = 0; round < 4; round++) {
		if (!T_OK(region_map(&r, 40, MAP_PRIVATE, false, false)))
			return;
		CPU_ZERO(&set);
		CPU_SET(round & 1, &set);
		if (!T_OK(sched_setaffinity(0, sizeof(set), &set) == 0))
			return;
		t.r = &r;
		t.cpu = !(round & 1);
		t.mlock = round >= 2;
		if (!T_OK(pthread_create(&th, NULL, touch_on_cpu, &t) == 0))
			return;
		pthread_join(th, NULL);
		args_init(&a, &r, to);
		rc = mp2(a.n, a.pages, a.nodes, a.status,
			 round & 1 ? MP2_MODE_SYNC : MP2_MODE_ASYNC, 0);
		T_EQ(rc, 0);
		T_EQ(count_status_not(&a, to), 0);
		T_EQ(pages_not_on(&r, to), 0);
		T_EQ(bad_pages(&r, 0, r.npages), 0);
		if (t_cur_failed)
			ksft_print_msg("(round %d: first bad status at %d)\n",
				       round, first_status_not(&a, to));
		args_free(&a);
		region_unmap(&r);
	}
	CPU_ZERO(&set);
	for (int c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE;
	     c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);

	/* Fresh pages without a remote CPU: moved without any drain */
	if (!T_OK(region_map(&r, 40, MAP_PRIVATE, false, true)))
		return;
	mp1_move_all(&r, mem_nodes[0]);
	args_init(&a, &r, to);
	rc = mp2(a.n, a.pages, a.nodes, a.status, MP2_MODE_SYNC, 0);
	T_EQ(rc, 0);
	T_EQ(count_status_not(&a, to), 0);
	T_EQ(bad_pages(&r, 0, r.npages), 0);
	args_free(&a);
	region_unmap(&r);
}

static bool have_cap_sys_nice(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, CAP_SYS_NICE, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	return v == CAP_SET;
}

static int drop_cap_sys_nice(void)
{
	cap_value_t v = CAP_SYS_NICE;
	cap_t caps = cap_get_proc();
	int rc;

	if (!caps)
		return -1;
	cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
	cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_CLEAR);
	cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_CLEAR);
	rc = cap_set_proc(caps);
	cap_free(caps);
	return rc;
}

static void test_move_all(void)
{
	enum { N = 8 };
	int from = mem_nodes[0], to = mem_nodes[1];
	int go[2], done[2], status;
	struct region r;
	struct args a;
	pid_t child, child2;
	char c;
	long rc;

	if (!need(2))
		return;
	if (!have_cap_sys_nice()) {
		t_skip("needs CAP_SYS_NICE (run as root)");
		return;
	}
	if (!T_OK(region_map(&r, N, MAP_SHARED, false, true)))
		return;
	if (!T_OK(mp1_move_all(&r, from) == 0))
		return;
	if (!T_OK(pipe(go) == 0 && pipe(done) == 0))
		return;
	child = fork();
	if (!T_OK(child >= 0))
		return;
	if (child == 0) {
		int bad;

		/* map every page in the child too */
		bad = bad_pages(&r, 0, N);
		if (write(done[1], "x", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		/* the pages moved under the child: still the same bytes */
		bad += bad_pages(&r, 0, N);
		_exit(bad ? 1 : 0);
	}
	if (!T_OK(read(done[0], &c, 1) == 1))
		return;

	/* Shared, without MOVE_ALL: -EACCES for each, nothing moved */
	args_init(&a, &r, to);
	errno = 0;
	rc = mp2(a.n, a.pages, a.nodes, a.status, MP2_MODE_SYNC, 0);
	T_EQ(rc, N);
	T_EQ(errno, 0);
	T_EQ(count_status_not(&a, -EACCES), 0);
	T_EQ(pages_not_on(&r, from), 0);

	/* MOVE_ALL without CAP_SYS_NICE: -EPERM */
	child2 = fork();
	if (!T_OK(child2 >= 0))
		return;
	if (child2 == 0) {
		long rc2;

		if (drop_cap_sys_nice())
			_exit(3);
		for (int i = 0; i < N; i++)
			a.status[i] = INT_MIN;
		rc2 = mp2(a.n, a.pages, a.nodes, a.status,
			  MP2_MODE_SYNC | MP2_MOVE_ALL, 0);
		if (rc2 != -1)
			_exit(4);
		if (errno != EPERM)
			_exit(5);
		for (int i = 0; i < N; i++)
			if (a.status[i] != INT_MIN)
				_exit(6);
		_exit(0);
	}
	if (!T_OK(waitpid(child2, &status, 0) == child2))
		return;
	T_CHECK(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	T_EQ(pages_not_on(&r, from), 0);

	/* MOVE_ALL with the capability: moved */
	for (int i = 0; i < N; i++)
		a.status[i] = INT_MIN;
	for (int mode = 0; mode <= 2; mode++) {
		int node = mode == 1 ? from : to;

		for (int i = 0; i < N; i++)
			a.nodes[i] = node;
		rc = mp2(a.n, a.pages, a.nodes, a.status,
			 mode | MP2_MOVE_ALL, 0);
		T_EQ(rc, 0);
		T_EQ(count_status_not(&a, node), 0);
		T_EQ(pages_not_on(&r, node), 0);
		T_EQ(bad_pages(&r, 0, N), 0);
	}
	if (!T_OK(write(go[1], "x", 1) == 1))
		return;
	if (!T_OK(waitpid(child, &status, 0) == child))
		return;
	T_CHECK(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	args_free(&a);
	region_unmap(&r);
}

/* ---- a page mapped by many processes -------------------------------- */

/*
 * The mappers of test_many_mappers(): what each child of the mover reads
 * before the pages move.  The oldest children come last in the file's
 * rmap walk, so the first ones forked read nothing: a walk that restored
 * every migration entry may end before them.
 */
enum mapper_kind { MAPPER_NONE, MAPPER_ALL, MAPPER_EVEN };

static enum mapper_kind mapper_kind(int i)
{
	if (i < 4)
		return MAPPER_NONE;
	return (enum mapper_kind)(i % 3);
}

/* Pages of r that differ from the pattern, of those kind reads */
static int mapper_read(const struct region *r, enum mapper_kind kind)
{
	int bad = 0;

	for (int i = 0; i < r->npages; i++)
		if (kind == MAPPER_ALL || (kind == MAPPER_EVEN && i % 2 == 0))
			bad += bad_pages(r, i, 1);
	return bad;
}

/*
 * A child that maps the file privately, writes one page of it (so that
 * the VMA has an anon_vma and fork() copies its page table entries,
 * migration entries included), reads the others, and forks until told
 * to stop, each grandchild checking the pages it inherited.  Exits 0 if
 * every page read had the right bytes.
 */
static void private_forker(int fd, const struct region *r, int ready, int stop)
{
	struct region p = *r;
	struct pollfd pfd = { .fd = stop, .events = POLLIN };
	int bad = 0;

	p.base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p.base == MAP_FAILED)
		_exit(2);
	memset(p.base, 0x5a, psz);
	bad += bad_pages(&p, 1, p.npages - 1);
	if (write(ready, "x", 1) != 1)
		_exit(2);
	while (poll(&pfd, 1, 0) == 0) {
		pid_t g = fork();
		int st;

		if (g < 0)
			_exit(2);
		if (g == 0)
			_exit(bad_pages(&p, 1, p.npages - 1) ? 1 : 0);
		if (waitpid(g, &st, 0) != g || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad++;
	}
	bad += bad_pages(&p, 1, p.npages - 1);
	_exit(bad ? 1 : 0);
}

/*
 * Pages of a shared file mapped by many processes, some of which have no
 * PTE for them, moved with MOVE_ALL back and forth: first while another
 * process maps them privately and forks, then without it.  Every process
 * then reads every page: a migration entry left behind would fail or
 * hang (the alarm) the process that reads it.
 */
static void test_many_mappers(void)
{
	enum { N = 32, CHILDREN = 16, MOVES = 6 };
	int from = mem_nodes[0], to = mem_nodes[1];
	pid_t pid[CHILDREN], forker;
	int ready[2], go[2], stop[2];
	struct region r;
	struct args a;
	int fd, status;
	char c;

	if (!need(2))
		return;
	if (!have_cap_sys_nice()) {
		t_skip("needs CAP_SYS_NICE (run as root)");
		return;
	}
	fd = memfd_create("move_pages2", 0);
	if (!T_OK(fd >= 0))
		return;
	r.npages = N;
	r.len = (size_t)N * psz;
	r.tag = next_tag++;
	if (!T_OK(ftruncate(fd, r.len) == 0))
		return;
	r.base = mmap(NULL, r.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!T_OK(r.base != MAP_FAILED))
		return;
	for (int i = 0; i < N; i++)
		fill_page(&r, i);
	if (!T_OK(mp1_move_all(&r, from) == 0))
		return;
	if (!T_OK(pipe(ready) == 0 && pipe(go) == 0 && pipe(stop) == 0))
		return;

	for (int i = 0; i < CHILDREN; i++) {
		pid[i] = fork();
		if (!T_OK(pid[i] >= 0))
			return;
		if (pid[i] == 0) {
			int bad;

			alarm(120);
			bad = mapper_read(&r, mapper_kind(i));
			if (write(ready[1], "x", 1) != 1 ||
			    read(go[0], &c, 1) != 1)
				_exit(2);
			bad += bad_pages(&r, 0, N);
			_exit(bad ? 1 : 0);
		}
	}
	forker = fork();
	if (!T_OK(forker >= 0))
		return;
	if (forker == 0) {
		alarm(120);
		private_forker(fd, &r, ready[1], stop[0]);
	}
	for (int i = 0; i < CHILDREN + 1; i++)
		if (!T_OK(read(ready[0], &c, 1) == 1))
			return;

	args_init(&a, &r, to);
	for (int m = 0; m < 2 * MOVES; m++) {
		int node = m % 2 ? from : to;

		if (m == MOVES) {
			/* the rest without the private mapping */
			if (!T_OK(write(stop[1], "x", 1) == 1))
				return;
			if (!T_OK(waitpid(forker, &status, 0) == forker))
				return;
			T_CHECK(WIFEXITED(status));
			T_EQ(WEXITSTATUS(status), 0);
		}
		for (int i = 0; i < N; i++) {
			a.nodes[i] = node;
			a.status[i] = INT_MIN;
		}
		T_EQ(mp2(a.n, a.pages, a.nodes, a.status,
			 MP2_MODE_SYNC | MP2_MOVE_ALL, 0), 0);
		T_EQ(count_status_not(&a, node), 0);
		T_EQ(pages_not_on(&r, node), 0);
		T_EQ(bad_pages(&r, 0, N), 0);
	}
	for (int i = 0; i < CHILDREN; i++)
		if (!T_OK(write(go[1], "x", 1) == 1))
			return;
	for (int i = 0; i < CHILDREN; i++) {
		if (!T_OK(waitpid(pid[i], &status, 0) == pid[i]))
			return;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ksft_print_msg("(mapper %d: kind %d, status 0x%x)\n",
				       i, mapper_kind(i), status);
		T_CHECK(WIFEXITED(status));
		T_EQ(WEXITSTATUS(status), 0);
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(stop[0]);
	close(stop[1]);
	close(fd);
	args_free(&a);
	region_unmap(&r);
}

/* Memory that ends right before a PROT_NONE page */
static void *guarded(size_t bytes, int prot)
{
	size_t len = (bytes + psz - 1) / psz * psz;
	char *p = mmap(NULL, len + psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	mprotect(p + len, psz, PROT_NONE);
	if (prot != (PROT_READ | PROT_WRITE))
		mprotect(p, len, prot);
	return p + len - bytes;
}

#define SENTINEL 0x5a5a5a5a

/*
 * One call that must fail with err and move nothing: the pages stay on
 * "from" and status[] keeps its contents.
 */
#define EXPECT_FAIL(err_, n_, pages_, nodes_, status_, mode_, batch_)       \
	do {                                                                 \
		long rc_;                                                    \
		for (int i_ = 0; i_ < a.n; i_++)                             \
			a.status[i_] = SENTINEL;                             \
		errno = 0;                                                   \
		rc_ = mp2((n_), (pages_), (nodes_), (status_), (mode_),      \
			  (batch_));                                         \
		T_EQ(rc_, -1);                                               \
		T_EQ(errno, (err_));                                         \
		T_EQ(pages_not_on(&r, from), 0);                             \
		T_EQ(count_status_not(&a, SENTINEL), 0);                     \
	} while (0)

static void test_bad_input(void)
{
	enum { N = 16 };
	int from = mem_nodes[0], to = mem_nodes[1];
	void **gp, **bad_entry;
	int *gnodes, *gstatus, *ro_status;
	struct region r;
	struct args a;
	long rc;

	if (!need(2))
		return;
	if (!T_OK(region_map(&r, N, MAP_PRIVATE, false, true)))
		return;
	if (!T_OK(mp1_move_all(&r, from) == 0))
		return;
	args_init(&a, &r, to);

	/* Unknown mode bits and mode 3 */
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 3, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 3 | MP2_MOVE_ALL, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 0x4, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 0x80, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 0x200, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, INT_MIN, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, -1, 0);

	/* Batch size above the limit is rejected, not clamped */
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 0, MP2_MAX_BATCH + 1);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, 0, UINT_MAX);

	/* nr_pages > INT_MAX */
	EXPECT_FAIL(EINVAL, (unsigned long)INT_MAX + 1, a.pages, a.nodes,
		    a.status, 0, 0);
	EXPECT_FAIL(EINVAL, ULONG_MAX, a.pages, a.nodes, a.status, 0, 0);

	/* NULL and invalid arrays */
	EXPECT_FAIL(EFAULT, N, NULL, a.nodes, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, NULL, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, a.nodes, NULL, 0, 0);
	EXPECT_FAIL(EFAULT, N, (void **)16, a.nodes, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, (int *)16, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, a.nodes, (int *)16, 0, 0);
	EXPECT_FAIL(EFAULT, N, (void **)-4096L, a.nodes, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, a.nodes, (int *)0xffff880000000000UL,
		    0, 0);

	/* Arrays whose last entry is in an inaccessible page */
	gp = guarded((N - 1) * sizeof(void *), PROT_READ | PROT_WRITE);
	gnodes = guarded((N - 1) * sizeof(int), PROT_READ | PROT_WRITE);
	gstatus = guarded((N - 1) * sizeof(int), PROT_READ | PROT_WRITE);
	ro_status = guarded(N * sizeof(int), PROT_READ);
	if (!T_OK(gp && gnodes && gstatus && ro_status))
		return;
	memcpy(gp, a.pages, (N - 1) * sizeof(void *));
	memcpy(gnodes, a.nodes, (N - 1) * sizeof(int));
	EXPECT_FAIL(EFAULT, N, gp, a.nodes, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, gnodes, a.status, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, a.nodes, gstatus, 0, 0);
	EXPECT_FAIL(EFAULT, N, a.pages, a.nodes, ro_status, 0, 0);

	/* Bad nodes, also as the last entry only */
	for (int k = 0; k < 3; k++) {
		static const int bad_nodes[] = { -1, 4096, INT_MAX };

		a.nodes[N - 1] = bad_nodes[k];
		EXPECT_FAIL(ENODEV, N, a.pages, a.nodes, a.status, 0, 0);
		for (int i = 0; i < N; i++)
			a.nodes[i] = bad_nodes[k];
		EXPECT_FAIL(ENODEV, N, a.pages, a.nodes, a.status, 0, 0);
		for (int i = 0; i < N; i++)
			a.nodes[i] = to;
	}

	/* nr_pages == 0: nothing to do, even with NULL arrays */
	errno = 0;
	T_EQ(mp2(0, NULL, NULL, NULL, 0, 0), 0);
	T_EQ(errno, 0);
	T_EQ(mp2(0, a.pages, a.nodes, a.status, MP2_MODE_SYNC, 1), 0);
	T_EQ(pages_not_on(&r, from), 0);
	/* ... but the mode and batch are still checked */
	EXPECT_FAIL(EINVAL, 0, NULL, NULL, NULL, 3, 0);
	EXPECT_FAIL(EINVAL, 0, NULL, NULL, NULL, 0, MP2_MAX_BATCH + 1);

	/* Bad page addresses are per-entry errors, not call errors */
	bad_entry = calloc(4, sizeof(*bad_entry));
	{
		int nodes[4] = { to, to, to, to }, st[4];

		bad_entry[0] = NULL;
		bad_entry[1] = (void *)-4096L;
		bad_entry[2] = (void *)0xffff880000000000UL;
		bad_entry[3] = page_addr(&r, 0);
		errno = 0;
		rc = mp2(4, bad_entry, nodes, st, MP2_MODE_SYNC, 0);
		T_EQ(rc, 3);
		T_EQ(st[0], -EFAULT);
		T_EQ(st[1], -EFAULT);
		T_EQ(st[2], -EFAULT);
		T_EQ(st[3], to);
		T_EQ(bad_pages(&r, 0, N), 0);
	}
	free(bad_entry);
	args_free(&a);
	region_unmap(&r);
}

/*
 * flags holds the migrate mode in bits 0-1 and MOVE_PAGES2_MOVE_ALL in
 * bit 8.  Each other bit, alone or beside a valid mode, fails the call
 * with EINVAL before anything is moved; the valid modes move.
 */
static void test_flags(void)
{
	enum { N = 8 };
	const unsigned int known = MP2_MODE_MASK | MP2_MOVE_ALL;
	int from = mem_nodes[0], to = mem_nodes[1];
	struct region r;
	struct args a;
	long rc;

	if (!need(2))
		return;
	if (!T_OK(region_map(&r, N, MAP_PRIVATE, false, true)))
		return;
	if (!T_OK(mp1_move_all(&r, from) == 0))
		return;
	args_init(&a, &r, to);
	for (int bit = 0; bit < 32; bit++) {
		unsigned int flag = 1u << bit;

		if (flag & known)
			continue;
		EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, flag, 0);
		EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status,
			    flag | MP2_MODE_SYNC, 0);
	}
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, MP2_MODE_MASK, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, ~known, 0);
	EXPECT_FAIL(EINVAL, N, a.pages, a.nodes, a.status, ~0u, 0);

	for (unsigned int mode = 0; mode <= 2; mode++) {
		int node = mode == MP2_MODE_SYNC_LIGHT ? from : to;

		for (int i = 0; i < N; i++) {
			a.nodes[i] = node;
			a.status[i] = INT_MIN;
		}
		rc = mp2(a.n, a.pages, a.nodes, a.status, mode, 0);
		T_EQ(rc, 0);
		T_EQ(count_status_not(&a, node), 0);
		T_EQ(pages_not_on(&r, node), 0);
		T_EQ(bad_pages(&r, 0, N), 0);
	}
	args_free(&a);
	region_unmap(&r);
}

static void test_memoryless_node(void)
{
	int possible[MAX_NODES], np, node = -1;
	char buf[256];
	struct region r;
	struct args a;
	long rc;

	if (!need(2))
		return;
	if (read_file("/sys/devices/system/node/possible", buf,
		      sizeof(buf)) <= 0) {
		t_skip("no /sys/devices/system/node/possible");
		return;
	}
	np = parse_node_list(buf, possible, MAX_NODES);
	for (int i = 0; i < np && node < 0; i++) {
		bool mem = false;

		for (int j = 0; j < nr_mem_nodes; j++)
			mem |= mem_nodes[j] == possible[i];
		if (!mem)
			node = possible[i];
	}
	if (node < 0) {
		t_skip("every possible node has memory (possible: %.*s)",
		       (int)strcspn(buf, "\n"), buf);
		return;
	}
	if (!T_OK(region_map(&r, 4, MAP_PRIVATE, false, true)))
		return;
	if (!T_OK(mp1_move_all(&r, mem_nodes[0]) == 0))
		return;
	args_init(&a, &r, node);
	errno = 0;
	rc = mp2(a.n, a.pages, a.nodes, a.status, 0, 0);
	T_EQ(rc, -1);
	T_EQ(errno, ENODEV);
	T_EQ(pages_not_on(&r, mem_nodes[0]), 0);
	args_free(&a);
	region_unmap(&r);
}

static void test_four_nodes(void)
{
	enum { N = 400 };
	struct region r;
	struct args a;
	long rc;

	if (!need(4))
		return;
	if (!T_OK(region_map(&r, N, MAP_PRIVATE, false, true)))
		return;
	if (!T_OK(mp1_move_all(&r, mem_nodes[0]) == 0))
		return;
	for (int mode = 0; mode <= 2; mode++) {
		args_init(&a, &r, 0);
		/* runs of 1, 2, 3, ... pages per node, round robin */
		for (int i = 0, run = 1, k = 0, left = 1; i < N; i++) {
			a.nodes[i] = mem_nodes[k % 4];
			if (--left == 0) {
				k++;
				run = run % 7 + 1;
				left = run;
			}
		}
		rc = mp2(a.n, a.pages, a.nodes, a.status, mode,
			 mode == 1 ? 16 : 0);
		T_EQ(rc, 0);
		{
			int st[N];

			if (!T_OK(query_nodes(a.pages, N, st) == 0))
				return;
			for (int i = 0; i < N; i++) {
				T_EQ(a.status[i], a.nodes[i]);
				T_EQ(st[i], a.nodes[i]);
			}
		}
		T_EQ(bad_pages(&r, 0, N), 0);
		/* and all back to the last node in one call */
		for (int i = 0; i < N; i++)
			a.nodes[i] = mem_nodes[3 - mode];
		rc = mp2(a.n, a.pages, a.nodes, a.status, mode, 0);
		T_EQ(rc, 0);
		T_EQ(count_status_not(&a, mem_nodes[3 - mode]), 0);
		T_EQ(pages_not_on(&r, mem_nodes[3 - mode]), 0);
		T_EQ(bad_pages(&r, 0, N), 0);
		args_free(&a);
	}
	region_unmap(&r);
}

/* ---- randomized arguments ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const char *const bad_words[] = {
	"WARNING", "BUG", "Oops", "general protection", NULL
};

/* Kernel log lines that appear after the start mark and look bad */
static int kmsg_fd = -1;

static void kmsg_mark(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

static int kmsg_bad_lines(void)
{
	char rec[8192];
	int bad = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return -1;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			break;
		}
		rec[n] = '\0';
		for (int i = 0; bad_words[i]; i++) {
			if (strstr(rec, bad_words[i])) {
				ksft_print_msg("kernel log: %.*s\n",
					       (int)strcspn(rec, "\n"), rec);
				bad++;
				break;
			}
		}
	}
	close(kmsg_fd);
	kmsg_fd = -1;
	return bad;
}

static void test_random_args(void)
{
	enum { N = 48, ITER = 2000, CAP = 64 };
	static const int ok_errs[] = { -ENOENT, -EFAULT, -EACCES, -EBUSY,
				       -ENOMEM };
	const uint64_t seed = 0x6d6f76655f706167ull;
	void **gpages;
	int *gnodes, *gstatus;
	struct region r;
	int calls_ok = 0, calls_err = 0, moved = 0;

	if (!need(2))
		return;
	rng_state = seed;
	ksft_print_msg("seed 0x%llx, %d iterations\n",
		       (unsigned long long)seed, ITER);
	kmsg_mark();
	if (kmsg_fd < 0)
		ksft_print_msg("(no /dev/kmsg: %s; kernel log not checked)\n",
			       strerror(errno));
	if (!T_OK(region_map(&r, N, MAP_PRIVATE, false, true)))
		return;
	/* a hole and an untouched tail */
	munmap(page_addr(&r, 8), psz);
	madvise(page_addr(&r, N - 4), 4 * psz, MADV_DONTNEED);
	gpages = guarded(CAP * sizeof(void *), PROT_READ | PROT_WRITE);
	gnodes = guarded(CAP * sizeof(int), PROT_READ | PROT_WRITE);
	gstatus = guarded(CAP * sizeof(int), PROT_READ | PROT_WRITE);
	if (!T_OK(gpages && gnodes && gstatus))
		return;

	for (int it = 0; it < ITER; it++) {
		unsigned long nr;
		void **pages = gpages;
		int *nodes = gnodes, *status = gstatus;
		unsigned int flags, batch;
		int expect = 0;
		long rc;

		switch (rnd_below(10)) {
		case 0:
			nr = 0;
			break;
		case 1:
			nr = CAP + rnd_below(3);	/* runs into the guard */
			break;
		case 2: {
			static const unsigned long big[] = {
				(unsigned long)INT_MAX, (unsigned long)INT_MAX + 1,
				ULONG_MAX, 1ul << 40 };
			nr = big[rnd_below(4)];
			break;
		}
		default:
			nr = 1 + rnd_below(CAP);
			break;
		}
		for (int i = 0; i < CAP; i++) {
			uint64_t k = rnd_below(16);

			if (k < 10)
				gpages[i] = page_addr(&r, rnd_below(N));
			else if (k == 10)
				gpages[i] = (char *)page_addr(&r, rnd_below(N)) +
					    rnd_below(psz);
			else if (k == 11)
				gpages[i] = NULL;
			else if (k == 12)
				gpages[i] = (void *)(uintptr_t)rnd();
			else if (k == 13)
				gpages[i] = (void *)0xffffffffff600000UL;
			else
				gpages[i] = gpages;	/* the array itself */
			gnodes[i] = mem_nodes[rnd_below(nr_mem_nodes)];
			gstatus[i] = SENTINEL;
		}
		/* one bad node in one call out of six */
		if (rnd_below(6) == 0) {
			static const int bad[] = { -1, 4096, INT_MIN, 1 << 20 };
			uint64_t k = rnd_below(5);

			gnodes[rnd_below(CAP)] = k < 4 ? bad[k] :
				1 + mem_nodes[nr_mem_nodes - 1];
		}
		switch (rnd_below(24)) {
		case 0:
			pages = NULL;
			break;
		case 1:
			nodes = (int *)(uintptr_t)(rnd() | 1);
			break;
		case 2:
			status = (int *)0xffff880000000000UL;
			break;
		case 3:
			/* in the region, maybe in a page being moved */
			status = (int *)gpages[0];
			if ((char *)status < r.base || nr > CAP ||
			    (char *)(status + nr) > r.base + r.len)
				status = NULL;
			break;
		default:
			break;
		}
		flags = (unsigned int)rnd_below(3);
		switch (rnd_below(12)) {
		case 0:
			flags = MP2_MODE_MASK;
			break;
		case 1:
			flags |= 1u << rnd_below(32);
			break;
		case 2:
			flags |= MP2_MOVE_ALL;
			break;
		default:
			break;
		}
		switch (rnd_below(8)) {
		case 0:
			batch = MP2_MAX_BATCH + rnd_below(4);
			break;
		case 1:
			batch = (unsigned int)rnd();
			break;
		case 2:
			batch = 1;
			break;
		default:
			batch = rnd_below(80);
			break;
		}

		errno = 0;
		rc = mp2(nr, pages, nodes, status, flags, batch);
		if (rc < 0) {
			calls_err++;
			if (errno != EINVAL && errno != EFAULT &&
			    errno != ENODEV && errno != EPERM) {
				ksft_print_msg("iteration %d: errno %d\n", it, errno);
				T_CHECK(!"unexpected errno");
			}
			continue;
		}
		calls_ok++;
		if (status != gstatus) {
			/* status was in the region: only check the count */
			size_t off = (char *)status - r.base;

			T_CHECK(rc >= 0 && (unsigned long)rc <= nr);
			for (size_t p = off / psz;
			     p <= (off + nr * sizeof(int) - 1) / psz; p++)
				fill_page(&r, (int)p);
			continue;
		}
		for (unsigned long i = 0; i < nr; i++) {
			int st = gstatus[i];
			bool valid = false;

			if (st >= 0) {
				for (int j = 0; j < nr_mem_nodes; j++)
					valid |= st == mem_nodes[j];
				valid &= st == gnodes[i];
				moved++;
			} else {
				for (size_t j = 0; j < 5; j++)
					valid |= st == ok_errs[j];
				expect++;
			}
			if (!valid) {
				ksft_print_msg("iteration %d: status[%lu] = %d (node %d)\n",
					       it, i, st, gnodes[i]);
				T_CHECK(!"bad status");
			}
		}
		T_EQ(rc, expect);
	}
	ksft_print_msg("%d calls succeeded, %d failed, %d entries on their node\n",
		       calls_ok, calls_err, moved);
	/* The data survived all of it */
	for (int i = 0; i < N; i++) {
		if (i == 8 || i >= N - 4)
			continue;
		T_EQ(bad_pages(&r, i, 1), 0);
	}
	if (kmsg_fd >= 0)
		T_EQ(kmsg_bad_lines(), 0);
	munmap(r.base, 8 * psz);
	munmap(page_addr(&r, 9), (N - 9) * psz);
}

/* ---- benchmark ----------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Method m moves the pages named in a (a.nodes set) in calls of at most
 * chunk entries; returns the seconds taken.
 */
enum { M_MP1, M_MP2_SYNC, M_MP2_ASYNC, M_MP2_ASYNC_B4096, NR_METHODS };
static const char *const method_names[] = {
	"move_pages", "move_pages2 sync", "move_pages2 async",
	"move_pages2 async b=4096",
};

static double run_method(int m, struct args *a, int chunk)
{
	double t0 = now();

	for (int i = 0; i < a->n; i += chunk) {
		int n = a->n - i < chunk ? a->n - i : chunk;
		long rc;

		if (m == M_MP1)
			rc = move_pages(0, n, a->pages + i, a->nodes + i,
					a->status + i, MPOL_MF_MOVE);
		else
			rc = mp2(n, a->pages + i, a->nodes + i, a->status + i,
				 m == M_MP2_SYNC ? MP2_MODE_SYNC :
				 MP2_MODE_ASYNC,
				 m == M_MP2_ASYNC_B4096 ? 4096 : 0);
		if (rc != 0) {
			fprintf(stderr, "bench: %s returned %ld\n",
				method_names[m], rc);
			exit(1);
		}
	}
	return now() - t0;
}

/* Move the pages of a to target, keeping every skip-th page there already */
static double bench_pass(int m, struct args *a, int chunk, int skip,
			 int target, int *moved)
{
	for (int i = 0; i < a->n; i++) {
		a->nodes[i] = target;
		if (skip && i % skip == 0) {
			int st;

			move_pages(0, 1, &a->pages[i], &target, &st,
				   MPOL_MF_MOVE);
		} else {
			(*moved)++;
		}
	}
	return run_method(m, a, chunk);
}

/*
 * Scenarios: all pages in one call; the same with every 8th page already
 * on the target; calls of 32 pages (small slices); and one call that names
 * each page twice, the second time two entries later (0, N-1, 1, 0, 2, 1,
 * ...), so that half the entries fail isolation while their folio is
 * queued and have to be matched to it.  A repeat runs each
 * method once to the other node and once back, the methods interleaved;
 * printed are the median rate over the repeats and the median over the
 * repeats of the rate divided by move_pages' rate in the same repeat.
 */
static int run_bench(int npages, int reps)
{
	static const struct {
		const char *name;
		int chunk, skip;
		bool twice;
	} sc[] = {
		{ "one call", 1 << 30, 0, false },
		{ "one call, every 8th page already there", 1 << 30, 8, false },
		{ "calls of 32 pages", 32, 0, false },
		{ "one call, every page named twice", 1 << 30, 0, true },
	};
	double *rate[NR_METHODS], *ratio[NR_METHODS];
	int from, to;
	struct region r;
	struct args a, a2;

	setup();
	if (mp2_nr < 0 || nr_mem_nodes < 2) {
		printf("bench: needs move_pages2 and 2 memory nodes\n");
		return 1;
	}
	if (npages < 64 || reps < 1)
		return 1;
	from = mem_nodes[0];
	to = mem_nodes[1];
	for (int m = 0; m < NR_METHODS; m++) {
		rate[m] = calloc(reps, sizeof(double));
		ratio[m] = calloc(reps, sizeof(double));
	}
	if (!region_map(&r, npages, MAP_PRIVATE, false, true))
		return 1;
	args_init(&a, &r, from);
	a2.n = 2 * npages;
	a2.pages = calloc(a2.n, sizeof(*a2.pages));
	a2.nodes = calloc(a2.n, sizeof(*a2.nodes));
	a2.status = calloc(a2.n, sizeof(*a2.status));
	if (!a2.pages || !a2.nodes || !a2.status)
		return 1;
	for (int k = 0; k < a2.n; k++)
		a2.pages[k] = a.pages[(k / 2 + (k & 1) * (npages - 1)) % npages];
	mp1_move_all(&r, from);
	printf("bench: %d pages of %d KiB, %d repeats, nodes %d <-> %d\n",
	       npages, (int)(psz / 1024), reps, from, to);
	for (size_t s = 0; s < sizeof(sc) / sizeof(*sc); s++) {
		int chunk = sc[s].chunk, skip = sc[s].skip, dummy = 0;
		struct args *args = sc[s].twice ? &a2 : &a;

		/* warm-up: the first pass translates the code paths */
		for (int m = 0; m < NR_METHODS; m++) {
			bench_pass(m, args, chunk, skip, to, &dummy);
			bench_pass(m, args, chunk, skip, from, &dummy);
		}
		for (int rep = 0; rep < reps; rep++) {
			for (int m = 0; m < NR_METHODS; m++) {
				int moved = 0;
				double t;

				t = bench_pass(m, args, chunk, skip, to,
					       &moved);
				t += bench_pass(m, args, chunk, skip, from,
						&moved);
				/* pages, not entries */
				rate[m][rep] = (double)moved * a.n / args->n;
				rate[m][rep] /= t;
			}
			for (int m = 0; m < NR_METHODS; m++)
				ratio[m][rep] = rate[m][rep] / rate[0][rep];
		}
		printf("scenario: %s\n", sc[s].name);
		for (int m = 0; m < NR_METHODS; m++) {
			qsort(rate[m], reps, sizeof(double), cmp_double);
			qsort(ratio[m], reps, sizeof(double), cmp_double);
			printf("  %-25s %8.0f pages/s (min %8.0f max %8.0f)",
			       method_names[m], rate[m][reps / 2], rate[m][0],
			       rate[m][reps - 1]);
			printf("  ratio x%.2f (min %.2f max %.2f)\n",
			       ratio[m][reps / 2], ratio[m][0],
			       ratio[m][reps - 1]);
		}
	}
	if (bad_pages(&r, 0, r.npages))
		printf("bench: DATA CHANGED\n");
	args_free(&a2);
	args_free(&a);
	region_unmap(&r);
	return 0;
}

#define T(fn) { #fn, fn }

static const struct t_test tests[] = {
	T(test_sysfs),
	T(test_modes_and_batches),
	T(test_thp),
	T(test_partial),
	T(test_many_failures),
	T(test_remote_cpu_pages),
	T(test_move_all),
	T(test_many_mappers),
	T(test_bad_input),
	T(test_flags),
	T(test_memoryless_node),
	T(test_four_nodes),
	T(test_random_args),
};

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		return run_bench(argc > 2 ? atoi(argv[2]) : 4096,
			     argc > 3 ? atoi(argv[3]) : 7);

	setup();
	ksft_print_header();
	ksft_set_plan(sizeof(tests) / sizeof(*tests));
	if (mp2_nr >= 0)
		ksft_print_msg("move_pages2: syscall %ld, %d memory node(s)\n",
			       mp2_nr, nr_mem_nodes);
	for (size_t i = 0; i < sizeof(tests) / sizeof(*tests); i++)
		t_run(&tests[i]);
	ksft_finished();
}
