/* SPDX-License-Identifier: MIT */
/*
 * A small test harness shared by mp2's C test suites.
 *
 * A suite is a program whose main() calls T_RUN() for each test and ends
 * with "return t_finish(\"suite-name\");".  It reports in TAP, as every
 * mp2 suite does: one line a test ("ok N - name", "not ok N - name", or
 * "ok N - name # SKIP reason"), the plan "1..N" after the last, and its
 * counts in a comment for whoever reads it ("# suite-name: N passed, ...").
 * prove reads it (prove -e '' build/test_core), and so does
 * scripts/tap-sum, which scripts/check.sh sums every suite with.  The exit
 * status is 1 when a test failed.  Checks do not stop a test: every failed
 * check is printed as a diagnostic ("# file:line: ...") when it fails,
 * then the test goes on.
 */
#ifndef MP2_TEST_HARNESS_H
#define MP2_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_counts {
	int passed;
	int failed;
	int skipped;
};

static struct t_counts t_counts;
static int t_cur_failed;
static int t_cur_skipped;
static char t_skip_reason[256];

static inline void t_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void t_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	t_cur_failed++;
}

/* Check a condition; on failure print it and mark the test failed. */
#define T_CHECK(cond)                                                        \
	do {                                                                 \
		if (!(cond))                                                 \
			t_fail_at(__FILE__, __LINE__, "check failed: %s",    \
				  #cond);                                    \
	} while (0)

/* Compare two integers (as long long) and print both on mismatch. */
#define T_EQ(a, b)                                                           \
	do {                                                                 \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);      \
		if (t_a_ != t_b_)                                            \
			t_fail_at(__FILE__, __LINE__,                        \
				  "%s == %s: got %lld, expected %lld", #a,   \
				  #b, t_a_, t_b_);                           \
	} while (0)

/* Like T_CHECK, but return from the test at once when the check fails. */
#define T_REQUIRE(cond)                                                      \
	do {                                                                 \
		if (!(cond)) {                                               \
			t_fail_at(__FILE__, __LINE__, "required: %s",        \
				  #cond);                                    \
			return;                                              \
		}                                                            \
	} while (0)

/* Skip the rest of the test, saying why. */
#define T_SKIP(...)                                                          \
	do {                                                                 \
		snprintf(t_skip_reason, sizeof(t_skip_reason), __VA_ARGS__); \
		t_cur_skipped = 1;                                           \
		return;                                                      \
	} while (0)

/* The number of the test just counted, for its TAP line. */
static inline int t_number(void)
{
	return t_counts.passed + t_counts.failed + t_counts.skipped;
}

static inline void t_run(const char *name, void (*fn)(void))
{
	t_cur_failed = 0;
	t_cur_skipped = 0;
	t_skip_reason[0] = '\0';
	fflush(stdout);
	fn();
	if (t_cur_failed) {
		t_counts.failed++;
		printf("not ok %d - %s\n", t_number(), name);
	} else if (t_cur_skipped) {
		t_counts.skipped++;
		printf("ok %d - %s # SKIP %s\n", t_number(), name, t_skip_reason);
	} else {
		t_counts.passed++;
		printf("ok %d - %s\n", t_number(), name);
	}
	fflush(stdout);
}

#define T_RUN(fn) t_run(#fn, fn)

static inline int t_finish(const char *suite)
{
	printf("1..%d\n", t_number());
	printf("# %s: %d passed, %d failed, %d skipped\n", suite,
	       t_counts.passed, t_counts.failed, t_counts.skipped);
	fflush(stdout);
	return t_counts.failed ? 1 : 0;
}

#endif /* MP2_TEST_HARNESS_H */
