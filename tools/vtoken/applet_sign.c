/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: GENERATE ASYMMETRIC KEY PAIR, MANAGE SECURITY ENVIRONMENT, PSO: COMPUTE
 * DIGITAL SIGNATURE (ISO 7816-8 §5.1, §5.4). */
#include <string.h>
#include <openssl/crypto.h>

#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"
#include "util.h"

/* Copy a primitive value of at most cap bytes. */
static bool take(const struct vnp_tlv *t, uint8_t *dst, size_t cap, size_t *ret_len)
{
	if (t->len > cap)
		return false;
	memcpy(dst, t->value, t->len);
	*ret_len = t->len;
	return true;
}

static uint16_t parse_keygen(const struct vnp_vt_cmd *c, struct vnp_vt_key *k, uint8_t *ret_ref)
{
	struct vnp_tlv a0, t;
	const uint8_t *p, *end;
	size_t one;
	int rv;

	if (vnp_tlv_find(c->data, c->lc, 0xA0, &a0) != VNP_OK)
		return 0x6A80;
	k->usage = 0x01;
	p = a0.value;
	end = a0.value + a0.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		bool ok = true;
		switch (t.tag) {
		case 0x80: ok = take(&t, ret_ref, 1, &one) && one == 1; break;
		case 0x81: ok = take(&t, &k->alg, 1, &one) && one == 1; break;
		case 0x82: ok = take(&t, k->id, sizeof(k->id), &k->id_len); break;
		case 0x83: ok = take(&t, k->label, sizeof(k->label), &k->label_len); break;
		case 0x84: ok = take(&t, &k->usage, 1, &one) && one == 1; break;
		case 0x88: ok = take(&t, &k->flags, 1, &one) && one == 1; break;
		default: ok = false; break;
		}
		if (!ok)
			return 0x6A80;
	}
	if (rv != VNP_E_NOT_FOUND || !vnp_vt_alg_supported(k->alg) || (k->usage & ~0x03) ||
	    (k->flags & ~0x03))
		return 0x6A80;
	if (*ret_ref && (*ret_ref < VNP_VT_KEY_REF_MIN || *ret_ref > VNP_VT_KEY_REF_MAX))
		return 0x6A80;
	k->flags = (uint8_t)((k->flags & 0x01) | 0x02); /* generated on card */
	return 0;
}

uint16_t vnp_vt_vnt_generate(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	struct vnp_vt_key *k;
	struct vnp_vt_data *d;
	uint8_t ref = 0;
	unsigned r;
	uint16_t sw;

	if (c->p1 || c->p2)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	if (!card->vnt.pin_verified)
		return 0x6982;
	k = OPENSSL_zalloc(sizeof(*k));
	if (!k)
		return 0x6F00;
	sw = parse_keygen(c, k, &ref);
	if (sw)
		goto out;
	sw = 0x6F00;
	if (vnp_vt_key_generate(card->st->libctx, k->alg, &k->pkey) != VNP_OK ||
	    vnp_vt_key_to_der(k->pkey, &k->der, &k->der_len) != VNP_OK)
		goto out;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	d = &card->st->d;
	r = ref;
	if (!r)
		for (r = VNP_VT_KEY_REF_MIN; r <= VNP_VT_KEY_REF_MAX && d->keys[r]; r++)
			;
	if (r > VNP_VT_KEY_REF_MAX) {
		sw = 0x6A84;
		goto unlock;
	}
	vnp_vt_key_free(d->keys[r]); /* an explicit reference replaces its key */
	d->keys[r] = k;
	d->counter++;
	if (card->vnt.mse_key == r)
		card->vnt.mse_set = false;
	sw = vnp_vt_vnt_save(card); /* on failure the reload freed k */
	if (sw == 0) {
		sw = vnp_vt_vnt_put_key(out, (uint8_t)r, k) == VNP_OK ? 0x9000 : 0x6F00;
	}
	k = NULL;
unlock:
	vnp_vt_state_unlock(card->st);
out:
	vnp_vt_key_free(k);
	return sw;
}

/* One object of a security environment template (MSE SET data, SIGN): 84 key, 80 algref,
 * 81 hashref, 85 salt length. false when the object is not one of them or malformed. */
