/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Slots (one per reader) and tokens (the card in it): the slot table, token connect,
 * card removal, C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, mechanisms,
 * C_WaitForSlotEvent, C_InitToken. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p11.h"
#include "cache.h"
#include "mech.h"
#include "log.h"
#include "rv.h"

#define MAX_READERS 32

/* ---- token I/O bracket ---- */

/* Take the token lock before driver calls (module lock held). */
void vnp_token_io_begin(struct vnp_token *tok)
{
	vnp_mutex_lock(tok->lock);
}

/* Release the token lock after driver calls and learn from vrv and the card: a reset
 * behind our back drops the login state (never re-login by ourselves); a vanished card
 * marks the token removed (dropped by vnp_slot_reap_locked). Returns vrv. */
int vnp_token_io_end(struct vnp_token *tok, int vrv)
{
	bool reset = tok->card.reset_seen;

	tok->card.reset_seen = false;
	vnp_token_io_result_locked(tok, vrv, reset);
	vnp_mutex_unlock(tok->lock);
	return vrv;
}

void vnp_token_io_result_locked(struct vnp_token *tok, int vrv, bool reset)
{
	if (reset) {
		if (tok->user_logged_in)
			vnp_log(VNP_LOG_P11, "%s: card was reset: login state dropped",
				tok->card.io.who);
		tok->user_logged_in = false;
		tok->pin_known = false;
	}
	if (vrv == VNP_E_NO_CARD || vrv == VNP_E_NO_DEVICE)
		tok->removed = true;
	if (vrv == VNP_E_TERMINATED) {
		/* 6283: the unblock counter is spent, for good; nothing but reading works */
		if (!tok->info.terminated)
			vnp_warn("%s: token terminated (unblock counter spent): hand it back to "
				 "the CA", tok->card.io.who);
		vnp_token_so_update(tok, 0);
		tok->user_logged_in = false;
	}
}

void vnp_token_so_update(struct vnp_token *tok, int tries_left)
{
	tok->so_pin.tries_left = tries_left;
	tok->so_known = tries_left >= 0;
	tok->info.so_pin.tries_left = tries_left;
	/* A spent unblock counter kills a vntoken; a blocked PUK leaves the PIN working. */
	if (tries_left == 0 && tok->info.so_kind == VNP_SO_RESPONSE_CODE) {
		tok->info.terminated = true;
		tok->info.challenge_pending = false;
	}
}

void vnp_token_so_logout(struct vnp_token *tok)
{
	tok->so_logged_in = false;
	vnp_secret_free(&tok->so_response);
	memset(&tok->so_response, 0, sizeof(tok->so_response));
}

/* Free a token. disconnect: release the reader handle too (not in a forked child). */
void vnp_token_free(struct vnp_token *tok, const struct vnp_reader_ops *ops, bool disconnect)
{
	if (!tok)
		return;
	if (tok->card.drv && tok->card.drv->release)
		tok->card.drv->release(&tok->card);
	if (disconnect && tok->card.io.reader && ops)
		ops->disconnect(tok->card.io.reader);
	vnp_objects_free(tok->objs, tok->n_objs);
	vnp_token_so_logout(tok);
	vnp_batch_free(tok->batch, disconnect);
	if (disconnect)
		vnp_mutex_free(tok->lock);
	free(tok);
}

/* ---- slot table ---- */

struct vnp_slot *vnp_slot_get_locked(CK_SLOT_ID id)
{
	if (id >= vnp_lib.n_slots)
		return NULL;
	return vnp_lib.slots[id];
}

static struct vnp_slot *slot_add_locked(unsigned backend, const struct vnp_reader_state *st)
{
	struct vnp_slot **n, *slot;

