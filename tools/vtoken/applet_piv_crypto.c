/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV: GENERAL AUTHENTICATE (SP 800-73-4 part 2 §3.2.4 and Appendix A) and GENERATE
 * ASYMMETRIC KEY PAIR (§3.3.2). */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "applet_piv.h"
#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"
#include "tlv.h"
#include "util.h"

/* The parts of a dynamic authentication template 7C (part 2 Table 7). */
struct dyn_auth {
	struct vnp_tlv item[6]; /* by tag 80..85 */
	bool has[6];
};

static uint16_t parse_7c(const struct vnp_vt_cmd *c, struct dyn_auth *a)
{
	const uint8_t *p, *end;
	struct vnp_tlv t7c, t;
	int rv;

	memset(a, 0, sizeof(*a));
	p = c->data;
	end = c->data + c->lc;
	if (c->lc == 0)
		return 0x6700;
	if (vnp_tlv_next(&p, end, &t7c) != VNP_OK || t7c.tag != 0x7C || p != end)
		return 0x6A80;
	p = t7c.value;
	end = t7c.value + t7c.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (t.tag < 0x80 || t.tag > 0x85 || a->has[t.tag - 0x80])
			return 0x6A80;
		a->item[t.tag - 0x80] = t;
		a->has[t.tag - 0x80] = true;
	}
	return rv == VNP_E_NOT_FOUND ? 0 : 0x6A80;
}

static bool empty(const struct dyn_auth *a, unsigned tag)
{
	return a->has[tag - 0x80] && a->item[tag - 0x80].len == 0;
}

static bool filled(const struct dyn_auth *a, unsigned tag)
{
	return a->has[tag - 0x80] && a->item[tag - 0x80].len > 0;
}

static const char *cipher_name(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES: return "DES-EDE3-ECB";
	case PIV_ALG_AES128: return "AES-128-ECB";
	case PIV_ALG_AES192: return "AES-192-ECB";
	case PIV_ALG_AES256: return "AES-256-ECB";
	default: return NULL;
	}
}

/* One block with the management key, encrypt or decrypt. */
static int block_op(OSSL_LIB_CTX *libctx, uint8_t alg, const uint8_t *key, const uint8_t *in,
		    size_t block, uint8_t *out, int enc)
{
	const char *name = cipher_name(alg);
	EVP_CIPHER *ciph = name ? EVP_CIPHER_fetch(libctx, name, NULL) : NULL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, rv = VNP_E_CRYPTO;

	if (!ciph || !ctx || !EVP_CipherInit_ex2(ctx, ciph, key, NULL, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, out, &n, in, (int)block) || (size_t)n != block)
		goto out;
	rv = VNP_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(ciph);
	return rv;
}

/* Forget an exchange in progress. */
static void mgmt_reset(struct vnp_vcard *card)
{
	card->piv.mgmt_step = 0;
	OPENSSL_cleanse(card->piv.nonce, sizeof(card->piv.nonce));
}

/* A failed authentication also drops an earlier success. */
static void mgmt_fail(struct vnp_vcard *card)
{
	card->piv.mgmt_ok = false;
	mgmt_reset(card);
}

/* Card management key 9B: mutual authentication (Appendix A.3: 80 empty, then 80 witness
 * + 81 challenge) or external authentication of the host (A.2: 81 empty, then 82). */
