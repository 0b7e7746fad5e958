/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIM PKI: RESET RETRY COUNTER with the PUK (ISO/IEC 7816-4 §11.5.10) and the PUK status.
 * The PUK's tries are the state's unblock counter: a try is decremented and saved before
 * the PUK is compared; the last wrong PUK blocks the PUK for good (RESET RETRY COUNTER then
 * answers 6983); the PIN keeps working. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "applet_simpki.h"
#include "applet_tries.h"
#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"

uint16_t vnp_vt_sim_puk_status(struct vnp_vcard *card)
{
	const struct vnp_vt_data *d = &card->st->d;

	return d->unblock_tries == 0 ? 0x6983 : vnp_vt_tries_sw(d->unblock_tries);
}

static bool digits(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Spend a PUK try, save, compare. 0 on a match (counter not yet restored), else the SW.
 * Lock held. */
static uint16_t spend_and_check(struct vnp_vcard *card, const uint8_t *puk)
{
	struct vnp_vt_data *d = &card->st->d;
	uint16_t sw;
	int ok;

	d->unblock_tries--;
	sw = vnp_vt_vnt_save(card);
	if (sw)
		return sw;
	ok = vnp_vt_pin_matches(card->st->libctx, d->puk_salt, sizeof(d->puk_salt), d->puk_hash,
				puk, SIM_PUK_LEN);
	if (ok < 0)
		return 0x6F00;
	return ok ? 0 : vnp_vt_tries_sw(d->unblock_tries);
}

uint16_t vnp_vt_sim_reset_retry(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d = &card->st->d;
	uint8_t salt[VNP_VT_PIN_SALT_LEN], hash[VNP_VT_PIN_HASH_LEN];
	const uint8_t *newp = c->data ? c->data + SIM_PUK_LEN : NULL;
	size_t new_len = c->lc > SIM_PUK_LEN ? c->lc - SIM_PUK_LEN : 0;
	uint16_t sw;

	if (c->p1 != 0x00 && c->p1 != 0x01)
		return 0x6A86;
	if (c->p2 != 0x81)
		return 0x6A88;
	if (d->unblock_tries == 0)
		return 0x6983;
	if (!d->has_puk)
		return 0x6985;
	if (c->lc < SIM_PUK_LEN || (c->p1 == 0x01 && c->lc != SIM_PUK_LEN))
		return 0x6700;
	if (!digits(c->data, SIM_PUK_LEN))
		return 0x6A80;
	if (c->p1 == 0x00 && (new_len < d->pin_min || new_len > d->pin_max))
		return 0x6A80;
	if (c->p1 == 0x00 &&
	    (RAND_bytes(salt, sizeof(salt)) != 1 ||
	     vnp_vt_pin_hash(card->st->libctx, salt, sizeof(salt), newp, new_len, hash) != VNP_OK))
		return 0x6F00;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	d = &card->st->d; /* reloaded */
	if (d->unblock_tries == 0) {
		sw = 0x6983;
		goto unlock;
	}
	sw = spend_and_check(card, c->data);
	if (sw)
		goto unlock;
	d->unblock_tries = d->unblock_max;
	d->terminated = false;
	d->pin_tries = d->pin_max_tries;
	if (c->p1 == 0x00) {
		memcpy(d->pin_salt, salt, sizeof(salt));
		memcpy(d->pin_hash, hash, sizeof(hash));
		d->pin_initial = false;
	}
	d->counter++;
	sw = vnp_vt_vnt_save(card);
	if (sw == 0)
		sw = 0x9000;
	card->vnt.pin_verified = false; /* VERIFY the new PIN */
	card->vnt.always_auth_ok = false;
unlock:
	vnp_vt_state_unlock(card->st);
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(salt, sizeof(salt));
	return sw;
}