	n = realloc(vnp_lib.slots, (vnp_lib.n_slots + 1) * sizeof(*n));
	if (!n)
		return NULL;
	vnp_lib.slots = n;
	slot = calloc(1, sizeof(*slot));
	if (!slot)
		return NULL;
	slot->id = vnp_lib.n_slots;
	slot->backend = backend;
	snprintf(slot->name, sizeof(slot->name), "%s", st->name);
	vnp_lib.slots[vnp_lib.n_slots++] = slot;
	return slot;
}

/* Drop the token if it is marked removed; true when it did. */
bool vnp_slot_reap_locked(struct vnp_slot *slot)
{
	if (!slot || !slot->tok || !slot->tok->removed)
		return false;
	vnp_log(VNP_LOG_P11, "slot %lu: token removed", (unsigned long)slot->id);
	vnp_sessions_close_slot_locked(slot->id);
	if (slot->tok->io_refs)
		slot->tok->orphan = true; /* a signer is at the card: it frees the token */
	else
		vnp_token_free(slot->tok, vnp_lib.backends[slot->backend].ops, true);
	slot->tok = NULL;
	slot->event = true;
	return true;
}

static void slot_update_locked(struct vnp_slot *slot, const struct vnp_reader_state *st)
{
	bool was_present = slot->attached && slot->st.card_present;
	bool changed_card = st->event_count && slot->st.event_count &&
			    st->event_count != slot->st.event_count;

	if (!slot->attached || was_present != st->card_present || changed_card)
		slot->event = true;
	if (slot->tok && (!st->card_present || changed_card))
		slot->tok->removed = true;
	if (slot->unknown_card && (!st->card_present || st->event_count != slot->unknown_event))
		slot->unknown_card = false;
	slot->st = *st;
	slot->attached = true;
	vnp_slot_reap_locked(slot);
}

/* Re-list every backend's readers. */
void vnp_slots_refresh_locked(void)
{
	struct vnp_reader_state *st = calloc(MAX_READERS, sizeof(*st));

	if (!st)
		return;
	for (unsigned b = 0; b < vnp_lib.n_backends; b++) {
		const struct vnp_backend_ent *e = &vnp_lib.backends[b];
		size_t count = 0;
		int rv = e->ops->list(e->be, st, MAX_READERS, &count);

		if (rv != VNP_OK) {
			vnp_log(VNP_LOG_P11, "backend %s: list: %s", e->ops->name, vnp_rv_text(rv));
			count = 0;
		}
		/* Readers of this backend that are gone. */
		for (size_t i = 0; i < vnp_lib.n_slots; i++) {
			struct vnp_slot *slot = vnp_lib.slots[i];
			bool seen = false;

			if (slot->backend != b || !slot->attached)
				continue;
			for (size_t j = 0; j < count && !seen; j++)
				seen = !strcmp(st[j].name, slot->name);
			if (!seen) {
				slot->attached = false;
				slot->st.card_present = false;
				slot->event = true;
				if (slot->tok)
					slot->tok->removed = true;
				vnp_slot_reap_locked(slot);
			}
		}
		for (size_t j = 0; j < count; j++) {
			struct vnp_slot *slot = NULL;

			for (size_t i = 0; i < vnp_lib.n_slots && !slot; i++)
				if (vnp_lib.slots[i]->backend == b &&
				    !strcmp(vnp_lib.slots[i]->name, st[j].name))
					slot = vnp_lib.slots[i];
			if (!slot)
				slot = slot_add_locked(b, &st[j]);
			if (slot)
				slot_update_locked(slot, &st[j]);
		}
	}
	free(st);
}

