/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card driver for the SIM PKI applet (tools/vtoken/SIMPKI.md): interindustry commands,
 * short APDUs only (a UICC speaks T=0: answers come through 61xx + GET RESPONSE and 6Cxx,
 * which vnp_apdu_transmit follows), the PUK as the SO secret. */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "iso_cmd.h"
#include "log.h"
#include "rv.h"
#include "secret.h"
#include "simpki_int.h"
#include "vntoken_int.h"

#define INS_GET_DATA 0xCA
#define INS_PUT_DATA 0xDA
#define INS_VERIFY 0x20
#define INS_CHANGE_REF 0x24
#define INS_RESET_RETRY 0x2C
#define DO_PROPRIETARY 0x01 /* GET/PUT DATA P1: data objects 0100-01FF (ISO 7816-4 §11.4.3) */
#define DO_DIRECTORY 0x00

#define SELECT_RESP_MAX 512
#define PIN_MAX 255

static const struct vnp_sw_entry simpki_sw[] = {
	{ 0x6283, 0xFFFF, VNP_E_TERMINATED, "applet blocked for good (PUK blocked)" },
	{ 0x6581, 0xFFFF, VNP_E_MEMORY_FAILURE, "applet state could not be saved" },
	{ 0x6F00, 0xFFFF, VNP_E_CARD, "applet internal error" },
	{ 0, 0, 0, NULL },
};

/* Volatile per-card state: the security environment the card holds (forgotten at every
 * SELECT) and the counters' maxima from the FCI. */
struct simpki_state {
	struct vnp_iso_env env;
	unsigned max_tries, puk_max_tries;
};

static struct simpki_state *state(struct vnp_card *card)
{
	return vnp_card_drv_data(card, sizeof(struct simpki_state));
}

static void apdu_init(struct vnp_apdu *a, uint8_t ins, uint8_t p1, uint8_t p2)
{
	vnp_iso_apdu_init(a, ISO_CLA, ins, p1, p2);
}

/* One command in its own transaction. */
static int simple(struct vnp_card *card, struct vnp_apdu *a)
{
	return vnp_iso_run_tx(card, a, simpki_sw);
}

static int simpki_probe(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	struct simpki_state *st = state(card);
	struct vnp_token_info info;
	size_t len = 0;
	uint8_t *buf;
	int rv;

	if (!st)
		return VNP_E_NOMEM;
	st->env.valid = false;
	buf = malloc(SELECT_RESP_MAX);
	if (!buf)
		return VNP_E_NOMEM;
	/* Case 4: on T=0 the FCI comes with 61xx + GET RESPONSE. */
	rv = vnp_iso_select(card, simpki_sw, vnp_simpki_aid, SIMPKI_AID_LEN, buf, SELECT_RESP_MAX,
			    &len);
	if (rv == VNP_OK)
		rv = vnp_simpki_parse_fci(buf, len, &info);
	if (rv == VNP_OK && info.version_major != 1) {
		vnp_warn("%s: SIM PKI applet version %u.%u not supported", card->io.who,
			 info.version_major, info.version_minor);
		rv = VNP_E_NOT_SUPPORTED;
	}
	if (rv == VNP_OK) {
		card->io.card_extended = false;
		card->io.card_max_cmd_data = info.max_cmd_data;
		card->io.card_max_resp_data = info.max_resp_data;
		st->max_tries = info.user_pin.max_tries;
		st->puk_max_tries = info.so_pin.max_tries;
		if (ret_info)
			*ret_info = info;
	}
	free(buf);
	return rv;
}

/* GET DATA 00 CA 01 xx, the whole value (256 at a time through 61xx; 6Cxx re-asks). */
static int get_data(struct vnp_card *card, uint8_t ref, bool secret, uint8_t **ret,
		    size_t *ret_len)
{
	struct vnp_apdu a;

	apdu_init(&a, INS_GET_DATA, DO_PROPRIETARY, ref);
	return vnp_iso_read_whole(card, simpki_sw, &a, secret, ret, ret_len);
}

static int simpki_read_dir(struct vnp_card *card, struct vnp_dir **ret)
{
	struct vnp_apdu a;

	apdu_init(&a, INS_GET_DATA, DO_PROPRIETARY, DO_DIRECTORY);
	return vnp_vnt_read_dir(card, simpki_sw, &a, ret);
}

