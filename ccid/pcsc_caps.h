/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a PC/SC reader moves, decided from facts pcscd gives: a pure function, unit-tested
 * without pcscd (tests/ccid/test_pcsc_caps.c). Private to ccid/. */
#ifndef VNP_PCSC_CAPS_H
#define VNP_PCSC_CAPS_H

#include <stdbool.h>
#include "transport.h"

#define VNP_PCSC_SHORT_CMD_MAX 261  /* CLA INS P1 P2 Lc 255 bytes Le */
#define VNP_PCSC_SHORT_RESP_MAX 258 /* 256 bytes + SW1 SW2 */
#define VNP_PCSC_EXT_CMD_MAX 65544  /* 4 + 3 + 65535 + 2 */
#define VNP_PCSC_EXT_RESP_MAX 65538 /* 65536 + SW1 SW2 */
/* vsmartcard's vpcd frames every message with a 16-bit length (vpcd 0.8, Debian 12). */
#define VNP_PCSC_VPCD_MSG_MAX 65535

/* True when reader_name is a vsmartcard vpcd reader: pcscd names its slots
 * "Virtual PCD 00 00", "Virtual PCD 00 01", ... (the substring "Virtual PCD"). */
bool vnp_pcsc_is_vpcd(const char *reader_name);

/* Fill caps for one connected reader. Rules, in order:
 *  - T=0 (t0): never extended (ISO 7816-3 T=0 has no extended case 4), short sizes;
 *  - a vpcd reader (vnp_pcsc_is_vpcd): extended, 65535 bytes both ways (its framing);
 *  - SCARD_ATTR_MAXINPUT known (have_maxin) and > 261: extended, max_cmd = MAXINPUT
 *    (capped at 65544), max_resp 65538;
 *  - otherwise short: 261 / 258.
 * Pure; reader_name may be NULL (not vpcd). */
void vnp_pcsc_caps(const char *reader_name, bool t0, bool have_maxin, unsigned long maxin,
		   struct vnp_reader_caps *caps);

#endif
