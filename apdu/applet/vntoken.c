/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card driver for the vntoken applet (tools/vtoken/APPLET.md). */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "compiler.h"
#include "iso_cmd.h"
#include "log.h"
#include "recovery.h"
#include "rv.h"
#include "secret.h"
#include "sw.h"
#include "tlv.h"
#include "vntoken_int.h"

static const uint8_t vntoken_aid[] = { 0xF0, 0x56, 0x4E, 0x50, 0x4B, 0x49, 0x54, 0x4B };

#define CLA_PROP 0x80
#define INS_GET_DIRECTORY 0xCA
#define INS_READ_OBJECT 0xB0
#define INS_CHANGE_REF 0x24
#define INS_SIGN 0x2B
#define INS_CREATE 0xE0
#define INS_DELETE 0xE4
#define INS_GET_UNBLOCK_CHALLENGE 0x50
#define INS_RESET_RETRY 0x2C
#define INS_VERIFY 0x20

#define SW_OK 0x9000
#define SW_TERMINATED 0x6283

#define SELECT_RESP_MAX 1024
#define PIN_MAX 255

static const struct vnp_sw_entry vntoken_sw[] = {
	{ 0x6283, 0xFFFF, VNP_E_TERMINATED, "applet terminated (unblock counter spent)" },
	{ 0x6581, 0xFFFF, VNP_E_MEMORY_FAILURE, "token state could not be saved" },
	{ 0x6F00, 0xFFFF, VNP_E_CARD, "applet internal error" },
	{ 0, 0, 0, NULL },
};

/* Per-card volatile state. The security environment mirrors the last MSE SET the card
 * accepted; it is forgotten whenever the applet is (re-)selected. */
struct vntoken_state {
	struct vnp_iso_env env;
	unsigned max_tries;    /* user PIN counter maximum (SELECT tag 88) */
	unsigned so_max_tries; /* unblock counter maximum (SELECT tag 8B) */
	bool sign_self;        /* SIGN / SIGN BATCH (80 2B): no MSE SET needed */
};

static struct vntoken_state *state(struct vnp_card *card)
{
	return vnp_card_drv_data(card, sizeof(struct vntoken_state));
}

/* One command in its own transaction. */
static int simple(struct vnp_card *card, struct vnp_apdu *a)
{
	return vnp_iso_run_tx(card, a, vntoken_sw);
}

static int vntoken_probe(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	struct vntoken_state *st;
	struct vnp_token_info info;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv;

	st = state(card);
	if (!st)
		return VNP_E_NOMEM;
	st->env.valid = false;
	buf = malloc(SELECT_RESP_MAX);
	if (!buf)
		return VNP_E_NOMEM;
	rv = vnp_iso_select(card, vntoken_sw, vntoken_aid, sizeof(vntoken_aid), buf,
			    SELECT_RESP_MAX, &len);
	if (rv == VNP_OK)
		rv = vnp_vntoken_parse_caps(buf, len, &info);
	if (rv == VNP_OK && info.version_major != 1) {
		vnp_warn("%s: vntoken applet version %u.%u not supported", card->io.who,
			 info.version_major, info.version_minor);
		rv = VNP_E_NOT_SUPPORTED;
	}
	if (rv == VNP_OK) {
		card->io.card_extended = info.extended;
		card->io.card_max_cmd_data = info.max_cmd_data;
		card->io.card_max_resp_data = info.max_resp_data;
		st->max_tries = info.user_pin.max_tries;
		st->so_max_tries = info.so_pin.max_tries;
		st->sign_self = info.sign_self;
		if (ret_info)
			*ret_info = info;
	}
	free(buf);
	return rv;
}

static int vntoken_read_dir(struct vnp_card *card, struct vnp_dir **ret)
{
	struct vnp_apdu a;

	vnp_iso_apdu_init(&a, CLA_PROP, INS_GET_DIRECTORY, 0x01, 0x00);
	return vnp_vnt_read_dir(card, vntoken_sw, &a, ret);
}

static int vntoken_read_object(struct vnp_card *card, const struct vnp_obj *obj, uint8_t **ret,
			       size_t *ret_len)
{
	struct vnp_apdu a;

	if (!obj || !ret || !ret_len || obj->kind == VNP_OBJ_KEY)
		return VNP_E_ARGS;
	/* One extended APDU when both sides take it; else 256 and 61xx (vnp_apdu_transmit). */
	vnp_iso_apdu_init(&a, CLA_PROP, INS_READ_OBJECT, obj->ref, 0x00);
	return vnp_iso_read_whole(card, vntoken_sw, &a, obj->private_obj, ret, ret_len);
}

