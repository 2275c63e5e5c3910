/* SPDX-License-Identifier: MIT */
/*
 * A cap_set_proc() that fails on demand, preloaded (LD_PRELOAD) into a
 * test server to show what the extension does when lowering CAP_SYS_NICE
 * fails: 013_capability.pl beside it (check-guest.sh builds it, as
 * build/check/capfail.so).  The file named by $MP2_CAPFAIL says when:
 *
 *   drop  fail a request that lowers CAP_SYS_NICE from the effective set
 *         and keeps it permitted (the drop after each system call)
 *   all   fail every request that lowers it from the effective set
 *
 * and anything else, or no file, fails nothing.  A failed request changes
 * nothing and sets errno to EPERM, as the kernel would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

static int (*real_set_proc)(cap_t);

static int flag_of(cap_t caps, cap_flag_t set)
{
	cap_flag_value_t v = CAP_CLEAR;

	cap_get_flag(caps, CAP_SYS_NICE, set, &v);
	return v == CAP_SET;
}

/* The mode in $MP2_CAPFAIL's file: "drop", "all" or "" (fail nothing). */
static void read_mode(char *mode, size_t size)
{
	const char *path = getenv("MP2_CAPFAIL");
	FILE *f;

	mode[0] = '\0';
	if (!path || !(f = fopen(path, "r")))
		return;
	if (fgets(mode, (int)size, f))
		mode[strcspn(mode, "\n")] = '\0';
	fclose(f);
}

int cap_set_proc(cap_t caps)
{
	char mode[16];
	cap_t now;
	int lowers;

	if (!real_set_proc)
		real_set_proc = (int (*)(cap_t))dlsym(RTLD_NEXT, "cap_set_proc");
	read_mode(mode, sizeof(mode));
	if (mode[0] != '\0' && (now = cap_get_proc()) != NULL) {
		lowers = flag_of(now, CAP_EFFECTIVE) &&
			 !flag_of(caps, CAP_EFFECTIVE);
		cap_free(now);
		if (lowers && (strcmp(mode, "all") == 0 ||
			       (strcmp(mode, "drop") == 0 &&
				flag_of(caps, CAP_PERMITTED)))) {
			errno = EPERM;
			return -1;
		}
	}
	return real_set_proc(caps);
}
