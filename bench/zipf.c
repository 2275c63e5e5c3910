// SPDX-License-Identifier: MIT
/* Uniform and zipfian random numbers for the YCSB-like workload. */
#include <math.h>

#include "zipf.h"

uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/*
 * The generalised harmonic number sum(i^-theta, i = 1..n).  Past the first
 * ZETA_EXACT terms the rest is the Euler-Maclaurin sum (integral, end
 * terms, first derivative term), exact to about 1e-12 relative: the plain
 * sum costs seconds per million keys in an emulated guest.
 */
#define ZETA_EXACT 100000

static double zeta(uint64_t n, double theta)
{
	uint64_t m = n < ZETA_EXACT ? n : ZETA_EXACT;
	double sum = 0, a, b;

	for (uint64_t i = 1; i <= m; i++)
		sum += 1.0 / pow((double)i, theta);
	if (n == m)
		return sum;
	a = (double)m;
	b = (double)n;
	sum += (pow(b, 1.0 - theta) - pow(a, 1.0 - theta)) / (1.0 - theta);
	sum += (pow(b, -theta) - pow(a, -theta)) / 2.0;
	sum += -theta * (pow(b, -theta - 1.0) - pow(a, -theta - 1.0)) / 12.0;
	return sum;
}

void zipf_init(struct zipf *z, uint64_t n, double theta)
{
	double zeta2 = zeta(2, theta);

	z->n = n;
	z->theta = theta;
	z->alpha = 1.0 / (1.0 - theta);
	z->zetan = zeta(n, theta);
	z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) /
		 (1.0 - zeta2 / z->zetan);
}

uint64_t zipf_rank(const struct zipf *z, uint64_t *s)
{
	double u = rng_unit(s);
	double uz = u * z->zetan;
	uint64_t r;

	if (uz < 1.0)
		return 0;
	if (uz < 1.0 + pow(0.5, z->theta))
		return 1;
	r = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	return r < z->n ? r : z->n - 1;
}

uint64_t zipf_scrambled(const struct zipf *z, uint64_t *s)
{
	uint64_t r = zipf_rank(z, s);
	uint64_t h = 0xCBF29CE484222325ull;

	for (int i = 0; i < 8; i++) {
		h ^= (r >> (8 * i)) & 0xff;
		h *= 0x100000001B3ull;
	}
	return h % z->n;
}
