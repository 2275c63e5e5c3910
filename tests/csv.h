/* SPDX-License-Identifier: MIT */
/* CSV text in the mp2bench suites: how many columns a line has. */
#ifndef MP2_TEST_CSV_H
#define MP2_TEST_CSV_H

/* The columns of one CSV line (its commas and one); no quoting. */
static inline int csv_columns(const char *line)
{
	int n = 1;

	for (; *line; line++)
		n += *line == ',';
	return n;
}

#endif
