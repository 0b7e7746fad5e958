/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card driver for the SIM PKI applet (tools/vtoken/SIMPKI.md): interindustry commands,
 * short APDUs only (a UICC speaks T=0: answers come through 61xx + GET RESPONSE and 6Cxx,
 * which vnp_apdu_transmit follows), the PUK as the SO secret. */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "compiler.h"
#include "log.h"
#include "rv.h"
#include "secret.h"
#include "simpki_int.h"
#include "sw.h"
#include "tlv.h"
#include "vntoken_int.h"

#define CLA 0x00
#define INS_SELECT 0xA4
#define INS_GET_DATA 0xCA
#define INS_PUT_DATA 0xDA
#define INS_VERIFY 0x20
#define INS_CHANGE_REF 0x24
#define INS_RESET_RETRY 0x2C
#define INS_GENERATE 0x47
#define INS_MSE 0x22
#define INS_PSO 0x2A
#define INS_GET_CHALLENGE 0x84
#define DO_PROPRIETARY 0x01 /* GET/PUT DATA P1: data objects 0100-01FF (ISO 7816-4 §11.4.3) */
#define DO_DIRECTORY 0x00

#define ALGREF_RSA_PKCS1 0x01
#define ALGREF_RSA_PSS 0x02
#define ALGREF_ECDSA 0x03

#define SW_PIN_BLOCKED 0x6983
#define SW_CONDITIONS 0x6985
#define SW_WRONG_DATA 0x6A80

#define SELECT_RESP_MAX 512
#define OBJ_MAX 65536
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
	bool env_valid;
	uint8_t env_key, env_alg, env_hash;
	uint16_t env_salt;
	unsigned max_tries, puk_max_tries;
};

static struct simpki_state *state(struct vnp_card *card)
{
	if (!card->drv_data)
		card->drv_data = calloc(1, sizeof(struct simpki_state));
	return card->drv_data;
}

static void apdu_init(struct vnp_apdu *a, uint8_t ins, uint8_t p1, uint8_t p2)
{
	memset(a, 0, sizeof(*a));
	a->cla = CLA;
	a->ins = ins;
	a->p1 = p1;
	a->p2 = p2;
}

static int run(struct vnp_card *card, struct vnp_apdu *a)
{
	return vnp_apdu_run(&card->io, a, simpki_sw);
}

/* One command in its own transaction. */
static int simple(struct vnp_card *card, struct vnp_apdu *a)
{
	int rv = vnp_card_begin(card);

	if (rv)
		return rv;
	rv = run(card, a);
	vnp_card_end(card);
	return rv;
}

static int simpki_probe(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	struct simpki_state *st = state(card);
	struct vnp_token_info info;
	struct vnp_apdu a;
	uint8_t *buf;
	int rv;

	if (!st)
		return VNP_E_NOMEM;
	st->env_valid = false;
	buf = malloc(SELECT_RESP_MAX);
	if (!buf)
		return VNP_E_NOMEM;
	/* Case 4: on T=0 the FCI comes with 61xx + GET RESPONSE. */
	apdu_init(&a, INS_SELECT, 0x04, 0x00);
	a.data = vnp_simpki_aid;
	a.lc = SIMPKI_AID_LEN;
	a.le = 256;
	a.resp = buf;
	a.resp_cap = SELECT_RESP_MAX;
	rv = simple(card, &a);
	if (rv == VNP_OK)
		rv = vnp_simpki_parse_fci(buf, a.resp_len, &info);
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
	uint8_t *buf;
	int rv;

	buf = malloc(OBJ_MAX);
	if (!buf)
		return VNP_E_NOMEM;
	apdu_init(&a, INS_GET_DATA, DO_PROPRIETARY, ref);
	a.le = VNP_LE_MAX;
	a.resp = buf;
	a.resp_cap = OBJ_MAX;
	rv = simple(card, &a);
	if (rv == VNP_OK) {
		*ret = malloc(a.resp_len ? a.resp_len : 1);
		if (!*ret)
			rv = VNP_E_NOMEM;
		else
			memcpy(*ret, buf, a.resp_len);
		*ret_len = a.resp_len;
	}
	if (secret)
		vnp_wipe(buf, OBJ_MAX);
	free(buf);
	return rv;
}