static uint16_t mgmt_auth(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			  const struct dyn_auth *a, struct vnp_buf *out)
{
	const struct vnp_vt_obj *mk = card->st->d.objs[PIV_REF_MGMT];
	struct vnp_vt_piv *v = &card->piv;
	OSSL_LIB_CTX *libctx = card->st->libctx;
	uint8_t buf[16];
	size_t key_len, block, mark;
	uint16_t sw = 0x6F00;

	if (!mk || mk->value_len < 1)
		return 0x6A88;
	/* P1 00: the key's own algorithm (OpenSC's C_GenerateRandom asks a challenge so) */
	if (c->p1 != mk->value[0] && c->p1 != 0x00)
		return 0x6A86;
	if (!vnp_vt_piv_mgmt_alg(mk->value[0], &key_len, &block) ||
	    mk->value_len != 1 + key_len)
		return 0x6F00;
	if (empty(a, 0x80) && !a->has[1] && !a->has[2]) { /* mutual, step 1: the witness */
		mgmt_reset(card);
		if (RAND_bytes(v->nonce, (int)block) != 1 ||
		    block_op(libctx, mk->value[0], mk->value + 1, v->nonce, block, buf, 1))
			goto out;
		v->nonce_len = block;
		v->mgmt_step = 1;
		mark = vnp_tlv_open(out, 0x7C);
		vnp_tlv_put(out, 0x80, buf, block);
		vnp_tlv_close(out, mark);
		sw = 0x9000;
		goto out;
	}
	if (filled(a, 0x80) && filled(a, 0x81) && !a->has[2]) { /* mutual, step 2 */
		if (v->mgmt_step != 1) {
			sw = 0x6985;
			goto fail;
		}
		if (a->item[0].len != block || a->item[1].len != block) {
			sw = 0x6A80;
			goto fail;
		}
		if (CRYPTO_memcmp(a->item[0].value, v->nonce, block) != 0) {
			sw = 0x6982;
			goto fail;
		}
		if (block_op(libctx, mk->value[0], mk->value + 1, a->item[1].value, block, buf, 1))
			goto fail;
		mgmt_reset(card);
		v->mgmt_ok = true;
		mark = vnp_tlv_open(out, 0x7C);
		vnp_tlv_put(out, 0x82, buf, block);
		vnp_tlv_close(out, mark);
		sw = 0x9000;
		goto out;
	}
	if (empty(a, 0x81) && !a->has[0] && !a->has[2]) { /* external, step 1: a challenge */
		mgmt_reset(card);
		if (RAND_bytes(v->nonce, (int)block) != 1)
			goto out;
		v->nonce_len = block;
		v->mgmt_step = 2;
		mark = vnp_tlv_open(out, 0x7C);
		vnp_tlv_put(out, 0x81, v->nonce, block);
		vnp_tlv_close(out, mark);
		sw = 0x9000;
		goto out;
	}
	if (filled(a, 0x82) && !a->has[0] && !a->has[1]) { /* external, step 2 */
		if (v->mgmt_step != 2) {
			sw = 0x6985;
			goto fail;
		}
		if (a->item[2].len != block) {
			sw = 0x6A80;
			goto fail;
		}
		if (block_op(libctx, mk->value[0], mk->value + 1, v->nonce, block, buf, 1))
			goto fail;
		if (CRYPTO_memcmp(a->item[2].value, buf, block) != 0) {
			sw = 0x6982;
			goto fail;
		}
		mgmt_reset(card);
		v->mgmt_ok = true;
		sw = 0x9000;
		goto out;
	}
	sw = 0x6A80;
fail:
	mgmt_fail(card);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return sw;
}

/* The private-key operation: raw RSA over the host-padded block, ECDSA over the given
 * hash (DER signature), or ECDH (the shared x coordinate). */
static uint16_t private_op(OSSL_LIB_CTX *libctx, const struct vnp_vt_key *k,
			   const struct dyn_auth *a, uint8_t *res, size_t *res_len)
{
	bool rsa = k->alg == VNP_VT_ALG_RSA2048 || k->alg == VNP_VT_ALG_RSA3072;
	EVP_PKEY_CTX *ctx = NULL, *pctx = NULL;
	EVP_PKEY *peer = NULL;
	const struct vnp_tlv *in;
	uint16_t sw = 0x6A80;
	size_t n = *res_len;

	if (rsa) {
		in = &a->item[1];
		if (!filled(a, 0x81) || a->has[5] || in->len != vnp_vt_key_size(k->alg))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_pkey(libctx, k->pkey, NULL);
		if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0)
			goto crypto;
		if (EVP_PKEY_decrypt(ctx, res, &n, in->value, in->len) <= 0)
			goto out; /* the block is not below the modulus */
	} else if (filled(a, 0x81) && !a->has[5]) {
		in = &a->item[1];
		if (in->len > 64)
			goto out;
		ctx = EVP_PKEY_CTX_new_from_pkey(libctx, k->pkey, NULL);
		if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
		    EVP_PKEY_sign(ctx, res, &n, in->value, in->len) <= 0)
			goto crypto;
	} else if (filled(a, 0x85) && !a->has[1]) {
		const char *group = k->alg == VNP_VT_ALG_P256 ? "P-256" : "P-384";
		OSSL_PARAM params[3];
		in = &a->item[5];
		if (in->len != 2 * vnp_vt_key_size(k->alg) + 1 || in->value[0] != 0x04)
			goto out;
		params[0] = OSSL_PARAM_construct_utf8_string("group", (char *)group, 0);
		params[1] = OSSL_PARAM_construct_octet_string("pub", (void *)in->value, in->len);
		params[2] = OSSL_PARAM_construct_end();
		pctx = EVP_PKEY_CTX_new_from_name(libctx, "EC", NULL);
		if (!pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
		    EVP_PKEY_fromdata(pctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
			goto out;
		ctx = EVP_PKEY_CTX_new_from_pkey(libctx, k->pkey, NULL);
		if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
		    EVP_PKEY_derive_set_peer(ctx, peer) <= 0)
			goto out; /* not a point of the curve */
		if (EVP_PKEY_derive(ctx, res, &n) <= 0)
			goto crypto;
	} else {
		goto out;
	}
	*res_len = n;
	sw = 0;
	goto out;
crypto:
	sw = 0x6F00;
out:
	EVP_PKEY_free(peer);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_CTX_free(ctx);
	return sw;
}

uint16_t vnp_vt_piv_general_auth(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
				 struct vnp_buf *out)
{
	const struct vnp_vt_key *k;
	struct vnp_vt_piv *v = &card->piv;
	struct dyn_auth a;
	uint8_t res[512];
	size_t res_len = sizeof(res), mark;
	uint64_t start;
	uint8_t ref;
	uint16_t sw;

