/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV card administration with the card management key (key reference 9B): mutual
 * authentication (SP 800-73-4 Part 2 Appendix A.1), GENERATE ASYMMETRIC KEY PAIR and
 * PUT DATA of certificates. The key comes from the configuration (piv.management_key) and
 * is never logged; the APDUs that carry key-derived bytes are marked sensitive. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config.h"
#include "iso_cmd.h"
#include "log.h"
#include "piv_int.h"
#include "rv.h"
#include "secret.h"
#include "tlv.h"

#define INS_GENERAL_AUTH 0x87
#define INS_GENERATE 0x47
#define INS_PUT_DATA 0xDB
#define MGMT_KEY_REF 0x9B
#define BLOCK_MAX 16

static void apdu_init(struct vnp_apdu *a, uint8_t ins, uint8_t p1, uint8_t p2)
{
	vnp_iso_apdu_init(a, ISO_CLA, ins, p1, p2);
}

/* The key length of a management key algorithm (SP 800-78-4 Table 6-1); 0: unknown. */
static size_t mgmt_key_len(uint8_t alg)
{
	switch (alg) {
	case 0x03: return 24; /* 3DES, three keys */
	case 0x08: return 16;
	case 0x0A: return 24;
	case 0x0C: return 32;
	default: return 0;
	}
}

static int mgmt_key(struct vnp_card *card, const struct vnp_secret **ret_key, uint8_t *ret_alg)
{
	const struct vnp_config *cfg = card->cfg;

	if (!cfg || !cfg->piv_mgmt_key.p || !cfg->piv_mgmt_key.len) {
		vnp_warn("%s: PIV: no piv.management_key in vnpki.conf: key generation "
			"and certificate writes are not available", card->io.who);
		return VNP_E_NOT_SUPPORTED;
	}
	if (!vnp_piv_mgmt_block(cfg->piv_mgmt_alg)) {
		vnp_warn("%s: PIV: management key algorithm %02X unknown", card->io.who,
			 cfg->piv_mgmt_alg);
		return VNP_E_CONFIG;
	}
	if (cfg->piv_mgmt_key.len != mgmt_key_len(cfg->piv_mgmt_alg)) {
		/* found here, before the card is asked for a witness or challenge */
		vnp_warn("%s: PIV: piv.management_key has %zu bytes, management_key_alg wants %zu",
			 card->io.who, cfg->piv_mgmt_key.len, mgmt_key_len(cfg->piv_mgmt_alg));
		return VNP_E_CONFIG;
	}
	*ret_key = &cfg->piv_mgmt_key;
	*ret_alg = cfg->piv_mgmt_alg;
	return VNP_OK;
}

/* 7C { tag value } with a value of exactly bs bytes, from a GENERAL AUTHENTICATE answer. */
static int auth_item(const uint8_t *buf, size_t len, uint32_t tag, size_t bs, uint8_t *out)
{
	struct vnp_tlv t, in;
	const uint8_t *p = buf;
	int rv;

	rv = vnp_tlv_next(&p, buf + len, &t);
	if (rv || t.tag != 0x7C || p != buf + len)
		return VNP_E_MALFORMED;
	rv = vnp_tlv_find(t.value, t.len, tag, &in);
	if (rv || in.len != bs)
		return VNP_E_MALFORMED;
	memcpy(out, in.value, bs);
	return VNP_OK;
}

/* One GENERAL AUTHENTICATE 00 87 alg 9B with the dynamic authentication template data. */
static int gen_auth(struct vnp_card *card, uint8_t alg, const uint8_t *data, size_t len,
		    uint8_t *resp, size_t cap, size_t *ret_len)
{
	struct vnp_apdu a;
	int rv;

	apdu_init(&a, INS_GENERAL_AUTH, alg, MGMT_KEY_REF);
	a.data = data;
	a.lc = len;
	a.le = 256;
	a.resp = resp;
	a.resp_cap = cap;
	a.flags = VNP_APDU_SENSITIVE;
	rv = vnp_piv_run(card, &a);
	*ret_len = a.resp_len;
	return rv;
}

/* Authenticate to the card with the management key (transaction held by the caller).
 * Mutual: the card's witness (80) decrypted and our challenge (81) in one command, the
 * card's answer (82) must be our challenge encrypted. Cards that refuse the witness request
 * get the external authentication of A.1 (challenge 81, our response 82). */
