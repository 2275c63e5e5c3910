// SPDX-License-Identifier: MIT
/* mp2bench: reader threads, a query-like load during a migration. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "busy.h"
#include "zipf.h"

/* Reads between two looks at the stop flag. */
#define READS_PER_ROUND 1024

struct reader {
	pthread_t tid;
	clockid_t clock;	/* the thread's CPU-time clock */
	_Atomic uint64_t reads;
	struct busy *b;
	uint64_t seed;
	char pad[64];		/* keep counters apart */
};

struct busy {
	int n;
	const char *buf;
	size_t words;
	atomic_bool stop;
	atomic_int running;
	struct reader r[];
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	struct busy *b = r->b;
	const volatile uint64_t *w = (const volatile uint64_t *)b->buf;
	uint64_t state = r->seed, sum = 0;

	atomic_fetch_add(&b->running, 1);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		for (int i = 0; i < READS_PER_ROUND; i++)
			sum += w[rng_next(&state) % b->words];
		atomic_fetch_add_explicit(&r->reads, READS_PER_ROUND,
					  memory_order_relaxed);
	}
	return (void *)(uintptr_t)(sum & 1);
}

struct busy *busy_start(int n, const char *buf, size_t bytes)
{
	struct busy *b = calloc(1, sizeof(*b) + (size_t)n * sizeof(b->r[0]));
	struct timespec pause = { 0, 100000 };

	if (!b)
		return NULL;
	b->buf = buf;
	b->words = bytes / sizeof(uint64_t);
	for (b->n = 0; b->n < n; b->n++) {
		struct reader *r = &b->r[b->n];

		r->b = b;
		r->seed = 0x5eed0000u + (uint64_t)b->n;
		if (pthread_create(&r->tid, NULL, reader_run, r))
			break;
		if (pthread_getcpuclockid(r->tid, &r->clock)) {
			b->n++;
			break;
		}
	}
	if (b->n < n) {
		busy_stop(b);
		return NULL;
	}
	while (atomic_load(&b->running) < n)
		nanosleep(&pause, NULL);
	return b;
}

void busy_sample(const struct busy *b, uint64_t *reads, double *cpu_s)
{
	*reads = 0;
	*cpu_s = 0;
	for (int i = 0; b && i < b->n; i++) {
		struct timespec ts;

		*reads += atomic_load_explicit(&b->r[i].reads,
					       memory_order_relaxed);
		if (!clock_gettime(b->r[i].clock, &ts))
			*cpu_s += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
}

void busy_stop(struct busy *b)
{
	if (!b)
		return;
	atomic_store(&b->stop, true);
	for (int i = 0; i < b->n; i++)
		pthread_join(b->r[i].tid, NULL);
	free(b);
}