static int simpki_read_dir(struct vnp_card *card, struct vnp_dir **ret)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv;

	if (!ret)
		return VNP_E_ARGS;
	rv = get_data(card, DO_DIRECTORY, false, &buf, &len);
	if (rv == VNP_OK)
		rv = vnp_vntoken_parse_dir(buf, len, ret);
	free(buf);
	return rv;
}

static int simpki_read_object(struct vnp_card *card, const struct vnp_obj *obj, uint8_t **ret,
			      size_t *ret_len)
{
	if (!obj || !ret || !ret_len || obj->kind == VNP_OBJ_KEY || obj->ref == DO_DIRECTORY)
		return VNP_E_ARGS;
	return get_data(card, obj->ref, obj->private_obj, ret, ret_len);
}

static int tries_from_sw(uint16_t sw)
{
	return sw == SW_PIN_BLOCKED ? 0 : vnp_sw_tries_left(sw);
}

/* VERIFY without data: 9000 verified, 63Cx not verified (x tries), 6983 blocked. */
static int simpki_pin_status(struct vnp_card *card, unsigned pin_ref, struct vnp_pin_info *ret)
{
	struct simpki_state *st = state(card);
	struct vnp_pin_info info;
	struct vnp_apdu a;
	int rv;

	if (!ret || (pin_ref != VNP_PIN_USER && pin_ref != VNP_PIN_SO))
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	memset(&info, 0, sizeof(info));
	info.tries_left = -1;
	info.max_tries = pin_ref == VNP_PIN_SO ? st->puk_max_tries : st->max_tries;
	apdu_init(&a, INS_VERIFY, 0x00, (uint8_t)pin_ref);
	rv = simple(card, &a);
	if (rv == VNP_OK) {
		info.verified = true;
		info.tries_left = st->max_tries ? (int)st->max_tries : -1;
	} else if (tries_from_sw(a.sw) >= 0) {
		info.tries_left = tries_from_sw(a.sw);
		rv = VNP_OK;
	}
	if (rv == VNP_OK)
		*ret = info;
	return rv;
}