	sw = parse_7c(c, &a);
	if (sw)
		return sw;
	if (c->p2 == PIV_KEY_MGMT)
		return mgmt_auth(card, c, &a, out);
	ref = vnp_vt_piv_key_ref(c->p2);
	if (!ref)
		return 0x6A86;
	k = card->st->d.keys[ref];
	if (!k)
		return 0x6A88;
	if (vnp_vt_piv_alg_from_vt(k->alg) != c->p1)
		return 0x6A86;
	if (!empty(&a, 0x82))
		return 0x6A80;
	/* 9E: no PIN (part 1 §3.2); 9C: the PIN just before each use (always-auth) */
	if (c->p2 != PIV_KEY_CAUTH && !v->pin_verified)
		return 0x6982;
	if ((k->flags & 0x01) && !v->always_auth_ok)
		return 0x6982;
	start = vnp_vt_now_ns();
	sw = private_op(card->st->libctx, k, &a, res, &res_len);
	card->sign_ops++;
	if (card->sign_ms) /* the modelled token time, computing included */
		vnp_vt_sleep_until_ms(start, card->sign_ms, card->stop);
	if (k->flags & 0x01)
		v->always_auth_ok = false;
	if (sw)
		return sw;
	mark = vnp_tlv_open(out, 0x7C);
	vnp_tlv_put(out, 0x82, res, res_len);
	vnp_tlv_close(out, mark);
	OPENSSL_cleanse(res, sizeof(res));
	return 0x9000;
}

int vnp_vt_piv_key_new(OSSL_LIB_CTX *libctx, uint8_t piv_key, uint8_t vt_alg, EVP_PKEY *pkey,
		       struct vnp_vt_key **ret)
{
	const char *name = vnp_vt_piv_key_name(piv_key);
	struct vnp_vt_key *k = OPENSSL_zalloc(sizeof(*k));
	size_t n;

	(void)libctx;
	if (!k)
		return VNP_E_NOMEM;
	k->alg = vt_alg;
	k->id[0] = piv_key;
	k->id_len = 1;
	n = strlen(name);
	memcpy(k->label, name, n);
	k->label_len = n;
	k->usage = piv_key == PIV_KEY_KM || (piv_key >= PIV_KEY_RETIRED_FIRST &&
					     piv_key <= PIV_KEY_RETIRED_LAST) ? 0x02 : 0x01;
	k->flags = piv_key == PIV_KEY_SIGN ? 0x01 : 0x00;
	if (vnp_vt_key_to_der(pkey, &k->der, &k->der_len) != VNP_OK) {
		OPENSSL_free(k);
		return VNP_E_CRYPTO;
	}
	if (!EVP_PKEY_up_ref(pkey)) {
		vnp_vt_key_free(k);
		return VNP_E_CRYPTO;
	}
	k->pkey = pkey;
	*ret = k;
	return VNP_OK;
}

/* Data field AC {80 alg [AA pin policy] [AB touch policy]}; the policies are accepted and
 * ignored (they are not SP 800-73-4). Answer: 7F49 {81 n 82 e} or 7F49 {86 point}. */
uint16_t vnp_vt_piv_generate(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	const uint8_t *p = c->data, *end = c->data + c->lc;
	struct vnp_vt_key *k = NULL;
	EVP_PKEY *pkey = NULL;
	struct vnp_tlv ac, t;
	uint8_t ref, alg = 0;
	uint16_t sw;
	int rv;

	if (c->p1 != 0x00)
		return 0x6A86;
	ref = vnp_vt_piv_key_ref(c->p2);
	if (!ref)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	if (!card->piv.mgmt_ok)
		return 0x6982;
	if (vnp_tlv_next(&p, end, &ac) != VNP_OK || ac.tag != 0xAC || p != end)
		return 0x6A80;
	p = ac.value;
	end = ac.value + ac.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK)
		if (t.tag == 0x80 && t.len == 1)
			alg = vnp_vt_piv_alg_to_vt(t.value[0]);
	if (rv != VNP_E_NOT_FOUND || !alg)
		return 0x6A80;
	sw = 0x6F00;
	if (vnp_vt_key_generate(card->st->libctx, alg, &pkey) != VNP_OK ||
	    vnp_vt_piv_key_new(card->st->libctx, c->p2, alg, pkey, &k) != VNP_OK)
		goto out;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	vnp_vt_key_free(card->st->d.keys[ref]);
	card->st->d.keys[ref] = k;
	card->st->d.counter++;
	k = NULL;
	sw = vnp_vt_vnt_save(card); /* on failure the reload dropped the key */
	if (sw == 0)
		sw = vnp_vt_key_put_public(pkey, alg, out) == VNP_OK ? 0x9000 : 0x6F00;
	vnp_vt_state_unlock(card->st);
out:
	vnp_vt_key_free(k);
	EVP_PKEY_free(pkey);
	return sw;
}
