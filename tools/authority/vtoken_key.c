/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority: store K_token in a virtual token's state file through the virtual
 * token's own state code (tools/vtoken/state.h), under its lock. */
#include <string.h>

#include <openssl/crypto.h>

#include "authority.h"
#include "messages.h"
#include "rv.h"
#include "state.h"

_Static_assert(VNP_VT_SERIAL_LEN == VNP_RECOVERY_SERIAL_LEN, "serial lengths differ");
_Static_assert(sizeof(((struct vnp_vt_data *)0)->unblock_key) == VNP_RECOVERY_KEY_LEN,
	       "unblock key length differs");

int au_vtoken_set_key(const char *state_path, const uint8_t master[VNP_RECOVERY_KEY_LEN],
		      bool force, uint8_t ret_serial[VNP_RECOVERY_SERIAL_LEN])
{
	struct vnp_vt_state *st = NULL;
	uint8_t key[VNP_RECOVERY_KEY_LEN];
	char serial_hex[2 * VNP_RECOVERY_SERIAL_LEN + 1];
	int r, rv = AU_EXIT_FAIL;

	r = vnp_vt_state_load(state_path, &st);
	if (r != VNP_OK) {
		au_err(AU_E_STATE_LOAD, state_path, vnp_rv_text(r));
		rv = r == VNP_E_MALFORMED ? AU_EXIT_USAGE : AU_EXIT_FAIL;
		goto out;
	}
	/* the serial and the key flag are read again under the lock */
	r = vnp_vt_state_lock(st);
	if (r != VNP_OK) {
		au_err(AU_E_STATE_LOAD, state_path, vnp_rv_text(r));
		goto out;
	}
	au_hex(st->d.serial, VNP_RECOVERY_SERIAL_LEN, serial_hex);
	if (st->d.has_unblock_key && !force) {
		au_err(AU_E_HAS_KEY, serial_hex);
		rv = AU_EXIT_REFUSED;
		goto out;
	}
	if (vnp_recovery_token_key(master, st->d.serial, key) != VNP_OK) {
		au_err(AU_E_CRYPTO);
		goto out;
	}
	memcpy(st->d.unblock_key, key, sizeof(key));
	st->d.has_unblock_key = true;
	/* A pending request was answered under the old key: it can never be answered now. */
	st->d.has_challenge = false;
	OPENSSL_cleanse(st->d.challenge, sizeof(st->d.challenge));
	r = vnp_vt_state_save_locked(st);
	if (r != VNP_OK) {
		au_err(AU_E_STATE_SAVE, state_path, vnp_rv_text(r));
		goto out;
	}
	memcpy(ret_serial, st->d.serial, VNP_RECOVERY_SERIAL_LEN);
	rv = AU_EXIT_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	vnp_vt_state_free(st); /* unlocks, wipes */
	return rv;
}
