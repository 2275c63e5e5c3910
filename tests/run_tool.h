// SPDX-License-Identifier: MIT
/*
 * Run a program of the tree for a test: its stdout and stderr, together,
 * go to out (NUL-terminated, cut at size - 1 bytes).
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

#endif
