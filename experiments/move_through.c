// SPDX-License-Identifier: MIT
/*
 * Three ways for a process that never touched a shared buffer to move it,
 * when another process (the owner, as mp2's worker with the warm mapping)
 * keeps every page of it mapped, for experiments/move-through.sh (as root,
 * in the guest: CAP_SYS_NICE, two memory nodes).
 *
 *   move_through [--mb N] [--repeats N] [--mappers N]
 *
 * The owner writes every page (a pattern of its page number) and keeps it
 * mapped; --mappers N children read every page too (as backends that
 * read the table map it).  Each move is made by a new child of this
 * process (a new session: it inherits the mapping, no page of it mapped)
 * and sends every page to the node they are not on, by one of:
 *
 *   own       touch every page, then libmp2 on its own mapping (what
 *             mp2_migrate() does today: move_pages2, async, move_all)
 *   pid       libmp2 with the owner's pid (move_pages(2), move_all)
 *   owner     ask the owner over a socket; the owner moves its own
 *             mapping with move_pages2 (the worker doing it on request)
 *   owner_mp  the same, the owner using move_pages(2): the kernel call of
 *             pid, from the owner's side
 *
 * The ways take turns (rotated each repeat).  A row on stdout per move:
 *
 *   way,repeat,pages,moved,wall_ms,mover_cpu_ms,owner_cpu_ms,mover_minflt
 *
 * mover_cpu_ms is the CPU time of the moving child (its faults included),
 * owner_cpu_ms that of the owner's move (owner and owner_mp, else 0).
 * Exits 1 when a move leaves a page behind or, at the end, a page's bytes
 * are not what the owner wrote.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mappers.h"
#include "mp2.h"

enum way { OWN, PID, OWNER, OWNER_MP, NR_WAYS };
static const char *const way_name[NR_WAYS] = { "own", "pid", "owner",
					       "owner_mp" };

/* A request to the owner (node -1: check the bytes and exit). */
struct request {
	int node;
	enum mp2_method method;
};

struct outcome {
	uint64_t wall_ns, mover_cpu_ns, owner_cpu_ns;
	long moved, minflt;
	int err;
};

static size_t npages, psz;
static char *buf;
static void **pages;

static uint64_t ns_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill_options(struct mp2_options *o, enum mp2_method method)
{
	mp2_options_init(o);
	o->method = method;
	o->move_all = true;
	o->pages_per_call = 512;
}

/* The owner: writes the buffer, then moves it on request. */
static void owner_loop(int sock, int first_node)
{
	struct mp2_options o;
	struct mp2_stats st;
	struct request rq;
	struct outcome out;

	for (size_t i = 0; i < npages; i++)
		memset(buf + i * psz, (int)(i % 251), psz);
	fill_options(&o, MP2_METHOD_AUTO);
	out.err = mp2_migrate(pages, npages, NULL, first_node, &o, NULL, &st);
	if (write(sock, &out, sizeof(out)) != sizeof(out))
		_exit(1);
	while (read(sock, &rq, sizeof(rq)) == sizeof(rq)) {
		uint64_t cpu0;

		memset(&out, 0, sizeof(out));
		if (rq.node < 0) {
			for (size_t i = 0; i < npages; i++)
				for (size_t b = 0; b < psz; b += 64)
					out.moved += buf[i * psz + b] !=
						     (char)(i % 251);
		} else {
			cpu0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
			fill_options(&o, rq.method);
			out.err = mp2_migrate(pages, npages, NULL, rq.node, &o,
					      NULL, &st);
			out.owner_cpu_ns = ns_of(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
			out.moved = (long)st.moved;
		}
		if (write(sock, &out, sizeof(out)) != sizeof(out))
			_exit(1);
		if (rq.node < 0)
			_exit(0);
	}
	_exit(1);
}

/* One move by a new child; the outcome is read from its pipe. */
static int move_once(enum way way, pid_t owner, int sock, int node,
		     struct outcome *res)
{
	int fds[2], st;
	pid_t child;

	if (pipe(fds))
		return -errno;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		struct mp2_options o;
		struct mp2_stats s = { 0 };
		struct outcome out = { 0 };
		struct request rq = { node, MP2_METHOD_AUTO };
		struct rusage ru;
		uint64_t t0 = ns_of(CLOCK_MONOTONIC);

		close(fds[0]);
		switch (way) {
		case OWN:
			for (size_t i = 0; i < npages; i++)
				(void)*(volatile char *)(buf + i * psz);
			fill_options(&o, MP2_METHOD_AUTO);
			out.err = mp2_migrate(pages, npages, NULL, node, &o,
					      NULL, &s);
			out.moved = (long)s.moved;
			break;
		case PID:
			fill_options(&o, MP2_METHOD_AUTO);
			o.pid = owner;
			out.err = mp2_migrate(pages, npages, NULL, node, &o,
					      NULL, &s);
			out.moved = (long)s.moved;
			break;
		default:
			rq.method = way == OWNER ? MP2_METHOD_AUTO :
						   MP2_METHOD_MOVE_PAGES;
			if (write(sock, &rq, sizeof(rq)) != sizeof(rq) ||
			    read(sock, &out, sizeof(out)) != sizeof(out))
				out.err = -EIO;
			break;
		}
		out.wall_ns = ns_of(CLOCK_MONOTONIC) - t0;
		out.mover_cpu_ns = ns_of(CLOCK_PROCESS_CPUTIME_ID);
		getrusage(RUSAGE_SELF, &ru);
		out.minflt = ru.ru_minflt;
		_exit(write(fds[1], &out, sizeof(out)) == sizeof(out) ? 0 : 1);
	}
	close(fds[1]);
	st = read(fds[0], res, sizeof(*res)) == sizeof(*res) ? 0 : -EIO;
	close(fds[0]);
	if (waitpid(child, NULL, 0) != child)
		st = -ECHILD;
	return st ? st : res->err;
}

