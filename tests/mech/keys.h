/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers: OpenSSL keys and their struct vnp_pubkey, and the "card" private-key
 * operation done in software. */
#ifndef VNP_TEST_MECH_KEYS_H
#define VNP_TEST_MECH_KEYS_H

#include <openssl/evp.h>
#include "pkcs11/mech.h"

/* A fresh private key for alg (aborts the test on failure). */
EVP_PKEY *test_key_new(enum vnp_key_alg alg);
/* The public part of pkey as the card driver would report it. */
void test_pubkey_of(EVP_PKEY *pkey, enum vnp_key_alg alg, struct vnp_pubkey *ret);
/* What the card does with card_input: sign in per params; sig receives the signature
 * (r || s for ECDSA, each order_len bytes). Returns the signature length. */
size_t test_card_sign(EVP_PKEY *pkey, const struct vnp_sign_params *params, size_t order_len,
		      const uint8_t *in, size_t in_len, uint8_t *sig, size_t sig_cap);
/* The OpenSSL digest for a vnp_hash. */
const EVP_MD *test_md(enum vnp_hash h);

#endif
