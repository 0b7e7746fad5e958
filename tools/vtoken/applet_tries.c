/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIN and PUK tries of the applets (applet_tries.h). A try is spent (decremented and saved)
 * before the value is compared; the counter goes back to its maximum only after a right
 * value. */
#include <openssl/crypto.h>

#include "applet_tries.h"
#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"

uint16_t vnp_vt_tries_sw(uint8_t left)
{
	return (uint16_t)(0x63C0 | (left > 15 ? 15 : left));
}

uint16_t vnp_vt_pin_status_sw(uint8_t tries, bool verified)
{
	if (tries == 0)
		return 0x6983;
	return verified ? 0x9000 : vnp_vt_tries_sw(tries);
}

int vnp_vt_pin_matches(OSSL_LIB_CTX *libctx, const uint8_t *salt, size_t salt_len,
		       const uint8_t *hash, const uint8_t *value, size_t len)
{
	uint8_t h[VNP_VT_PIN_HASH_LEN];
	int ok;

	if (vnp_vt_pin_hash(libctx, salt, salt_len, value, len, h) != VNP_OK)
		return -1;
	ok = CRYPTO_memcmp(h, hash, sizeof(h)) == 0;
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

uint16_t vnp_vt_spend_pin(struct vnp_vcard *card, const uint8_t *pin, size_t len,
			  bool *verified, bool *always_auth_ok)
{
	struct vnp_vt_data *d = &card->st->d;
	uint16_t sw;
	int ok;

	if (d->pin_tries == 0)
		return 0x6983;
	d->pin_tries--;
	sw = vnp_vt_vnt_save(card);
	if (sw)
		return sw;
	ok = pin ? vnp_vt_pin_matches(card->st->libctx, d->pin_salt, sizeof(d->pin_salt),
				      d->pin_hash, pin, len)
		 : 0;
	if (ok < 0)
		return 0x6F00;
	if (!ok) {
		*verified = false;
		*always_auth_ok = false;
		return vnp_vt_tries_sw(d->pin_tries);
	}
	return 0;
}

uint16_t vnp_vt_verify_pin(struct vnp_vcard *card, const uint8_t *pin, size_t len,
			   bool *verified, bool *always_auth_ok)
{
	struct vnp_vt_data *d;
	uint16_t sw;

	sw = vnp_vt_vnt_lock(card);
	if (sw)
		return sw;
	d = &card->st->d;
	sw = vnp_vt_spend_pin(card, pin, len, verified, always_auth_ok);
	if (sw == 0) {
		d->pin_tries = d->pin_max_tries;
		sw = vnp_vt_vnt_save(card);
		if (sw == 0) {
			*verified = true;
			*always_auth_ok = true;
			sw = 0x9000;
		}
	}
	vnp_vt_state_unlock(card->st);
	return sw;
}
