/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vntoken applet (APPLET.md), split by command group. Internal to tools/vtoken. */
#ifndef VNP_VT_APPLET_VNTOKEN_H
#define VNP_VT_APPLET_VNTOKEN_H

#include <stdint.h>
#include "vcard.h"

#define VNT_PIN_REF 0x81
#define VNT_UNBLOCK_REF 0x82

/* Lock the state (fresh from disk). 0 or the SW to answer (6581). */
uint16_t vnp_vt_vnt_lock(struct vnp_vcard *card);
/* Save under the lock: 0, or 6581 (memory put back to the file: nothing changed). */
uint16_t vnp_vt_vnt_save(struct vnp_vcard *card);
/* Append a key pair entry A0 (directory and GENERATE answer). */
int vnp_vt_vnt_put_key(struct vnp_buf *out, uint8_t ref, const struct vnp_vt_key *k);

/* applet_pin.c */
uint16_t vnp_vt_vnt_verify(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
uint16_t vnp_vt_vnt_change(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
/* applet_recovery.c (APPLET.md "Recovery"). GET UNBLOCK CHALLENGE: a new 7-byte challenge,
 * saved (replacing any older one) before it goes to out; 6985 without K_token, 6581 when
 * the save fails. RESET RETRY COUNTER: response || new PIN; spends and saves an unblock try
 * before comparing; 9000, 63Cx, 6283, 6985, 6700, 6A80, 6A86, 6A88, 6581. Both take and
 * release the state lock themselves. */
uint16_t vnp_vt_vnt_unblock_challenge(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
				      struct vnp_buf *out);
uint16_t vnp_vt_vnt_reset_retry(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
/* The unblock status: 63Cx (x tries left) or 6283 (terminated). Changes nothing. */
uint16_t vnp_vt_vnt_unblock_status(struct vnp_vcard *card);
/* applet_objects.c */
uint16_t vnp_vt_vnt_directory(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			      struct vnp_buf *out);
uint16_t vnp_vt_vnt_read(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			 struct vnp_buf *out);
uint16_t vnp_vt_vnt_create(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			   struct vnp_buf *out);
uint16_t vnp_vt_vnt_delete(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
/* applet_sign.c */
uint16_t vnp_vt_vnt_generate(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out);
uint16_t vnp_vt_vnt_mse(struct vnp_vcard *card, const struct vnp_vt_cmd *c);
uint16_t vnp_vt_vnt_pso(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			struct vnp_buf *out);
/* A security environment as MSE SET or SIGN name it; salt 0xFFFFFFFF: not given. */
struct vnp_vt_env {
	uint8_t key, scheme, hash;
	uint32_t salt;
};
/* Take one object of an environment template (84 80 81 85); false: not one of them, or
 * malformed. */
bool vnp_vt_vnt_env_tlv(const struct vnp_tlv *t, struct vnp_vt_env *env);
/* Check the environment against the keys and fill the defaults (PSS hash SHA-256, salt the
 * hash length). 0, 6A80 (missing or not fitting the key), 6A88 (no such key). */
uint16_t vnp_vt_vnt_env_check(const struct vnp_vt_data *d, struct vnp_vt_env *env);
/* applet_batch.c: SIGN (80 2B 00 00, one input, the answer is the signature) and SIGN BATCH
 * (80 2B 01 00, inputs 9A..., the answer one 9E signature or 96 SW per input). Both name
 * key and scheme themselves: no MSE SET needed, and the card's environment is untouched. */
uint16_t vnp_vt_vnt_sign(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			 struct vnp_buf *out);

#endif
