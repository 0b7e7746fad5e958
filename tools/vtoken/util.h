/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers of the virtual token: hex output, sleeping (hex input: hexcodec.h). */
#ifndef VNP_VT_UTIL_H
#define VNP_VT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hexcodec.h"

/* Write len bytes as lowercase hex (no separators) to f. */
void vnp_vt_hex_write(FILE *f, const uint8_t *buf, size_t len);
/* Sleep ms milliseconds (nanosleep, restarted on EINTR unless *stop becomes true). */
void vnp_vt_sleep_ms(unsigned ms, const _Atomic int *stop);
/* Now on the monotonic clock, in nanoseconds. */
uint64_t vnp_vt_now_ns(void);
/* Sleep until ms milliseconds after start_ns (vnp_vt_now_ns): the card's time for an
 * operation includes the host's own computing (a modelled token time, not added to it). */
void vnp_vt_sleep_until_ms(uint64_t start_ns, unsigned ms, const _Atomic int *stop);

#endif
