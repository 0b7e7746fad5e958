/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helper: hex strings to bytes. Spaces are ignored; a token "seq:SS:N" (hex start, decimal
 * count) expands to N bytes SS, SS+1, ... (for long chained blocks). */
#ifndef CCIDPROTO_HEX_H
#define CCIDPROTO_HEX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hexcodec.h"

/* Returns the byte count, or (size_t)-1 on a bad string or overflow of cap. */
static size_t hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (!strncmp(s, "seq:", 4)) {
			char *end;
			unsigned long start = strtoul(s + 4, &end, 16);
			unsigned long count;

			if (*end != ':')
				return (size_t)-1;
			count = strtoul(end + 1, &end, 10);
			for (unsigned long i = 0; i < count; i++) {
				if (n >= cap)
					return (size_t)-1;
				out[n++] = (uint8_t)(start + i);
			}
			s = end;
			continue;
		}
		if (vnp_hex_nibble(s[0]) < 0 || vnp_hex_nibble(s[1]) < 0 || n >= cap)
			return (size_t)-1;
		out[n++] = (uint8_t)(vnp_hex_nibble(s[0]) << 4 | vnp_hex_nibble(s[1]));
		s += 2;
	}
	return n;
}

#endif
