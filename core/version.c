// SPDX-License-Identifier: MIT
/* The version of the library a program runs with. */
#include "mp2.h"

int mp2_version(void)
{
	return MP2_VERSION_NUM;
}
