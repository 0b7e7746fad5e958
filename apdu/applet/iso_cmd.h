/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interindustry commands (ISO 7816-4 / 7816-8) the vntoken and SIM PKI drivers (and PIV, for
 * the basics) send the same way: SELECT, whole-object reads, PIN commands, MSE SET + PSO
 * signing, GET CHALLENGE.
 * Each helper sends with the driver's SW table. Private to apdu/. */
#ifndef VNP_ISO_CMD_H
#define VNP_ISO_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu.h"
#include "card.h"
#include "sw.h"

#define ISO_CLA 0x00

/* Algorithm references of MSE SET tag 80 (APPLET.md, SIMPKI.md) */
#define ISO_ALGREF_RSA_PKCS1 0x01
#define ISO_ALGREF_RSA_PSS 0x02
#define ISO_ALGREF_ECDSA 0x03

#define ISO_SW_PIN_BLOCKED 0x6983
#define ISO_SW_CONDITIONS 0x6985
#define ISO_SW_WRONG_DATA 0x6A80

/* The security environment the card holds (mirror of the last MSE SET it accepted). */
struct vnp_iso_env {
	bool valid;
	uint8_t key, alg, hash;
	uint16_t salt;
};

void vnp_iso_apdu_init(struct vnp_apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2);
/* One command in its own transaction. */
int vnp_iso_run_tx(struct vnp_card *card, struct vnp_apdu *a, const struct vnp_sw_entry *sw);

/* SELECT by AID (00 A4 04 00, Le 256) in its own transaction; the answer goes to buf. */
int vnp_iso_select(struct vnp_card *card, const struct vnp_sw_entry *sw, const uint8_t *aid,
		   size_t aid_len, uint8_t *buf, size_t cap, size_t *ret_len);
/* A command answering a whole object (Le VNP_LE_MAX) in its own transaction; *ret is
 * malloc'd. secret: wipe the bounce buffer. */
int vnp_iso_read_whole(struct vnp_card *card, const struct vnp_sw_entry *sw,
		       const struct vnp_apdu *cmd, bool secret, uint8_t **ret, size_t *ret_len);

/* Tries left after a failed VERIFY / CHANGE REFERENCE DATA: 63Cx gives x, 6983 gives 0,
 * else -1. */
int vnp_iso_tries_from_sw(uint16_t sw);
/* VERIFY without data (00 20 00 ref): info->verified and info->tries_left (tries_verified
 * when verified, the 63Cx count or 0 when blocked); the other members stay. VNP_OK when the
 * card told the status, else the error with *ret_sw. */
int vnp_iso_pin_query(struct vnp_card *card, const struct vnp_sw_entry *sw, unsigned pin_ref,
		      int tries_verified, struct vnp_pin_info *info, uint16_t *ret_sw);
/* A PIN command with data (VERIFY 20 / CHANGE REFERENCE DATA 24 / RESET RETRY COUNTER 2C),
 * P1 00, traced as sensitive, in its own transaction. *ret_sw: the card's answer. */
int vnp_iso_pin_cmd(struct vnp_card *card, const struct vnp_sw_entry *sw, uint8_t ins,
		    unsigned pin_ref, const uint8_t *data, size_t len, uint16_t *ret_sw);
/* VERIFY 00 FF ref: reset the security status. */
int vnp_iso_logout(struct vnp_card *card, const struct vnp_sw_entry *sw, unsigned pin_ref);

/* The algorithm reference, hash and salt of params (one hash names both the message hash
 * and MGF1); VNP_E_NOT_SUPPORTED for other schemes. */
int vnp_iso_scheme_refs(const struct vnp_sign_params *params, uint8_t *ret_alg,
			uint8_t *ret_hash, uint16_t *ret_salt);
/* MSE SET (00 22 41 B6) unless env says the card holds it, then PSO: COMPUTE DIGITAL
 * SIGNATURE (00 2A 9E 9A, Le pso_le), in one transaction; when the card lost an environment
 * we thought it held (6985), MSE SET again once. *out_len: capacity in, length out. */
int vnp_iso_sign_mse_pso(struct vnp_card *card, const struct vnp_sw_entry *sw,
			 struct vnp_iso_env *env, uint8_t key, uint8_t alg, uint8_t hash,
			 uint16_t salt, size_t pso_le, const uint8_t *in, size_t in_len,
			 uint8_t *out, size_t *out_len);
/* GET CHALLENGE (00 84 00 00), 256 bytes at a time, in one transaction. */
int vnp_iso_get_challenge(struct vnp_card *card, const struct vnp_sw_entry *sw, uint8_t *buf,
			  size_t len);

#endif
