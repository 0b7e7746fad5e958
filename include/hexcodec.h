/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hex text to bytes (libvnpccid; the module's configuration, the tools, the tests). */
#ifndef VNP_HEXCODEC_H
#define VNP_HEXCODEC_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int vnp_hex_nibble(char c);

/* Decode s[0..slen): pairs of hex digits; spaces, tabs and colons between digits are
 * skipped. VNP_E_MALFORMED on another character or an odd digit count, VNP_E_RANGE when
 * more than cap bytes. *ret_len: the byte count. out may hold part of the bytes on error. */
int vnp_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *ret_len);

#endif