static int vntoken_pin_status(struct vnp_card *card, unsigned pin_ref, struct vnp_pin_info *ret)
{
	struct vntoken_state *st = state(card);
	struct vnp_pin_info info;
	uint16_t sw = 0;
	int rv;

	if (!ret || pin_ref > 0xFF)
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	memset(&info, 0, sizeof(info));
	info.tries_left = -1;
	info.max_tries = pin_ref == VNP_PIN_SO ? st->so_max_tries : st->max_tries;
	/* the counter is back at its maximum after a correct PIN */
	rv = vnp_iso_pin_query(card, vntoken_sw, pin_ref, st->max_tries ? (int)st->max_tries : -1,
			       &info, &sw);
	if (pin_ref == VNP_PIN_SO && sw == SW_TERMINATED) {
		/* unblock status of a terminated token: the counter is spent */
		info.tries_left = 0;
		rv = VNP_OK;
	}
	if (rv == VNP_OK)
		*ret = info;
	return rv;
}

static int vntoken_verify(struct vnp_card *card, unsigned pin_ref, const uint8_t *pin,
			  size_t len, int *ret_tries_left)
{
	uint16_t sw = 0;
	int rv;

	if (!pin || len == 0 || len > PIN_MAX || pin_ref > 0xFF)
		return VNP_E_ARGS;
	rv = vnp_iso_pin_cmd(card, vntoken_sw, INS_VERIFY, pin_ref, pin, len, &sw);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : vnp_iso_tries_from_sw(sw);
	return rv;
}

static int vntoken_logout(struct vnp_card *card, unsigned pin_ref)
{
	if (pin_ref > 0xFF)
		return VNP_E_ARGS;
	return vnp_iso_logout(card, vntoken_sw, pin_ref);
}

static int vntoken_change_pin(struct vnp_card *card, unsigned pin_ref, const uint8_t *old_pin,
			      size_t old_len, const uint8_t *new_pin, size_t new_len,
			      int *ret_tries_left)
{
	uint8_t data[1 + PIN_MAX + PIN_MAX];
	uint16_t sw = 0;
	int rv;

	if (!old_pin || !new_pin || !old_len || !new_len || old_len > PIN_MAX ||
	    new_len > PIN_MAX || pin_ref > 0xFF)
		return VNP_E_ARGS;
	/* data: len(old) || old || new */
	data[0] = (uint8_t)old_len;
	memcpy(data + 1, old_pin, old_len);
	memcpy(data + 1 + old_len, new_pin, new_len);
	rv = vnp_iso_pin_cmd(card, vntoken_sw, INS_CHANGE_REF, pin_ref, data, 1 + old_len + new_len,
			     &sw);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : vnp_iso_tries_from_sw(sw);
	vnp_wipe(data, sizeof(data));
	return rv;
}

static int vntoken_generate_key(struct vnp_card *card, const struct vnp_keygen *req,
				struct vnp_obj *ret)
{
	if (!req || !ret || req->id_len > VNP_ID_MAX)
		return VNP_E_ARGS;
	return vnp_vnt_generate(card, vntoken_sw, req, VNP_LE_MAX, ret);
}

/* The size of a signature with key (0 when unknown). */
static size_t sig_size(const struct vnp_obj *key)
{
	if (VNP_ALG_IS_RSA(key->pub.alg))
		return key->pub.modulus_len;
	if (VNP_ALG_IS_EC(key->pub.alg) && key->pub.ec_point_len > 1)
		return key->pub.ec_point_len - 1; /* r || s: twice the field size */
	return 0;
}

/* The environment template of SIGN (as MSE SET's data). */
static void put_env(struct vnp_buf *b, uint8_t key, uint8_t alg, uint8_t hash, uint16_t salt)
{
	vnp_tlv_put_uint(b, 0x84, key, 1);
	vnp_tlv_put_uint(b, 0x80, alg, 1);
	if (alg == ISO_ALGREF_RSA_PSS) {
		vnp_tlv_put_uint(b, 0x81, hash, 1);
		vnp_tlv_put_uint(b, 0x85, salt, 2);
	}
}

/* SIGN (80 2B 00 00): key, scheme and input in one self-contained APDU. */
static int sign_self(struct vnp_card *card, const struct vnp_obj *key, uint8_t alg,
		     uint8_t hash, uint16_t salt, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t *out_len)
{
	struct vnp_buf b;
	struct vnp_apdu a;
	size_t want = sig_size(key);
	int rv;

	vnp_buf_init(&b);
	put_env(&b, key->ref, alg, hash, salt);
	vnp_tlv_put(&b, 0x9A, in, in_len);
	if (b.failed) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	vnp_iso_apdu_init(&a, CLA_PROP, INS_SIGN, 0x00, 0x00);
	a.data = b.p;
	a.lc = b.len;
	/* Ne: the signature's size when known, so that it fits one exchange */
	a.le = want && want <= *out_len ? want : VNP_LE_MAX;
	a.resp = out;
	a.resp_cap = *out_len;
	rv = vnp_card_run_one(card, &a, vntoken_sw);
	if (rv == VNP_OK)
		*out_len = a.resp_len;
out:
	vnp_buf_free(&b);
	return rv;
}

