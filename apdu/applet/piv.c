/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card driver for the PIV card application (NIST SP 800-73-4 Part 2). Reads the four
 * certificate slots; signs with GENERAL AUTHENTICATE. Writes nothing (no key generation,
 * no certificate import: those need the card management key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "card.h"
#include "log.h"
#include "piv_int.h"
#include "rv.h"
#include "secret.h"
#include "sw.h"
#include "tlv.h"

/* SP 800-73-4 Part 1 §2.2: the PIV AID with version 01 00 */
static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00,
				   0x00, 0x10, 0x00, 0x01, 0x00 };

#define INS_SELECT 0xA4
#define INS_GET_DATA 0xCB
#define INS_VERIFY 0x20
#define INS_CHANGE_REF 0x24
#define INS_RESET_RETRY 0x2C
#define INS_GENERAL_AUTH 0x87

#define PIV_PIN_REF 0x80 /* PIV Card Application PIN */
#define PIV_PUK_REF 0x81
#define PIV_PIN_LEN 8    /* PIN and PUK are padded with FF to 8 bytes */
#define PIV_PIN_MIN 6

#define SW_PIN_BLOCKED 0x6983
#define SMALL_RESP 1024

static const struct vnp_sw_entry piv_sw[] = {
	{ 0x6A82, 0xFFFF, VNP_E_NOT_FOUND, "data object or application not found" },
	{ 0x6982, 0xFFFF, VNP_E_SECURITY_STATUS, "security status not satisfied" },
	{ 0x6983, 0xFFFF, VNP_E_PIN_LOCKED, "PIN or PUK blocked" },
	{ 0, 0, 0, NULL },
};

/* The four certificate slots of SP 800-73-4 Part 1 Table 4b. */
static const struct slot {
	uint8_t key_ref;
	uint32_t tag;
	unsigned usage, key_flags;
	const char *key_label, *cert_label;
} slots[] = {
	{ 0x9A, PIV_TAG_CERT_9A, VNP_USAGE_SIGN | VNP_USAGE_DECRYPT, 0, "PIV AUTH key",
	  "X.509 Certificate for PIV Authentication" },
	{ 0x9C, PIV_TAG_CERT_9C, VNP_USAGE_SIGN, VNP_KEY_ALWAYS_AUTH, "SIGN key",
	  "X.509 Certificate for Digital Signature" },
	{ 0x9D, PIV_TAG_CERT_9D, VNP_USAGE_DECRYPT, 0, "KEY MAN key",
	  "X.509 Certificate for Key Management" },
	{ 0x9E, PIV_TAG_CERT_9E, VNP_USAGE_SIGN, 0, "CARD AUTH key",
	  "X.509 Certificate for Card Authentication" },
};

static const struct slot *slot_of(uint8_t ref)
{
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (slots[i].key_ref == ref)
			return &slots[i];
	return NULL;
}

static void apdu_init(struct vnp_apdu *a, uint8_t ins, uint8_t p1, uint8_t p2)
{
	memset(a, 0, sizeof(*a));
	a->ins = ins;
	a->p1 = p1;
	a->p2 = p2;
}

