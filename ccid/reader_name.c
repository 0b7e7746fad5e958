/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reader names with an index (reader_name.h). */
#include <stdlib.h>
#include <string.h>

#include "reader_name.h"
#include "rv.h"

int vnp_reader_name_index(const char *name, const char *prefix, unsigned n, unsigned *ret_idx)
{
	size_t plen = strlen(prefix);
	char *end = NULL;
	unsigned long idx;

	if (strncmp(name, prefix, plen) != 0 || !name[plen])
		return VNP_E_NO_DEVICE;
	idx = strtoul(name + plen, &end, 10);
	if (*end || idx >= n)
		return VNP_E_NO_DEVICE;
	*ret_idx = (unsigned)idx;
	return VNP_OK;
}
