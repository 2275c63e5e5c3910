/* SPDX-License-Identifier: MIT */
/* Random numbers for the YCSB-like workload: uniform and zipfian. */
#ifndef MP2BENCH_ZIPF_H
#define MP2BENCH_ZIPF_H

#include <stdint.h>

/* splitmix64: a fast generator with a 64-bit state per thread. */
uint64_t rng_next(uint64_t *state);
/* Uniform in [0, 1). */
double rng_unit(uint64_t *state);

/*
 * The zipfian generator of YCSB (Gray et al., "Quickly generating
 * billion-record synthetic databases"): item 0 is the most popular.
 */
struct zipf {
	uint64_t n;
	double theta, alpha, zetan, eta;
};

void zipf_init(struct zipf *z, uint64_t n, double theta);
/* A zipfian rank in [0, n). */
uint64_t zipf_rank(const struct zipf *z, uint64_t *state);
/* A zipfian item in [0, n) with the popular ones scattered (FNV hash). */
uint64_t zipf_scrambled(const struct zipf *z, uint64_t *state);

#endif /* MP2BENCH_ZIPF_H */
