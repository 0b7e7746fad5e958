/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: VERIFY and CHANGE REFERENCE DATA (ISO 7816-4 §11.5.6, §11.5.7).
 * A try is spent (decremented and saved) before the PIN is compared; the counter goes
 * back to its maximum only after a correct PIN. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "applet_tries.h"
#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"

static bool pin_len_ok(const struct vnp_vt_data *d, size_t len)
{
	return len >= d->pin_min && len <= d->pin_max;
}

uint16_t vnp_vt_vnt_verify(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d = &card->st->d;

	if (c->p1 != 0x00 && c->p1 != 0xFF)
		return 0x6A86;
	if (c->p2 == VNT_UNBLOCK_REF && c->p1 == 0x00 && c->lc == 0)
		return vnp_vt_vnt_unblock_status(card); /* the unblock reference has no VERIFY */
	if (c->p2 != VNT_PIN_REF)
		return 0x6A88;
	if (c->p1 == 0xFF) { /* reset the security status (ISO 7816-4:2013 §11.5.6) */
		if (c->lc)
			return 0x6700;
		card->vnt.pin_verified = false;
		card->vnt.always_auth_ok = false;
		return 0x9000;
	}
	if (c->lc == 0) /* status: spends nothing */
		return vnp_vt_pin_status_sw(d->pin_tries, card->vnt.pin_verified);
	if (d->pin_tries == 0)
		return 0x6983;
	if (!pin_len_ok(d, c->lc))
		return 0x6A80;
	return vnp_vt_verify_pin(card, c->data, c->lc, &card->vnt.pin_verified,
				 &card->vnt.always_auth_ok);
}

uint16_t vnp_vt_vnt_change(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d = &card->st->d;
	const uint8_t *oldp, *newp;
	size_t old_len, new_len;
	uint8_t salt[VNP_VT_PIN_SALT_LEN], hash[VNP_VT_PIN_HASH_LEN];
	uint16_t sw;

	if (c->p1 != 0x00)
		return 0x6A86;
	if (c->p2 != VNT_PIN_REF)
		return 0x6A88;
	if (c->lc < 1 || (size_t)c->data[0] + 1 > c->lc)
		return 0x6700;
	old_len = c->data[0];
	oldp = c->data + 1;
	newp = oldp + old_len;
	new_len = c->lc - 1 - old_len;
	if (d->pin_tries == 0)
		return 0x6983;
	if (!pin_len_ok(d, old_len) || !pin_len_ok(d, new_len))
		return 0x6A80;
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    vnp_vt_pin_hash(card->st->libctx, salt, sizeof(salt), newp, new_len, hash) != VNP_OK)
		return 0x6F00;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	d = &card->st->d;
	sw = vnp_vt_spend_pin(card, oldp, old_len, &card->vnt.pin_verified,
			      &card->vnt.always_auth_ok);
	if (sw == 0) {
		d->pin_tries = d->pin_max_tries;
		memcpy(d->pin_salt, salt, sizeof(salt));
		memcpy(d->pin_hash, hash, sizeof(hash));
		d->pin_initial = false;
		d->counter++;
		sw = vnp_vt_vnt_save(card);
		if (sw == 0) {
			card->vnt.pin_verified = true;
			sw = 0x9000;
		}
	}
	vnp_vt_state_unlock(card->st);
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	return sw;
}
