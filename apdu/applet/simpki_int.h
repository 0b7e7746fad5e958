/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIM PKI applet (tools/vtoken/SIMPKI.md): AID and the FCI parser shared by
 * applet/simpki.c and applet/simpki_parse.c. Private to apdu/. */
#ifndef VNP_SIMPKI_INT_H
#define VNP_SIMPKI_INT_H

#include <stddef.h>
#include <stdint.h>
#include "card.h"

#define SIMPKI_AID_LEN 9
extern const uint8_t vnp_simpki_aid[SIMPKI_AID_LEN];

#define SIMPKI_PUK_LEN 8    /* digits */
#define SIMPKI_PIN_BLOCK 16 /* CHANGE REFERENCE DATA: each PIN FF-padded to 16 bytes */

/* Parse a SELECT answer: FCI template 6F with the DF name (84, must be our AID when
 * present) and the proprietary template A5 (the vntoken capability fields, plus 8C = PUK
 * length min, max). Fills ret with type SIM PKI, so_kind PUK, short APDUs only.
 * VNP_E_MALFORMED when it does not parse. */
int vnp_simpki_parse_fci(const uint8_t *buf, size_t len, struct vnp_token_info *ret);

extern const struct vnp_card_driver vnp_driver_simpki;

#endif