static void log_unknown_card(struct vnp_slot *slot)
{
	char hex[VNP_ATR_MAX * 3 + 1] = "";

	for (size_t i = 0; i < slot->st.atr_len && i < VNP_ATR_MAX; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02X ", slot->st.atr[i]);
	vnp_warn("slot %lu (%s): unknown card, ATR %s", (unsigned long)slot->id, slot->name, hex);
}

static CK_RV token_connect_locked(struct vnp_slot *slot, struct vnp_token **ret)
{
	const struct vnp_backend_ent *e = &vnp_lib.backends[slot->backend];
	struct vnp_token *tok;
	struct vnp_dir *dir = NULL;
	struct vnp_cache *cache = NULL;
	CK_RV rv;
	int vrv;

	tok = calloc(1, sizeof(*tok));
	if (!tok)
		return CKR_HOST_MEMORY;
	rv = vnp_mutex_new(&tok->lock);
	if (rv != CKR_OK) {
		free(tok);
		return rv;
	}
	tok->card.io.ops = e->ops;
	tok->card.cfg = &vnp_lib.cfg;
	snprintf(tok->card.io.who, sizeof(tok->card.io.who), "slot%lu", (unsigned long)slot->id);
	vrv = e->ops->connect(e->be, slot->name, &tok->card.io.reader, &tok->card.io.caps);
	if (vrv != VNP_OK) {
		rv = vrv == VNP_E_NO_CARD || vrv == VNP_E_NO_DEVICE ? CKR_TOKEN_NOT_PRESENT
								     : vnp_ck_rv(vrv);
		goto fail;
	}
	vnp_token_io_begin(tok);
	vrv = vnp_card_detect(&tok->card, &tok->info);
	if (vrv == VNP_OK) {
		/* warm start: the directory of the same serial + change counter from disk */
		cache = vnp_cache_load(tok->card.drv->name, &tok->info);
		dir = vnp_cache_dir(cache);
		if (!dir)
			vrv = tok->card.drv->read_dir(&tok->card, &dir);
	}
	vnp_token_io_end(tok, vrv);
	if (vrv == VNP_E_NOT_SUPPORTED && !tok->card.drv) {
		slot->unknown_card = true;
		slot->unknown_event = slot->st.event_count;
		log_unknown_card(slot);
		rv = CKR_TOKEN_NOT_RECOGNIZED;
		goto fail;
	}
	if (vrv != VNP_OK) {
		rv = vrv == VNP_E_NO_CARD || vrv == VNP_E_NO_DEVICE ? CKR_TOKEN_NOT_PRESENT
								     : vnp_ck_rv(vrv);
		vnp_warn("slot %lu: token: %s", (unsigned long)slot->id, vnp_rv_text(vrv));
		goto fail;
	}
	tok->card.reset_seen = false;
	tok->removed = false;
	tok->pin = tok->info.user_pin;
	tok->pin_known = tok->pin.tries_left >= 0;
	tok->so_pin = tok->info.so_pin;
	if (tok->info.terminated)
		tok->so_pin.tries_left = 0;
	tok->so_known = tok->so_pin.tries_left >= 0;
	tok->dir_counter = dir->counter;
	rv = vnp_objects_build(tok, dir);
	vnp_dir_free(dir);
	dir = NULL;
	if (rv != CKR_OK)
		goto fail;
	if (cache)
		vnp_cache_apply(cache, tok);
	else
		vnp_cache_store(tok);
	vnp_cache_free(cache);
	cache = NULL;
	tok->generation = vnp_lib.next_generation++;
	slot->tok = tok;
	*ret = tok;
	vnp_log(VNP_LOG_P11, "slot %lu: token \"%s\" (%s), %zu objects", (unsigned long)slot->id,
		tok->info.label, tok->card.drv->name, tok->n_objs);
	return CKR_OK;
fail:
	vnp_dir_free(dir);
	vnp_cache_free(cache);
	vnp_token_free(tok, e->ops, true);
	return rv;
}

/* The slot's token, connecting it on first use. */
CK_RV vnp_slot_token_locked(struct vnp_slot *slot, bool refresh, struct vnp_token **ret)
{
	if (refresh)
		vnp_slots_refresh_locked();
	vnp_slot_reap_locked(slot);
	if (slot->tok) {
		*ret = slot->tok;
		return CKR_OK;
	}
	if (!slot->attached)
		return CKR_DEVICE_REMOVED;
	if (!slot->st.card_present)
		return CKR_TOKEN_NOT_PRESENT;
	if (slot->unknown_card)
		return CKR_TOKEN_NOT_RECOGNIZED;
	return token_connect_locked(slot, ret);
}

/* Re-read the directory after our own writes or a counter change. */
CK_RV vnp_token_reload_locked(struct vnp_token *tok)
{
	struct vnp_dir *dir = NULL;
	CK_RV rv;
	int vrv;

	vnp_token_io_begin(tok);
	vrv = vnp_token_io_end(tok, tok->card.drv->read_dir(&tok->card, &dir));
	if (vrv != VNP_OK)
		return vnp_ck_rv(vrv);
	rv = vnp_objects_build(tok, dir);
	if (rv == CKR_OK) {
		tok->dir_counter = dir->counter;
		vnp_cache_store(tok);
	}
	vnp_dir_free(dir);
	return rv;
}

/* Ask the card for the user PIN counter (VERIFY without data). */
CK_RV vnp_token_pin_refresh_locked(struct vnp_token *tok)
{
	struct vnp_pin_info pin;
	int vrv;

	if (!tok->card.drv->pin_status)
		return CKR_FUNCTION_NOT_SUPPORTED;
	vnp_token_io_begin(tok);
	vrv = vnp_token_io_end(tok, tok->card.drv->pin_status(&tok->card, VNP_PIN_USER, &pin));
	if (vrv != VNP_OK)
		return vnp_ck_rv(vrv);
	if (!pin.max_tries)
		pin.max_tries = tok->pin.max_tries;
	pin.initial = tok->info.user_pin.initial;
	tok->pin = pin;
	tok->pin_known = pin.tries_left >= 0;
	return CKR_OK;
}

/* ---- entry points ---- */

static bool slot_has_token_locked(struct vnp_slot *slot)
{
	struct vnp_token *tok;

	if (!slot->attached || !slot->st.card_present)
		return false;
	return vnp_slot_token_locked(slot, false, &tok) == CKR_OK;
}

CK_RV vnp_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	CK_ULONG n = 0;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pulCount) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	/* A size query re-lists the readers; the call that fills the list uses the same table
	 * so that the two calls agree. */
	if (!pSlotList)
		vnp_slots_refresh_locked();
	for (size_t i = 0; i < vnp_lib.n_slots; i++) {
		struct vnp_slot *slot = vnp_lib.slots[i];

		if (!slot->attached)
			continue;
		if (tokenPresent && !slot_has_token_locked(slot))
			continue;
		if (pSlotList && n < *pulCount)
			pSlotList[n] = slot->id;
		n++;
	}
	if (pSlotList && n > *pulCount)
		rv = CKR_BUFFER_TOO_SMALL;
	*pulCount = n;
	vnp_leave(rv);
