/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken init and show for the PIV profile (PIV.md). */
#ifndef VNP_VT_CLI_PIV_H
#define VNP_VT_CLI_PIV_H

#include <stdbool.h>
#include <stddef.h>
#include "state.h"

#define VT_PIV_INIT_KEYS_MAX 8

struct vnp_vt_piv_init {
	const char *puk;                        /* NULL: 12345678 */
	const char *mgmt_key;                   /* hex; NULL: the 3DES default */
	const char *keys[VT_PIV_INIT_KEYS_MAX]; /* "SLOT:ALG" (9a:rsa2048) */
	size_t nkeys;
};

/* True when the PIN suits a PIV card (6 to 8 digits). */
bool vnp_vt_piv_pin_ok(const uint8_t *pin, size_t len);
/* Personalise st (PIN already set) as a PIV card: profile, PUK, management key, default
 * data objects, and for each "SLOT:ALG" a generated key with a self-signed certificate.
 * 0, or -1 after printing why to stderr. */
int vnp_vt_piv_personalise(struct vnp_vt_state *st, const struct vnp_vt_piv_init *a);
/* `show` of a PIV card: text or JSON on stdout. */
void vnp_vt_piv_show(const struct vnp_vt_data *d, bool json);

#endif