static int mgmt_auth(struct vnp_card *card)
{
	const struct vnp_secret *key;
	uint8_t alg, witness[BLOCK_MAX], plain[BLOCK_MAX], chal[BLOCK_MAX], expect[BLOCK_MAX];
	uint8_t resp[64], cmd[2 + 2 * (2 + BLOCK_MAX)];
	size_t bs, n;
	int rv;

	rv = mgmt_key(card, &key, &alg);
	if (rv)
		return rv;
	bs = vnp_piv_mgmt_block(alg);
	/* 7C 02 80 00: a witness, please */
	rv = gen_auth(card, alg, (const uint8_t[]){ 0x7C, 0x02, 0x80, 0x00 }, 4, resp,
		      sizeof(resp), &n);
	if (rv == VNP_E_INVALID_DATA || rv == VNP_E_NOT_SUPPORTED) {
		/* external authentication: 7C 02 81 00, the card's challenge, our 82 */
		rv = gen_auth(card, alg, (const uint8_t[]){ 0x7C, 0x02, 0x81, 0x00 }, 4, resp,
			      sizeof(resp), &n);
		if (rv == VNP_OK)
			rv = auth_item(resp, n, 0x81, bs, chal);
		if (rv == VNP_OK)
			rv = vnp_piv_mgmt_crypt(alg, key->p, key->len, true, chal, expect);
		if (rv)
			goto out;
		cmd[0] = 0x7C;
		cmd[1] = (uint8_t)(2 + bs);
		cmd[2] = 0x82;
		cmd[3] = (uint8_t)bs;
		memcpy(cmd + 4, expect, bs);
		rv = gen_auth(card, alg, cmd, 4 + bs, resp, sizeof(resp), &n);
		goto out;
	}
	if (rv == VNP_OK)
		rv = auth_item(resp, n, 0x80, bs, witness);
	if (rv == VNP_OK)
		rv = vnp_piv_mgmt_crypt(alg, key->p, key->len, false, witness, plain);
	if (rv == VNP_OK && RAND_bytes(chal, (int)bs) != 1)
		rv = VNP_E_CRYPTO;
	if (rv)
		goto out;
	/* 7C { 80 witness decrypted, 81 our challenge } */
	cmd[0] = 0x7C;
	cmd[1] = (uint8_t)(2 * (2 + bs));
	cmd[2] = 0x80;
	cmd[3] = (uint8_t)bs;
	memcpy(cmd + 4, plain, bs);
	cmd[4 + bs] = 0x81;
	cmd[5 + bs] = (uint8_t)bs;
	memcpy(cmd + 6 + bs, chal, bs);
	rv = gen_auth(card, alg, cmd, 6 + 2 * bs, resp, sizeof(resp), &n);
	if (rv == VNP_OK)
		rv = auth_item(resp, n, 0x82, bs, witness);
	if (rv == VNP_OK)
		rv = vnp_piv_mgmt_crypt(alg, key->p, key->len, true, chal, expect);
	if (rv == VNP_OK && CRYPTO_memcmp(witness, expect, bs) != 0) {
		vnp_warn("%s: PIV: the card failed the mutual authentication", card->io.who);
		rv = VNP_E_SECURITY_STATUS;
	}
out:
	if (rv == VNP_E_SECURITY_STATUS || rv == VNP_E_PIN_INCORRECT || rv == VNP_E_PIN_LOCKED)
		vnp_warn("%s: PIV: the card refused the management key", card->io.who);
	vnp_wipe(plain, sizeof(plain));
	vnp_wipe(expect, sizeof(expect));
	vnp_wipe(cmd, sizeof(cmd));
	vnp_wipe(resp, sizeof(resp));
	return rv;
}

static bool pub_equal(const struct vnp_pubkey *a, const struct vnp_pubkey *b)
{
	return a->alg == b->alg && a->modulus_len == b->modulus_len &&
	       a->exponent_len == b->exponent_len && a->ec_point_len == b->ec_point_len &&
	       !memcmp(a->modulus, b->modulus, a->modulus_len) &&
	       !memcmp(a->exponent, b->exponent, a->exponent_len) &&
	       !memcmp(a->ec_point, b->ec_point, a->ec_point_len);
}

/* The slot a CKA_ID names: 9A/9C/9D/9E or OpenSC's 01..04. */
static int slot_of_id(const uint8_t *id, size_t len)
{
	return len == 1 ? vnp_piv_slot_index(id[0]) : -1;
}

/* The first slot (9A, 9C, 9D, 9E) that shows no key: no certificate (as read by the last
 * enumeration), no key generated here, no host copy of a public key. -1 when none. */
static int free_slot(struct vnp_card *card, const struct piv_state *st)
{
	struct vnp_pubkey pub;

	for (int i = 0; i < PIV_N_SLOTS; i++) {
		const struct piv_slot_state *ss = &st->slot[i];

		if (!ss->known || ss->cert || ss->has_gen ||
		    vnp_piv_pubfile_load(card, st, vnp_piv_slots[i].key_ref, &pub) == VNP_OK)
			continue;
		return i;
	}
	return -1;
}