out:
	vnp_trace("C_GetSlotList", rv, "tokenPresent=%u, pSlotList=%p, *pulCount=%lu",
		  (unsigned)tokenPresent, (void *)pSlotList,
		  pulCount ? (unsigned long)*pulCount : 0ul);
	return rv;
}

CK_RV vnp_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	struct vnp_slot *slot;
	const struct vnp_reader_ops *ops;
	char desc[VNP_READER_NAME_MAX + 16];
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pInfo) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	slot = vnp_slot_get_locked(slotID);
	if (!slot) {
		rv = vnp_leave(CKR_SLOT_ID_INVALID);
		goto out;
	}
	vnp_slots_refresh_locked();
	memset(pInfo, 0, sizeof(*pInfo));
	ops = vnp_lib.backends[slot->backend].ops;
	snprintf(desc, sizeof(desc), "%s", slot->name);
	vnp_pad_utf8(pInfo->slotDescription, sizeof(pInfo->slotDescription), desc);
	vnp_pad_utf8(pInfo->manufacturerID, sizeof(pInfo->manufacturerID),
		     ops && !strcmp(ops->name, "vtoken") ? "vnpki virtual token" : "PC/SC");
	pInfo->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
	if (slot_has_token_locked(slot))
		pInfo->flags |= CKF_TOKEN_PRESENT;
	vnp_leave(CKR_OK);
