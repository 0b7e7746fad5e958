/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (SP 800-73-4 part 2 §3.2).
 * PIN: 6 to 8 digits padded with FF to 8 bytes; its verifier is the token's pin_hash over
 * the digits. PUK: 8 bytes as sent; its verifier is the PIV_REF_PUK object. A try is spent
 * (decremented and saved) before the comparison; the counter goes back to its maximum
 * only after a right value. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "applet_piv.h"
#include "applet_tries.h"
#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"

#define PUK_VERIFIER_LEN (VNP_VT_PIN_SALT_LEN + VNP_VT_PIN_HASH_LEN)

/* Length of the PIN without its FF padding; 0 when it is not 6..8 digits then FF. */
static size_t pin_digits(const uint8_t *p)
{
	size_t n = 0, i;

	while (n < PIV_REF_DATA_LEN && p[n] != 0xFF) {
		if (p[n] < '0' || p[n] > '9')
			return 0;
		n++;
	}
	for (i = n; i < PIV_REF_DATA_LEN; i++)
		if (p[i] != 0xFF)
			return 0;
	return n >= 6 ? n : 0;
}

int vnp_vt_piv_puk_verifier(OSSL_LIB_CTX *libctx, const uint8_t puk[8], uint8_t out[48])
{
	if (RAND_bytes(out, VNP_VT_PIN_SALT_LEN) != 1)
		return VNP_E_CRYPTO;
	return vnp_vt_pin_hash(libctx, out, VNP_VT_PIN_SALT_LEN, puk, PIV_REF_DATA_LEN,
			       out + VNP_VT_PIN_SALT_LEN);
}

/* Spend a PIN try, save, compare the 8-byte PIN field (not 6..8 digits: wrong). 0 when
 * right (counter not yet restored), else the SW. Lock held. */
static uint16_t spend_pin(struct vnp_vcard *card, const uint8_t *pin8)
{
	size_t n = pin_digits(pin8);

	return vnp_vt_spend_pin(card, n ? pin8 : NULL, n, &card->piv.pin_verified,
				&card->piv.always_auth_ok);
}

/* Spend a PUK try (unblock_tries), save, compare. 0 when right (counter not yet restored),
 * else the SW. Lock held. */
static uint16_t spend_puk(struct vnp_vcard *card, const uint8_t *puk8)
{
	struct vnp_vt_data *d = &card->st->d;
	const struct vnp_vt_obj *v = d->objs[PIV_REF_PUK];
	uint16_t sw;
	int ok;

	if (!v || v->value_len != PUK_VERIFIER_LEN)
		return 0x6983; /* no PUK: blocked for good */
	if (d->unblock_tries == 0)
		return 0x6983;
	d->unblock_tries--;
	sw = vnp_vt_vnt_save(card);
	if (sw)
		return sw;
	v = d->objs[PIV_REF_PUK]; /* the save may have reloaded the state */
	if (!v || v->value_len != PUK_VERIFIER_LEN)
		return 0x6983;
	ok = vnp_vt_pin_matches(card->st->libctx, v->value, VNP_VT_PIN_SALT_LEN,
				v->value + VNP_VT_PIN_SALT_LEN, puk8, PIV_REF_DATA_LEN);
	if (ok < 0)
		return 0x6F00;
	return ok ? 0 : vnp_vt_tries_sw(d->unblock_tries);
}

/* Set a new PIN verifier from an 8-byte field already checked by pin_digits. */
static uint16_t set_pin(struct vnp_vcard *card, const uint8_t *pin8)
{
	struct vnp_vt_data *d = &card->st->d;
	uint8_t salt[VNP_VT_PIN_SALT_LEN], hash[VNP_VT_PIN_HASH_LEN];
	uint16_t sw = 0x6F00;

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    vnp_vt_pin_hash(card->st->libctx, salt, sizeof(salt), pin8, pin_digits(pin8),
			    hash) != VNP_OK)
		goto out;
	memcpy(d->pin_salt, salt, sizeof(salt));
	memcpy(d->pin_hash, hash, sizeof(hash));
	d->pin_tries = d->pin_max_tries;
	d->pin_initial = false;
	d->counter++;
	sw = 0;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	return sw;
}

