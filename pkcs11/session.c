/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions and login: C_OpenSession, C_CloseSession, C_CloseAllSessions,
 * C_GetSessionInfo, C_Login, C_LoginUser, C_Logout, C_InitPIN, C_SetPIN, C_SessionCancel.
 *
 * The login state belongs to the token (shared by all of the application's sessions on
 * it); a session's state is derived from it without talking to the card. A PIN is spent
 * only when the application typed one: C_Login never retries a VERIFY, and a PIN outside
 * the token's length policy is refused on the host (CKR_PIN_LEN_RANGE) without an APDU.
 *
 * CKU_SO is the holder of a response code (RECOVERY.md, "Through PKCS#11"): the pPin of
 * C_Login(CKU_SO) is the code as typed ("BE78-QKEW-WV2A-14HP-T"). The login is a host-side
 * state: the code is decoded and its check character verified on the host (a typo gives
 * CKR_PIN_INVALID / CKR_PIN_INCORRECT with no APDU and no try spent), and its 10 bytes are
 * kept in a locked secret. The TOKEN verifies the code at C_InitPIN (RESET RETRY COUNTER
 * with the new PIN): that is where an unblock try is spent, and where a wrong code shows
 * (CKR_PIN_INCORRECT, the SO login ends and the code must be typed again). In the SO state
 * only C_InitPIN and C_Logout do anything; functions that need the user give
 * CKR_USER_NOT_LOGGED_IN, C_SetPIN (the SO "PIN" cannot be changed) CKR_FUNCTION_NOT_SUPPORTED.
 * After a successful C_InitPIN the SO stays logged in (with the code wiped) until C_Logout.
 * A terminated token (unblock counter spent) refuses every login with CKR_PIN_LOCKED, on
 * the host with no APDU; an operation that meets 6283 on the card (the token was terminated
 * by another process while this one was logged in: C_Sign and the like) fails with
 * CKR_DEVICE_ERROR and drops the login (vnp_token_io_end). Reading keeps working.
 *
 * PUK cards (PIV, SIM PKI: token info so_kind VNP_SO_PUK): the pPin of C_Login(CKU_SO) is
 * the PUK. It is checked against the PUK length policy on the host (CKR_PIN_LEN_RANGE, no
 * APDU) and kept like a code; C_InitPIN sends RESET RETRY COUNTER with PUK and new PIN, where
 * a wrong PUK gives CKR_PIN_INCORRECT (one PUK try spent) and a blocked one CKR_PIN_LOCKED. */
#include <stdlib.h>
#include <string.h>

#include "p11.h"
#include "mech.h"
#include "log.h"
#include "recovery.h"
#include "rv.h"
#include "secret.h"

/* ---- session table ---- */

void vnp_op_clear(struct vnp_op *op)
{
	vnp_sigctx_free(op->ctx);
	memset(op, 0, sizeof(*op));
}

/* End the find, sign and verify operations of s. */
void vnp_session_end_ops(struct vnp_session *s)
{
	free(s->found);
	s->found = NULL;
	s->n_found = s->found_pos = 0;
	s->find_active = false;
	vnp_op_clear(&s->sign);
	vnp_op_clear(&s->verify);
	s->sign_active = s->verify_active = false;
}

static void session_free(struct vnp_session *s)
{
	if (!s)
		return;
	vnp_session_end_ops(s);
	free(s);
}

static void session_remove_at_locked(size_t i)
{
	session_free(vnp_lib.sessions[i]);
	vnp_lib.sessions[i] = vnp_lib.sessions[--vnp_lib.n_sessions];
}

/* Free all sessions, no card I/O. */
void vnp_sessions_free_all_locked(void)
{
	for (size_t i = 0; i < vnp_lib.n_sessions; i++)
		session_free(vnp_lib.sessions[i]);
	free(vnp_lib.sessions);
	vnp_lib.sessions = NULL;
	vnp_lib.n_sessions = 0;
}

