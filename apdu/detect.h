/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card detection order: which applet drivers to try first, from the ATR alone. Pure. */
#ifndef VNP_DETECT_H
#define VNP_DETECT_H

#include <stddef.h>
#include <stdint.h>
#include "card.h"

enum vnp_atr_class {
	VNP_ATR_OTHER = 0,   /* unknown or unparsable: vntoken, PIV, SIM PKI */
	VNP_ATR_VNTOKEN = 1, /* our token's historical bytes "VNPKI-VT": vntoken first */
	VNP_ATR_T0_ONLY = 2, /* offers T=0 and no other protocol (a UICC / SIM): SIM PKI first */
	VNP_ATR_PIV = 3,     /* historical bytes naming PIV ("...PIV...", YubiKey's "Yubikey"):
			      * PIV first */
};

/* Classify an ATR (ISO/IEC 7816-3 §8.2: TS T0 TAi TBi TCi TDi, historical bytes). */
enum vnp_atr_class vnp_atr_classify(const uint8_t *atr, size_t len);

/* The drivers to try, in order, for this ATR; writes at most cap of them and returns how
 * many it wrote. Every known driver appears once. */
size_t vnp_card_detect_order(const uint8_t *atr, size_t len,
			     const struct vnp_card_driver **ret, size_t cap);

#define VNP_DRIVERS_MAX 8

#endif
