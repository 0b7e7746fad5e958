/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "Vendor VNPKI" interface (include/vnpki/vnpki.h): APDU statistics, PIN counters,
 * token details and unblock requests (RECOVERY.md step 2). */
#include <stddef.h>
#include <string.h>

#include "p11.h"
#include "log.h"
#include "recovery.h"
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
		/* the token lock: a signer may be at the card without the module lock */
		vnp_token_io_begin(tok);
		st = &tok->card.io.stats;
		memset(ret, 0, sizeof(*ret));
		ret->apdus = st->apdus;
		memcpy(ret->by_ins, st->by_ins, sizeof(ret->by_ins));
		ret->transactions = st->transactions;
		ret->bytes_out = st->bytes_out;
		ret->bytes_in = st->bytes_in;
		ret->reader_calls = st->reader_calls;
		vnp_token_io_end(tok, VNP_OK);
		vnp_batch_counts(tok->batch, &ret->sign_card_ops, &ret->sign_requests);
		ret->sign_card_ops -= tok->batch_base_ops;
		ret->sign_requests -= tok->batch_base_requests;
	}
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.get_apdu_stats", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

/* Version 1.0 of the interface: the struct as 1.0 defined it (up to bytes_in), so that a
 * caller built against the 1.0 header is not written past its buffer. */
static CK_RV get_apdu_stats_v10(CK_SLOT_ID slot_id, struct vnp_ext_apdu_stats *ret)
{
	struct vnp_ext_apdu_stats all;
	CK_RV rv;

	if (!ret)
		return CKR_ARGUMENTS_BAD;
	rv = get_apdu_stats(slot_id, &all);
	if (rv == CKR_OK)
		memcpy(ret, &all, offsetof(struct vnp_ext_apdu_stats, reader_calls));
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
	if (rv == CKR_OK) {
		vnp_token_io_begin(tok);
		memset(&tok->card.io.stats, 0, sizeof(tok->card.io.stats));
		vnp_token_io_end(tok, VNP_OK);
		vnp_batch_counts(tok->batch, &tok->batch_base_ops, &tok->batch_base_requests);
	}
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
			if (so.max_tries)
				tok->so_pin.max_tries = so.max_tries;
			vnp_token_so_update(tok, so.tries_left);
		}
	}
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.get_pin_counters", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

static CK_RV get_token_details(CK_SLOT_ID slot_id, struct vnp_ext_token_details *ret)
{
	struct vnp_slot *slot;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = ret ? slot_token_locked(slot_id, &slot, &tok) : CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK) {
		memset(ret, 0, sizeof(*ret));
		/* enum vnp_device_type has the values of VNPKI_DEVICE_* */
		ret->device_type = (CK_ULONG)tok->info.type;
		ret->serial_len = VNP_MIN(tok->info.serial_len, sizeof(ret->serial));
		memcpy(ret->serial, tok->info.serial, ret->serial_len);
		ret->terminated = tok->info.terminated ? CK_TRUE : CK_FALSE;
		ret->unblock_pending = tok->info.challenge_pending ? CK_TRUE : CK_FALSE;
		ret->pin_initial = tok->info.user_pin.initial ? CK_TRUE : CK_FALSE;
	}
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.get_token_details", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

/* GET UNBLOCK CHALLENGE, then the request code serial || challenge. */
static CK_RV unblock_request_locked(struct vnp_token *tok, struct vnp_ext_unblock_request *ret)
{
	uint8_t req[VNP_RECOVERY_REQUEST_LEN];
	char code[VNP_CODE_MAX];
	int vrv;

	/* SIM PKI recovery goes to the central CA, which hands out a PUK (RECOVERY.md) */
	if (!tok->card.drv->unblock_challenge || tok->info.type == VNP_DEVICE_SIM_PKI)
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (tok->info.serial_len != VNP_RECOVERY_SERIAL_LEN) {
		vnp_warn("%s: serial of %zu bytes: no unblock request", tok->card.io.who,
			 tok->info.serial_len);
		return CKR_FUNCTION_NOT_SUPPORTED;
	}
	if (tok->info.terminated)
		return CKR_PIN_LOCKED; /* no request can help any more */
	memcpy(req, tok->info.serial, VNP_RECOVERY_SERIAL_LEN);
	vnp_token_io_begin(tok);
	vrv = tok->card.drv->unblock_challenge(&tok->card, req + VNP_RECOVERY_SERIAL_LEN,
					       VNP_RECOVERY_CHALLENGE_LEN);
	vnp_token_io_end(tok, vrv);
	switch (vrv) {
	case VNP_OK:
		break;
	case VNP_E_TERMINATED:
		return CKR_PIN_LOCKED;
	case VNP_E_CONDITIONS:    /* 6985: the token has no unblock key */
	case VNP_E_NOT_SUPPORTED: /* 6D00 */
		return CKR_FUNCTION_NOT_SUPPORTED;
	default:
		return vnp_ck_rv(vrv);
	}
	tok->info.challenge_pending = true;
	if (vnp_code_encode(req, sizeof(req), code, sizeof(code)) != VNP_OK ||
	    strlen(code) >= sizeof(ret->request_code))
		return CKR_GENERAL_ERROR;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->request_code, code, strlen(code) + 1);
	memcpy(ret->serial, req, VNP_RECOVERY_SERIAL_LEN);
	memcpy(ret->challenge, req + VNP_RECOVERY_SERIAL_LEN, VNP_RECOVERY_CHALLENGE_LEN);
	return CKR_OK;
}

static CK_RV create_unblock_request(CK_SLOT_ID slot_id, struct vnp_ext_unblock_request *ret)
{
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = ret ? slot_token_locked(slot_id, &slot, &tok) : CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = unblock_request_locked(tok, ret);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("vnp_ext.create_unblock_request", rv, "slot=%lu", (unsigned long)slot_id);
	return rv;
}

const struct vnp_ext_functions vnp_ext_functions = {
	.version = { VNPKI_INTERFACE_VERSION_MAJOR, VNPKI_INTERFACE_VERSION_MINOR },
	.get_apdu_stats = get_apdu_stats,
	.reset_apdu_stats = reset_apdu_stats,
	.get_pin_counters = get_pin_counters,
	.get_token_details = get_token_details,
	.create_unblock_request = create_unblock_request,
};

const struct vnp_ext_functions vnp_ext_functions_v10 = {
	.version = { 1, 0 },
	.get_apdu_stats = get_apdu_stats_v10,
	.reset_apdu_stats = reset_apdu_stats,
	.get_pin_counters = get_pin_counters,
	.get_token_details = get_token_details,
	.create_unblock_request = create_unblock_request,
};