/* Close every session of slot id (no card I/O). */
void vnp_sessions_close_slot_locked(CK_SLOT_ID id)
{
	size_t i = 0;

	while (i < vnp_lib.n_sessions) {
		if (vnp_lib.sessions[i]->slot_id == id)
			session_remove_at_locked(i);
		else
			i++;
	}
}

/* Count the sessions on slot id, and the read/write ones. */
void vnp_sessions_count_locked(CK_SLOT_ID id, CK_ULONG *ret_all, CK_ULONG *ret_rw)
{
	CK_ULONG all = 0, rw = 0;

	for (size_t i = 0; i < vnp_lib.n_sessions; i++) {
		if (vnp_lib.sessions[i]->slot_id != id)
			continue;
		all++;
		if (vnp_lib.sessions[i]->flags & CKF_RW_SESSION)
			rw++;
	}
	*ret_all = all;
	*ret_rw = rw;
}

static size_t session_index_locked(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; i < vnp_lib.n_sessions; i++)
		if (vnp_lib.sessions[i]->handle == h)
			return i;
	return SIZE_MAX;
}

/* The session h with its slot and token. A session whose token went away is closed and
 * reported as CKR_SESSION_HANDLE_INVALID. */
CK_RV vnp_session_get_locked(CK_SESSION_HANDLE h, struct vnp_session **ret,
			     struct vnp_slot **ret_slot, struct vnp_token **ret_tok)
{
	size_t i = session_index_locked(h);
	struct vnp_session *s;
	struct vnp_slot *slot;

	if (i == SIZE_MAX)
		return CKR_SESSION_HANDLE_INVALID;
	s = vnp_lib.sessions[i];
	slot = vnp_slot_get_locked(s->slot_id);
	if (slot)
		vnp_slot_reap_locked(slot);
	/* reaping may have closed s */
	i = session_index_locked(h);
	if (i == SIZE_MAX || !slot || !slot->tok || slot->tok->generation != s->token_gen) {
		if (i != SIZE_MAX)
			session_remove_at_locked(i);
		return CKR_SESSION_HANDLE_INVALID;
	}
	*ret = s;
	if (ret_slot)
		*ret_slot = slot;
	if (ret_tok)
		*ret_tok = slot->tok;
	return CKR_OK;
}

/* Forget the user login in our state (no card I/O): the token's sessions become public
 * and their signing operations end. */
static void token_forget_login_locked(struct vnp_token *tok)
{
	tok->user_logged_in = false;
	for (size_t i = 0; i < vnp_lib.n_sessions; i++) {
		struct vnp_session *s = vnp_lib.sessions[i];

		if (s->token_gen != tok->generation)
			continue;
		if (s->sign_active) {
			vnp_op_clear(&s->sign);
			s->sign_active = false;
		}
	}
}

/* Log the token out on the card and in our state (errors ignored: the card may be gone). */
static void token_logout_locked(struct vnp_token *tok)
{
	if (tok->card.drv->logout) {
		vnp_token_io_begin(tok);
		vnp_token_io_end(tok, tok->card.drv->logout(&tok->card, VNP_PIN_USER));
	}
	token_forget_login_locked(tok);
}

/* ---- entry points ---- */

