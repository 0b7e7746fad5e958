/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: SIGN and SIGN BATCH (80 2B, APPLET.md "Signing"): self-contained signature
 * commands that name key and scheme in their data, so that no other client's MSE SET can
 * redirect them and no MSE SET is needed before them. */
#include <string.h>
#include <openssl/crypto.h>

#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"
#include "util.h"

#define TAG_INPUT 0x9A
#define TAG_SIG 0x9E
#define TAG_STATUS 0x96
#define BATCH_MAX 64

/* The SW of one failed signature (vnp_vt_sign's result). */
static uint16_t sign_sw(int rv)
{
	if (rv == VNP_E_INVALID_DATA)
		return 0x6A80;
	if (rv == VNP_E_CONDITIONS)
		return 0x6985;
	return 0x6F00;
}

uint16_t vnp_vt_vnt_sign(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			 struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	struct vnp_vt_vntoken *v = &card->vnt;
	struct vnp_vt_env env = { .salt = 0xFFFFFFFFu };
	struct vnp_tlv items[BATCH_MAX], t;
	const uint8_t *p = c->data, *end = c->data + c->lc;
	const struct vnp_vt_key *k;
	bool batch = c->p1 == 0x01;
	size_t n = 0;
	uint8_t sig[512];
	uint64_t start;
	uint16_t sw;
	int rv;

	if ((c->p1 != 0x00 && c->p1 != 0x01) || c->p2 != 0x00)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (t.tag == TAG_INPUT) {
			if (n == BATCH_MAX)
				return 0x6A84;
			items[n++] = t;
		} else if (n || !vnp_vt_vnt_env_tlv(&t, &env)) {
			return 0x6A80; /* the template first, then the inputs */
		}
	}
	if (rv != VNP_E_NOT_FOUND || n == 0 || (!batch && n != 1))
		return 0x6A80;
	if (!v->pin_verified)
		return 0x6982;
	sw = vnp_vt_vnt_env_check(d, &env);
	if (sw)
		return sw;
	k = d->keys[env.key];
	if (!(k->usage & 0x01))
		return 0x6985;
	if (k->flags & 0x01) {
		/* always authenticate: one signature per VERIFY, so a batch of one */
		if (n != 1)
			return 0x6985;
		if (!v->always_auth_ok)
			return 0x6982;
	}
	start = vnp_vt_now_ns();
	sw = 0x9000;
	for (size_t i = 0; i < n; i++) {
		size_t sig_len = sizeof(sig);

		rv = vnp_vt_sign(card->st->libctx, k->pkey, k->alg, env.scheme, env.hash,
				 (uint16_t)env.salt, items[i].value, items[i].len, sig, &sig_len);
		card->sign_ops++;
		if (!batch) {
			if (rv == VNP_OK)
				vnp_buf_put(out, sig, sig_len);
			else
				sw = sign_sw(rv);
		} else if (rv == VNP_OK) {
			vnp_tlv_put(out, TAG_SIG, sig, sig_len);
		} else {
			vnp_tlv_put_uint(out, TAG_STATUS, sign_sw(rv), 2);
		}
		OPENSSL_cleanse(sig, sizeof(sig));
	}
	if (k->flags & 0x01)
		v->always_auth_ok = false;
	if (card->sign_ms) /* the modelled token time of n signatures, computing included */
		vnp_vt_sleep_until_ms(start, card->sign_ms * (unsigned)n, card->stop);
	return sw;
}
