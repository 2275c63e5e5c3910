// SPDX-License-Identifier: MIT
/*
 * mp2bench migrate: move a buffer from one node to another and back, for
 * every setting in turn (interleaved repeats), next to a memcpy between
 * the same nodes measured in the same run as the physical reference.
 */
#include <getopt.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static const char *const CMD = "migrate";

static void help(void)
{
	printf("usage: mp2bench migrate [OPTIONS]\n"
	       "\n"
	       "Allocate a buffer on one node, move it to another node and back\n"
	       "for each setting, REPEATS times (settings interleaved), and\n"
	       "write one CSV row per run plus one memcpy row per repeat.\n"
	       "\n"
	       "  --mib N               buffer size in MiB (default 64)\n"
	       "  --from NODE           source node (default: first memory node)\n"
	       "  --to NODE             target node (default: second memory node)\n"
	       "  --repeats R           repeats of every setting (default 3)\n"
	       "  --methods LIST        move_pages,move_pages2 (default both;\n"
	       "                        move_pages2 is left out if the kernel lacks it)\n"
	       "  --modes LIST          async,sync_light,sync (default async)\n"
	       "  --kernel-batch LIST   move_pages2 batch sizes, 0 = kernel default\n"
	       "                        (default 0)\n"
	       "  --pages-per-call LIST pages per system call (default 512)\n"
	       "  --threads N           migrating threads (default 1)\n"
	       "  --csv FILE            write CSV there instead of stdout\n"
	       "  -h, --help            this text\n"
	       "\n"
	       "A median per setting and its ratio to move_pages go to stderr.\n");
}

static void fill(char *buf, size_t bytes)
{
	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		((uint64_t *)buf)[i] = i * 0x9E3779B97F4A7C15ull;
}