CK_RV vnp_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
			CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession)
{
	struct vnp_session *s = NULL, **n;
	struct vnp_slot *slot;
	struct vnp_token *tok;
	CK_RV rv;

	(void)pApplication;
	(void)Notify;
	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!phSession) {
		rv = CKR_ARGUMENTS_BAD;
		goto unlock;
	}
	slot = vnp_slot_get_locked(slotID);
	if (!slot) {
		rv = CKR_SLOT_ID_INVALID;
		goto unlock;
	}
	if (!(flags & CKF_SERIAL_SESSION)) {
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
		goto unlock;
	}
	rv = vnp_slot_token_locked(slot, true, &tok);
	if (rv == CKR_DEVICE_REMOVED)
		rv = CKR_TOKEN_NOT_PRESENT;
	if (rv == CKR_OK && tok->so_logged_in && !(flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
	if (rv != CKR_OK)
		goto unlock;
	s = calloc(1, sizeof(*s));
	n = realloc(vnp_lib.sessions, (vnp_lib.n_sessions + 1) * sizeof(*n));
	if (!s || !n) {
		free(s);
		if (n)
			vnp_lib.sessions = n;
		rv = CKR_HOST_MEMORY;
		goto unlock;
	}
	vnp_lib.sessions = n;
	s->handle = vnp_lib.next_session++;
	s->slot_id = slot->id;
	s->token_gen = tok->generation;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
	vnp_lib.sessions[vnp_lib.n_sessions++] = s;
	*phSession = s->handle;
unlock:
	vnp_leave(rv);
out:
	vnp_trace("C_OpenSession", rv, "slotID=%lu, flags=0x%lx, *phSession=%lu",
		  (unsigned long)slotID, (unsigned long)flags,
		  rv == CKR_OK ? (unsigned long)*phSession : 0ul);
	return rv;
}

/* Close session at index i; the last session on a token logs the token out. */
static void close_session_locked(size_t i)
{
	CK_SLOT_ID id = vnp_lib.sessions[i]->slot_id;
	struct vnp_slot *slot = vnp_slot_get_locked(id);
	CK_ULONG all, rw;

	session_remove_at_locked(i);
	vnp_sessions_count_locked(id, &all, &rw);
	if (!all && slot && slot->tok && slot->tok->user_logged_in)
		token_logout_locked(slot->tok);
	if (!all && slot && slot->tok)
		vnp_token_so_logout(slot->tok);
	vnp_slot_reap_locked(slot);
}

CK_RV vnp_C_CloseSession(CK_SESSION_HANDLE hSession)
{
	struct vnp_session *s;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, NULL);
	if (rv == CKR_OK)
		close_session_locked(session_index_locked(hSession));
	vnp_leave(rv);
out:
	vnp_trace("C_CloseSession", rv, "hSession=%lu", (unsigned long)hSession);
	return rv;
}

CK_RV vnp_C_CloseAllSessions(CK_SLOT_ID slotID)
{
	struct vnp_slot *slot;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	slot = vnp_slot_get_locked(slotID);
	if (!slot) {
		rv = vnp_leave(CKR_SLOT_ID_INVALID);
		goto out;
	}
	vnp_sessions_close_slot_locked(slotID);
	if (slot->tok && slot->tok->user_logged_in)
		token_logout_locked(slot->tok);
	if (slot->tok)
		vnp_token_so_logout(slot->tok);
	vnp_slot_reap_locked(slot);
	vnp_leave(CKR_OK);
out:
	vnp_trace("C_CloseAllSessions", rv, "slotID=%lu", (unsigned long)slotID);
	return rv;
}

CK_RV vnp_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	struct vnp_session *s;
	struct vnp_token *tok;
	bool rw;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	/* Applications poll this call to learn the session state (NSS: PK11_IsLoggedIn): look
	 * at the readers first so that a removed card closes the session here (reader status
	 * only, no APDU). */
	vnp_slots_refresh_locked();
	rv = vnp_session_get_locked(hSession, &s, NULL, &tok);
	if (rv == CKR_OK && !pInfo)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK) {
		rw = s->flags & CKF_RW_SESSION;
		memset(pInfo, 0, sizeof(*pInfo));
		pInfo->slotID = s->slot_id;
		pInfo->flags = s->flags;
		if (tok->so_logged_in)
			pInfo->state = CKS_RW_SO_FUNCTIONS; /* RO sessions are refused meanwhile */
		else if (tok->user_logged_in)
			pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
		else
			pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
		pInfo->ulDeviceError = 0;
	}
	vnp_leave(rv);
out:
	vnp_trace("C_GetSessionInfo", rv, "hSession=%lu", (unsigned long)hSession);
	return rv;
}

