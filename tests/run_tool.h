// SPDX-License-Identifier: MIT
/*
 * Run a program of the tree for a test: its stdout and stderr, together,
 * go to out (NUL-terminated, cut at size - 1 bytes).  Below, what the
 * suites of mp2bench's subcommands share: the program, a run of it, and
 * the command lines it must refuse.
 */
#ifndef MP2_TEST_RUN_TOOL_H
#define MP2_TEST_RUN_TOOL_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The path of the tree's program name: beside this test, in build/. */
static inline void tool_path(const char *name, char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	snprintf(path, size, "%s/%s", dirname(self), name);
}

/* Run exe with args (NULL-terminated, at most 38); its exit status or -1. */
static inline int run_tool(const char *exe, const char *const *args,
			   char *out, size_t size)
{
	char path[] = "/tmp/mp2-test-run-XXXXXX";
	int fd = mkstemp(path), st;
	const char *argv[40] = { exe };
	ssize_t n;
	pid_t pid;

	if (fd < 0)
		return -1;
	unlink(path);
	for (int i = 0; args[i] && i < 38; i++)
		argv[i + 1] = args[i];
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	n = pread(fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A command line the tool must refuse, and what its message must say. */
struct refusal {
	const char *args[6];
	const char *says;
};

/*
 * Every case exits 2, names the problem (says) and points to the help
 * (hint); a case that does not is printed with the tool's output.
 */
static inline void check_refusals(const char *exe, const struct refusal *cases,
				  size_t n, const char *hint, char *out,
				  size_t size)
{
	for (size_t i = 0; i < n; i++) {
		int rc = run_tool(exe, cases[i].args, out, size);

		if (rc != 2 || !strstr(out, cases[i].says) ||
		    !strstr(out, hint)) {
			printf("    case %zu: exit %d, output:\n%s", i, rc, out);
			T_CHECK(rc == 2);
			T_CHECK(strstr(out, cases[i].says) != NULL);
			T_CHECK(strstr(out, hint) != NULL);
		}
	}
}


/* ---- the mp2bench suites ------------------------------------------- */

static char mp2bench[PATH_MAX];
static char out[16384];
static const char *bench_cmd;		/* the subcommand the suite tests */

/* The suite of subcommand cmd: find the tree's mp2bench. */
static inline void bench_suite_init(const char *cmd)
{
	bench_cmd = cmd;
	tool_path("mp2bench", mp2bench, sizeof(mp2bench));
}

/* Run mp2bench with args; its stdout and stderr go to out.  Exit status. */
static inline int run(const char *const *args)
{
	return run_tool(mp2bench, args, out, sizeof(out));
}

/* The bad values of every subcommand; a suite checks its own. */
static const struct refusal bench_refusals[] = {
	{ { "migrate", "--page-kind", "2m" }, "unknown page kind '2m'" },
	{ { "migrate", "--page-kind", "" }, "--page-kind: empty list" },
	{ { "migrate", "--page-kind", "4k,huge" }, "(4k, thp or hugetlb)" },
	{ { "migrate", "--mappers", "0" }, "--mappers wants an integer from 1" },
	{ { "migrate", "--mappers", "1,1025" }, "from 1 to 1024, not '1025'" },
	{ { "migrate", "--mappers", "1,x" }, "--mappers wants an integer" },
	{ { "migrate", "--busy-threads", "-1" }, "--busy-threads wants an integer from 0 to 64" },
	{ { "migrate", "--busy-threads", "65" }, "not '65'" },
	{ { "migrate", "--pages-per-call", "0" }, "--pages-per-call wants an integer from 1" },
	{ { "migrate", "--page-kind", "thp", "--mib", "3" }, "need a multiple of 2 MiB" },
	{ { "migrate", "--page-kind", "hugetlb", "--mib", "1" }, "need a multiple of 2 MiB" },
	{ { "migrate", "--summary", "/nonexistent/dir/s.csv" }, "cannot write '/nonexistent/dir/s.csv'" },
	{ { "ycsb", "--r", "0.1,2" }, "--r wants a number from 0 to 1, not '2'" },
	{ { "ycsb", "--r", "0.1,x" }, "--r wants a number" },
	{ { "ycsb", "--r", "," }, "--r: empty list" },
	{ { "ycsb", "--mix", "C,B" }, "--mix wants a list of A, C and E" },
	{ { "ycsb", "--also", "sync" }, "--also wants MODE:BATCH, not 'sync'" },
	{ { "ycsb", "--also", "fast:64" }, "--also: unknown mode 'fast'" },
	{ { "ycsb", "--also", "sync:x" }, "--also wants an integer from 0" },
	{ { "ycsb", "--summary", "/nonexistent/dir/s.csv" }, "cannot write '/nonexistent/dir/s.csv'" },
	{ { "ycsb", "--keys", "100" }, "--keys wants an integer from 1000" },
};

/* Every bad value exits 2, names the problem and points to --help. */
static inline void test_bad_options(void)
{
	const size_t nr = sizeof(bench_refusals) / sizeof(bench_refusals[0]);
	char hint[64];
	size_t first = 0, n = 0;

	while (first < nr && strcmp(bench_refusals[first].args[0], bench_cmd))
		first++;
	while (first + n < nr && !strcmp(bench_refusals[first + n].args[0],
					  bench_cmd))
		n++;
	T_REQUIRE(n > 0);
	snprintf(hint, sizeof(hint), "Try 'mp2bench %s --help'", bench_cmd);
	check_refusals(mp2bench, bench_refusals + first, n, hint, out,
		       sizeof(out));
}

#endif
