// SPDX-License-Identifier: MIT
/*
 * Tests of mp2bench's building blocks: the arena B+-Tree checked against a
 * sorted reference array, and the zipfian generator's range and skew.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "btree.h"
#include "harness.h"
#include "zipf.h"

#define N_LOAD 20000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void test_build_and_get(void)
{
	static uint64_t keys[N_LOAD];
	struct btree t;
	uint64_t v;

	for (size_t i = 0; i < N_LOAD; i++)
		keys[i] = 10 * i;
	T_REQUIRE(btree_build(&t, keys, N_LOAD, 0, 0) == 0);
	T_EQ(t.nkeys, N_LOAD);
	for (size_t i = 0; i < N_LOAD; i++) {
		if (!btree_get(&t, 10 * i, &v) || v != 10 * i) {
			T_CHECK(btree_get(&t, 10 * i, &v) && v == 10 * i);
			break;
		}
	}
	T_CHECK(!btree_get(&t, 5, &v));
	T_CHECK(!btree_get(&t, 10 * N_LOAD, &v));
	T_CHECK(btree_update(&t, 30, 7));
	T_CHECK(btree_get(&t, 30, &v) && v == 7);
	T_CHECK(!btree_update(&t, 31, 7));
	btree_free(&t);
}

/* Random inserts into a loaded tree; then every key and a full scan. */
static void test_insert_and_scan(void)
{
	static uint64_t keys[N_LOAD], all[2 * N_LOAD];
	struct btree t;
	uint64_t rng = 42, v, sum = 0, expect = 0;
	size_t n = N_LOAD, inserted = 0;

	for (size_t i = 0; i < N_LOAD; i++)
		all[i] = keys[i] = 2 * i;
	T_REQUIRE(btree_build(&t, keys, N_LOAD, 400, 0) == 0);
	for (int i = 0; i < N_LOAD; i++) {
		uint64_t k = 2 * (rng_next(&rng) % N_LOAD) + 1;
		int r = btree_insert(&t, k, k);

		T_CHECK(r == 0 || r == 1 || r == -ENOMEM);
		if (r == -ENOMEM)
			break;
		if (r == 0) {
			all[n++] = k;
			inserted++;
		}
	}
	T_CHECK(inserted > 1000);
	T_EQ(t.nkeys, n);
	qsort(all, n, sizeof(*all), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (!btree_get(&t, all[i], &v) || v != all[i]) {
			T_CHECK(btree_get(&t, all[i], &v) && v == all[i]);
			break;
		}
		expect += all[i];
	}
	T_EQ(btree_scan(&t, 0, n + 10, &sum), n);
	T_EQ(sum, expect);
	/* A short scan from the middle sees the next keys in order. */
	sum = 0;
	T_EQ(btree_scan(&t, all[n / 2], 3, &sum), 3);
	T_EQ(sum, all[n / 2] + all[n / 2 + 1] + all[n / 2 + 2]);
	btree_free(&t);
}

static void test_arena_full(void)
{
	uint64_t key = 0;
	struct btree t;
	int r = 0;

	T_REQUIRE(btree_build(&t, &key, 1, 0, 0) == 0);
	for (uint64_t k = 1; k < 100000 && r == 0; k++)
		r = btree_insert(&t, k, k);
	T_EQ(r, -ENOMEM);
	btree_free(&t);
}

static void test_zipf(void)
{
	struct zipf z;
	uint64_t rng = 7, hits0 = 0, max = 0;
	const int draws = 200000;

	zipf_init(&z, 10000, 0.99);
	for (int i = 0; i < draws; i++) {
		uint64_t r = zipf_rank(&z, &rng);

		hits0 += r == 0;
		if (r > max)
			max = r;
		T_REQUIRE(r < 10000);
		T_REQUIRE(zipf_scrambled(&z, &rng) < 10000);
	}
	/* With theta 0.99 over 10^4 items, rank 0 draws about 10%. */
	T_CHECK(hits0 > draws / 20 && hits0 < draws / 5);
	T_CHECK(max > 5000);
}

int main(void)
{
	T_RUN(test_build_and_get);
	T_RUN(test_insert_and_scan);
	T_RUN(test_arena_full);
	T_RUN(test_zipf);
	return t_finish("mp2bench");
}