/* Result of a VERIFY / CHANGE REFERENCE DATA: update the known counter, map the error. */
static CK_RV pin_result_locked(struct vnp_token *tok, int vrv, int tries)
{
	switch (vrv) {
	case VNP_OK:
		tok->pin.tries_left = (int)tok->pin.max_tries;
		tok->pin_known = tok->pin.max_tries != 0;
		return CKR_OK;
	case VNP_E_PIN_INCORRECT:
		/* A failed comparison clears the card's security status (ISO 7816-4 §11.5.6):
		 * a CKU_CONTEXT_SPECIFIC login or C_SetPIN with a wrong PIN logs the user out. */
		token_forget_login_locked(tok);
		tok->pin.tries_left = tries;
		tok->pin_known = tries >= 0;
		return CKR_PIN_INCORRECT;
	case VNP_E_PIN_LOCKED:
		token_forget_login_locked(tok);
		tok->pin.tries_left = 0;
		tok->pin_known = true;
		return CKR_PIN_LOCKED;
	case VNP_E_PIN_LEN:
	case VNP_E_INVALID_DATA:
	case VNP_E_WRONG_LENGTH:
		tok->pin_known = false;
		return CKR_PIN_LEN_RANGE;
	case VNP_E_PIN_INVALID:
		return CKR_PIN_INVALID;
	case VNP_E_TERMINATED:
		return CKR_PIN_LOCKED; /* vnp_token_io_end recorded it */
	default:
		tok->pin_known = false;
		return vnp_ck_rv(vrv);
	}
}

/* One VERIFY of the user PIN (the only place that spends a login try). */
static CK_RV verify_user_locked(struct vnp_token *tok, const CK_UTF8CHAR *pin, CK_ULONG len)
{
	struct vnp_secret sec = { 0 };
	int tries = -1, vrv;
	CK_RV rv;

	if (len < tok->info.pin_min || len > tok->info.pin_max)
		return CKR_PIN_LEN_RANGE;
	if (vnp_secret_dup(pin, len, &sec) != VNP_OK)
		return CKR_HOST_MEMORY;
	vnp_token_io_begin(tok);
	vrv = tok->card.drv->verify(&tok->card, VNP_PIN_USER, sec.p, sec.len, &tries);
	vnp_token_io_end(tok, vrv);
	vnp_secret_free(&sec);
	rv = pin_result_locked(tok, vrv, tries);
	return rv;
}

/* Longest typed response code we try to read: the code is 21 characters, the rest leaves
 * room for spaces. */
#define SO_CODE_INPUT_MAX 128

/* Longest PUK we take when the driver gives no policy. */
#define SO_PUK_MAX 16

/* C_Login(CKU_SO, PUK) on a PUK card (PIV, SIM PKI): the PUK cannot be verified on its own
 * (it only goes with RESET RETRY COUNTER), so, as with a response code, the login is a
 * host-side state holding the PUK in a locked secret; the card checks it at C_InitPIN. */
static CK_RV login_puk_locked(struct vnp_token *tok, const CK_UTF8CHAR *pin, CK_ULONG len)
{
	unsigned lo = tok->info.puk_min ? tok->info.puk_min : 1;
	unsigned hi = tok->info.puk_max ? tok->info.puk_max : SO_PUK_MAX;
	struct vnp_secret puk = { 0 };

	if (tok->so_known && tok->so_pin.tries_left == 0)
		return CKR_PIN_LOCKED; /* the card blocks a PUK for good: no APDU */
	if (len < lo || len > hi)
		return CKR_PIN_LEN_RANGE;
	if (memchr(pin, 0, len))
		return CKR_PIN_INVALID;
	if (vnp_secret_dup(pin, len, &puk) != VNP_OK)
		return CKR_HOST_MEMORY;
	vnp_token_so_logout(tok);
	tok->so_response = puk;
	tok->so_logged_in = true;
	return CKR_OK;
}

/* C_Login(CKU_SO, response code): decode and check it on the host, keep its bytes. No APDU:
 * the token checks the code at C_InitPIN. PUK cards: login_puk_locked. */
