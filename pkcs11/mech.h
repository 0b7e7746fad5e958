/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mechanisms and host-side signature work (OpenSSL 3): hashing for CKM_SHA*_RSA_PKCS
 * etc., DigestInfo, PSS parameter checks, ECDSA hash input, and C_Verify* with the
 * public key. The private-key operation itself goes to the card. */
#ifndef VNP_MECH_H
#define VNP_MECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <p11-kit/pkcs11.h>
#include "card.h"

/* The mechanisms a token supports, given its algorithm bits (vnp_alg_bit) and whether it
 * can generate keys. With out == NULL returns the count; otherwise fills at most max and
 * returns the count written. Order is stable. */
size_t vnp_mech_list(uint32_t algs, CK_MECHANISM_TYPE *out, size_t max);
/* CKR_OK, or CKR_MECHANISM_INVALID when the token lacks it. Key sizes are in bits. */
CK_RV vnp_mech_info(uint32_t algs, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *ret);

struct vnp_sigctx;

/* Start a sign or verify operation with mech on a key whose public part is key.
 * Checks the mechanism against the key type (CKR_KEY_TYPE_INCONSISTENT), the parameters
 * (CKR_MECHANISM_PARAM_INVALID: wrong size, PSS hash not matching the mechanism's hash,
 * salt too long for the key, MGF not MGF1 or not the same hash), unknown mechanisms
 * (CKR_MECHANISM_INVALID). CKR_HOST_MEMORY. */
CK_RV vnp_sigctx_new(const CK_MECHANISM *mech, const struct vnp_pubkey *key,
		     struct vnp_sigctx **ret);
void vnp_sigctx_free(struct vnp_sigctx *ctx); /* NULL is a no-op */

/* Bytes of signature this operation produces (RSA: modulus length, ECDSA: 2 * order). */
size_t vnp_sigctx_sig_len(const struct vnp_sigctx *ctx);

/* Feed data. Hashing mechanisms hash it; raw mechanisms (CKM_RSA_PKCS, CKM_ECDSA,
 * CKM_RSA_PKCS_PSS) collect it and return CKR_DATA_LEN_RANGE when it grows past what the
 * mechanism takes (RSA_PKCS: k - 11; PSS: the hash length exactly is checked at the end;
 * ECDSA: 64 bytes). */
CK_RV vnp_sigctx_update(struct vnp_sigctx *ctx, const uint8_t *data, size_t len);

/* Finish the host part: the bytes the card signs and the card parameters. For SHA*_RSA_PKCS
 * the DigestInfo; for PSS mechanisms the hash; for ECDSA the hash (raw CKM_ECDSA: the data
 * as given). *out_len: capacity on entry, length on return. 128 is enough for every
 * mechanism but raw CKM_RSA_PKCS (up to k - 11 bytes); VNP_RSA_MAX_BYTES is always enough.
 * CKR_BUFFER_TOO_SMALL (*out_len set to the length needed); CKR_DATA_LEN_RANGE when raw
 * input has the wrong length. May be called more than once; vnp_sigctx_verify may follow. */
CK_RV vnp_sigctx_card_input(struct vnp_sigctx *ctx, uint8_t *out, size_t *out_len,
			    struct vnp_sign_params *ret_params);

/* Verify sig over everything fed with update, with the public key (OpenSSL).
 * CKR_OK, CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE, CKR_DATA_LEN_RANGE. */
CK_RV vnp_sigctx_verify(struct vnp_sigctx *ctx, const uint8_t *sig, size_t sig_len);

/* Public keys. */
/* DER of the named curve OID (CKA_EC_PARAMS) for an EC algorithm; NULL for others. */
const uint8_t *vnp_ec_params_der(enum vnp_key_alg alg, size_t *ret_len);
/* The algorithm for a CKA_EC_PARAMS value (named curve OID, or the curve's name as a
 * PrintableString as some clients send); VNP_ALG_NONE when unknown. */
enum vnp_key_alg vnp_ec_params_alg(const uint8_t *der, size_t len);
/* CKA_EC_POINT: the point wrapped in a DER OCTET STRING. *ret_len: capacity/length.
 * CKR_BUFFER_TOO_SMALL. */
CK_RV vnp_ec_point_der(const struct vnp_pubkey *key, uint8_t *out, size_t *ret_len);
/* DER SubjectPublicKeyInfo of key (CKA_PUBLIC_KEY_INFO), malloc'd. CKR_HOST_MEMORY,
 * CKR_GENERAL_ERROR. */
CK_RV vnp_pubkey_spki(const struct vnp_pubkey *key, uint8_t **ret, size_t *ret_len);
/* Key size in bits (modulus bits, or curve bits). */
CK_ULONG vnp_pubkey_bits(const struct vnp_pubkey *key);

/* Certificates (CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER, validity, public key). */
struct vnp_x509 {
	uint8_t *subject; size_t subject_len;   /* DER Name */
	uint8_t *issuer; size_t issuer_len;     /* DER Name */
	uint8_t *serial; size_t serial_len;     /* DER INTEGER (tag, length, value) */
	CK_DATE start_date, end_date;           /* YYYYMMDD as CK_DATE (UTC) */
	struct vnp_pubkey pub;                  /* alg VNP_ALG_NONE when not one we know */
};
/* Parse a DER certificate. CKR_OK; CKR_ATTRIBUTE_VALUE_INVALID when it is not DER X.509;
 * CKR_HOST_MEMORY. */
CK_RV vnp_x509_parse(const uint8_t *der, size_t len, struct vnp_x509 *ret);
void vnp_x509_clear(struct vnp_x509 *x); /* frees the members; safe on a zeroed struct */

#endif
