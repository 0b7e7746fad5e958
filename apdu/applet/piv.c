/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card driver for the PIV card application (NIST SP 800-73-4 Part 2). Reads the four
 * certificate slots once per card session (each object whole: one GET DATA with extended
 * Le when the ATR says the card takes it, else short Le + 61xx GET RESPONSE); signs with one
 * GENERAL AUTHENTICATE. Key generation and certificate writes need the card management key
 * (piv_admin.c). CKA_ID: 01, 02, 03, 04 for the slots 9A, 9C, 9D, 9E, as OpenSC shows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "card.h"
#include "iso_cmd.h"
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
/* SP 800-73-4 gives no way to read the PIN retry maximum: assume the usual issuance value
 * (CKF_USER_PIN_COUNT_LOW below it), or more when the card shows more tries left. */
#define PIV_PIN_TRIES 3

#define SMALL_RESP 1024

static const struct vnp_sw_entry piv_sw[] = {
	{ 0x6A82, 0xFFFF, VNP_E_NOT_FOUND, "data object or application not found" },
	{ 0x6982, 0xFFFF, VNP_E_SECURITY_STATUS, "security status not satisfied" },
	{ 0x6983, 0xFFFF, VNP_E_PIN_LOCKED, "PIN or PUK blocked" },
	{ 0, 0, 0, NULL },
};

/* The four certificate slots of SP 800-73-4 Part 1 Table 4b. Keys in 9D are shown with
 * CKA_SIGN too: the card's GENERAL AUTHENTICATE signs with any slot. */
const struct piv_slot vnp_piv_slots[PIV_N_SLOTS] = {
	{ 0x9A, 0x01, PIV_TAG_CERT_9A, VNP_USAGE_SIGN | VNP_USAGE_DECRYPT, 0, "PIV AUTH key",
	  "X.509 Certificate for PIV Authentication" },
	{ 0x9C, 0x02, PIV_TAG_CERT_9C, VNP_USAGE_SIGN, VNP_KEY_ALWAYS_AUTH, "SIGN key",
	  "X.509 Certificate for Digital Signature" },
	{ 0x9D, 0x03, PIV_TAG_CERT_9D, VNP_USAGE_SIGN | VNP_USAGE_DECRYPT, 0, "KEY MAN key",
	  "X.509 Certificate for Key Management" },
	{ 0x9E, 0x04, PIV_TAG_CERT_9E, VNP_USAGE_SIGN, 0, "CARD AUTH key",
	  "X.509 Certificate for Card Authentication" },
};

int vnp_piv_slot_index(uint8_t ref_or_id)
{
	for (int i = 0; i < PIV_N_SLOTS; i++)
		if (vnp_piv_slots[i].key_ref == ref_or_id || vnp_piv_slots[i].id == ref_or_id)
			return i;
	return -1;
}

static const struct piv_slot *slot_of(uint8_t ref)
{
	int i = vnp_piv_slot_index(ref);

	return i >= 0 && vnp_piv_slots[i].key_ref == ref ? &vnp_piv_slots[i] : NULL;
}

struct piv_state *vnp_piv_state(struct vnp_card *card)
{
	return vnp_card_drv_data(card, sizeof(struct piv_state));
}

static void forget_certs(struct piv_state *st)
{
	for (int i = 0; i < PIV_N_SLOTS; i++) {
		free(st->slot[i].cert);
		memset(&st->slot[i], 0, sizeof(st->slot[i]));
	}
}

static void piv_release(struct vnp_card *card)
{
	if (card->drv_data)
		forget_certs(card->drv_data);
	vnp_card_free_drv_data(card);
}

int vnp_piv_cache_cert(struct piv_state *st, int idx, const uint8_t *cert, size_t len)
{
	struct piv_slot_state *ss = &st->slot[idx];
	uint8_t *copy = NULL;

	if (cert) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return VNP_E_NOMEM;
		memcpy(copy, cert, len);
	}
	free(ss->cert);
	ss->cert = copy;
	ss->cert_len = cert ? len : 0;
	ss->known = true;
	return VNP_OK;
}

