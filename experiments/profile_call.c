// SPDX-License-Identifier: MIT
/*
 * One page migration call with ftrace's function profiler switched on
 * around it, for experiments/profile.sh (as root in the guest).
 *
 *   profile_call TRACEFS METHOD PAGES
 *
 * METHOD is move_pages, or async, sync_light or sync for move_pages2 in
 * that mode with the default batch.  PAGES private anonymous pages are
 * written, put on node 0, and moved to node 1 and back once by the same
 * method (under TCG the first pass also translates the code).  Then the
 * profiler is switched on (which resets its counts), one call moves the
 * pages to node 1, and the profiler is switched off.  Prints one line:
 * "METHOD PAGES SECONDS NOT_MOVED".  Exits 1 when a page did not move or
 * its bytes changed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long mp2_nr = -1;
static int method;	/* -1: move_pages, else the move_pages2 mode */

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
		return move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE);
	return syscall(mp2_nr, (unsigned long)n, pages, nodes, status,
		       (unsigned int)method, 0u);
}

static long move_all(long n, void **pages, int *nodes, int *status, int to)
{
	for (long i = 0; i < n; i++)
		nodes[i] = to;
	return move(n, pages, nodes, status);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "async", "sync_light", "sync" };
	char path[512], buf[32];
	long n, psz = sysconf(_SC_PAGESIZE), not_moved = 0, rc;
	int *nodes, *status, fd;
	void **pages;
	double t;
	char *mem;

	if (argc != 4 || (n = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: profile_call TRACEFS METHOD PAGES\n");
		return 2;
	}
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

	mem = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages = calloc(n, sizeof(*pages));
	nodes = calloc(n, sizeof(*nodes));
	status = calloc(n, sizeof(*status));
	if (mem == MAP_FAILED || !pages || !nodes || !status)
		die("memory");
	madvise(mem, n * psz, MADV_NOHUGEPAGE);
	for (long i = 0; i < n; i++) {
		memset(mem + i * psz, (int)(i & 0xff), psz);
		pages[i] = mem + i * psz;
	}
	for (long i = 0; i < n; i++)
		nodes[i] = 0;
	if (move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE) < 0)
		die("move_pages to node 0");
	if (move_all(n, pages, nodes, status, 1) < 0 ||
	    move_all(n, pages, nodes, status, 0) < 0)
		die("warm-up");

	for (long i = 0; i < n; i++)
		nodes[i] = 1;
	snprintf(path, sizeof(path), "%s/function_profile_enabled", argv[1]);
	write_file(path, "1");
	t = now();
	rc = move(n, pages, nodes, status);
	t = now() - t;
	write_file(path, "0");
	if (rc < 0)
		die(argv[2]);

	for (long i = 0; i < n; i++) {
		const char *p = mem + i * psz;

		if (status[i] != 1 || p[0] != (char)(i & 0xff) ||
		    memcmp(p, p + 1, psz - 1))
			not_moved++;
	}
	printf("%s %ld %.6f %ld\n", argv[2], n, t, not_moved);
	return not_moved ? 1 : 0;
}
