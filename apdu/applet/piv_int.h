/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV card application (NIST SP 800-73-4): constants and the pure parsers and encoders
 * shared by applet/piv.c and applet/piv_parse.c. Private to apdu/. */
#ifndef VNP_PIV_INT_H
#define VNP_PIV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "card.h"

/* SP 800-73-4 Part 1 §3.1: data object tags (the BER-TLV tag of GET DATA's 5C list). */
#define PIV_TAG_CHUID 0x5FC102u
#define PIV_TAG_CCC 0x5FC107u
#define PIV_TAG_DISCOVERY 0x7Eu
#define PIV_TAG_CERT_9A 0x5FC105u
#define PIV_TAG_CERT_9C 0x5FC10Au
#define PIV_TAG_CERT_9D 0x5FC10Bu
#define PIV_TAG_CERT_9E 0x5FC101u

/* SP 800-78-4 Table 6-2: cryptographic mechanism identifiers. */
#define PIV_ALG_RSA3072 0x05 /* SP 800-78-5 */
#define PIV_ALG_RSA2048 0x07
#define PIV_ALG_P256 0x11
#define PIV_ALG_P384 0x14

/* The SP 800-73-4 mechanism identifier for a vnp_key_alg; 0 when PIV has none. */
uint8_t vnp_piv_alg_id(enum vnp_key_alg alg);

/* Parse the SELECT answer: application property template 61 { 4F PIX, 79 { 4F AID },
 * 50 label, AC { 80 alg ... } }. Fills label, version (last two PIX bytes) and algs of ret
 * and leaves the other fields alone. An empty answer is accepted (nothing filled).
 * VNP_E_MALFORMED when it does not parse. */
int vnp_piv_parse_apt(const uint8_t *buf, size_t len, struct vnp_token_info *ret);

/* Card serial from a CHUID answer (53 { 30 FASC-N, 34 GUID, ... }): the GUID when present
 * and not all zero, else the first VNP_SERIAL_MAX bytes of the FASC-N. VNP_E_NOT_FOUND when
 * it carries neither, VNP_E_MALFORMED when it does not parse. */
int vnp_piv_parse_chuid(const uint8_t *buf, size_t len, uint8_t ret_serial[VNP_SERIAL_MAX],
			size_t *ret_len);

/* PIN usage policy (tag 5F2F, two bytes) from a discovery object answer 7E { 4F AID,
 * 5F2F policy }. VNP_E_NOT_FOUND without policy, VNP_E_MALFORMED. */
int vnp_piv_parse_discovery(const uint8_t *buf, size_t len, uint8_t ret_policy[2]);

/* Certificate container (SP 800-73-4 Part 1 Appendix A): 53 { 70 cert, 71 CertInfo,
 * FE LRC }. *ret_cert points into buf. *ret_compressed: CertInfo bit 0 (gzip).
 * VNP_E_NOT_FOUND for an empty container, VNP_E_MALFORMED. */
int vnp_piv_parse_cert_container(const uint8_t *buf, size_t len, const uint8_t **ret_cert,
				 size_t *ret_cert_len, bool *ret_compressed);

/* Public key of a DER X.509 certificate (OpenSSL). VNP_E_NOT_SUPPORTED for a key type or
 * size the token model lacks, VNP_E_MALFORMED when the certificate does not parse. */
int vnp_piv_cert_pubkey(const uint8_t *der, size_t len, struct vnp_pubkey *ret);

/* EMSA-PKCS1-v1_5 type 1 (RFC 8017 §9.2 steps 3-5): 00 01 FF..FF 00 || in into out[k].
 * VNP_E_RANGE when in_len > k - 11. */
int vnp_piv_pad_pkcs1(const uint8_t *in, size_t in_len, uint8_t *out, size_t k);

/* EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of the hash mhash for a modulus of mod_bits bits into
 * out[(mod_bits + 7) / 8] (a leading zero byte when mod_bits % 8 == 1). salt may be NULL
 * for a random salt. VNP_E_ARGS (hash length), VNP_E_RANGE (salt too long), VNP_E_CRYPTO. */
int vnp_piv_pss_encode(const struct vnp_sign_params *p, const uint8_t *mhash, size_t mhash_len,
		       const uint8_t *salt, unsigned mod_bits, uint8_t *out);

/* The signature in a GENERAL AUTHENTICATE answer 7C { 82 sig }; *ret_sig points into buf.
 * VNP_E_MALFORMED. */
int vnp_piv_parse_auth_resp(const uint8_t *buf, size_t len, const uint8_t **ret_sig,
			    size_t *ret_len);

/* DER ECDSA-Sig-Value SEQUENCE { r, s } -> r || s, each n bytes, into out[2n].
 * VNP_E_MALFORMED for bad DER, trailing bytes or an integer longer than n. */
int vnp_piv_ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t n, uint8_t *out);

