// SPDX-License-Identifier: MIT
/* mp2bench: a growing array of result rows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"

int rows_add(struct rows *rows, const void *r, size_t size)
{
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? 2 * rows->cap : 64;
		void *v = realloc(rows->v, cap * size);

		if (!v)
			return -ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	memcpy((char *)rows->v + rows->n++ * size, r, size);
	return 0;
}