static int vntoken_sign(struct vnp_card *card, const struct vnp_obj *key,
			const struct vnp_sign_params *params, const uint8_t *in, size_t in_len,
			uint8_t *out, size_t *out_len)
{
	struct vntoken_state *st = state(card);
	uint8_t alg, hash;
	uint16_t salt;
	int rv;

	if (!key || !params || !in || !in_len || !out || !out_len || key->kind != VNP_OBJ_KEY)
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	rv = vnp_iso_scheme_refs(params, &alg, &hash, &salt);
	if (rv)
		return rv;
	if (st->sign_self)
		return sign_self(card, key, alg, hash, salt, in, in_len, out, out_len);
	/* MSE SET + PSO in one transaction (applets without SIGN) */
	return vnp_iso_sign_mse_pso(card, vntoken_sw, &st->env, key->ref, alg, hash, salt,
				    VNP_LE_MAX, in, in_len, out, out_len);
}

/* Read the SIGN BATCH answer: one 9E signature or 96 SW per item, in order. */
static int batch_answer(const uint8_t *resp, size_t len, struct vnp_sign_item *items, size_t n)
{
	const uint8_t *p = resp, *end = resp + len;
	struct vnp_tlv t;
	uint32_t sw;
	size_t i;

	for (i = 0; i < n; i++) {
		if (vnp_tlv_next(&p, end, &t) != VNP_OK)
			return VNP_E_MALFORMED;
		if (t.tag == 0x9E) {
			if (t.len > items[i].out_len) {
				items[i].rv = VNP_E_BUFFER_TOO_SMALL;
				continue;
			}
			memcpy(items[i].out, t.value, t.len);
			items[i].out_len = t.len;
			items[i].rv = VNP_OK;
		} else if (t.tag == 0x96 && t.len == 2 && vnp_tlv_uint(&t, &sw) == VNP_OK &&
			   sw != SW_OK) {
			items[i].rv = vnp_sw_to_rv((uint16_t)sw, vntoken_sw);
		} else {
			return VNP_E_MALFORMED;
		}
	}
	return p == end ? VNP_OK : VNP_E_MALFORMED;
}

/* SIGN BATCH (80 2B 01 00) of items[0..n): as many per APDU as the card and the reader take
 * in one exchange. */
static int vntoken_sign_batch(struct vnp_card *card, const struct vnp_obj *key,
			      const struct vnp_sign_params *params, struct vnp_sign_item *items,
			      size_t n)
{
	struct vntoken_state *st = state(card);
	size_t max_lc, max_le;
	size_t per_sig, done = 0, from = 0;
	uint8_t alg, hash, *resp = NULL;
	struct vnp_buf b;
	uint16_t salt;
	int rv;

	if (!key || !params || !items || !n || key->kind != VNP_OBJ_KEY)
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	per_sig = sig_size(key) + 4;
	if (!st->sign_self || per_sig == 4)
		return VNP_E_NOT_SUPPORTED;
	rv = vnp_iso_scheme_refs(params, &alg, &hash, &salt);
	if (rv)
		return rv;
	vnp_card_io_limits(&card->io, &max_lc, &max_le);
	resp = malloc(VNP_LE_MAX);
	if (!resp)
		return VNP_E_NOMEM;
	vnp_buf_init(&b);
	while (done < n && rv == VNP_OK) {
		struct vnp_apdu a;
		size_t k = 0;

		from = done; /* the items of this exchange on: those before have their answers */
		b.len = 0;
		put_env(&b, key->ref, alg, hash, salt);
		/* 64 inputs at most (APPLET.md); always at least one per APDU */
		while (done + k < n && k < 64) {
			size_t before = b.len;

			vnp_tlv_put(&b, 0x9A, items[done + k].in, items[done + k].in_len);
			if (k && (b.len > max_lc || (k + 1) * per_sig > max_le)) {
				b.len = before;
				break;
			}
			k++;
		}
		if (b.failed) {
			rv = VNP_E_NOMEM;
			break;
		}
		vnp_iso_apdu_init(&a, CLA_PROP, INS_SIGN, 0x01, 0x00);
		a.data = b.p;
		a.lc = b.len;
		a.le = VNP_MIN(k * per_sig, (size_t)VNP_LE_MAX);
		a.resp = resp;
		a.resp_cap = VNP_LE_MAX;
		rv = vnp_card_run_one(card, &a, vntoken_sw);
		if (rv == VNP_OK)
			rv = batch_answer(resp, a.resp_len, items + done, k);
		done += k;
	}
	vnp_buf_free(&b);
	free(resp);
	for (size_t i = from; rv && i < n; i++)
		items[i].rv = rv; /* the failed exchange's items and those never sent */
	return rv;
}