static CK_RV login_so_locked(struct vnp_token *tok, const CK_UTF8CHAR *pin, CK_ULONG len)
{
	struct vnp_secret typed = { 0 }, resp = { 0 };
	CK_RV rv;
	int vrv;

	if (!tok->card.drv->unblock)
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (tok->info.terminated)
		return CKR_PIN_LOCKED;
	if (tok->info.so_kind == VNP_SO_PUK)
		return login_puk_locked(tok, pin, len);
	if (len == 0 || len > SO_CODE_INPUT_MAX || memchr(pin, 0, len))
		return CKR_PIN_INVALID;
	if (vnp_secret_new(len + 1, &typed) != VNP_OK ||
	    vnp_secret_new(VNP_RECOVERY_RESPONSE_LEN, &resp) != VNP_OK) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	memcpy(typed.p, pin, len);
	typed.p[len] = 0;
	typed.len = len;
	vrv = vnp_code_decode((const char *)typed.p, resp.p, VNP_RECOVERY_RESPONSE_LEN);
	switch (vrv) {
	case VNP_OK:
		resp.len = VNP_RECOVERY_RESPONSE_LEN;
		vnp_token_so_logout(tok);
		tok->so_response = resp;
		memset(&resp, 0, sizeof(resp));
		tok->so_logged_in = true;
		rv = CKR_OK;
		break;
	case VNP_E_CODE_CHECK:
		vnp_log(VNP_LOG_P11, "response code: check character does not match (a typo?)");
		rv = CKR_PIN_INCORRECT;
		break;
	case VNP_E_INVALID_DATA:
		vnp_log(VNP_LOG_P11, "response code: not a code of %d bytes",
			VNP_RECOVERY_RESPONSE_LEN);
		rv = CKR_PIN_INVALID;
		break;
	default:
		rv = vnp_ck_rv(vrv);
		break;
	}
out:
	vnp_secret_free(&typed);
	vnp_secret_free(&resp);
	return rv;
}

static CK_RV login_locked(struct vnp_session *s, struct vnp_slot *slot, struct vnp_token *tok,
			  CK_USER_TYPE type, const CK_UTF8CHAR *pin, CK_ULONG len)
{
	CK_RV rv;

	switch (type) {
	case CKU_USER:
		if (tok->user_logged_in)
			return CKR_USER_ALREADY_LOGGED_IN;
		if (tok->so_logged_in)
			return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
		if (tok->info.terminated)
			return CKR_PIN_LOCKED; /* the card refuses every VERIFY for good */
		rv = verify_user_locked(tok, pin, len);
		if (rv == CKR_OK)
			tok->user_logged_in = true;
		return rv;
	case CKU_SO:
		if (tok->so_logged_in)
			return CKR_USER_ALREADY_LOGGED_IN;
		if (tok->user_logged_in)
			return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
		for (size_t i = 0; i < vnp_lib.n_sessions; i++)
			if (vnp_lib.sessions[i]->slot_id == slot->id &&
			    !(vnp_lib.sessions[i]->flags & CKF_RW_SESSION))
				return CKR_SESSION_READ_ONLY_EXISTS;
		return login_so_locked(tok, pin, len);
	case CKU_CONTEXT_SPECIFIC:
		if (!s->sign_active || !s->sign.always_auth)
			return CKR_OPERATION_NOT_INITIALIZED;
		if (!tok->user_logged_in)
			return CKR_USER_NOT_LOGGED_IN;
		/* The VERIFY goes to the card now, right before the signature it allows. */
		rv = verify_user_locked(tok, pin, len);
		if (rv == CKR_OK)
			s->sign.ctx_auth = true;
		return rv;
	default:
		return CKR_USER_TYPE_INVALID;
	}
}

CK_RV vnp_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
		  CK_ULONG ulPinLen)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && !pPin)
		rv = CKR_ARGUMENTS_BAD; /* no protected authentication path */
	if (rv == CKR_OK)
		rv = login_locked(s, slot, tok, userType, pPin, ulPinLen);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_Login", rv, "hSession=%lu, userType=%lu, pPin=<redacted %lu bytes>",
		  (unsigned long)hSession, (unsigned long)userType, (unsigned long)ulPinLen);
	return rv;
}

