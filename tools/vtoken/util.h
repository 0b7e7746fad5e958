/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers of the virtual token: hex, sleeping. */
#ifndef VNP_VT_UTIL_H
#define VNP_VT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Write len bytes as lowercase hex (no separators) to f. */
void vnp_vt_hex_write(FILE *f, const uint8_t *buf, size_t len);
/* Decode hex of slen characters (spaces and colons ignored) into out (capacity cap).
 * Returns VNP_OK, VNP_E_MALFORMED (odd digit count, bad character) or VNP_E_RANGE. */
int vnp_vt_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *ret_len);
/* Sleep ms milliseconds (nanosleep, restarted on EINTR unless *stop becomes true). */
void vnp_vt_sleep_ms(unsigned ms, const _Atomic int *stop);
/* Now on the monotonic clock, in nanoseconds. */
uint64_t vnp_vt_now_ns(void);
/* Sleep until ms milliseconds after start_ns (vnp_vt_now_ns): the card's time for an
 * operation includes the host's own computing (a modelled token time, not added to it). */
void vnp_vt_sleep_until_ms(uint64_t start_ns, unsigned ms, const _Atomic int *stop);

#endif