out:
	vnp_trace("C_GetSlotInfo", rv, "slotID=%lu", (unsigned long)slotID);
	return rv;
}

/* COUNT_LOW after a wrong try, FINAL_TRY (with COUNT_LOW) when one is left, LOCKED at zero;
 * the flag bits of the user or the SO group. */
static CK_FLAGS counter_flags(const struct vnp_pin_info *pin, CK_FLAGS low, CK_FLAGS final,
			      CK_FLAGS locked)
{
	if (pin->tries_left == 0)
		return locked;
	if (pin->tries_left == 1)
		return final | low;
	if (pin->max_tries && pin->tries_left > 0 && (unsigned)pin->tries_left < pin->max_tries)
		return low;
	return 0;
}

/* Token flags from what is known, without card I/O. The SO flags describe the unblock
 * counter (the response codes of RECOVERY.md); CKF_SO_PIN_LOCKED means terminated. */
static void token_flags(const struct vnp_token *tok, CK_FLAGS *flags)
{
	*flags = CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED;
	if (tok->card.drv->get_random)
		*flags |= CKF_RNG;
	if (tok->info.user_pin.initial)
		*flags |= CKF_USER_PIN_TO_BE_CHANGED;
	if (tok->pin_known)
		*flags |= counter_flags(&tok->pin, CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
					CKF_USER_PIN_LOCKED);
	if (tok->info.terminated)
		*flags |= CKF_SO_PIN_LOCKED;
	else if (tok->so_known)
		*flags |= counter_flags(&tok->so_pin, CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY,
					CKF_SO_PIN_LOCKED);
}

static void serial_hex(const struct vnp_token_info *info, char out[17])
{
	size_t n = VNP_MIN(info->serial_len, (size_t)8);

	memset(out, 0, 17);
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", info->serial[i]);
}

CK_RV vnp_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	struct vnp_slot *slot;
	struct vnp_token *tok;
	char serial[17];
	CK_ULONG all, rw;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pInfo) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	slot = vnp_slot_get_locked(slotID);
	if (!slot) {
		rv = vnp_leave(CKR_SLOT_ID_INVALID);
		goto out;
	}
	rv = vnp_slot_token_locked(slot, true, &tok);
	if (rv == CKR_DEVICE_REMOVED)
		rv = CKR_TOKEN_NOT_PRESENT;
	if (rv != CKR_OK) {
		vnp_leave(rv);
		goto out;
	}
	/* The counter is refreshed only when unknown (at connect when SELECT did not tell,
	 * after a login attempt that did not tell): no APDU when nothing changed. */
	if (!tok->pin_known)
		vnp_token_pin_refresh_locked(tok);
	if (tok->removed) {
		vnp_slot_reap_locked(slot);
		rv = vnp_leave(CKR_DEVICE_REMOVED);
		goto out;
	}
	memset(pInfo, 0, sizeof(*pInfo));
	vnp_pad_utf8(pInfo->label, sizeof(pInfo->label), tok->info.label);
	vnp_pad_utf8(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "vnpki");
	vnp_pad_utf8(pInfo->model, sizeof(pInfo->model),
		     tok->info.model[0] ? tok->info.model : tok->card.drv->name);
	serial_hex(&tok->info, serial);
	vnp_pad_utf8(pInfo->serialNumber, sizeof(pInfo->serialNumber), serial);
	token_flags(tok, &pInfo->flags);
	vnp_sessions_count_locked(slot->id, &all, &rw);
	pInfo->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	pInfo->ulSessionCount = all;
	pInfo->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	pInfo->ulRwSessionCount = rw;
	pInfo->ulMaxPinLen = tok->info.pin_max;
	pInfo->ulMinPinLen = tok->info.pin_min;
	pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->hardwareVersion.major = 0;
	pInfo->hardwareVersion.minor = 0;
	pInfo->firmwareVersion.major = tok->info.version_major;
	pInfo->firmwareVersion.minor = tok->info.version_minor;
	memset(pInfo->utcTime, ' ', sizeof(pInfo->utcTime));
	vnp_leave(CKR_OK);