int vnp_piv_generate_key(struct vnp_card *card, const struct vnp_keygen *req,
			 struct vnp_obj *ret)
{
	const struct vnp_secret *key;
	const struct piv_slot *s;
	struct piv_state *st;
	struct vnp_pubkey pub;
	struct vnp_apdu a;
	uint8_t alg, data[5], *resp = NULL;
	int idx, rv;

	if (!req || !ret)
		return VNP_E_ARGS;
	rv = mgmt_key(card, &key, &alg);
	if (rv)
		return rv;
	if (!vnp_piv_alg_id(req->alg))
		return VNP_E_NOT_SUPPORTED;
	st = vnp_piv_state(card);
	if (!st)
		return VNP_E_NOMEM;
	idx = slot_of_id(req->id, req->id_len);
	if (idx < 0 && req->id_len == 1 && req->id[0] >= 0x80) {
		vnp_warn("%s: PIV: CKA_ID %02X names no key slot: 9A, 9C, 9D, 9E (or 01..04)",
			 card->io.who, req->id[0]);
		return VNP_E_INVALID_DATA;
	}
	if (idx < 0)
		idx = free_slot(card, st); /* any other CKA_ID: the first slot without a key */
	if (idx < 0) {
		vnp_warn("%s: PIV: the four key slots hold keys; name one with CKA_ID to replace "
			 "its key", card->io.who);
		return VNP_E_CARD_FULL;
	}
	s = &vnp_piv_slots[idx];
	resp = malloc(VNP_LE_MAX);
	if (!resp)
		return VNP_E_NOMEM;
	rv = vnp_card_begin(card);
	if (rv)
		goto out_free;
	rv = mgmt_auth(card);
	if (rv)
		goto out;
	/* AC { 80 alg }: the control reference template of SP 800-73-4 Part 2 §3.3.2 */
	data[0] = 0xAC;
	data[1] = 0x03;
	data[2] = 0x80;
	data[3] = 0x01;
	data[4] = vnp_piv_alg_id(req->alg);
	apdu_init(&a, INS_GENERATE, 0x00, s->key_ref);
	a.data = data;
	a.lc = sizeof(data);
	a.le = VNP_LE_MAX;
	a.resp = resp;
	a.resp_cap = VNP_LE_MAX;
	rv = vnp_piv_run(card, &a);
	if (rv)
		goto out;
	rv = vnp_piv_parse_genkey(resp, a.resp_len, req->alg, &pub);
	if (rv)
		goto out;
	st->slot[idx].has_gen = true;
	st->slot[idx].gen = pub;
	vnp_piv_pubfile_save(card, st, s->key_ref, resp, a.resp_len);
	memset(ret, 0, sizeof(*ret));
	ret->kind = VNP_OBJ_KEY;
	ret->ref = s->key_ref;
	ret->id[0] = s->id;
	ret->id_len = 1;
	snprintf(ret->label, sizeof(ret->label), "%s", s->key_label);
	ret->usage = s->usage & (VNP_ALG_IS_EC(pub.alg) ? ~VNP_USAGE_DECRYPT : ~0u);
	ret->key_flags = s->key_flags | VNP_KEY_LOCAL | VNP_KEY_FIXED;
	ret->pub = pub;
out:
	vnp_card_end(card);
out_free:
	free(resp);
	return rv;
}

/* PUT DATA 00 DB 3F FF { 5C tag, 53 value } (extended or chained when long). */
static int put_data(struct vnp_card *card, uint32_t tag, const uint8_t *cert, size_t len)
{
	struct vnp_buf b;
	struct vnp_apdu a;
	size_t mark;
	int rv;

	vnp_buf_init(&b);
	vnp_tlv_put_uint(&b, 0x5C, tag, 3);
	mark = vnp_tlv_open(&b, 0x53);
	if (cert) {
		vnp_tlv_put(&b, 0x70, cert, len);
		vnp_tlv_put(&b, 0x71, (const uint8_t[]){ 0x00 }, 1); /* CertInfo: not compressed */
		vnp_tlv_put(&b, 0xFE, NULL, 0);                       /* error detection code */
	}
	vnp_tlv_close(&b, mark);
	if (b.failed) {
		vnp_buf_free(&b);
		return VNP_E_NOMEM;
	}
	apdu_init(&a, INS_PUT_DATA, 0x3F, 0xFF);
	a.data = b.p;
	a.lc = b.len;
	rv = vnp_piv_run(card, &a);
	vnp_buf_free(&b);
	return rv;
}

