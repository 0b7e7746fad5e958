/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hex text to bytes (hexcodec.h). */
#include "hexcodec.h"
#include "rv.h"

int vnp_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vnp_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t i, n = 0;
	int hi = -1, v;

	for (i = 0; i < slen; i++) {
		if (s[i] == ' ' || s[i] == ':' || s[i] == '\t')
			continue;
		v = vnp_hex_nibble(s[i]);
		if (v < 0)
			return VNP_E_MALFORMED;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return VNP_E_RANGE;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return VNP_E_MALFORMED;
	*ret_len = n;
	return VNP_OK;
}