static int simpki_read_object(struct vnp_card *card, const struct vnp_obj *obj, uint8_t **ret,
			      size_t *ret_len)
{
	if (!obj || !ret || !ret_len || obj->kind == VNP_OBJ_KEY || obj->ref == DO_DIRECTORY)
		return VNP_E_ARGS;
	return get_data(card, obj->ref, obj->private_obj, ret, ret_len);
}

/* VERIFY without data: 9000 verified, 63Cx not verified (x tries), 6983 blocked. */
static int simpki_pin_status(struct vnp_card *card, unsigned pin_ref, struct vnp_pin_info *ret)
{
	struct simpki_state *st = state(card);
	struct vnp_pin_info info;
	uint16_t sw;
	int rv;

	if (!ret || (pin_ref != VNP_PIN_USER && pin_ref != VNP_PIN_SO))
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	memset(&info, 0, sizeof(info));
	info.tries_left = -1;
	info.max_tries = pin_ref == VNP_PIN_SO ? st->puk_max_tries : st->max_tries;
	rv = vnp_iso_pin_query(card, simpki_sw, pin_ref, st->max_tries ? (int)st->max_tries : -1,
			       &info, &sw);
	if (rv == VNP_OK)
		*ret = info;
	return rv;
}

static int simpki_verify(struct vnp_card *card, unsigned pin_ref, const uint8_t *pin,
			 size_t len, int *ret_tries_left)
{
	uint16_t sw = 0;
	int rv;

	if (!pin || len == 0 || len > PIN_MAX || pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	rv = vnp_iso_pin_cmd(card, simpki_sw, INS_VERIFY, pin_ref, pin, len, &sw);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : vnp_iso_tries_from_sw(sw);
	return rv;
}

static int simpki_logout(struct vnp_card *card, unsigned pin_ref)
{
	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	return vnp_iso_logout(card, simpki_sw, pin_ref);
}

/* CHANGE REFERENCE DATA 00 24 00 81: old || new, each FF-padded to 16 bytes. */
static int simpki_change_pin(struct vnp_card *card, unsigned pin_ref, const uint8_t *old_pin,
			     size_t old_len, const uint8_t *new_pin, size_t new_len,
			     int *ret_tries_left)
{
	uint8_t data[2 * SIMPKI_PIN_BLOCK];
	uint16_t sw = 0;
	int rv;

	if (!old_pin || !new_pin || !old_len || !new_len || pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	if (old_len > SIMPKI_PIN_BLOCK || new_len > SIMPKI_PIN_BLOCK ||
	    memchr(old_pin, 0xFF, old_len) || memchr(new_pin, 0xFF, new_len))
		return VNP_E_PIN_LEN;
	memset(data, 0xFF, sizeof(data));
	memcpy(data, old_pin, old_len);
	memcpy(data + SIMPKI_PIN_BLOCK, new_pin, new_len);
	rv = vnp_iso_pin_cmd(card, simpki_sw, INS_CHANGE_REF, pin_ref, data, sizeof(data), &sw);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : vnp_iso_tries_from_sw(sw);
	vnp_wipe(data, sizeof(data));
	return rv;
}

static int simpki_generate_key(struct vnp_card *card, const struct vnp_keygen *req,
			       struct vnp_obj *ret)
{
	if (!req || !ret || req->id_len > VNP_ID_MAX)
		return VNP_E_ARGS;
	if (req->alg != VNP_ALG_RSA2048 && req->alg != VNP_ALG_EC_P256)
		return VNP_E_NOT_SUPPORTED;
	return vnp_vnt_generate(card, simpki_sw, req, SELECT_RESP_MAX + 256, ret);
}

/* MSE SET + PSO: COMPUTE DIGITAL SIGNATURE. On T=0 the signature comes through 61xx and
 * GET RESPONSE (an RSA-2048 signature: 61 00, then 256 bytes). */
static int simpki_sign(struct vnp_card *card, const struct vnp_obj *key,
		       const struct vnp_sign_params *params, const uint8_t *in, size_t in_len,
		       uint8_t *out, size_t *out_len)
{
	struct simpki_state *st = state(card);
	uint8_t alg, hash;
	uint16_t salt;
	int rv;

	if (!key || !params || !in || !in_len || !out || !out_len || key->kind != VNP_OBJ_KEY)
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	if (in_len > 255)
		return VNP_E_RANGE; /* one short APDU: the card gets a hash or a DigestInfo */
	rv = vnp_iso_scheme_refs(params, &alg, &hash, &salt);
	if (rv)
		return rv;
	return vnp_iso_sign_mse_pso(card, simpki_sw, &st->env, key->ref, alg, hash, salt, 256,
				    in, in_len, out, out_len);
}

/* PUT DATA 00 DA 01 00 with the object template; command chaining carries values longer
 * than 255 bytes; the answer 80 01 ref comes through 61 03 + GET RESPONSE. */
static int simpki_write_object(struct vnp_card *card, const struct vnp_obj *meta,
			       const uint8_t *value, size_t len, uint8_t *ret_ref)
{
	struct vnp_apdu a;

	apdu_init(&a, INS_PUT_DATA, DO_PROPRIETARY, DO_DIRECTORY);
	return vnp_vnt_write_object(card, simpki_sw, &a, meta, value, len, ret_ref);
}

/* PUT DATA 00 DA 01 ref without data: delete (ISO 7816-4 §11.4.6, an empty value). */
static int simpki_delete_object(struct vnp_card *card, const struct vnp_obj *obj)
{
	struct vnp_apdu a;

	if (!obj || obj->ref == DO_DIRECTORY)
		return VNP_E_ARGS;
	apdu_init(&a, INS_PUT_DATA, DO_PROPRIETARY, obj->ref);
	return simple(card, &a);
}

static int simpki_get_random(struct vnp_card *card, uint8_t *buf, size_t len)
{
	if (!buf && len)
		return VNP_E_ARGS;
	return vnp_iso_get_challenge(card, simpki_sw, buf, len);
}

/* RESET RETRY COUNTER 00 2C 00 81: PUK (8 digits, as typed) || new PIN. 63Cx: wrong PUK,
 * x tries left (0: the PUK, and the applet, are blocked for good); 6983: PUK blocked;
 * 6A80: the new PIN breaks the policy (nothing spent). */
static int simpki_unblock(struct vnp_card *card, const uint8_t *puk, size_t puk_len,
			  const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	uint8_t data[SIMPKI_PUK_LEN + PIN_MAX];
	int rv, tries = -1;
	uint16_t sw = 0;
	size_t i;

	if (!puk || !new_pin || !new_len || new_len > PIN_MAX)
		return VNP_E_ARGS;
	if (puk_len != SIMPKI_PUK_LEN)
		return VNP_E_PIN_LEN;
	for (i = 0; i < puk_len; i++)
		if (puk[i] < '0' || puk[i] > '9')
			return VNP_E_PIN_INVALID;
	memcpy(data, puk, puk_len);
	memcpy(data + puk_len, new_pin, new_len);
	rv = vnp_iso_pin_cmd(card, simpki_sw, INS_RESET_RETRY, VNP_PIN_USER, data,
			     puk_len + new_len, &sw);
	if (rv != VNP_OK && vnp_sw_tries_left(sw) >= 0) {
		tries = vnp_sw_tries_left(sw);
		rv = tries > 0 ? VNP_E_PIN_INCORRECT : VNP_E_PIN_LOCKED;
	} else if (sw == ISO_SW_PIN_BLOCKED || sw == 0x6283) {
		tries = 0;
		rv = VNP_E_PIN_LOCKED;
	} else if (sw == ISO_SW_WRONG_DATA) {
		rv = VNP_E_PIN_LEN;
	}
	if (ret_tries_left)
		*ret_tries_left = tries;
	vnp_wipe(data, sizeof(data));
	return rv;
}

const struct vnp_card_driver vnp_driver_simpki = {
	.name = "simpki",
	.probe = simpki_probe,
	.release = vnp_card_free_drv_data,
	.read_dir = simpki_read_dir,
	.read_object = simpki_read_object,
	.pin_status = simpki_pin_status,
	.verify = simpki_verify,
	.logout = simpki_logout,
	.change_pin = simpki_change_pin,
	.generate_key = simpki_generate_key,
	.sign = simpki_sign,
	.write_object = simpki_write_object,
	.delete_object = simpki_delete_object,
	.get_random = simpki_get_random,
	.unblock_challenge = NULL, /* SIM PKI recovery: the central CA hands out the PUK */
	.unblock = simpki_unblock,
};
