/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SIM PKI applet (SIMPKI.md). Internal to tools/vtoken. */
#ifndef VNP_VT_APPLET_SIMPKI_H
#define VNP_VT_APPLET_SIMPKI_H

#include <stdint.h>
#include "vcard.h"

#define SIM_PUK_LEN 8
#define SIM_PIN_BLOCK 16 /* CHANGE REFERENCE DATA: each PIN padded with FF to 16 bytes */

/* applet_simpki_puk.c. RESET RETRY COUNTER (00 2C 00|01 81): PUK || new PIN (P1 00) or
 * PUK alone (P1 01). 6983 when the PUK is blocked, 6985 without a PUK, 6700, 6A80 (new PIN
 * outside the policy: nothing spent), 63Cx (x PUK tries left; the try is saved before
 * the PUK is compared), 6581, 9000. Takes and releases the state lock itself. */
uint16_t vnp_vt_sim_reset_retry(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
/* The PUK status (VERIFY 00 20 00 82, no data): 63Cx, or 6983 when blocked. */
uint16_t vnp_vt_sim_puk_status(struct vnp_vcard *card);

#endif