out:
	vnp_trace("C_GetTokenInfo", rv, "slotID=%lu", (unsigned long)slotID);
	return rv;
}

/* Look up slotID and its token for the mechanism functions. */
static CK_RV slot_token(CK_SLOT_ID slotID, struct vnp_token **ret)
{
	struct vnp_slot *slot = vnp_slot_get_locked(slotID);
	CK_RV rv;

	if (!slot)
		return CKR_SLOT_ID_INVALID;
	rv = vnp_slot_token_locked(slot, false, ret);
	return rv == CKR_DEVICE_REMOVED ? CKR_TOKEN_NOT_PRESENT : rv;
}

CK_RV vnp_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
			     CK_ULONG_PTR pulCount)
{
	struct vnp_token *tok;
	CK_MECHANISM_TYPE mechs[64];
	size_t n;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pulCount) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	rv = slot_token(slotID, &tok);
	if (rv != CKR_OK) {
		vnp_leave(rv);
		goto out;
	}
	n = vnp_mech_list(tok->info.algs, mechs, VNP_ARRAY_SIZE(mechs));
	if (pMechanismList) {
		if (*pulCount < n)
			rv = CKR_BUFFER_TOO_SMALL;
		else
			memcpy(pMechanismList, mechs, n * sizeof(*mechs));
	}
	*pulCount = n;
	vnp_leave(rv);
out:
	vnp_trace("C_GetMechanismList", rv, "slotID=%lu", (unsigned long)slotID);
	return rv;
}

CK_RV vnp_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
			     CK_MECHANISM_INFO_PTR pInfo)
{
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pInfo) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	rv = slot_token(slotID, &tok);
	if (rv == CKR_OK)
		rv = vnp_mech_info(tok->info.algs, type, pInfo);
	vnp_leave(rv);
out:
	vnp_trace("C_GetMechanismInfo", rv, "slotID=%lu, type=0x%lx", (unsigned long)slotID,
		  (unsigned long)type);
	return rv;
}

/* Tokens are personalised by the issuer (the applet has no initialisation command):
 * C_InitToken is not supported. */
CK_RV vnp_C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
		      CK_UTF8CHAR_PTR pLabel)
{
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pLabel || (!pPin && ulPinLen))
		rv = CKR_ARGUMENTS_BAD;
	else if (!vnp_slot_get_locked(slotID))
		rv = CKR_SLOT_ID_INVALID;
	else
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	vnp_leave(rv);
out:
	vnp_trace("C_InitToken", rv, "slotID=%lu, pPin=<redacted %lu bytes>",
		  (unsigned long)slotID, (unsigned long)ulPinLen);
	return rv;
}

/* ---- C_WaitForSlotEvent ---- */

/* Blocked waiters run without the module lock. wait_mu (static: it outlives C_Finalize)
 * counts them; C_Finalize calls vnp_slot_wait_wake_all() before it takes the module lock,
 * which cancels the backends' waits until every waiter has left, so the backends and the
 * module lock outlive every waiter. */
static pthread_mutex_t wait_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cv = PTHREAD_COND_INITIALIZER;
static unsigned n_waiters;
static bool finalizing;

#define WAIT_LONG_MS 60000 /* one backend: its own wait, looped */
#define WAIT_POLL_MS 200   /* several backends, or one without wait_event: poll */