int vnp_piv_write_object(struct vnp_card *card, const struct vnp_obj *meta,
			 const uint8_t *value, size_t len, uint8_t *ret_ref)
{
	const struct vnp_secret *key;
	struct vnp_pubkey cpub, fpub;
	struct piv_state *st;
	uint8_t alg;
	int idx = -1, rv;

	if (!meta || !value || !ret_ref)
		return VNP_E_ARGS;
	if (meta->kind != VNP_OBJ_CERT) {
		vnp_log(VNP_LOG_CARD, "%s: PIV: only certificates can be written", card->io.who);
		return VNP_E_NOT_SUPPORTED;
	}
	rv = mgmt_key(card, &key, &alg);
	if (rv)
		return rv;
	if (len > PIV_CERT_MAX)
		return VNP_E_RANGE;
	st = vnp_piv_state(card);
	if (!st)
		return VNP_E_NOMEM;
	memset(&cpub, 0, sizeof(cpub));
	if (vnp_piv_cert_pubkey(value, len, &cpub) != VNP_OK)
		memset(&cpub, 0, sizeof(cpub));
	idx = slot_of_id(meta->id, meta->id_len);
	/* a CKA_ID that names no slot: the slot whose key the certificate is for */
	for (int i = 0; i < PIV_N_SLOTS && idx < 0 && cpub.alg; i++) {
		const struct piv_slot_state *ss = &st->slot[i];
		struct vnp_pubkey k;

		if ((ss->has_gen && pub_equal(&ss->gen, &cpub)) ||
		    (ss->cert && vnp_piv_cert_pubkey(ss->cert, ss->cert_len, &k) == VNP_OK &&
		     pub_equal(&k, &cpub)) ||
		    (vnp_piv_pubfile_load(card, st, vnp_piv_slots[i].key_ref, &k) == VNP_OK &&
		     pub_equal(&k, &cpub)))
			idx = i;
	}
	if (idx < 0) {
		vnp_warn("%s: PIV: a certificate's CKA_ID must name a slot: 9A, 9C, 9D, 9E "
			 "(or 01..04)", card->io.who);
		return VNP_E_INVALID_DATA;
	}
	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	rv = mgmt_auth(card);
	if (rv == VNP_OK)
		rv = put_data(card, vnp_piv_slots[idx].tag, value, len);
	vnp_card_end(card);
	if (rv)
		return rv;
	rv = vnp_piv_cache_cert(st, idx, value, len);
	if (st->slot[idx].has_gen && !pub_equal(&st->slot[idx].gen, &cpub))
		vnp_warn("%s: PIV slot %02X: the certificate is not for the key in the slot",
			 card->io.who, vnp_piv_slots[idx].key_ref);
	else
		st->slot[idx].has_gen = false; /* the certificate now carries the public key */
	/* the host copy of the public key is no longer needed once a certificate holds it */
	if (vnp_piv_pubfile_load(card, st, vnp_piv_slots[idx].key_ref, &fpub) == VNP_OK &&
	    pub_equal(&fpub, &cpub))
		vnp_piv_pubfile_remove(card, st, vnp_piv_slots[idx].key_ref);
	*ret_ref = vnp_piv_slots[idx].key_ref;
	return rv;
}

/* A certificate is deleted with PUT DATA of an empty container (53 00). A PIV card has no
 * command to delete a private key: key pairs are not deletable (VNP_E_NOT_SUPPORTED);
 * generating a new key in the slot replaces it. */
int vnp_piv_delete_object(struct vnp_card *card, const struct vnp_obj *obj)
{
	const struct vnp_secret *key;
	struct piv_state *st;
	uint8_t alg;
	int idx, rv;

	if (!obj)
		return VNP_E_ARGS;
	if (obj->kind != VNP_OBJ_CERT) {
		vnp_log(VNP_LOG_CARD, "%s: PIV: a card has no command to delete a %s",
			card->io.who, obj->kind == VNP_OBJ_KEY ? "key pair" : "data object");
		return VNP_E_NOT_SUPPORTED;
	}
	idx = vnp_piv_slot_index(obj->ref);
	if (idx < 0 || vnp_piv_slots[idx].key_ref != obj->ref)
		return VNP_E_NOT_FOUND;
	rv = mgmt_key(card, &key, &alg);
	if (rv)
		return rv;
	st = vnp_piv_state(card);
	if (!st)
		return VNP_E_NOMEM;
	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	rv = mgmt_auth(card);
	if (rv == VNP_OK)
		rv = put_data(card, vnp_piv_slots[idx].tag, NULL, 0);
	vnp_card_end(card);
	if (rv == VNP_OK)
		rv = vnp_piv_cache_cert(st, idx, NULL, 0);
	return rv;
}