static int vntoken_write_object(struct vnp_card *card, const struct vnp_obj *meta,
				const uint8_t *value, size_t len, uint8_t *ret_ref)
{
	struct vnp_apdu a;

	vnp_iso_apdu_init(&a, CLA_PROP, INS_CREATE, 0x00, 0x00);
	return vnp_vnt_write_object(card, vntoken_sw, &a, meta, value, len, ret_ref);
}

static int vntoken_delete_object(struct vnp_card *card, const struct vnp_obj *obj)
{
	struct vnp_apdu a;

	if (!obj)
		return VNP_E_ARGS;
	vnp_iso_apdu_init(&a, CLA_PROP, INS_DELETE, obj->ref, 0x00);
	return simple(card, &a);
}

static int vntoken_get_random(struct vnp_card *card, uint8_t *buf, size_t len)
{
	if (!buf && len)
		return VNP_E_ARGS;
	return vnp_iso_get_challenge(card, vntoken_sw, buf, len);
}

/* GET UNBLOCK CHALLENGE (80 50 00 00 07): the token draws, saves and answers a new 7-byte
 * challenge. 6283 (terminated) gives VNP_E_TERMINATED through the applet SW table; 6985 a
 * token without an unblock key. */
static int vntoken_unblock_challenge(struct vnp_card *card, uint8_t *ret_challenge, size_t len)
{
	uint8_t buf[VNP_RECOVERY_CHALLENGE_LEN];
	struct vnp_apdu a;
	int rv;

	if (!ret_challenge || len != VNP_RECOVERY_CHALLENGE_LEN)
		return VNP_E_ARGS;
	vnp_iso_apdu_init(&a, CLA_PROP, INS_GET_UNBLOCK_CHALLENGE, 0x00, 0x00);
	a.le = VNP_RECOVERY_CHALLENGE_LEN;
	a.resp = buf;
	a.resp_cap = sizeof(buf);
	rv = simple(card, &a);
	if (rv == VNP_OK && a.resp_len != VNP_RECOVERY_CHALLENGE_LEN)
		rv = VNP_E_MALFORMED;
	if (rv == VNP_OK)
		memcpy(ret_challenge, buf, VNP_RECOVERY_CHALLENGE_LEN);
	return rv;
}

/* RESET RETRY COUNTER (00 2C 00 81, response || new PIN). APPLET.md "Recovery": 6283
 * terminated, 6985 no pending challenge, 6A80 new PIN outside the policy (nothing spent),
 * 63Cx wrong response with x unblock tries left. The answer that spends the last try
 * (63C0) is reported as VNP_E_TERMINATED with *ret_tries_left 0: from then on the token
 * is dead. */
static int vntoken_unblock(struct vnp_card *card, const uint8_t *response, size_t response_len,
			   const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	uint8_t data[VNP_RECOVERY_RESPONSE_LEN + PIN_MAX];
	int rv, tries = -1;
	uint16_t sw = 0;

	if (!response || response_len != VNP_RECOVERY_RESPONSE_LEN || !new_pin || !new_len ||
	    new_len > PIN_MAX)
		return VNP_E_ARGS;
	memcpy(data, response, response_len);
	memcpy(data + response_len, new_pin, new_len);
	rv = vnp_iso_pin_cmd(card, vntoken_sw, INS_RESET_RETRY, VNP_PIN_USER, data,
			     response_len + new_len, &sw);
	if (rv != VNP_OK && vnp_sw_tries_left(sw) >= 0) {
		tries = vnp_sw_tries_left(sw);
		rv = tries > 0 ? VNP_E_PIN_INCORRECT : VNP_E_TERMINATED;
	} else if (sw == SW_TERMINATED) {
		tries = 0;
	} else if (sw == ISO_SW_WRONG_DATA) {
		rv = VNP_E_PIN_LEN;
	}
	if (ret_tries_left)
		*ret_tries_left = tries;
	vnp_wipe(data, sizeof(data));
	return rv;
}

const struct vnp_card_driver vnp_driver_vntoken = {
	.name = "vntoken",
	.probe = vntoken_probe,
	.release = vnp_card_free_drv_data,
	.read_dir = vntoken_read_dir,
	.read_object = vntoken_read_object,
	.pin_status = vntoken_pin_status,
	.verify = vntoken_verify,
	.logout = vntoken_logout,
	.change_pin = vntoken_change_pin,
	.generate_key = vntoken_generate_key,
	.sign = vntoken_sign,
	.sign_batch = vntoken_sign_batch,
	.write_object = vntoken_write_object,
	.delete_object = vntoken_delete_object,
	.get_random = vntoken_get_random,
	.unblock_challenge = vntoken_unblock_challenge,
	.unblock = vntoken_unblock,
};