/* Wake every thread blocked in C_WaitForSlotEvent and return once none is left. */
void vnp_slot_wait_wake_all(void)
{
	pthread_mutex_lock(&wait_mu);
	finalizing = true;
	while (n_waiters) {
		struct timespec ts;

		/* the backend table does not change while initialised */
		for (unsigned b = 0; b < vnp_lib.n_backends; b++)
			if (vnp_lib.backends[b].ops->cancel)
				vnp_lib.backends[b].ops->cancel(vnp_lib.backends[b].be);
		pthread_cond_broadcast(&wait_cv);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&wait_cv, &wait_mu, &ts);
	}
	finalizing = false;
	pthread_mutex_unlock(&wait_mu);
}

static bool wait_finalizing(void)
{
	bool f;

	pthread_mutex_lock(&wait_mu);
	f = finalizing;
	pthread_mutex_unlock(&wait_mu);
	return f;
}

/* Sleep ms on wait_cv (woken by vnp_slot_wait_wake_all). */
static void wait_sleep(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wait_mu);
	if (!finalizing)
		pthread_cond_timedwait(&wait_cv, &wait_mu, &ts);
	pthread_mutex_unlock(&wait_mu);
}

/* The first slot with a pending event, cleared; false when none. Module lock held. */
static bool take_event_locked(CK_SLOT_ID *ret)
{
	vnp_slots_refresh_locked();
	for (size_t i = 0; i < vnp_lib.n_slots; i++) {
		if (vnp_lib.slots[i]->event) {
			vnp_lib.slots[i]->event = false;
			*ret = vnp_lib.slots[i]->id;
			return true;
		}
	}
	return false;
}

/* Block until a slot event: re-list under the module lock, wait without it. */
static CK_RV wait_blocking(CK_SLOT_ID *pSlot)
{
	CK_RV rv;

	pthread_mutex_lock(&wait_mu);
	if (finalizing) {
		pthread_mutex_unlock(&wait_mu);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	n_waiters++;
	pthread_mutex_unlock(&wait_mu);
	for (;;) {
		const struct vnp_reader_ops *ops = NULL;
		struct vnp_backend *be = NULL;
		bool cancelled = false;
		unsigned nb;
		int vrv;

		rv = vnp_enter();
		if (rv != CKR_OK)
			break;
		if (take_event_locked(pSlot)) {
			rv = vnp_leave(CKR_OK);
			break;
		}
		nb = vnp_lib.n_backends;
		if (nb == 1) {
			ops = vnp_lib.backends[0].ops;
			be = vnp_lib.backends[0].be;
		}
		vnp_leave(CKR_OK);
		if (wait_finalizing()) {
			rv = CKR_CRYPTOKI_NOT_INITIALIZED;
			break;
		}
		if (ops && ops->wait_event) {
			vrv = ops->wait_event(be, WAIT_LONG_MS, &cancelled);
			if (cancelled) {
				rv = CKR_CRYPTOKI_NOT_INITIALIZED;
				break;
			}
			if (vrv != VNP_OK && vrv != VNP_E_TIMEOUT)
				wait_sleep(WAIT_POLL_MS); /* pcscd gone: no busy loop */
		} else {
			wait_sleep(WAIT_POLL_MS);
		}
	}
	pthread_mutex_lock(&wait_mu);
	n_waiters--;
	pthread_cond_broadcast(&wait_cv);
	pthread_mutex_unlock(&wait_mu);
	return rv;
}

/* The first slot whose reader or token presence changed since the last call. CKF_DONT_BLOCK:
 * CKR_NO_EVENT when none; otherwise block (without the module lock) until one, or until
 * C_Finalize from another thread (CKR_CRYPTOKI_NOT_INITIALIZED). */
CK_RV vnp_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pSlot || pReserved) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	if (!(flags & CKF_DONT_BLOCK)) {
		vnp_leave(CKR_OK);
		rv = wait_blocking(pSlot);
		goto out;
	}
	rv = take_event_locked(pSlot) ? CKR_OK : CKR_NO_EVENT;
	vnp_leave(rv);
out:
	vnp_trace("C_WaitForSlotEvent", rv, "flags=0x%lx", (unsigned long)flags);
	return rv;
}
