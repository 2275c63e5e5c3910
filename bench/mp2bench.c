// SPDX-License-Identifier: MIT
/* mp2bench: measure page migration methods side by side. */
#include <string.h>

#include "bench.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mp2bench COMMAND [OPTIONS]\n"
		"\n"
		"Measure NUMA page migration with move_pages and move_pages2.\n"
		"\n"
		"commands:\n"
		"  migrate   move a buffer between two nodes and back, per "
		"setting,\n"
		"            beside a memcpy reference between the same nodes\n"
		"  ycsb      B+-Tree queries (YCSB C/A/E mixes) while workers "
		"migrate\n"
		"            slices of the tree between nodes\n"
		"\n"
		"Both write CSV rows. 'mp2bench COMMAND --help' lists the "
		"options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "migrate"))
		return cmd_migrate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ycsb"))
		return cmd_ycsb(argc - 1, argv + 1);
	fprintf(stderr, "mp2bench: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
