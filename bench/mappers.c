// SPDX-License-Identifier: MIT
/* mp2bench: children that keep a shared buffer mapped during a migration. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mappers.h"

#define CAP_SYS_NICE_BIT 23

static void child(int ready_fd, int go_fd, const void *addr, size_t bytes)
{
	const volatile char *p = addr;
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	char c = 0, sink = 0;

	for (size_t off = 0; off < bytes; off += psz)
		sink += p[off];
	(void)sink;
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	close(ready_fd);
	/* Blocks until the parent closes its end: EOF, or an error. */
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void reap(struct mappers *m, int kill_them)
{
	for (int i = 0; i < m->nr_children; i++) {
		if (kill_them)
			kill(m->pids[i], SIGKILL);
		while (waitpid(m->pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
}

int mappers_start(struct mappers *m, int n, const void *addr, size_t bytes)
{
	int ready[2], go[2], err = 0;
	char c;

	memset(m, 0, sizeof(*m));
	m->go_fd = -1;
	if (n < 1 || n > MAPPERS_MAX)
		return -EINVAL;
	if (n == 1)
		return 0;
	m->pids = calloc((size_t)n - 1, sizeof(*m->pids));
	if (!m->pids)
		return -ENOMEM;
	if (pipe(ready))
		goto fail_errno;
	if (pipe(go)) {
		close(ready[0]);
		close(ready[1]);
		goto fail_errno;
	}
	fflush(NULL);	/* the children must not write out our buffers */
	for (int i = 0; i < n - 1; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			err = -errno;
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			child(ready[1], go[0], addr, bytes);
		}
		m->pids[m->nr_children++] = pid;
	}
	close(ready[1]);
	close(go[0]);
	m->go_fd = go[1];
	for (int i = 0; !err && i < m->nr_children; i++) {
		ssize_t r;

		while ((r = read(ready[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (r != 1)
			err = -ECHILD;	/* a child died before it was ready */
	}
	close(ready[0]);
	if (err) {
		close(m->go_fd);
		reap(m, 1);
		free(m->pids);
		memset(m, 0, sizeof(*m));
		m->go_fd = -1;
	}
	return err;

fail_errno:
	err = -errno;
	free(m->pids);
	m->pids = NULL;
	return err;
}

int mappers_stop(struct mappers *m)
{
	int bad = 0;

	if (m->go_fd >= 0)
		close(m->go_fd);
	for (int i = 0; i < m->nr_children; i++) {
		int st;

		while (waitpid(m->pids[i], &st, 0) < 0) {
			if (errno != EINTR) {
				st = -1;
				break;
			}
		}
		bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	free(m->pids);
	memset(m, 0, sizeof(*m));
	m->go_fd = -1;
	return bad ? -ECHILD : 0;
}

bool can_move_all(void)
{
	char line[256];
	uint64_t eff = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &eff) == 1)
			break;
	fclose(f);
	return eff >> CAP_SYS_NICE_BIT & 1;
}