/* PKCS #11 3.0: the token has one user and no user names; pUsername is ignored. */
CK_RV vnp_C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
		      CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen)
{
	if (!pUsername && ulUsernameLen)
		return CKR_ARGUMENTS_BAD;
	return vnp_C_Login(hSession, userType, pPin, ulPinLen);
}

CK_RV vnp_C_Logout(CK_SESSION_HANDLE hSession)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && !tok->user_logged_in && !tok->so_logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	if (rv == CKR_OK && tok->so_logged_in)
		vnp_token_so_logout(tok); /* host-side state only: no APDU */
	else if (rv == CKR_OK)
		token_logout_locked(tok);
	vnp_slot_reap_locked(slot);
	vnp_leave(rv);
out:
	vnp_trace("C_Logout", rv, "hSession=%lu", (unsigned long)hSession);
	return rv;
}

/* What C_Login(CKU_SO) took, for the log. */
static const char *so_what(const struct vnp_token *tok)
{
	return tok->info.so_kind == VNP_SO_PUK ? "PUK" : "response code";
}

/* C_InitPIN in the SO state: RESET RETRY COUNTER with the stored response and the new PIN.
 * The stored response is used once whatever the card answers, except when the new PIN is
 * refused (nothing spent on the card). A wrong code, a terminated token or no pending
 * request also end the SO login. */
static CK_RV init_pin_locked(struct vnp_token *tok, const CK_UTF8CHAR *pin, CK_ULONG len)
{
	struct vnp_secret n = { 0 };
	int tries = -1, vrv;
	CK_RV rv;

	if (!tok->so_logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	if (!tok->so_response.p) {
		vnp_log(VNP_LOG_P11, "C_InitPIN: the %s was used already; log in again",
			so_what(tok));
		return CKR_FUNCTION_FAILED;
	}
	if (!pin || len < tok->info.pin_min || len > tok->info.pin_max)
		return CKR_PIN_LEN_RANGE;
	if (vnp_secret_dup(pin, len, &n) != VNP_OK)
		return CKR_HOST_MEMORY;
	vnp_token_io_begin(tok);
	vrv = tok->card.drv->unblock(&tok->card, tok->so_response.p, tok->so_response.len, n.p,
				     n.len, &tries);
	vnp_token_io_end(tok, vrv);
	vnp_secret_free(&n);
	switch (vrv) {
	case VNP_OK:
		/* the card set the PIN, reset both counters and erased the challenge */
		tok->pin.tries_left = (int)tok->pin.max_tries;
		tok->pin_known = tok->pin.max_tries != 0;
		tok->pin.verified = false;
		tok->pin.initial = false;
		tok->info.user_pin.initial = false;
		tok->info.challenge_pending = false;
		if (tok->so_pin.max_tries)
			vnp_token_so_update(tok, (int)tok->so_pin.max_tries);
		vnp_secret_free(&tok->so_response);
		memset(&tok->so_response, 0, sizeof(tok->so_response));
		return CKR_OK;
	case VNP_E_PIN_LEN:
	case VNP_E_INVALID_DATA:
		return CKR_PIN_LEN_RANGE; /* nothing spent: the code stays for another try */
	case VNP_E_PIN_INCORRECT:
		vnp_log(VNP_LOG_P11, "C_InitPIN: the token refused the %s (%d tries left)",
			so_what(tok), tries);
		vnp_token_so_update(tok, tries);
		rv = CKR_PIN_INCORRECT;
		break;
	case VNP_E_PIN_LOCKED: /* a PUK card: the PUK is blocked */
		vnp_log(VNP_LOG_P11, "C_InitPIN: the PUK is blocked");
		vnp_token_so_update(tok, 0);
		rv = CKR_PIN_LOCKED;
		break;
	case VNP_E_TERMINATED:
		rv = CKR_PIN_LOCKED;
		break;
	case VNP_E_CONDITIONS:
		/* 6985: no unblock request pending (never made, or already answered) */
		vnp_log(VNP_LOG_P11, "C_InitPIN: no unblock request pending on the token");
		tok->info.challenge_pending = false;
		rv = CKR_FUNCTION_FAILED;
		break;
	default:
		tok->so_known = false; /* the try may or may not have been spent */
		rv = vnp_ck_rv(vrv);
		break;
	}
	vnp_token_so_logout(tok);
	return rv;
}

CK_RV vnp_C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && !pPin && ulPinLen)
		rv = CKR_ARGUMENTS_BAD;
	else if (rv == CKR_OK && !(s->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else if (rv == CKR_OK)
		rv = init_pin_locked(tok, pPin, ulPinLen);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_InitPIN", rv, "hSession=%lu, pPin=<redacted %lu bytes>",
		  (unsigned long)hSession, (unsigned long)ulPinLen);
	return rv;
}