static void apdu_init(struct vnp_apdu *a, uint8_t ins, uint8_t p1, uint8_t p2)
{
	vnp_iso_apdu_init(a, ISO_CLA, ins, p1, p2);
}

static int run(struct vnp_card *card, struct vnp_apdu *a)
{
	return vnp_apdu_run(&card->io, a, piv_sw);
}

int vnp_piv_run(struct vnp_card *card, struct vnp_apdu *a)
{
	return run(card, a);
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

/* VERIFY with no data: 9000 verified, 63Cx tries left, 6983 blocked. */
static int pin_status_locked(struct vnp_card *card, struct vnp_pin_info *ret)
{
	struct vnp_pin_info info;
	struct vnp_apdu a;
	int rv;

	memset(&info, 0, sizeof(info));
	info.tries_left = -1;
	info.max_tries = PIV_PIN_TRIES;
	apdu_init(&a, INS_VERIFY, 0x00, PIV_PIN_REF);
	rv = run(card, &a);
	if (rv == VNP_OK)
		info.verified = true;
	else if (vnp_iso_tries_from_sw(a.sw) >= 0)
		info.tries_left = vnp_iso_tries_from_sw(a.sw);
	else if (rv != VNP_E_NOT_SUPPORTED && rv != VNP_E_INVALID_DATA && rv != VNP_E_CARD)
		return rv;
	if (info.tries_left > PIV_PIN_TRIES)
		info.max_tries = (unsigned)info.tries_left;
	*ret = info;
	return VNP_OK;
}

/* Extended length as the ATR says (the transport must move it too: apdu.c checks caps). */
static void atr_caps(struct vnp_card *card)
{
	uint8_t atr[VNP_ATR_MAX];
	size_t n = sizeof(atr);
	int ext;

	if (!card->io.ops || !card->io.ops->atr || card->io.ops->atr(card->io.reader, atr, &n))
		return;
	ext = vnp_piv_atr_extended(atr, n);
	if (ext >= 0)
		card->io.card_extended = ext == 1;
	vnp_log(VNP_LOG_CARD, "%s: PIV: ATR %s extended length", card->io.who,
		ext < 0 ? "does not say" : ext ? "says" : "refuses");
}

/* SELECT the PIV application and read the CHUID: two APDUs. Discovery object, CCC and the
 * PIN counter are not read (nothing in the token model needs them up front: the counter is
 * read when asked for, VERIFY without data). */
static int piv_probe(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	struct vnp_token_info info;
	struct piv_state *st;
	struct vnp_apdu a;
	uint8_t *buf = NULL;
	size_t n;
	bool began = false;
	int rv;

	st = vnp_piv_state(card);
	buf = malloc(VNP_LE_MAX);
	if (!st || !buf) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	forget_certs(st); /* a new card session: another application may have written */
	memset(&info, 0, sizeof(info));
	rv = vnp_card_begin(card);
	if (rv)
		goto out;
	began = true;
	atr_caps(card);
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
	info.user_pin.tries_left = -1; /* not read here: VERIFY without data when asked */
	info.user_pin.max_tries = PIV_PIN_TRIES;
	info.so_kind = VNP_SO_PUK;
	info.puk_min = PIV_PIN_MIN;
	info.puk_max = PIV_PIN_LEN;
	info.so_pin.tries_left = -1; /* VERIFY does not take the PUK reference */
	info.max_cmd_data = card->io.card_max_cmd_data ? card->io.card_max_cmd_data : 255;
	info.max_resp_data = card->io.card_max_resp_data ? card->io.card_max_resp_data : 256;
	info.extended = card->io.card_extended;

	/* CHUID (mandatory): GUID or FASC-N as the serial. With its signature it may be long:
	 * one GET DATA with extended Le, or 61xx. */
	rv = get_data(card, PIV_TAG_CHUID, buf, VNP_LE_MAX, &n);
	if (rv == VNP_OK) {
		uint8_t md[SHA256_DIGEST_LENGTH];

		/* PIV has no change counter: the CHUID's hash stands in for one, for the
		 * opt-in enumeration cache (pkcs11/cache.c, `cache.piv = chuid`) */
		SHA256(buf, n, md);
		info.counter = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
			       (uint32_t)md[2] << 8 | md[3];
		rv = vnp_piv_parse_chuid(buf, n, info.serial, &info.serial_len);
	}
	if (rv == VNP_E_NOT_FOUND) {
		vnp_warn("%s: PIV card without CHUID serial", card->io.who);
		rv = VNP_OK;
	}
	if (rv)
		goto out;
	if (info.serial_len == 16) {
		/* CK_TOKEN_INFO shows 16 hex digits: the GUID's last 8 bytes (RFC 4122 clock
		 * sequence and node, where issuers put the card number) */
		memmove(info.serial, info.serial + 8, 8);
		info.serial_len = 8;
	}
	memcpy(st->serial, info.serial, info.serial_len);
	st->serial_len = info.serial_len;
	if (ret_info)
		*ret_info = info;
out:
	if (began)
		vnp_card_end(card);
	free(buf);
	return rv;
}

/* Read one certificate container, whole, in one GET DATA (transaction held by the caller).
 * *ret is the DER certificate (malloc'd, inflated when CertInfo says gzip), NULL with
 * VNP_OK for an empty slot. */
static int read_container(struct vnp_card *card, uint32_t tag, uint8_t **ret, size_t *ret_len)
{
	uint8_t *buf = malloc(VNP_LE_MAX), *val = NULL;
	const uint8_t *der;
	size_t n, len;
	bool compressed;
	int rv;

	if (!buf)
		return VNP_E_NOMEM;
	*ret = NULL;
	*ret_len = 0;
	rv = get_data(card, tag, buf, VNP_LE_MAX, &n);
	if (rv == VNP_E_NOT_FOUND) {
		rv = VNP_OK; /* 6A82: the slot holds no certificate */
		goto out;
	}
	if (rv == VNP_OK)
		rv = vnp_piv_parse_cert_container(buf, n, &der, &len, &compressed);
	if (rv == VNP_E_NOT_FOUND) {
		rv = VNP_OK; /* 53 00: deleted */
		goto out;
	}
	if (rv)
		goto out;
	if (compressed) {
		rv = vnp_piv_inflate(der, len, PIV_CERT_MAX, &val, &len);
	} else if (len > PIV_CERT_MAX) {
		rv = VNP_E_RANGE;
	} else {
		val = malloc(len ? len : 1);
		if (!val)
			rv = VNP_E_NOMEM;
		else
			memcpy(val, der, len);
	}
	if (rv)
		goto out;
	*ret = val;
	*ret_len = len;
out:
	free(buf);
	return rv;
}

/* Fill the slot's cache from the card unless it is known already. lenient: unusable
 * contents (malformed, bomb) are logged and shown as an empty slot. */
static int load_slot(struct vnp_card *card, struct piv_state *st, int idx, bool lenient)
{
	const struct piv_slot *s = &vnp_piv_slots[idx];
	uint8_t *der = NULL;
	size_t len = 0;
	int rv;

	if (st->slot[idx].known)
		return VNP_OK;
	rv = read_container(card, s->tag, &der, &len);
	if (lenient && (rv == VNP_E_MALFORMED || rv == VNP_E_RANGE)) {
		vnp_warn("%s: PIV slot %02X: certificate skipped (%s)", card->io.who, s->key_ref,
			 vnp_rv_text(rv));
		rv = VNP_OK;
	}
	if (rv)
		return rv;
	free(st->slot[idx].cert);
	st->slot[idx].cert = der;
	st->slot[idx].cert_len = len;
	st->slot[idx].known = true;
	return VNP_OK;
}

/* Append the key object of slot idx when its public key is known: from a key this process
 * generated, else the certificate, else the host-side public key of an earlier generation. */
static void add_key(struct vnp_card *card, struct piv_state *st, int idx, struct vnp_dir *dir)
{
	const struct piv_slot *s = &vnp_piv_slots[idx];
	const struct piv_slot_state *ss = &st->slot[idx];
	struct vnp_obj *key = &dir->objs[dir->count];
	int rv = VNP_E_NOT_FOUND;

	memset(key, 0, sizeof(*key));
	if (ss->has_gen) {
		key->pub = ss->gen;
		key->key_flags |= VNP_KEY_LOCAL;
		rv = VNP_OK;
	}
	if (rv && ss->cert) {
		rv = vnp_piv_cert_pubkey(ss->cert, ss->cert_len, &key->pub);
		if (rv)
			vnp_warn("%s: PIV slot %02X: no usable public key (%s)", card->io.who,
				 s->key_ref, vnp_rv_text(rv));
	}
	if (rv && !ss->cert && vnp_piv_pubfile_load(card, st, s->key_ref, &key->pub) == VNP_OK) {
		key->key_flags |= VNP_KEY_LOCAL;
		rv = VNP_OK;
	}
	if (rv) {
		memset(key, 0, sizeof(*key));
		return;
	}
	key->kind = VNP_OBJ_KEY;
	key->ref = s->key_ref;
	key->id[0] = s->id;
	key->id_len = 1;
	snprintf(key->label, sizeof(key->label), "%s", s->key_label);
	key->usage = s->usage;
	if (VNP_ALG_IS_EC(key->pub.alg))
		key->usage &= ~VNP_USAGE_DECRYPT;
	key->key_flags |= s->key_flags | VNP_KEY_FIXED; /* no PIV command deletes a key */
	dir->count++;
}

static int piv_read_dir(struct vnp_card *card, struct vnp_dir **ret)
{
	struct piv_state *st;
	struct vnp_dir *dir = NULL;
	bool began = false;
	int rv;

	if (!ret)
		return VNP_E_ARGS;
	st = vnp_piv_state(card);
	dir = calloc(1, sizeof(*dir));
	if (dir)
		dir->objs = calloc(2 * PIV_N_SLOTS, sizeof(*dir->objs));
	if (!st || !dir || !dir->objs) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	rv = vnp_card_begin(card);
	if (rv)
		goto out;
	began = true;
	for (int i = 0; i < PIV_N_SLOTS; i++) {
		const struct piv_slot *s = &vnp_piv_slots[i];
		const struct piv_slot_state *ss = &st->slot[i];

		rv = load_slot(card, st, i, true);
		if (rv)
			goto out;
		if (ss->cert) {
			struct vnp_obj *cert = &dir->objs[dir->count++];

			cert->kind = VNP_OBJ_CERT;
			cert->ref = s->key_ref;
			cert->id[0] = s->id;
			cert->id_len = 1;
			snprintf(cert->label, sizeof(cert->label), "%s", s->cert_label);
			cert->length = ss->cert_len;
			SHA256(ss->cert, ss->cert_len, cert->hash);
			cert->has_hash = true;
		}
		add_key(card, st, i, dir);
	}
	*ret = dir;
	dir = NULL;
out:
	if (began)
		vnp_card_end(card);
	vnp_dir_free(dir);
	return rv;
}

/* The certificate from the card session's cache (read_dir read it); the card only when the
 * cache was dropped (a reset or a new SELECT). */
static int piv_read_object(struct vnp_card *card, const struct vnp_obj *obj, uint8_t **ret,
			   size_t *ret_len)
{
	struct piv_state *st;
	const struct piv_slot_state *ss;
	uint8_t *val;
	int idx, rv;

	if (!obj || !ret || !ret_len || obj->kind != VNP_OBJ_CERT)
		return VNP_E_ARGS;
	if (!slot_of(obj->ref))
		return VNP_E_NOT_FOUND;
	idx = vnp_piv_slot_index(obj->ref);
	st = vnp_piv_state(card);
	if (!st)
		return VNP_E_NOMEM;
	ss = &st->slot[idx];
	if (!ss->known) {
		rv = vnp_card_begin(card);
		if (rv)
			return rv;
		rv = load_slot(card, st, idx, false);
		vnp_card_end(card);
		if (rv)
			return rv;
	}
	if (!ss->cert)
		return VNP_E_NOT_FOUND;
	val = malloc(ss->cert_len ? ss->cert_len : 1);
	if (!val)
		return VNP_E_NOMEM;
	memcpy(val, ss->cert, ss->cert_len);
	*ret = val;
	*ret_len = ss->cert_len;
	return VNP_OK;
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
	uint16_t sw = 0;
	int rv;

	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	rv = pad_pin(pin, len, data);
	if (rv)
		return rv;
	rv = vnp_iso_pin_cmd(card, piv_sw, INS_VERIFY, PIV_PIN_REF, data, sizeof(data), &sw);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : vnp_iso_tries_from_sw(sw);
	vnp_wipe(data, sizeof(data));
	return rv;
}

static int piv_logout(struct vnp_card *card, unsigned pin_ref)
{
	if (pin_ref != VNP_PIN_USER)
		return VNP_E_ARGS;
	/* SP 800-73-4 Part 2 §3.2.1: P1 = FF resets the security status */
	return vnp_iso_logout(card, piv_sw, PIV_PIN_REF);
}

/* CHANGE REFERENCE DATA / RESET RETRY COUNTER: 00 ins 00 80 { old(8) || new(8) }. */
static int two_pins(struct vnp_card *card, uint8_t ins, const uint8_t *old_pin, size_t old_len,
		    const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	uint8_t data[2 * PIV_PIN_LEN];
	uint16_t sw = 0;
	int rv;

	rv = pad_pin(new_pin, new_len, data + PIV_PIN_LEN);
	if (rv == VNP_OK)
		rv = pad_pin(old_pin, old_len, data);
	if (rv)
		goto out;
	rv = vnp_iso_pin_cmd(card, piv_sw, ins, PIV_PIN_REF, data, sizeof(data), &sw);
	if (ret_tries_left)
		*ret_tries_left = rv == VNP_OK ? -1 : vnp_iso_tries_from_sw(sw);
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

/* The unblock "response" of the token model is the PIV PUK (6..8 bytes, padded with FF):
 * RESET RETRY COUNTER 00 2C 00 80 { PUK || new PIN }. */
static int piv_unblock(struct vnp_card *card, const uint8_t *response, size_t response_len,
		       const uint8_t *new_pin, size_t new_len, int *ret_tries_left)
{
	/* VNP_E_PIN_LOCKED (6983, 63C0): the PUK is blocked; only a card administrator with
	 * the management key can help (card.h: the VNP_SO_PUK contract) */
	return two_pins(card, INS_RESET_RETRY, response, response_len, new_pin, new_len,
			ret_tries_left);
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
	uint8_t resp[SMALL_RESP];
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
	apdu_init(&a, INS_GENERAL_AUTH, alg_id, key->ref);
	a.data = b.p;
	a.lc = b.len;
	a.le = SMALL_RESP; /* 7C { 82 signature } fits: one exchange with extended length */
	a.resp = resp;
	a.resp_cap = SMALL_RESP;
	/* GENERAL AUTHENTICATE names algorithm and key itself: one exchange without a
	 * transaction when it fits (one pcscd round trip), re-select and retry once. */
	rv = vnp_card_run_one(card, &a, piv_sw);
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
	vnp_buf_free(&b);
	return rv;
}

const struct vnp_card_driver vnp_driver_piv = {
	.name = "piv",
	.probe = piv_probe,
	.release = piv_release,
	.read_dir = piv_read_dir,
	.read_object = piv_read_object,
	.pin_status = piv_pin_status,
	.verify = piv_verify,
	.logout = piv_logout,
	.change_pin = piv_change_pin,
	.sign = piv_sign,
	.unblock = piv_unblock,
	.generate_key = vnp_piv_generate_key,
	.write_object = vnp_piv_write_object,
	.delete_object = vnp_piv_delete_object,
};
