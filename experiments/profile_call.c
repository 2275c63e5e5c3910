// SPDX-License-Identifier: MIT
/*
 * Page migration calls with ftrace's function profiler switched on around
 * them, for experiments/profile.sh (as root in the guest).
 *
 *   profile_call [OPTIONS] TRACEFS METHOD PAGES
 *
 * METHOD is move_pages, or async, sync_light or sync for move_pages2 in
 * that mode with the default batch.  PAGES pages per call (of the page
 * kind: 4 KiB or 2 MiB) are written, put on node 0, and moved to node 1
 * and back once by the same method (under TCG the first pass also
 * translates the code).  Then the profiler is switched on (which resets
 * its counts), CALLS calls move PAGES pages each to node 1, and the
 * profiler is switched off.  Prints one line:
 *
 *   METHOD PAGES SECONDS NOT_MOVED calls=N cpu=C oncpu=T statuses=S [copy...]
 *
 * SECONDS is the time of all CALLS calls, T the CPU time the calling
 * thread used in them (the scheduler's count), NOT_MOVED the pages that are not
 * on node 1 with their bytes intact, C the CPU the calls ran on (the
 * calling thread is bound to the CPU it starts on), S the status values of
 * the profiled calls with their counts ("1:64", "1:31,-16:1"); when an
 * entry failed in the two warm-up moves, warmup_failed=VALUE:COUNT,...
 * follows (-999: below -63).  Exits 1
 * when a page did not move or its bytes changed.
 *
 *   --calls N          calls in the profiled window (default 1), on
 *                      consecutive runs of PAGES pages
 *   --page-kind KIND   4k (default), thp (shared, MADV_HUGEPAGE; needs
 *                      shmem_enabled advise) or hugetlb (shared,
 *                      MAP_HUGETLB; needs free 2 MiB pages on both nodes)
 *   --shared           shared anonymous memory (as mp2bench) instead of
 *                      private; implied by thp, hugetlb and --mappers
 *   --mappers N        processes mapping the pages, this one included:
 *                      N-1 children touch every page and stay until the
 *                      end; the calls then move pages mapped by others
 *                      (MPOL_MF_MOVE_ALL, MOVE_PAGES2_MOVE_ALL)
 *   --busy-threads N   threads reading random words of another 32 MiB
 *                      buffer (on node 0) during the profiled calls, as
 *                      mp2bench's reader threads, on any CPU but the one
 *                      of the calls
 *   --copy-reference   after the profiled calls, copy the same bytes
 *                      from node 1 to node 0 in user space with memcpy()
 *                      and with "rep movsb" of 4 KiB at a time (what the
 *                      kernel's copy_mc_to_kernel() does on a CPU with
 *                      ERMS) and print memcpy_gbps=X movsb_gbps=Y
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mappers.h"	/* bench/: the children mp2bench uses */

#define HUGE_BYTES ((size_t)2 << 20)
#define BUSY_BYTES ((size_t)32 << 20)
#define MOVE_ALL_FLAG 0x100u	/* MOVE_PAGES2_MOVE_ALL */
#define MAX_STATUS_KINDS 16

enum kind { KIND_4K, KIND_THP, KIND_HUGETLB };

static long mp2_nr = -1;
static int method;	/* -1: move_pages, else the move_pages2 mode */
static int move_all;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

static long move(long n, void **pages, int *nodes, int *status)
{
	if (method < 0)
		return move_pages(0, n, pages, nodes, status,
				  move_all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE);
	return syscall(mp2_nr, (unsigned long)n, pages, nodes, status,
		       (unsigned int)method | (move_all ? MOVE_ALL_FLAG : 0),
		       0u);
}

