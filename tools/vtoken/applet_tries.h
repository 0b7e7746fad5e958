/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIN and PUK tries as the applets (vntoken, PIV, SIM PKI) count them. Internal to
 * tools/vtoken. */
#ifndef VNP_VT_APPLET_TRIES_H
#define VNP_VT_APPLET_TRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>

#include "vcard.h"

/* 63Cx: x tries left (at most 15 shown). */
uint16_t vnp_vt_tries_sw(uint8_t left);
/* The answer to VERIFY without data: 6983 blocked, 9000 verified, else 63Cx. */
uint16_t vnp_vt_pin_status_sw(uint8_t tries, bool verified);
/* 1 when value hashes (vnp_vt_pin_hash with salt) to hash, 0 when not, -1 on a crypto
 * failure. */
int vnp_vt_pin_matches(OSSL_LIB_CTX *libctx, const uint8_t *salt, size_t salt_len,
		       const uint8_t *hash, const uint8_t *value, size_t len);
/* Spend a PIN try (saved), then compare pin with the state's PIN verifier (pin NULL: wrong
 * without comparing). 0 when right (counter not yet restored), else the SW; a wrong PIN
 * clears *verified and *always_auth_ok. Lock held. */
uint16_t vnp_vt_spend_pin(struct vnp_vcard *card, const uint8_t *pin, size_t len,
			  bool *verified, bool *always_auth_ok);
/* VERIFY with data after its checks: under the state lock, vnp_vt_spend_pin, then the
 * counter back to its maximum, saved, and *verified and *always_auth_ok set. */
uint16_t vnp_vt_verify_pin(struct vnp_vcard *card, const uint8_t *pin, size_t len,
			   bool *verified, bool *always_auth_ok);

#endif