/* Extended length from the ATR's historical bytes: compact-TLV card capabilities (tag 7,
 * ISO/IEC 7816-4 §8.1.1.2.7), third byte b7. 1: the card takes extended Lc/Le; 0: the card
 * capabilities are there and say no; -1: the ATR does not tell. Pure. */
int vnp_piv_atr_extended(const uint8_t *atr, size_t len);

/* Largest certificate the driver accepts, inflated or not (a gzip bomb stops here). */
#define PIV_CERT_MAX 32768u

/* Inflate a compressed certificate (gzip, as CertInfo 01 says; a zlib stream is accepted
 * too) into a malloc'd *ret of at most max bytes. VNP_E_RANGE when the output would exceed
 * max, VNP_E_MALFORMED for a corrupt or truncated stream or trailing garbage, VNP_E_NOMEM. */
int vnp_piv_inflate(const uint8_t *in, size_t len, size_t max, uint8_t **ret, size_t *ret_len);

/* Public key from a GENERATE ASYMMETRIC KEY PAIR answer: 7F49 { 81 modulus, 82 exponent }
 * (RSA) or 7F49 { 86 point } (EC), for the algorithm alg that was asked for (VNP_ALG_NONE:
 * whichever the answer holds).
 * VNP_E_MALFORMED when it does not parse or does not fit alg. */
int vnp_piv_parse_genkey(const uint8_t *buf, size_t len, enum vnp_key_alg alg,
			 struct vnp_pubkey *ret);

/* Card management key (9B) block cipher, SP 800-78-4 Table 6-1: 03 3DES (24-byte key),
 * 08/0A/0C AES-128/192/256. Block size in bytes, 0 for an unknown algorithm. */
size_t vnp_piv_mgmt_block(uint8_t alg);
/* Encrypt or decrypt one block (ECB, no padding) with the management key.
 * VNP_E_ARGS (unknown algorithm, key length not the algorithm's), VNP_E_CRYPTO. */
int vnp_piv_mgmt_crypt(uint8_t alg, const uint8_t *key, size_t key_len, bool encrypt,
		       const uint8_t *in, uint8_t *out);

/* ---- driver internals shared by piv.c and piv_admin.c (transaction held by the caller) */

#define PIV_N_SLOTS 4

/* What the driver knows of one key slot in this card session. */
struct piv_slot_state {
	bool known;              /* the certificate container was read (or written) */
	uint8_t *cert;           /* its certificate (DER, inflated); NULL: empty slot */
	size_t cert_len;
	bool has_gen;            /* a key generated by this process, newer than the cert */
	struct vnp_pubkey gen;
};

struct piv_state {
	struct piv_slot_state slot[PIV_N_SLOTS];
	uint8_t serial[VNP_SERIAL_MAX];
	size_t serial_len;
};

struct piv_slot {
	uint8_t key_ref, id;     /* PIV key reference, CKA_ID byte (OpenSC's 01..04) */
	uint32_t tag;            /* certificate data object */
	unsigned usage, key_flags;
	const char *key_label, *cert_label;
};

extern const struct piv_slot vnp_piv_slots[PIV_N_SLOTS];
/* The slot index for a key reference (9A...) or an OpenSC-style id (01..04); -1. */
int vnp_piv_slot_index(uint8_t ref_or_id);
struct piv_state *vnp_piv_state(struct vnp_card *card); /* NULL: out of memory */
/* The slot's cached certificate is replaced by cert (copied; NULL: empty slot). */
int vnp_piv_cache_cert(struct piv_state *st, int idx, const uint8_t *cert, size_t len);
int vnp_piv_run(struct vnp_card *card, struct vnp_apdu *a);

/* piv_admin.c: the members that need the management key. Each authenticates with the
 * key of the configuration first (SP 800-73-4 Part 2 Appendix A.1, mutual authentication);
 * VNP_E_NOT_SUPPORTED (with a log line) when no key is configured. */
int vnp_piv_generate_key(struct vnp_card *card, const struct vnp_keygen *req,
			 struct vnp_obj *ret);
int vnp_piv_write_object(struct vnp_card *card, const struct vnp_obj *meta,
			 const uint8_t *value, size_t len, uint8_t *ret_ref);
int vnp_piv_delete_object(struct vnp_card *card, const struct vnp_obj *obj);

/* piv_pubfile.c: a generated key's public key, kept on the host until a certificate
 * holds it (a PIV card cannot give a public key back). cache.dir/piv-SERIAL-REF.pub,
 * 0600 in a 0700 directory; not a secret. Errors are logged and otherwise ignored. */
void vnp_piv_pubfile_save(const struct vnp_card *card, const struct piv_state *st,
			  uint8_t key_ref, const uint8_t *genkey_answer, size_t len);
/* VNP_OK with *ret filled, or VNP_E_NOT_FOUND. */
int vnp_piv_pubfile_load(const struct vnp_card *card, const struct piv_state *st,
			 uint8_t key_ref, struct vnp_pubkey *ret);
void vnp_piv_pubfile_remove(const struct vnp_card *card, const struct piv_state *st,
			    uint8_t key_ref);

#endif
