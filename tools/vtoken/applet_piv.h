/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual PIV card application (NIST SP 800-73-4 part 2; PIV.md), split by command
 * group, and its mapping onto the token state (state.h). Internal to tools/vtoken. */
#ifndef VNP_VT_APPLET_PIV_H
#define VNP_VT_APPLET_PIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state.h"
#include "vcard.h"

/* PIV key references (SP 800-73-4 part 1 Table 4b) */
#define PIV_KEY_AUTH 0x9A
#define PIV_KEY_MGMT 0x9B
#define PIV_KEY_SIGN 0x9C
#define PIV_KEY_KM 0x9D
#define PIV_KEY_CAUTH 0x9E
#define PIV_KEY_RETIRED_FIRST 0x82
#define PIV_KEY_RETIRED_LAST 0x95

/* PIV cryptographic algorithm identifiers (SP 800-78-4 Table 6-2; 05 per SP 800-78-5) */
#define PIV_ALG_3DES 0x03
#define PIV_ALG_RSA3072 0x05
#define PIV_ALG_RSA2048 0x07
#define PIV_ALG_AES128 0x08
#define PIV_ALG_AES192 0x0A
#define PIV_ALG_AES256 0x0C
#define PIV_ALG_P256 0x11
#define PIV_ALG_P384 0x14

/* PIV.md "Mapping onto the state file": state objects that are not PIV data objects */
#define PIV_REF_PUK 0xBC  /* data: PUK verifier, salt(16) || PBKDF2 hash(32) */
#define PIV_REF_MGMT 0xBD /* data: management key, PIV alg id(1) || key */

#define PIV_PIN_REF 0x80
#define PIV_PUK_REF 0x81
#define PIV_REF_DATA_LEN 8 /* PIN and PUK are 8 bytes on the wire (FF padded) */

/* What a PIV data object (BER tag of SP 800-73-4 part 1 Table 3) is stored as. */
struct piv_obj_map {
	uint32_t tag;     /* 5FC1xx, 7E, 7F61 */
	uint8_t ref;      /* state object reference */
	uint32_t wrap;    /* outer tag of the GET DATA answer: 53, 7E or 7F61 */
	bool pin;         /* reading needs the PIN (SP 800-73-4 part 1 Table 2 "PIN") */
	uint8_t key;      /* certificates: the PIV key reference of the slot, else 0 */
	const char *name;
};

/* applet_piv_map.c */
/* The data object with this tag, or NULL. */
const struct piv_obj_map *vnp_vt_piv_obj(uint32_t tag);
/* The data object held at state reference ref, or NULL. */
const struct piv_obj_map *vnp_vt_piv_obj_by_ref(uint8_t ref);
/* State key reference of a PIV key reference (9A 9C 9D 9E 82..95), 0 when none. */
uint8_t vnp_vt_piv_key_ref(uint8_t piv_key);
/* The PIV key reference stored at a state key reference, 0 when none. */
uint8_t vnp_vt_piv_key_of_ref(uint8_t ref);
/* The SP 800-73-4 name of a key slot ("PIV Authentication", ...). */
const char *vnp_vt_piv_key_name(uint8_t piv_key);
/* Token algorithm (VNP_VT_ALG_*) of a PIV asymmetric algorithm id, 0 when unsupported,
 * and back. */
uint8_t vnp_vt_piv_alg_to_vt(uint8_t piv_alg);
uint8_t vnp_vt_piv_alg_from_vt(uint8_t vt_alg);
/* Management key algorithm and key length for a PIV symmetric algorithm id; false when
 * unsupported. */
bool vnp_vt_piv_mgmt_alg(uint8_t piv_alg, size_t *ret_key_len, size_t *ret_block);
/* Build the default content (inside 53 / 7E) of CHUID, CCC, discovery and printed
 * information from the token's serial and label. VNP_OK or VNP_E_NOMEM. */
int vnp_vt_piv_default_objects(struct vnp_vt_data *d);
/* The PIV ATR (PIV.md); extended length advertised when d->extended. */
size_t vnp_vt_piv_atr(const struct vnp_vt_data *d, uint8_t *atr);
/* Store a new data object value at ref (replacing the old). VNP_OK or VNP_E_NOMEM. */
int vnp_vt_piv_store(struct vnp_vt_data *d, uint8_t ref, const uint8_t *value, size_t len);

/* applet_piv_auth.c: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER */
uint16_t vnp_vt_piv_verify(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
uint16_t vnp_vt_piv_change(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
uint16_t vnp_vt_piv_reset_retry(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
/* Salt and hash a PUK (8 bytes) into the PIV_REF_PUK object value (48 bytes). */
int vnp_vt_piv_puk_verifier(OSSL_LIB_CTX *libctx, const uint8_t puk[8], uint8_t out[48]);

/* applet_piv_crypto.c: GENERAL AUTHENTICATE, GENERATE ASYMMETRIC KEY PAIR */
uint16_t vnp_vt_piv_general_auth(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
				 struct vnp_buf *out);
uint16_t vnp_vt_piv_generate(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out);

/* A new key entry for PIV slot piv_key (id = the slot byte, label = its name, 9C
 * always-authenticate); takes a reference on pkey. VNP_OK, VNP_E_NOMEM, VNP_E_CRYPTO. */
int vnp_vt_piv_key_new(OSSL_LIB_CTX *libctx, uint8_t piv_key, uint8_t vt_alg, EVP_PKEY *pkey,
		       struct vnp_vt_key **ret);

/* applet_piv_data.c: GET DATA, PUT DATA */
uint16_t vnp_vt_piv_get_data(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out);
uint16_t vnp_vt_piv_put_data(struct vnp_vcard *card, const struct vnp_vt_cmd *c);

#endif