uint16_t vnp_vt_piv_verify(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d = &card->st->d;
	size_t n;

	if (c->p1 != 0x00 && c->p1 != 0xFF)
		return 0x6A86;
	if (c->p2 != PIV_PIN_REF)
		return 0x6A88; /* no global PIN, no VERIFY of the PUK */
	if (c->p1 == 0xFF) { /* reset the security status (part 2 §3.2.1) */
		if (c->lc)
			return 0x6A80;
		card->piv.pin_verified = false;
		card->piv.always_auth_ok = false;
		return 0x9000;
	}
	if (c->lc == 0) /* status: spends nothing */
		return vnp_vt_pin_status_sw(d->pin_tries, card->piv.pin_verified);
	if (c->lc != PIV_REF_DATA_LEN)
		return 0x6A80;
	if (d->pin_tries == 0)
		return 0x6983;
	n = pin_digits(c->data);
	return vnp_vt_verify_pin(card, n ? c->data : NULL, n, &card->piv.pin_verified,
				 &card->piv.always_auth_ok);
}

uint16_t vnp_vt_piv_change(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d;
	const uint8_t *old_v = c->data, *new_v = c->data + PIV_REF_DATA_LEN;
	uint8_t verifier[PUK_VERIFIER_LEN];
	uint16_t sw;

	if (c->p1 != 0x00)
		return 0x6A86;
	if (c->p2 != PIV_PIN_REF && c->p2 != PIV_PUK_REF)
		return 0x6A88;
	if (c->lc != 2 * PIV_REF_DATA_LEN)
		return 0x6A80;
	if (c->p2 == PIV_PIN_REF && !pin_digits(new_v))
		return 0x6A80;
	if (c->p2 == PIV_PUK_REF &&
	    vnp_vt_piv_puk_verifier(card->st->libctx, new_v, verifier) != VNP_OK)
		return 0x6F00;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	d = &card->st->d;
	if (c->p2 == PIV_PIN_REF) {
		sw = spend_pin(card, old_v);
		if (sw == 0)
			sw = set_pin(card, new_v);
	} else {
		sw = spend_puk(card, old_v);
		if (sw == 0) {
			d->unblock_tries = d->unblock_max;
			d->counter++;
			if (vnp_vt_piv_store(d, PIV_REF_PUK, verifier, sizeof(verifier)) != VNP_OK)
				sw = 0x6F00;
		}
	}
	if (sw == 0) {
		sw = vnp_vt_vnt_save(card);
		if (sw == 0) {
			if (c->p2 == PIV_PIN_REF)
				card->piv.pin_verified = card->piv.always_auth_ok = true;
			sw = 0x9000;
		}
	}
	vnp_vt_state_unlock(card->st);
out:
	OPENSSL_cleanse(verifier, sizeof(verifier));
	return sw;
}

uint16_t vnp_vt_piv_reset_retry(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d;
	uint16_t sw;

	if (c->p1 != 0x00)
		return 0x6A86;
	if (c->p2 != PIV_PIN_REF)
		return 0x6A88;
	if (c->lc != 2 * PIV_REF_DATA_LEN || !pin_digits(c->data + PIV_REF_DATA_LEN))
		return 0x6A80;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		return sw;
	d = &card->st->d;
	sw = spend_puk(card, c->data);
	if (sw == 0) {
		d->unblock_tries = d->unblock_max;
		sw = set_pin(card, c->data + PIV_REF_DATA_LEN);
	}
	if (sw == 0) {
		card->piv.pin_verified = card->piv.always_auth_ok = false;
		sw = vnp_vt_vnt_save(card);
		if (sw == 0)
			sw = 0x9000;
	}
	vnp_vt_state_unlock(card->st);
	return sw;
}