static int run(struct vnp_card *card, struct vnp_apdu *a)
{
	return vnp_apdu_run(&card->io, a, piv_sw);
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

/* GET DATA 00 CB 3F FF { 5C tag }; the answer goes to buf (transaction held by caller). */
static int get_data(struct vnp_card *card, uint32_t tag, uint8_t *buf, size_t cap,
		    size_t *ret_len)
{
	uint8_t cmd[5];
	struct vnp_apdu a;
	size_t n = tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;
	int rv;

	cmd[0] = 0x5C;
	cmd[1] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		cmd[2 + i] = (uint8_t)(tag >> (8 * (n - 1 - i)));
	apdu_init(&a, INS_GET_DATA, 0x3F, 0xFF);
	a.data = cmd;
	a.lc = 2 + n;
	a.le = cap > 256 ? VNP_LE_MAX : 256;
	a.resp = buf;
	a.resp_cap = cap;
	rv = run(card, &a);
	if (rv == VNP_OK)
		*ret_len = a.resp_len;
	return rv;
}

static int tries_from_sw(uint16_t sw)
{
	if (sw == SW_PIN_BLOCKED)
		return 0;
	return vnp_sw_tries_left(sw);
}

/* VERIFY with no data: 9000 verified, 63Cx tries left, 6983 blocked. */
static int pin_status_locked(struct vnp_card *card, struct vnp_pin_info *ret)
{
	struct vnp_pin_info info;
	struct vnp_apdu a;
	int rv;

	memset(&info, 0, sizeof(info));
	info.tries_left = -1;
	apdu_init(&a, INS_VERIFY, 0x00, PIV_PIN_REF);
	rv = run(card, &a);
	if (rv == VNP_OK)
		info.verified = true;
	else if (tries_from_sw(a.sw) >= 0)
		info.tries_left = tries_from_sw(a.sw);
	else if (rv != VNP_E_NOT_SUPPORTED && rv != VNP_E_INVALID_DATA && rv != VNP_E_CARD)
		return rv;
	*ret = info;
	return VNP_OK;
}

static int piv_probe(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	struct vnp_token_info info;
	struct vnp_apdu a;
	uint8_t *buf = NULL, policy[2];
	size_t n;
	bool began = false;
	int rv;

	buf = malloc(SMALL_RESP);
	if (!buf)
		return VNP_E_NOMEM;
	memset(&info, 0, sizeof(info));
	rv = vnp_card_begin(card);
	if (rv)
		goto out;
	began = true;
	apdu_init(&a, INS_SELECT, 0x04, 0x00);
	a.data = piv_aid;
	a.lc = sizeof(piv_aid);
	a.le = 256;
	a.resp = buf;
	a.resp_cap = SMALL_RESP;
	rv = run(card, &a);
	if (rv)
		goto out;
	rv = vnp_piv_parse_apt(buf, a.resp_len, &info);
	if (rv)
		goto out;
	info.type = VNP_DEVICE_PIV;
	if (!info.label[0])
		strcpy(info.label, "PIV Card");
	strcpy(info.manufacturer, "PIV");
	strcpy(info.model, "PIV");
	info.pin_min = PIV_PIN_MIN;
	info.pin_max = PIV_PIN_LEN;
	info.so_pin.tries_left = -1; /* VERIFY does not take the PUK reference */
	info.max_cmd_data = card->io.card_max_cmd_data ? card->io.card_max_cmd_data : 255;
	info.max_resp_data = card->io.card_max_resp_data ? card->io.card_max_resp_data : 256;
	info.extended = card->io.card_extended;

	/* CHUID (mandatory): GUID or FASC-N as the serial */
	rv = get_data(card, PIV_TAG_CHUID, buf, SMALL_RESP, &n);
	if (rv == VNP_OK)
		rv = vnp_piv_parse_chuid(buf, n, info.serial, &info.serial_len);
	if (rv == VNP_E_NOT_FOUND)
		vnp_warn("%s: PIV card without CHUID serial", card->io.who);
	else if (rv)
		goto out;
	/* Discovery object and CCC: optional */
	rv = get_data(card, PIV_TAG_DISCOVERY, buf, SMALL_RESP, &n);
	if (rv == VNP_OK && vnp_piv_parse_discovery(buf, n, policy) == VNP_OK &&
	    !(policy[0] & 0x40))
		vnp_warn("%s: discovery object: PIV PIN does not satisfy the policy", card->io.who);
	if (rv && rv != VNP_E_NOT_FOUND)
		goto out;
	rv = get_data(card, PIV_TAG_CCC, buf, SMALL_RESP, &n);
	if (rv && rv != VNP_E_NOT_FOUND)
		goto out;
	rv = pin_status_locked(card, &info.user_pin);
	if (rv)
		goto out;
	if (ret_info)
		*ret_info = info;
out:
	if (began)
		vnp_card_end(card);
	free(buf);
	return rv;
}

/* Read one certificate container (transaction held by the caller). *ret_buf is malloc'd;
 * *ret_cert points into it. */
static int read_container(struct vnp_card *card, uint32_t tag, uint8_t **ret_buf,
			  const uint8_t **ret_cert, size_t *ret_cert_len)
{
	uint8_t *buf = malloc(VNP_LE_MAX);
	size_t n;
	bool compressed;
	int rv;

	if (!buf)
		return VNP_E_NOMEM;
	rv = get_data(card, tag, buf, VNP_LE_MAX, &n);
	if (rv)
		goto out;
	rv = vnp_piv_parse_cert_container(buf, n, ret_cert, ret_cert_len, &compressed);
	if (rv)
		goto out;
	if (compressed) {
		/* gzip (CertInfo bit 0): not inflated, zlib is not linked */
		rv = VNP_E_NOT_SUPPORTED;
		goto out;
	}
	*ret_buf = buf;
	buf = NULL;
out:
	free(buf);
	return rv;
}

static int piv_read_dir(struct vnp_card *card, struct vnp_dir **ret)
{
	struct vnp_dir *dir = NULL;
	bool began = false;
	int rv;

	if (!ret)
		return VNP_E_ARGS;
	dir = calloc(1, sizeof(*dir));
	if (dir)
		dir->objs = calloc(2 * (sizeof(slots) / sizeof(slots[0])), sizeof(*dir->objs));
	if (!dir || !dir->objs) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	rv = vnp_card_begin(card);
	if (rv)
		goto out;
	began = true;
	for (size_t i = 0; i < (sizeof(slots) / sizeof(slots[0])); i++) {
		const struct slot *s = &slots[i];
		struct vnp_obj *cert = &dir->objs[dir->count];
		const uint8_t *der;
		uint8_t *buf = NULL;
		size_t len;

		rv = read_container(card, s->tag, &buf, &der, &len);
		if (rv == VNP_E_NOT_FOUND || rv == VNP_E_NOT_SUPPORTED || rv == VNP_E_MALFORMED) {
			if (rv != VNP_E_NOT_FOUND)
				vnp_warn("%s: PIV slot %02X: certificate skipped (%s)", card->io.who,
					 s->key_ref, vnp_rv_text(rv));
			rv = VNP_OK;
			continue;
		}
		if (rv)
			goto out;
		cert->kind = VNP_OBJ_CERT;
		cert->ref = s->key_ref;
		cert->id[0] = s->key_ref;
		cert->id_len = 1;
		snprintf(cert->label, sizeof(cert->label), "%s", s->cert_label);
		cert->length = len;
		SHA256(der, len, cert->hash);
		cert->has_hash = true;
		dir->count++;
		{
			struct vnp_obj *key = &dir->objs[dir->count];
			int krv = vnp_piv_cert_pubkey(der, len, &key->pub);

			if (krv) {
				vnp_warn("%s: PIV slot %02X: no usable public key (%s)",
					 card->io.who, s->key_ref, vnp_rv_text(krv));
				memset(key, 0, sizeof(*key));
			} else {
				key->kind = VNP_OBJ_KEY;
				key->ref = s->key_ref;
				key->id[0] = s->key_ref;
				key->id_len = 1;
				snprintf(key->label, sizeof(key->label), "%s", s->key_label);
				key->usage = s->usage;
				key->key_flags = s->key_flags;
				dir->count++;
			}
		}
		free(buf);
	}
	*ret = dir;
	dir = NULL;
out:
	if (began)
		vnp_card_end(card);
	vnp_dir_free(dir);
	return rv;
}

static int piv_read_object(struct vnp_card *card, const struct vnp_obj *obj, uint8_t **ret,
			   size_t *ret_len)
{
	const struct slot *s;
	const uint8_t *der;
	uint8_t *buf = NULL, *val;
	size_t len;
	int rv;

	if (!obj || !ret || !ret_len || obj->kind != VNP_OBJ_CERT)
		return VNP_E_ARGS;
	s = slot_of(obj->ref);
	if (!s)
		return VNP_E_NOT_FOUND;
	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	rv = read_container(card, s->tag, &buf, &der, &len);
	vnp_card_end(card);
	if (rv)
		return rv;
	val = malloc(len);
	if (!val) {
		rv = VNP_E_NOMEM;
	} else {
		memcpy(val, der, len);
		*ret = val;
		*ret_len = len;
	}
	free(buf);
	return rv;
}

static int piv_pin_status(struct vnp_card *card, unsigned pin_ref, struct vnp_pin_info *ret)
{
	int rv;

	if (!ret)
		return VNP_E_ARGS;
	if (pin_ref == VNP_PIN_SO) {
		/* SP 800-73-4 §3.2.1: VERIFY does not take the PUK; its counter is unknown */
		memset(ret, 0, sizeof(*ret));
		ret->tries_left = -1;
		return VNP_OK;
	}
	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	rv = pin_status_locked(card, ret);
	vnp_card_end(card);
	return rv;
}

/* The PIN padded with FF to 8 bytes (SP 800-73-4 Part 2 §3.2.1). */
static int pad_pin(const uint8_t *pin, size_t len, uint8_t out[PIV_PIN_LEN])
{
	if (!pin)
		return VNP_E_ARGS;
	if (len < PIV_PIN_MIN || len > PIV_PIN_LEN)
		return VNP_E_PIN_LEN;
	memset(out, 0xFF, PIV_PIN_LEN);
	memcpy(out, pin, len);
	return VNP_OK;
}

static int piv_verify(struct vnp_card *card, unsigned pin_ref, const uint8_t *pin, size_t len,
		      int *ret_tries_left)
{
	uint8_t data[PIV_PIN_LEN];
	struct vnp_apdu a;
	int rv;

	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	rv = pad_pin(pin, len, data);
	if (rv)
		return rv;
	apdu_init(&a, INS_VERIFY, 0x00, PIV_PIN_REF);
	a.data = data;
	a.lc = PIV_PIN_LEN;
	a.flags = VNP_APDU_SENSITIVE;
	rv = simple(card, &a);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : tries_from_sw(a.sw);
	vnp_wipe(data, sizeof(data));
	return rv;
}

static int piv_logout(struct vnp_card *card, unsigned pin_ref)
{
	struct vnp_apdu a;

	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	/* SP 800-73-4 Part 2 §3.2.1: P1 = FF resets the security status */
	apdu_init(&a, INS_VERIFY, 0xFF, PIV_PIN_REF);
	return simple(card, &a);
}

/* CHANGE REFERENCE DATA / RESET RETRY COUNTER: 00 ins 00 80 { old(8) || new(8) }. */
static int two_pins(struct vnp_card *card, uint8_t ins, const uint8_t *old_pin, size_t old_len,
		    const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	uint8_t data[2 * PIV_PIN_LEN];
	struct vnp_apdu a;
	int rv;

	rv = pad_pin(new_pin, new_len, data + PIV_PIN_LEN);
	if (rv == VNP_OK)
		rv = pad_pin(old_pin, old_len, data);
	if (rv)
		goto out;
	apdu_init(&a, ins, 0x00, PIV_PIN_REF);
	a.data = data;
	a.lc = sizeof(data);
	a.flags = VNP_APDU_SENSITIVE;
	rv = simple(card, &a);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : tries_from_sw(a.sw);
out:
	vnp_wipe(data, sizeof(data));
	return rv;
}

static int piv_change_pin(struct vnp_card *card, unsigned pin_ref, const uint8_t *old_pin,
			  size_t old_len, const uint8_t *new_pin, size_t new_len,
			  int *ret_tries_left)
{
	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	return two_pins(card, INS_CHANGE_REF, old_pin, old_len, new_pin, new_len,
			ret_tries_left);
}

/* The unblock "response" of the token model is the PIV PUK (6..8 bytes). */
static int piv_unblock(struct vnp_card *card, const uint8_t *response, size_t response_len,
		       const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	int rv = two_pins(card, INS_RESET_RETRY, response, response_len, new_pin, new_len,
			  ret_tries_left);

	if (rv == VNP_E_PIN_LOCKED)
		rv = VNP_E_TERMINATED; /* PUK blocked: only the card administrator can help */
	return rv;
}

static size_t key_bytes(enum vnp_key_alg alg)
{
	switch (alg) {
	case VNP_ALG_RSA2048: return 256;
	case VNP_ALG_RSA3072: return 384;
	case VNP_ALG_EC_P256: return 32;
	case VNP_ALG_EC_P384: return 48;
	case VNP_ALG_NONE: break;
	}
	return 0;
}

/* The GENERAL AUTHENTICATE input for key and params: the padded block (RSA) or the hash cut
 * or left-padded to the order size (ECDSA). */
static int build_challenge(const struct vnp_obj *key, const struct vnp_sign_params *params,
			   const uint8_t *in, size_t in_len, uint8_t *out, size_t k)
{
	enum vnp_key_alg alg = key->pub.alg;

	if (VNP_ALG_IS_RSA(alg) && params->scheme == VNP_SIG_RSA_PKCS1)
		return vnp_piv_pad_pkcs1(in, in_len, out, k);
	if (VNP_ALG_IS_RSA(alg) && params->scheme == VNP_SIG_RSA_PSS)
		return vnp_piv_pss_encode(params, in, in_len, NULL, (unsigned)(8 * k), out);
	if (VNP_ALG_IS_EC(alg) && params->scheme == VNP_SIG_ECDSA) {
		if (in_len == 0)
			return VNP_E_ARGS;
		memset(out, 0, k);
		if (in_len >= k)
			memcpy(out, in, k);
		else
			memcpy(out + k - in_len, in, in_len);
		return VNP_OK;
	}
	return VNP_E_NOT_SUPPORTED;
}

static int piv_sign(struct vnp_card *card, const struct vnp_obj *key,
		    const struct vnp_sign_params *params, const uint8_t *in, size_t in_len,
		    uint8_t *out, size_t *out_len)
{
	uint8_t block[VNP_RSA_MAX_BYTES];
	uint8_t *resp = NULL;
	struct vnp_buf b;
	struct vnp_apdu a;
	const uint8_t *sig;
	size_t k, sig_len, mark, want;
	uint8_t alg_id;
	int rv;

	if (!key || !params || (!in && in_len) || !out || !out_len || key->kind != VNP_OBJ_KEY ||
	    !slot_of(key->ref))
		return VNP_E_ARGS;
	k = key_bytes(key->pub.alg);
	alg_id = vnp_piv_alg_id(key->pub.alg);
	if (!k || !alg_id)
		return VNP_E_NOT_SUPPORTED;
	want = VNP_ALG_IS_EC(key->pub.alg) ? 2 * k : k;
	if (*out_len < want)
		return VNP_E_BUFFER_TOO_SMALL;
	vnp_buf_init(&b);
	rv = build_challenge(key, params, in, in_len, block, k);
	if (rv)
		goto out;
	/* 7C { 82 00, 81 challenge }: ask for the response to the challenge */
	mark = vnp_tlv_open(&b, 0x7C);
	vnp_tlv_put(&b, 0x82, NULL, 0);
	vnp_tlv_put(&b, 0x81, block, k);
	vnp_tlv_close(&b, mark);
	if (b.failed) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	resp = malloc(SMALL_RESP);
	if (!resp) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	apdu_init(&a, INS_GENERAL_AUTH, alg_id, key->ref);
	a.data = b.p;
	a.lc = b.len;
	a.le = VNP_LE_MAX;
	a.resp = resp;
	a.resp_cap = SMALL_RESP;
	rv = simple(card, &a);
	if (rv)
		goto out;
	rv = vnp_piv_parse_auth_resp(resp, a.resp_len, &sig, &sig_len);
	if (rv)
		goto out;
	if (VNP_ALG_IS_EC(key->pub.alg)) {
		rv = vnp_piv_ecdsa_der_to_rs(sig, sig_len, k, out);
	} else if (sig_len != k) {
		rv = VNP_E_MALFORMED;
	} else {
		memcpy(out, sig, k);
	}
	if (rv == VNP_OK)
		*out_len = want;
out:
	vnp_wipe(block, sizeof(block));
	free(resp);
	vnp_buf_free(&b);
	return rv;
}

const struct vnp_card_driver vnp_driver_piv = {
	.name = "piv",
	.probe = piv_probe,
	.release = vnp_card_free_drv_data,
	.read_dir = piv_read_dir,
	.read_object = piv_read_object,
	.pin_status = piv_pin_status,
	.verify = piv_verify,
	.logout = piv_logout,
	.change_pin = piv_change_pin,
	.sign = piv_sign,
	.unblock = piv_unblock,
};
