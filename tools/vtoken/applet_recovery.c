/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: recovery (APPLET.md "Recovery", shared/design/RECOVERY.md): GET UNBLOCK
 * CHALLENGE, RESET RETRY COUNTER (ISO 7816-4 §11.5.10) and the unblock status.
 * The challenge is saved before it is answered, and an unblock try is decremented and
 * saved before the response is compared, so pulling the plug never loses a request nor
 * refunds a try. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "applet_tries.h"
#include "applet_vntoken.h"
#include "keys.h"
#include "recovery.h"
#include "rv.h"

_Static_assert(VNP_VT_CHALLENGE_LEN == VNP_RECOVERY_CHALLENGE_LEN, "challenge length");
_Static_assert(VNP_VT_UNBLOCK_KEY_LEN == VNP_RECOVERY_KEY_LEN, "K_token length");
_Static_assert(VNP_VT_SERIAL_LEN == VNP_RECOVERY_SERIAL_LEN, "serial length");

uint16_t vnp_vt_vnt_unblock_status(struct vnp_vcard *card)
{
	const struct vnp_vt_data *d = &card->st->d;

	return d->terminated ? 0x6283 : vnp_vt_tries_sw(d->unblock_tries);
}

uint16_t vnp_vt_vnt_unblock_challenge(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
				      struct vnp_buf *out)
{
	struct vnp_vt_data *d = &card->st->d;
	uint8_t challenge[VNP_VT_CHALLENGE_LEN];
	uint16_t sw;

	if (c->p1 || c->p2)
		return 0x6A86;
	if (c->lc)
		return 0x6700;
	if (!d->has_unblock_key)
		return 0x6985;
	if (RAND_bytes(challenge, sizeof(challenge)) != 1)
		return 0x6F00;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		return sw;
	d = &card->st->d; /* reloaded: another instance may have changed it */
	if (d->terminated) {
		sw = 0x6283;
		goto out;
	}
	if (!d->has_unblock_key) {
		sw = 0x6985;
		goto out;
	}
	memcpy(d->challenge, challenge, sizeof(challenge));
	d->has_challenge = true; /* replaces any older request */
	sw = vnp_vt_vnt_save(card);
	if (sw)
		goto out;
	vnp_buf_put(out, challenge, sizeof(challenge));
	sw = 0x9000;
out:
	vnp_vt_state_unlock(card->st);
	return sw;
}

/* Spend an unblock try (saved), then compare the response in constant time. 0 on a
 * match (counter not yet restored), else the SW. Lock held. */
static uint16_t spend_and_check(struct vnp_vcard *card, const uint8_t *response)
{
	struct vnp_vt_data *d = &card->st->d;
	uint8_t want[VNP_RECOVERY_RESPONSE_LEN];
	uint16_t sw;
	bool ok;

	d->unblock_tries--;
	if (d->unblock_tries == 0)
		d->terminated = true; /* undone below only by the right response */
	sw = vnp_vt_vnt_save(card);
	if (sw)
		return sw;
	if (vnp_recovery_response(d->unblock_key, d->serial, d->challenge, want) != VNP_OK)
		return 0x6F00;
	ok = CRYPTO_memcmp(want, response, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok ? 0 : vnp_vt_tries_sw(d->unblock_tries);
}

uint16_t vnp_vt_vnt_reset_retry(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d = &card->st->d;
	uint8_t salt[VNP_VT_PIN_SALT_LEN], hash[VNP_VT_PIN_HASH_LEN];
	const uint8_t *new_pin;
	size_t new_len;
	uint16_t sw;

	if (c->p1 != 0x00) {
		sw = 0x6A86;
		goto out;
	}
	if (c->p2 != VNT_PIN_REF) {
		sw = 0x6A88;
		goto out;
	}
	/* the order of the checks is APPLET.md's */
	if (d->terminated) {
		sw = 0x6283;
		goto out;
	}
	if (!d->has_unblock_key || !d->has_challenge) {
		sw = 0x6985;
		goto out;
	}
	if (c->lc < VNP_RECOVERY_RESPONSE_LEN) {
		sw = 0x6700;
		goto out;
	}
	new_pin = c->data + VNP_RECOVERY_RESPONSE_LEN;
	new_len = c->lc - VNP_RECOVERY_RESPONSE_LEN;
	if (new_len < d->pin_min || new_len > d->pin_max) {
		sw = 0x6A80; /* nothing spent */
		goto out;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    vnp_vt_pin_hash(card->st->libctx, salt, sizeof(salt), new_pin, new_len, hash) !=
		    VNP_OK) {
		sw = 0x6F00;
		goto out;
	}
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	d = &card->st->d; /* reloaded: check again what another instance may have changed */
	if (d->terminated)
		sw = 0x6283;
	else if (!d->has_unblock_key || !d->has_challenge)
		sw = 0x6985;
	else
		sw = spend_and_check(card, c->data);
	if (sw == 0) {
		d->unblock_tries = d->unblock_max;
		d->terminated = false;
		d->pin_tries = d->pin_max_tries;
		memcpy(d->pin_salt, salt, sizeof(salt));
		memcpy(d->pin_hash, hash, sizeof(hash));
		d->pin_initial = false;
		d->has_challenge = false; /* one use */
		OPENSSL_cleanse(d->challenge, sizeof(d->challenge));
		d->counter++;
		sw = vnp_vt_vnt_save(card);
		if (sw == 0) {
			/* the old verification is void; the new PIN is not verified by this */
			card->vnt.pin_verified = false;
			card->vnt.always_auth_ok = false;
			sw = 0x9000;
		}
	}
	vnp_vt_state_unlock(card->st);
out:
	OPENSSL_cleanse(salt, sizeof(salt));
	OPENSSL_cleanse(hash, sizeof(hash));
	return sw;
}
