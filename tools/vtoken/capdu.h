/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Command APDU parsing on the card side (ISO/IEC 7816-4 §5.1, cases 1-4, short and
 * extended length). Pure. */
#ifndef VNP_VT_CAPDU_H
#define VNP_VT_CAPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnp_vt_capdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* points into the parsed buffer; NULL when lc == 0 */
	size_t lc;           /* Nc */
	size_t ne;           /* Ne: 0 when Le is absent, 256 / 65536 for Le = 00 / 0000 */
	bool has_le;
	bool extended;
};

/* Parse buf. Returns VNP_OK or VNP_E_WRONG_LENGTH (fewer than 4 bytes, Lc disagreeing
 * with the length, Lc = 0 written out, a lone extended marker). */
int vnp_vt_capdu_parse(const uint8_t *buf, size_t len, struct vnp_vt_capdu *ret);

#endif