static CK_RV set_pin_locked(struct vnp_token *tok, const CK_UTF8CHAR *old_pin, CK_ULONG old_len,
			    const CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
	struct vnp_secret o = { 0 }, n = { 0 };
	int tries = -1, vrv;
	CK_RV rv;

	if (old_len < tok->info.pin_min || old_len > tok->info.pin_max ||
	    new_len < tok->info.pin_min || new_len > tok->info.pin_max)
		return CKR_PIN_LEN_RANGE;
	if (!tok->card.drv->change_pin)
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (vnp_secret_dup(old_pin, old_len, &o) != VNP_OK ||
	    vnp_secret_dup(new_pin, new_len, &n) != VNP_OK) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	vnp_token_io_begin(tok);
	vrv = tok->card.drv->change_pin(&tok->card, VNP_PIN_USER, o.p, o.len, n.p, n.len,
					&tries);
	vnp_token_io_end(tok, vrv);
	rv = pin_result_locked(tok, vrv, tries);
	if (rv == CKR_OK) {
		tok->info.user_pin.initial = false;
		tok->pin.initial = false;
		/* CHANGE REFERENCE DATA leaves the PIN verified on the card. From a public
		 * session that would let anyone sharing the card sign without a PIN: drop it
		 * (one VERIFY reset). */
		if (!tok->user_logged_in)
			token_logout_locked(tok);
	}
out:
	vnp_secret_free(&o);
	vnp_secret_free(&n);
	return rv;
}

CK_RV vnp_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
		   CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && (!pOldPin || !pNewPin))
		rv = CKR_ARGUMENTS_BAD;
	else if (rv == CKR_OK && !(s->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else if (rv == CKR_OK && tok->so_logged_in)
		rv = CKR_FUNCTION_NOT_SUPPORTED; /* a response code cannot be changed */
	else if (rv == CKR_OK && tok->info.terminated)
		rv = CKR_PIN_LOCKED;
	if (rv == CKR_OK)
		rv = set_pin_locked(tok, pOldPin, ulOldLen, pNewPin, ulNewLen);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_SetPIN", rv,
		  "hSession=%lu, pOldPin=<redacted %lu bytes>, pNewPin=<redacted %lu bytes>",
		  (unsigned long)hSession, (unsigned long)ulOldLen, (unsigned long)ulNewLen);
	return rv;
}

/* PKCS #11 3.0: end the operations named in flags (CKF_SIGN, CKF_VERIFY, CKF_FIND_OBJECTS). */
CK_RV vnp_C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
	struct vnp_session *s;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, NULL);
	if (rv == CKR_OK) {
		if (flags & CKF_SIGN) {
			vnp_op_clear(&s->sign);
			s->sign_active = false;
		}
		if (flags & CKF_VERIFY) {
			vnp_op_clear(&s->verify);
			s->verify_active = false;
		}
		if (flags & CKF_FIND_OBJECTS) {
			free(s->found);
			s->found = NULL;
			s->n_found = s->found_pos = 0;
			s->find_active = false;
		}
	}
	vnp_leave(rv);
out:
	vnp_trace("C_SessionCancel", rv, "hSession=%lu, flags=0x%lx", (unsigned long)hSession,
		  (unsigned long)flags);
	return rv;
}
