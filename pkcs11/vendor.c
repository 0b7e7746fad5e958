/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "Vendor VNPKI" interface (include/vnpki/vnpki.h): APDU statistics and PIN counters. */
#include <string.h>

#include "p11.h"
#include "log.h"
#include "rv.h"

static CK_RV slot_token_locked(CK_SLOT_ID id, struct vnp_slot **ret_slot,
			       struct vnp_token **ret)
{
	struct vnp_slot *slot = vnp_slot_get_locked(id);
	CK_RV rv;

	if (!slot)
		return CKR_SLOT_ID_INVALID;
	*ret_slot = slot;
	rv = vnp_slot_token_locked(slot, false, ret);
	return rv == CKR_DEVICE_REMOVED ? CKR_TOKEN_NOT_PRESENT : rv;
}

static CK_RV get_apdu_stats(CK_SLOT_ID slot_id, struct vnp_ext_apdu_stats *ret)
{
	struct vnp_slot *slot;
	struct vnp_token *tok;
	const struct vnp_apdu_stats *st;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = ret ? slot_token_locked(slot_id, &slot, &tok) : CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK) {
		st = &tok->card.io.stats;
		memset(ret, 0, sizeof(*ret));
		ret->apdus = st->apdus;
		memcpy(ret->by_ins, st->by_ins, sizeof(ret->by_ins));
		ret->transactions = st->transactions;
		ret->bytes_out = st->bytes_out;
		ret->bytes_in = st->bytes_in;
	}
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.get_apdu_stats", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

static CK_RV reset_apdu_stats(CK_SLOT_ID slot_id)
{
	struct vnp_slot *slot;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = slot_token_locked(slot_id, &slot, &tok);
	if (rv == CKR_OK)
		memset(&tok->card.io.stats, 0, sizeof(tok->card.io.stats));
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.reset_apdu_stats", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

static CK_RV get_pin_counters(CK_SLOT_ID slot_id, struct vnp_ext_pin_counters *ret)
{
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	struct vnp_pin_info so;
	CK_RV rv;
	int vrv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = ret ? slot_token_locked(slot_id, &slot, &tok) : CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = vnp_token_pin_refresh_locked(tok);
	if (rv == CKR_OK) {
		ret->user_tries_left = tok->pin_known ? tok->pin.tries_left : -1;
		ret->user_tries_max = tok->pin.max_tries ? (int)tok->pin.max_tries : -1;
		ret->unblock_tries_left = -1;
		ret->unblock_tries_max = -1;
		vnp_token_io_begin(tok);
		vrv = tok->card.drv->pin_status(&tok->card, VNP_PIN_SO, &so);
		vnp_token_io_end(tok, vrv);
		if (vrv == VNP_OK) {
			ret->unblock_tries_left = so.tries_left;
			ret->unblock_tries_max = so.max_tries ? (int)so.max_tries : -1;
		}
	}
	if (slot && slot->tok && slot->tok->removed)
		rv = CKR_DEVICE_REMOVED;
	vnp_slot_reap_locked(slot);
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.get_pin_counters", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

const struct vnp_ext_functions vnp_ext_functions = {
	.version = { VNPKI_INTERFACE_VERSION_MAJOR, VNPKI_INTERFACE_VERSION_MINOR },
	.get_apdu_stats = get_apdu_stats,
	.reset_apdu_stats = reset_apdu_stats,
	.get_pin_counters = get_pin_counters,
};