bool vnp_vt_vnt_env_tlv(const struct vnp_tlv *t, struct vnp_vt_env *env)
{
	uint32_t u;

	if (t->tag == 0x85) {
		if (t->len != 2 || vnp_tlv_uint(t, &u) != VNP_OK)
			return false;
		env->salt = u;
		return true;
	}
	if ((t->tag != 0x84 && t->tag != 0x80 && t->tag != 0x81) || t->len != 1 ||
	    vnp_tlv_uint(t, &u) != VNP_OK)
		return false;
	if (t->tag == 0x84)
		env->key = (uint8_t)u;
	else if (t->tag == 0x80)
		env->scheme = (uint8_t)u;
	else
		env->hash = (uint8_t)u;
	return true;
}

uint16_t vnp_vt_vnt_env_check(const struct vnp_vt_data *d, struct vnp_vt_env *env)
{
	uint8_t key = env->key;

	if (!key || !env->scheme)
		return 0x6A80;
	if (key > VNP_VT_KEY_REF_MAX || !d->keys[key])
		return 0x6A88;
	switch (env->scheme) {
	case VNP_VT_SCHEME_PKCS1:
	case VNP_VT_SCHEME_PSS:
		if (d->keys[key]->alg != VNP_VT_ALG_RSA2048 && d->keys[key]->alg != VNP_VT_ALG_RSA3072)
			return 0x6A80;
		break;
	case VNP_VT_SCHEME_ECDSA:
		if (d->keys[key]->alg != VNP_VT_ALG_P256 && d->keys[key]->alg != VNP_VT_ALG_P384)
			return 0x6A80;
		break;
	default:
		return 0x6A80;
	}
	if (env->scheme == VNP_VT_SCHEME_PSS) {
		uint8_t h;

		if (!env->hash)
			env->hash = 0x03; /* SHA-256 */
		h = env->hash;
		if (h < 0x01 || h > 0x05)
			return 0x6A80;
		if (env->salt == 0xFFFFFFFFu) /* default: the hash length */
			env->salt = (uint32_t)(h == 1 ? 20 : h == 2 ? 28 : h == 3 ? 32
								: h == 4 ? 48 : 64);
	}
	if (env->salt == 0xFFFFFFFFu)
		env->salt = 0;
	return 0;
}

uint16_t vnp_vt_vnt_mse(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	const struct vnp_vt_data *d = &card->st->d;
	const uint8_t *p = c->data, *end = c->data + c->lc;
	struct vnp_vt_vntoken *v = &card->vnt;
	struct vnp_vt_env env = { .salt = 0xFFFFFFFFu };
	struct vnp_tlv t;
	uint16_t sw;
	int rv;

	v->mse_set = false;
	if (c->p1 != 0x41 || c->p2 != 0xB6)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK)
		if (!vnp_vt_vnt_env_tlv(&t, &env))
			return 0x6A80;
	if (rv != VNP_E_NOT_FOUND)
		return 0x6A80;
	sw = vnp_vt_vnt_env_check(d, &env);
	if (sw)
		return sw;
	v->mse_key = env.key;
	v->mse_scheme = env.scheme;
	v->mse_hash = env.hash;
	v->mse_salt = (uint16_t)env.salt;
	v->mse_set = true;
	return 0x9000;
}

uint16_t vnp_vt_vnt_pso(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	struct vnp_vt_vntoken *v = &card->vnt;
	const struct vnp_vt_key *k;
	uint8_t sig[512];
	size_t sig_len = sizeof(sig);
	uint64_t start;
	int rv;

	if (c->p1 != 0x9E || c->p2 != 0x9A)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	if (!v->pin_verified)
		return 0x6982;
	if (!v->mse_set)
		return 0x6985;
	k = d->keys[v->mse_key];
	if (!k)
		return 0x6A88;
	if (!(k->usage & 0x01))
		return 0x6985;
	if ((k->flags & 0x01) && !v->always_auth_ok)
		return 0x6982;
	start = vnp_vt_now_ns();
	rv = vnp_vt_sign(card->st->libctx, k->pkey, k->alg, v->mse_scheme, v->mse_hash,
			 v->mse_salt, c->data, c->lc, sig, &sig_len);
	card->sign_ops++;
	if (card->sign_ms) /* the modelled token time, computing included */
		vnp_vt_sleep_until_ms(start, card->sign_ms, card->stop);
	if (k->flags & 0x01)
		v->always_auth_ok = false;
	if (rv == VNP_E_INVALID_DATA)
		return 0x6A80;
	if (rv == VNP_E_CONDITIONS)
		return 0x6985;
	if (rv != VNP_OK)
		return 0x6F00;
	vnp_buf_put(out, sig, sig_len);
	OPENSSL_cleanse(sig, sizeof(sig));
	return 0x9000;
}
