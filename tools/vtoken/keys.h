/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On-card cryptography of the virtual token (OpenSSL 3, a private library context). */
#ifndef VNP_VT_KEYS_H
#define VNP_VT_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include "tlv.h"

/* signature schemes (MSE SET tag 80) */
#define VNP_VT_SCHEME_PKCS1 0x01
#define VNP_VT_SCHEME_PSS 0x02
#define VNP_VT_SCHEME_ECDSA 0x03

/* A library context with the default provider loaded (*ret_prov); NULL on failure. */
OSSL_LIB_CTX *vnp_vt_libctx_new(OSSL_PROVIDER **ret_prov);
/* Unload the provider and free the context; NULLs are no-ops. */
void vnp_vt_libctx_free(OSSL_LIB_CTX *libctx, OSSL_PROVIDER *prov);
/* True for a key algorithm reference the token supports. */
int vnp_vt_alg_supported(uint8_t alg);
/* Generate a key pair of algorithm reference alg. VNP_OK, VNP_E_ARGS, VNP_E_CRYPTO. */
int vnp_vt_key_generate(OSSL_LIB_CTX *libctx, uint8_t alg, EVP_PKEY **ret);
/* PKCS#8 DER of a private key (OPENSSL_malloc'd; free with OPENSSL_clear_free). */
int vnp_vt_key_to_der(EVP_PKEY *pkey, uint8_t **ret_der, size_t *ret_len);
/* Parse PKCS#8 DER; checks that the key matches alg. VNP_E_MALFORMED on mismatch. */
int vnp_vt_key_from_der(OSSL_LIB_CTX *libctx, uint8_t alg, const uint8_t *der, size_t len,
			EVP_PKEY **ret);
/* Append the public key template 7F49 (RSA: 81 n, 82 e; EC: 86 uncompressed point). */
int vnp_vt_key_put_public(EVP_PKEY *pkey, uint8_t alg, struct vnp_buf *out);
/* Modulus or order size in bytes. */
size_t vnp_vt_key_size(uint8_t alg);
/* The algorithm's name as vnpki-vtoken shows it ("rsa2048", ...; "unknown"). */
const char *vnp_vt_alg_name(uint8_t alg);
/* Sign in with scheme (and for PSS: hashref per APPLET.md, salt length). Writes at most
 * *sig_len bytes to sig. VNP_E_INVALID_DATA when the input does not fit the scheme or key,
 * VNP_E_CONDITIONS when the scheme does not fit the key, VNP_E_CRYPTO. */
int vnp_vt_sign(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, uint8_t alg, uint8_t scheme,
		uint8_t hashref, uint16_t salt_len, const uint8_t *in, size_t in_len,
		uint8_t *sig, size_t *sig_len);
/* PIN verifier: PBKDF2-HMAC-SHA256(pin, salt, 2000 iterations), 32 bytes. */
int vnp_vt_pin_hash(OSSL_LIB_CTX *libctx, const uint8_t *salt, size_t salt_len,
		    const uint8_t *pin, size_t pin_len, uint8_t out[32]);

#endif