static int simpki_verify(struct vnp_card *card, unsigned pin_ref, const uint8_t *pin,
			 size_t len, int *ret_tries_left)
{
	struct vnp_apdu a;
	int rv;

	if (!pin || len == 0 || len > PIN_MAX || pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	apdu_init(&a, INS_VERIFY, 0x00, (uint8_t)pin_ref);
	a.data = pin;
	a.lc = len;
	a.flags = VNP_APDU_SENSITIVE;
	rv = simple(card, &a);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : tries_from_sw(a.sw);
	return rv;
}

static int simpki_logout(struct vnp_card *card, unsigned pin_ref)
{
	struct vnp_apdu a;

	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	apdu_init(&a, INS_VERIFY, 0xFF, (uint8_t)pin_ref);
	return simple(card, &a);
}

/* CHANGE REFERENCE DATA 00 24 00 81: old || new, each FF-padded to 16 bytes. */
static int simpki_change_pin(struct vnp_card *card, unsigned pin_ref, const uint8_t *old_pin,
			     size_t old_len, const uint8_t *new_pin, size_t new_len,
			     int *ret_tries_left)
{
	uint8_t data[2 * SIMPKI_PIN_BLOCK];
	struct vnp_apdu a;
	int rv;

	if (!old_pin || !new_pin || !old_len || !new_len || pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	if (old_len > SIMPKI_PIN_BLOCK || new_len > SIMPKI_PIN_BLOCK ||
	    memchr(old_pin, 0xFF, old_len) || memchr(new_pin, 0xFF, new_len))
		return VNP_E_PIN_LEN;
	memset(data, 0xFF, sizeof(data));
	memcpy(data, old_pin, old_len);
	memcpy(data + SIMPKI_PIN_BLOCK, new_pin, new_len);
	apdu_init(&a, INS_CHANGE_REF, 0x00, (uint8_t)pin_ref);
	a.data = data;
	a.lc = sizeof(data);
	a.flags = VNP_APDU_SENSITIVE;
	rv = simple(card, &a);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : tries_from_sw(a.sw);
	vnp_wipe(data, sizeof(data));
	return rv;
}

static int simpki_generate_key(struct vnp_card *card, const struct vnp_keygen *req,
			       struct vnp_obj *ret)
{
	struct vnp_buf b;
	struct vnp_apdu a;
	struct vnp_tlv t;
	uint8_t *buf = NULL;
	size_t mark;
	int rv;

	if (!req || !ret || req->id_len > VNP_ID_MAX)
		return VNP_E_ARGS;
	if (req->alg != VNP_ALG_RSA2048 && req->alg != VNP_ALG_EC_P256)
		return VNP_E_NOT_SUPPORTED;
	vnp_buf_init(&b);
	mark = vnp_tlv_open(&b, VNT_TAG_KEY);
	vnp_tlv_put_uint(&b, 0x81, (uint32_t)req->alg, 1);
	vnp_tlv_put(&b, 0x82, req->id, req->id_len);
	vnp_tlv_put(&b, 0x83, req->label, strnlen(req->label, VNP_LABEL_MAX));
	vnp_tlv_put_uint(&b, 0x84,
			 ((req->usage & VNP_USAGE_SIGN) ? 0x01u : 0) |
				 ((req->usage & VNP_USAGE_DECRYPT) ? 0x02u : 0),
			 1);
	vnp_tlv_put_uint(&b, 0x88, (req->key_flags & VNP_KEY_ALWAYS_AUTH) ? 0x01u : 0, 1);
	vnp_tlv_close(&b, mark);
	buf = malloc(SELECT_RESP_MAX + 256);
	if (b.failed || !buf) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	apdu_init(&a, INS_GENERATE, 0x00, 0x00);
	a.data = b.p;
	a.lc = b.len;
	a.le = VNP_LE_MAX;
	a.resp = buf;
	a.resp_cap = SELECT_RESP_MAX + 256;
	rv = simple(card, &a);
	if (rv == VNP_OK) {
		rv = vnp_tlv_find(buf, a.resp_len, VNT_TAG_KEY, &t);
		if (rv == VNP_E_NOT_FOUND)
			rv = VNP_E_MALFORMED;
	}
	if (rv == VNP_OK) {
		rv = vnp_vntoken_parse_key(t.value, t.len, ret);
		if (rv == VNP_E_NOT_SUPPORTED)
			rv = VNP_E_MALFORMED;
	}
out:
	free(buf);
	vnp_buf_free(&b);
	return rv;
}

/* MSE SET (00 22 41 B6) unless the card already holds this environment. */
static int set_env(struct vnp_card *card, struct simpki_state *st, uint8_t key, uint8_t alg,
		   uint8_t hash, uint16_t salt, bool *ret_skipped)
{
	uint8_t data[16];
	struct vnp_apdu a;
	size_t n = 0;
	int rv;

	*ret_skipped = st->env_valid && st->env_key == key && st->env_alg == alg &&
		       st->env_hash == hash && st->env_salt == salt;
	if (*ret_skipped)
		return VNP_OK;
	st->env_valid = false;
	data[n++] = 0x84;
	data[n++] = 0x01;
	data[n++] = key;
	data[n++] = 0x80;
	data[n++] = 0x01;
	data[n++] = alg;
	if (alg == ALGREF_RSA_PSS) {
		data[n++] = 0x81;
		data[n++] = 0x01;
		data[n++] = hash;
		data[n++] = 0x85;
		data[n++] = 0x02;
		data[n++] = (uint8_t)(salt >> 8);
		data[n++] = (uint8_t)salt;
	}
	apdu_init(&a, INS_MSE, 0x41, 0xB6);
	a.data = data;
	a.lc = n;
	rv = run(card, &a);
	if (rv)
		return rv;
	st->env_valid = true;
	st->env_key = key;
	st->env_alg = alg;
	st->env_hash = hash;
	st->env_salt = salt;
	return VNP_OK;
}

/* PSO: COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A). On T=0 the signature comes through 61xx
 * and GET RESPONSE (an RSA-2048 signature: 61 00, then 256 bytes). */
static int pso_cds(struct vnp_card *card, const uint8_t *in, size_t in_len, uint8_t *out,
		   size_t cap, size_t *ret_len, uint16_t *ret_sw)
{
	struct vnp_apdu a;
	int rv;

	apdu_init(&a, INS_PSO, 0x9E, 0x9A);
	a.data = in;
	a.lc = in_len;
	a.le = 256;
	a.resp = out;
	a.resp_cap = cap;
	rv = run(card, &a);
	*ret_sw = a.sw;
	if (rv == VNP_OK)
		*ret_len = a.resp_len;
	return rv;
}

static int simpki_sign(struct vnp_card *card, const struct vnp_obj *key,
		       const struct vnp_sign_params *params, const uint8_t *in, size_t in_len,
		       uint8_t *out, size_t *out_len)
{
	struct simpki_state *st = state(card);
	uint8_t alg, hash = 0;
	uint16_t salt = 0, sw = 0;
	bool skipped = false;
	size_t len = 0;
	int rv;

	if (!key || !params || !in || !in_len || !out || !out_len || key->kind != VNP_OBJ_KEY)
		return VNP_E_ARGS;
	if (!st)
		return VNP_E_NOMEM;
	if (in_len > 255)
		return VNP_E_RANGE; /* one short APDU: the card gets a hash or a DigestInfo */
	switch (params->scheme) {
	case VNP_SIG_RSA_PKCS1:
		alg = ALGREF_RSA_PKCS1;
		break;
	case VNP_SIG_RSA_PSS:
		if (params->pss_hash == VNP_HASH_NONE || params->pss_mgf1_hash != params->pss_hash)
			return VNP_E_NOT_SUPPORTED;
		alg = ALGREF_RSA_PSS;
		hash = (uint8_t)params->pss_hash; /* hash references equal enum vnp_hash */
		salt = params->pss_salt_len;
		break;
	case VNP_SIG_ECDSA:
		alg = ALGREF_ECDSA;
		break;
	default:
		return VNP_E_NOT_SUPPORTED;
	}
	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	rv = set_env(card, st, key->ref, alg, hash, salt, &skipped);
	if (rv == VNP_OK)
		rv = pso_cds(card, in, in_len, out, *out_len, &len, &sw);
	if (rv == VNP_E_CONDITIONS && sw == SW_CONDITIONS && skipped) {
		/* The card lost the environment we thought it held: set it again, once. */
		vnp_log(VNP_LOG_CARD, "%s: security environment lost, MSE SET again",
			card->io.who);
		st->env_valid = false;
		rv = set_env(card, st, key->ref, alg, hash, salt, &skipped);
		if (rv == VNP_OK)
			rv = pso_cds(card, in, in_len, out, *out_len, &len, &sw);
	}
	if (rv == VNP_OK)
		*out_len = len;
	vnp_card_end(card);
	return rv;
}

/* PUT DATA 00 DA 01 00 with the object template; command chaining carries values longer
 * than 255 bytes; the answer 80 01 ref comes through 61 03 + GET RESPONSE. */
static int simpki_write_object(struct vnp_card *card, const struct vnp_obj *meta,
			       const uint8_t *value, size_t len, uint8_t *ret_ref)
{
	uint8_t resp[16];
	struct vnp_buf b;
	struct vnp_apdu a;
	struct vnp_tlv t;
	uint32_t ref = 0;
	int rv;

	if (!meta || (!value && len) || !ret_ref || meta->id_len > VNP_ID_MAX)
		return VNP_E_ARGS;
	if (meta->kind != VNP_OBJ_CERT && meta->kind != VNP_OBJ_DATA)
		return VNP_E_ARGS;
	vnp_buf_init(&b);
	vnp_tlv_put_uint(&b, 0x80, meta->kind == VNP_OBJ_CERT ? VNT_TAG_CERT : VNT_TAG_DATA, 1);
	if (meta->id_len)
		vnp_tlv_put(&b, 0x82, meta->id, meta->id_len);
	vnp_tlv_put(&b, 0x83, meta->label, strnlen(meta->label, VNP_LABEL_MAX));
	if (meta->kind == VNP_OBJ_DATA)
		vnp_tlv_put(&b, 0x89, meta->application,
			    strnlen(meta->application, VNP_LABEL_MAX));
	vnp_tlv_put_uint(&b, 0x8B, meta->private_obj ? 0x01 : 0x00, 1);
	if (meta->kind == VNP_OBJ_CERT && meta->authority)
		vnp_tlv_put_uint(&b, 0x8E, 0x02, 1);
	vnp_tlv_put(&b, 0x8C, value, len);
	rv = b.failed ? VNP_E_NOMEM : b.len > 0xFFFF ? VNP_E_RANGE : VNP_OK;
	if (rv == VNP_OK) {
		apdu_init(&a, INS_PUT_DATA, DO_PROPRIETARY, DO_DIRECTORY);
		a.data = b.p;
		a.lc = b.len;
		a.le = 256;
		a.resp = resp;
		a.resp_cap = sizeof(resp);
		rv = simple(card, &a);
	}
	if (rv == VNP_OK) {
		rv = vnp_tlv_find(resp, a.resp_len, 0x80, &t);
		if (rv == VNP_OK)
			rv = t.len == 1 ? vnp_tlv_uint(&t, &ref) : VNP_E_MALFORMED;
		else if (rv == VNP_E_NOT_FOUND)
			rv = VNP_E_MALFORMED;
	}
	if (rv == VNP_OK)
		*ret_ref = (uint8_t)ref;
	vnp_buf_free(&b);
	return rv;
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
	struct vnp_apdu a;
	size_t off = 0, n;
	int rv;

	if (!buf && len)
		return VNP_E_ARGS;
	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	while (off < len) {
		n = VNP_MIN(len - off, 256u);
		apdu_init(&a, INS_GET_CHALLENGE, 0x00, 0x00);
		a.le = n;
		a.resp = buf + off;
		a.resp_cap = n;
		rv = run(card, &a);
		if (rv == VNP_OK && a.resp_len != n)
			rv = VNP_E_MALFORMED;
		if (rv)
			break;
		off += n;
	}
	vnp_card_end(card);
	return rv;
}

/* RESET RETRY COUNTER 00 2C 00 81: PUK (8 digits, as typed) || new PIN. 63Cx: wrong PUK,
 * x tries left (0: the PUK, and the applet, are blocked for good); 6983: PUK blocked;
 * 6A80: the new PIN breaks the policy (nothing spent). */
static int simpki_unblock(struct vnp_card *card, const uint8_t *puk, size_t puk_len,
			  const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	uint8_t data[SIMPKI_PUK_LEN + PIN_MAX];
	struct vnp_apdu a;
	int rv, tries = -1;
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
	apdu_init(&a, INS_RESET_RETRY, 0x00, VNP_PIN_USER);
	a.data = data;
	a.lc = puk_len + new_len;
	a.flags = VNP_APDU_SENSITIVE;
	rv = simple(card, &a);
	if (rv != VNP_OK && vnp_sw_tries_left(a.sw) >= 0) {
		tries = vnp_sw_tries_left(a.sw);
		rv = tries > 0 ? VNP_E_PIN_INCORRECT : VNP_E_PIN_LOCKED;
	} else if (a.sw == SW_PIN_BLOCKED || a.sw == 0x6283) {
		tries = 0;
		rv = VNP_E_PIN_LOCKED;
	} else if (a.sw == SW_WRONG_DATA) {
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