static size_t corrupt_words(const char *buf, size_t bytes)
{
	size_t bad = 0;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		bad += ((const uint64_t *)buf)[i] != i * 0x9E3779B97F4A7C15ull;
	return bad;
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "methods", required_argument, NULL, 'M' },
		{ "modes", required_argument, NULL, 'd' },
		{ "kernel-batch", required_argument, NULL, 'k' },
		{ "pages-per-call", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 'T' },
		{ "csv", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *methods = "move_pages,move_pages2", *modes = "async";
	struct int_list kbatch = { 1, { 0 } }, ppc = { 1, { 512 } };
	long mib = 64, repeats = 3, threads = 1;
	int from = -1, to = -1, c;
	static struct sweep sw;
	double *pps;
	size_t bytes, n, psz = (size_t)sysconf(_SC_PAGESIZE);
	char *buf, *dst;
	void **pages;
	int rc = 0;

	sw.csv = stdout;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mib = parse_long(CMD, "--mib", optarg, 1, 1 << 20); break;
		case 'f': from = (int)parse_long(CMD, "--from", optarg, 0, 4095); break;
		case 't': to = (int)parse_long(CMD, "--to", optarg, 0, 4095); break;
		case 'r': repeats = parse_long(CMD, "--repeats", optarg, 1, 1000); break;
		case 'M': methods = optarg; break;
		case 'd': modes = optarg; break;
		case 'k':
			parse_int_list(CMD, "--kernel-batch", optarg, 0,
				       MP2_KBATCH_MAX, &kbatch);
			break;
		case 'p':
			parse_int_list(CMD, "--pages-per-call", optarg, 1,
				       1 << 20, &ppc);
			break;
		case 'T': threads = parse_long(CMD, "--threads", optarg, 1, 256); break;
		case 'c':
			sw.csv = fopen(optarg, "w");
			if (!sw.csv)
				usage_error(CMD, "cannot write '%s'", optarg);
			break;
		case 'h': help(); return 0;
		default: usage_error(CMD, "bad option");
		}
	}
	if (optind < argc)
		usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	sweep_build(CMD, &sw, methods, modes, &kbatch, &ppc);
	if (pick_nodes(CMD, &from, &to))
		return 0;
	if (sw.n == 0)
		usage_error(CMD, "no method to run");

	bytes = (size_t)mib << 20;
	n = bytes / psz;
	buf = numa_alloc_onnode(bytes, from);
	dst = numa_alloc_onnode(bytes, to);
	pages = calloc(n, sizeof(*pages));
	pps = calloc((size_t)sw.n * (size_t)repeats, sizeof(*pps));
	if (!buf || !dst || !pages || !pps) {
		fprintf(stderr, "mp2bench migrate: out of memory for %ld MiB\n",
			mib);
		return 1;
	}
	fill(buf, bytes);
	memset(dst, 0, bytes);
	for (size_t i = 0; i < n; i++)
		pages[i] = buf + i * psz;

	fprintf(sw.csv, "kind,method,mode,kernel_batch,pages_per_call,threads,"
		"repeat,pages,seconds,pages_per_s,gb_per_s,failed\n");
	for (long r = 0; r < repeats; r++) {
		double t0 = now_s(), dt;

		memcpy(dst, buf, bytes);
		dt = now_s() - t0;
		fprintf(sw.csv, "memcpy,,,,,1,%ld,%zu,%.6f,%.0f,%.3f,0\n", r, n,
			dt, (double)n / dt, (double)bytes / dt / 1e9);
		for (int i = 0; i < sw.n; i++) {
			const struct setting *s = &sw.s[i];
			struct mp2_options o;
			struct mp2_stats there, back;
			int err;

			mp2_options_init(&o);
			o.method = s->method;
			o.mode = s->mode;
			o.kernel_batch = s->kernel_batch;
			o.pages_per_call = s->pages_per_call;
			o.threads = (int)threads;
			t0 = now_s();
			err = mp2_migrate(pages, n, NULL, to, &o, NULL, &there);
			if (!err)
				err = mp2_migrate(pages, n, NULL, from, &o, NULL,
						  &back);
			dt = now_s() - t0;
			if (err) {
				fprintf(stderr, "mp2bench migrate: %s\n",
					mp2_strerror(err));
				return 1;
			}
			pps[i * repeats + r] = (double)(there.moved + back.moved) / dt;
			fprintf(sw.csv, "migrate,%s,%s,%u,%zu,%ld,%ld,%zu,%.6f,"
				"%.0f,%.3f,%zu\n",
				mp2_method_name(s->method),
				s->method == MP2_METHOD_MOVE_PAGES ?
					"" : mp2_mode_name(s->mode),
				s->kernel_batch, s->pages_per_call, threads, r,
				there.moved + back.moved, dt,
				pps[i * repeats + r],
				(double)(there.moved + back.moved) * (double)psz /
					dt / 1e9,
				mp2_stats_failed(&there) + mp2_stats_failed(&back));
			fflush(sw.csv);
		}
	}
	if (corrupt_words(buf, bytes)) {
		fprintf(stderr, "mp2bench migrate: DATA CORRUPTED after migration\n");
		rc = 1;
	}
	fprintf(stderr, "%-12s %-10s %6s %6s %12s %8s\n", "method", "mode",
		"kbatch", "ppc", "pages/s", "ratio");
	for (int i = 0; i < sw.n; i++) {
		const struct setting *s = &sw.s[i];
		double med = median(&pps[i * repeats], (int)repeats);
		double base = 0;

		for (int k = 0; k < sw.n; k++)
			if (sw.s[k].method == MP2_METHOD_MOVE_PAGES &&
			    sw.s[k].pages_per_call == s->pages_per_call)
				base = median(&pps[k * repeats], (int)repeats);
		fprintf(stderr, "%-12s %-10s %6u %6zu %12.0f %8.2f\n",
			mp2_method_name(s->method),
			s->method == MP2_METHOD_MOVE_PAGES ?
				"sync" : mp2_mode_name(s->mode),
			s->kernel_batch, s->pages_per_call, med,
			base > 0 ? med / base : 0.0);
	}
	if (sw.csv != stdout)
		fclose(sw.csv);
	numa_free(buf, bytes);
	numa_free(dst, bytes);
	free(pages);
	free(pps);
	return rc;
}