static long move_to(long n, void **pages, int *nodes, int *status, int to)
{
	for (long i = 0; i < n; i++)
		nodes[i] = to;
	return move(n, pages, nodes, status);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static void usage(void)
{
	fprintf(stderr, "usage: profile_call [--calls N] [--page-kind "
		"4k|thp|hugetlb] [--shared] [--mappers N]\n"
		"                    [--busy-threads N] [--copy-reference] "
		"TRACEFS METHOD PAGES\n");
	exit(2);
}

/* ---- reader threads ----------------------------------------------------- */

static atomic_bool readers_stop;
static const uint64_t *busy_words;

static int caller_cpu;

static void *reader(void *arg)
{
	uint64_t state = 0x5eed0000u + (uintptr_t)arg, sum = 0;
	const volatile uint64_t *w = busy_words;
	size_t nw = BUSY_BYTES / sizeof(uint64_t);
	cpu_set_t set;

	/* Any CPU but the caller's (the thread inherited the caller's). */
	CPU_ZERO(&set);
	for (int c = 0; c < CPU_SETSIZE && c < sysconf(_SC_NPROCESSORS_ONLN); c++)
		if (c != caller_cpu)
			CPU_SET(c, &set);
	if (CPU_COUNT(&set))
		sched_setaffinity(0, sizeof(set), &set);

	while (!atomic_load_explicit(&readers_stop, memory_order_relaxed))
		for (int i = 0; i < 1024; i++) {
			state = state * 6364136223846793005ull +
				1442695040888963407ull;
			sum += w[(state >> 17) % nw];
		}
	return (void *)(uintptr_t)(sum & 1);
}

/* ---- the copy reference -------------------------------------------------- */

static void movsb(void *dst, const void *src, size_t len)
{
	__asm__ volatile("rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
}

static void copy_reference(const char *src, size_t bytes)
{
	char *dst = numa_alloc_onnode(bytes, 0);
	double t0, t1, t2;

	if (!dst)
		die("copy reference buffer");
	memset(dst, 0, bytes);
	t0 = now();
	memcpy(dst, src, bytes);
	t1 = now();
	for (size_t off = 0; off < bytes; off += 4096)
		movsb(dst + off, src + off, 4096);
	t2 = now();
	if (memcmp(dst, src, bytes))
		fprintf(stderr, "profile_call: copy reference differs\n");
	printf(" memcpy_gbps=%.3f movsb_gbps=%.3f", bytes / (t1 - t0) / 1e9,
	       bytes / (t2 - t1) / 1e9);
	numa_free(dst, bytes);
}

/* ---- main ---------------------------------------------------------------- */

static char *map_pages(enum kind k, int shared, size_t bytes)
{
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
	size_t map = bytes;
	uintptr_t a;
	char *p;

	if (k == KIND_HUGETLB)
		flags |= MAP_HUGETLB;
	else
		map += HUGE_BYTES;	/* room to align to 2 MiB */
	p = mmap(NULL, map, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (k != KIND_HUGETLB) {
		a = ((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
		p = (char *)a;
		if (madvise(p, bytes, k == KIND_THP ? MADV_HUGEPAGE :
			    MADV_NOHUGEPAGE))
			die("madvise");
	}
	return p;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "async", "sync_light", "sync" };
	static const struct option opts[] = {
		{ "calls", required_argument, NULL, 'c' },
		{ "page-kind", required_argument, NULL, 'k' },
		{ "shared", no_argument, NULL, 's' },
		{ "mappers", required_argument, NULL, 'm' },
		{ "busy-threads", required_argument, NULL, 'b' },
		{ "copy-reference", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	char path[512], buf[32];
	long n, calls = 1, total, not_moved = 0, rc = 0, mappers = 1, busy = 0;
	long st_val[MAX_STATUS_KINDS], st_cnt[MAX_STATUS_KINDS];
	int *nodes, *status, fd, shared = 0, copy_ref = 0, opt, cpu, nst = 0;
	size_t psz = 4096, kb;	/* size of a page of the kind */
	enum kind kind = KIND_4K;
	pthread_t *tids = NULL;
	struct mappers kids;
	int ret;
	cpu_set_t set;
	void **pages;
	long warm_fail[64] = { 0 };	/* by -status; 0: others */
	double t, oncpu;
	char *mem;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': calls = atol(optarg); break;
		case 'm': mappers = atol(optarg); break;
		case 'b': busy = atol(optarg); break;
		case 's': shared = 1; break;
		case 'r': copy_ref = 1; break;
		case 'k':
			if (!strcmp(optarg, "4k"))
				kind = KIND_4K;
			else if (!strcmp(optarg, "thp"))
				kind = KIND_THP;
			else if (!strcmp(optarg, "hugetlb"))
				kind = KIND_HUGETLB;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (argc - optind != 3 || (n = atol(argv[optind + 2])) < 1 ||
	    calls < 1 || mappers < 1 || mappers > 64 || busy < 0 || busy > 64)
		usage();
	argv += optind - 1;	/* argv[1..3]: TRACEFS METHOD PAGES */
	method = -2;
	if (!strcmp(argv[2], "move_pages"))
		method = -1;
	for (int m = 0; m < 3; m++)
		if (!strcmp(argv[2], modes[m]))
			method = m;
	if (method == -2) {
		fprintf(stderr, "profile_call: unknown method %s\n", argv[2]);
		return 2;
	}
	fd = open("/sys/kernel/mm/move_pages2/syscall_nr", O_RDONLY);
	if (fd >= 0) {
		ssize_t len = read(fd, buf, sizeof(buf) - 1);

		if (len > 0) {
			buf[len] = '\0';
			mp2_nr = atol(buf);
		}
		close(fd);
	}
	if (method >= 0 && mp2_nr < 0) {
		fprintf(stderr, "profile_call: no move_pages2 in this kernel\n");
		return 2;
	}
	if (kind != KIND_4K || mappers > 1)
		shared = 1;
	move_all = mappers > 1;
	if (kind != KIND_4K)
		psz = HUGE_BYTES;

	/* The calls run on one CPU; the others are "the other CPUs". */
	cpu = caller_cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");

	total = n * calls;
	mem = map_pages(kind, shared, total * psz);
	pages = calloc(total, sizeof(*pages));
	nodes = calloc(total, sizeof(*nodes));
	status = calloc(total, sizeof(*status));
	if (!pages || !nodes || !status)
		die("memory");
	if (shared)	/* placed as mp2bench places its buffer */
		numa_tonode_memory(mem, total * psz, 0);
	for (long i = 0; i < total * (long)(psz / 4096); i++)
		memset(mem + i * 4096, (int)(i & 0xff), 4096);
	for (long i = 0; i < total; i++)
		pages[i] = mem + i * psz;
	for (long i = 0; i < total; i++)
		nodes[i] = 0;
	if (move_pages(0, total, pages, nodes, status, MPOL_MF_MOVE) < 0)
		die("move_pages to node 0");
	ret = mappers_start(&kids, (int)mappers, mem, total * psz);
	if (ret) {
		errno = -ret;
		die("mapping children");
	}
	for (int to = 1; to >= 0; to--) {
		if (move_to(total, pages, nodes, status, to) < 0)
			die("warm-up");
		for (long i = 0; i < total; i++)
			if (status[i] < 0)
				warm_fail[-status[i] < 64 ? -status[i] : 0]++;
	}
	if (busy > 0) {
		busy_words = numa_alloc_onnode(BUSY_BYTES, 0);
		tids = calloc(busy, sizeof(*tids));
		if (!busy_words || !tids)
			die("memory");
		memset((void *)busy_words, 1, BUSY_BYTES);
		for (long i = 0; i < busy; i++)
			if (pthread_create(&tids[i], NULL, reader, (void *)i))
				die("pthread_create");
		usleep(20000);	/* let them run on their CPUs */
	}

	for (long i = 0; i < total; i++)
		nodes[i] = 1;
	snprintf(path, sizeof(path), "%s/function_profile_enabled", argv[1]);
	write_file(path, "1");
	t = now();
	oncpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (long c = 0; c < calls && rc >= 0; c++)
		rc = move(n, pages + c * n, nodes + c * n, status + c * n);
	oncpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - oncpu;
	t = now() - t;
	write_file(path, "0");
	if (busy > 0) {
		atomic_store(&readers_stop, true);
		for (long i = 0; i < busy; i++)
			pthread_join(tids[i], NULL);
	}
	if (rc < 0)
		die(argv[2]);

	kb = psz / 4096;
	for (long i = 0; i < total; i++) {
		int s = status[i], j;

		for (j = 0; j < nst && st_val[j] != s; j++)
			;
		if (j == nst && nst < MAX_STATUS_KINDS) {
			st_val[nst] = s;
			st_cnt[nst++] = 0;
		}
		if (j < nst)
			st_cnt[j]++;
		for (size_t b = 0; b < kb; b++) {
			const char *p = mem + i * psz + b * 4096;
			long bi = i * (long)kb + (long)b;

			if (s != 1 || p[0] != (char)(bi & 0xff) ||
			    memcmp(p, p + 1, 4095)) {
				not_moved++;
				break;
			}
		}
	}
	printf("%s %ld %.6f %ld calls=%ld cpu=%d oncpu=%.6f statuses=", argv[2],
	       n, t, not_moved, calls, cpu, oncpu);
	for (int j = 0; j < nst; j++)
		printf("%s%ld:%ld", j ? "," : "", st_val[j], st_cnt[j]);
	for (int e = 0, first = 1; e < 64; e++)
		if (warm_fail[e]) {
			printf("%s%d:%ld", first ? " warmup_failed=" : ",",
			       e ? -e : -999, warm_fail[e]);
			first = 0;
		}
	if (copy_ref)
		copy_reference(mem, total * psz);
	printf("\n");
	mappers_stop(&kids);
	return not_moved ? 1 : 0;
}