static int usage(FILE *f, int code)
{
	fprintf(f, "usage: move_through [--mb N] [--repeats N] [--mappers N]\n"
		   "Compares moving a shared buffer that another process keeps\n"
		   "mapped: touch and move (own), move_pages with its pid (pid),\n"
		   "or asking it (owner, owner_mp).  Defaults: 32 MiB, 5\n"
		   "repeats, no mappers.  As root, with two memory nodes.\n");
	return code;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mb", required_argument, NULL, 'm' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "mappers", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long mb = 32, repeats = 5, nmappers = 0;
	struct mp2_topology *topo;
	struct mappers mappers;
	struct request rq;
	struct outcome out;
	int sv[2], opt, node[2], at, bad = 0, err;
	pid_t owner;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		long v = optarg ? strtol(optarg, &end, 10) : 0;

		if (opt == 'h')
			return usage(stdout, 0);
		if (!optarg || *end || v < (opt == 'p' ? 0 : 1) ||
		    v > (opt == 'p' ? MAPPERS_MAX - 1 : 1 << 20))
			return usage(stderr, 2);
		if (opt == 'm')
			mb = v;
		else if (opt == 'r')
			repeats = v;
		else
			nmappers = v;
	}
	if (optind != argc)
		return usage(stderr, 2);
	err = mp2_topology_read(&topo);
	if (err || topo->nr_nodes < 2) {
		fprintf(stderr, "move_through: needs two memory nodes: %s\n",
			err ? mp2_strerror(err) : "this machine has one");
		return 1;
	}
	node[0] = topo->nodes[0].id;
	node[1] = topo->nodes[1].id;
	mp2_topology_free(topo);

	psz = (size_t)sysconf(_SC_PAGESIZE);
	npages = (size_t)mb * (1u << 20) / psz;
	buf = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pages = calloc(npages, sizeof(*pages));
	if (buf == MAP_FAILED || !pages ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		perror("move_through");
		return 1;
	}
	for (size_t i = 0; i < npages; i++)
		pages[i] = buf + i * psz;
	fflush(NULL);
	owner = fork();
	if (owner < 0) {
		perror("move_through: fork");
		return 1;
	}
	if (owner == 0) {
		close(sv[0]);
		owner_loop(sv[1], node[0]);
	}
	close(sv[1]);
	if (read(sv[0], &out, sizeof(out)) != sizeof(out) || out.err) {
		fprintf(stderr, "move_through: the owner could not place the buffer\n");
		return 1;
	}
	err = mappers_start(&mappers, (int)nmappers + 1, buf, npages * psz);
	if (err) {
		fprintf(stderr, "move_through: mappers: %s\n", strerror(-err));
		return 1;
	}
	printf("way,repeat,pages,moved,wall_ms,mover_cpu_ms,owner_cpu_ms,mover_minflt\n");
	at = 0;
	for (long r = 0; r < repeats; r++) {
		for (int k = 0; k < NR_WAYS; k++) {
			enum way w = (enum way)((k + r) % NR_WAYS);

			err = move_once(w, owner, sv[0], node[1 - at], &out);
			if (err) {
				fprintf(stderr, "move_through: %s: %s\n",
					way_name[w], mp2_strerror(err));
				bad = 1;
				break;
			}
			if ((size_t)out.moved != npages) {
				fprintf(stderr, "move_through: %s moved %ld of %zu pages\n",
					way_name[w], out.moved, npages);
				bad = 1;
			}
			at = 1 - at;
			printf("%s,%ld,%zu,%ld,%.3f,%.3f,%.3f,%ld\n", way_name[w],
			       r, npages, out.moved, out.wall_ns / 1e6,
			       out.mover_cpu_ns / 1e6, out.owner_cpu_ns / 1e6,
			       out.minflt);
			fflush(stdout);
		}
		if (bad)
			break;
	}
	mappers_stop(&mappers);
	rq.node = -1;
	rq.method = MP2_METHOD_AUTO;
	if (write(sv[0], &rq, sizeof(rq)) != sizeof(rq) ||
	    read(sv[0], &out, sizeof(out)) != sizeof(out) || out.moved) {
		fprintf(stderr, "move_through: the bytes changed (%ld pieces)\n",
			out.moved);
		bad = 1;
	}
	waitpid(owner, NULL, 0);
	return bad;
}
