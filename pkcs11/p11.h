/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal state of the Cryptoki front: one library context (struct vnp_lib) holding the
 * backends, the slot table, the session table and the lock callbacks.
 *
 * Locking (STYLE.md §5): two levels, fixed order.
 *  - module lock (lib.lock): slot table, session table, token objects and login state.
 *    Every entry point takes it for the whole call (vnp_enter/vnp_leave), so entry
 *    functions never race with C_CloseSession or a token being dropped.
 *  - token lock (tok->lock): card I/O. Taken inside the module lock around each driver
 *    call (vnp_token_io_begin/end), never the other way round: no thread holding a token
 *    lock waits for the module lock.
 *  - signing queue lock (batch.c, tok->batch): a leaf, held only to look at the queue.
 * Functions ending in _locked need the module lock held.
 * The one exception to "the module lock for the whole call": C_Sign / C_SignFinal. Under
 * the module lock they check everything, copy the key and the card input into a request,
 * end the session's operation and pin the token (tok->io_refs); then they release the
 * module lock, take the card through the signing queue (token lock only: several
 * requests may go as one batch), and take the module lock again to apply the result
 * (vnp_token_io_result_locked) and unpin. A token reaped meanwhile is detached from its
 * slot at once but freed by its last signer (tok->orphan); C_Finalize waits until no signer
 * is out (lib.signers_out). So other calls, other tokens
 * and the next signers' preparation go on while a signature is on the card; calls that
 * need the same token's card wait for the token lock (holding the module lock).
 *
 * Card removal: a driver call that finds the card gone (vnp_token_io_end), or a reader
 * refresh that finds it absent, marks the token removed; vnp_slot_reap_locked then closes
 * its sessions and frees it, so the call that noticed returns CKR_DEVICE_REMOVED and later
 * calls on those sessions CKR_SESSION_HANDLE_INVALID. C_GetSessionInfo, C_FindObjectsInit,
 * C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo and C_OpenSession look at the readers first
 * (reader status only, never an APDU). A re-inserted card is a new token (new generation,
 * not logged in).
 *
 * Handles: slot IDs are indexes into lib.slots (a reader keeps its slot for the life of
 * the library, found by name); session and object handles come from library-wide
 * counters and are never reused while the library stays initialised. */
#ifndef VNP_P11_H
#define VNP_P11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compiler.h"
#include "vnpki/pkcs11v3.h"
#include "vnpki/vnpki.h"
#include "card.h"
#include "config.h"
#include "secret.h"
#include "transport.h"

struct vnp_sigctx;
struct vnp_x509;

/* One object as the application sees it. A key pair of the directory shows as two. */
struct vnp_p11_obj {
	CK_OBJECT_HANDLE handle;
	CK_OBJECT_CLASS cls;
	struct vnp_obj meta;     /* copy of the directory entry */
	/* certificate and data values, read from the card when first needed */
	bool value_loaded;
	uint8_t *value;
	size_t value_len;
	struct vnp_x509 *x509;   /* certificates: parsed value (NULL when not X.509 we parse) */
	uint8_t *spki;           /* CKA_PUBLIC_KEY_INFO, built when first asked */
	size_t spki_len;
};

struct vnp_batch;

struct vnp_token {
	void *lock;              /* token lock: card I/O */
	struct vnp_batch *batch; /* the signing queue (batch.c), made at the first C_Sign */
	unsigned io_refs;        /* signers at the card without the module lock (module lock) */
	bool orphan;             /* reaped while io_refs > 0: the last signer frees it */
	uint64_t batch_base_ops, batch_base_requests; /* queue counts at reset_apdu_stats */
	struct vnp_card card;
	struct vnp_token_info info;
	uint32_t dir_counter;
	struct vnp_p11_obj *objs;
	size_t n_objs;
	bool user_logged_in;
	struct vnp_pin_info pin; /* user PIN counter as last learnt */
	bool pin_known;
	/* Recovery (RECOVERY.md): C_Login(CKU_SO, response code) only decodes the code on the
	 * host and keeps its 10 bytes here; the card checks them at C_InitPIN. Wiped by
	 * C_InitPIN (whatever the card said), C_Logout, closing the last session,
	 * C_CloseAllSessions, C_Finalize and token removal (vnp_token_free). */
	bool so_logged_in;
	struct vnp_secret so_response; /* the code's 10 bytes, or the PUK; empty once used */
	struct vnp_pin_info so_pin;    /* unblock counter as last learnt */
	bool so_known;
	bool removed;            /* the card went away: vnp_slot_reap_locked drops the token */
	uint64_t generation;
};

struct vnp_slot {
	CK_SLOT_ID id;
	unsigned backend;        /* index into lib.backends */
	char name[VNP_READER_NAME_MAX];
	bool attached;           /* the reader is listed now */
	struct vnp_reader_state st;
	struct vnp_token *tok;   /* the connected token, NULL when none */
	bool unknown_card;       /* a card no driver knows: not retried until st.event_count moves */
	uint32_t unknown_event;
	bool event;              /* presence changed since the last C_WaitForSlotEvent */
};

enum vnp_op_kind { VNP_OP_NONE = 0, VNP_OP_SIGN, VNP_OP_VERIFY };

struct vnp_op {
	struct vnp_sigctx *ctx;
	CK_OBJECT_HANDLE key;
	bool multipart;          /* an Update was seen */
	bool always_auth;        /* the key needs CKU_CONTEXT_SPECIFIC before each signature */
	bool ctx_auth;           /* CKU_CONTEXT_SPECIFIC login done since SignInit */
};

struct vnp_session {
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot_id;
	uint64_t token_gen;
	CK_FLAGS flags;
	/* find */
	bool find_active;
	CK_OBJECT_HANDLE *found;
	size_t n_found, found_pos;
	bool sign_active, verify_active;
	struct vnp_op sign, verify;
};

struct vnp_backend_ent {
	const struct vnp_reader_ops *ops;
	struct vnp_backend *be;
};

struct vnp_lock_ops {
	CK_CREATEMUTEX create;
	CK_DESTROYMUTEX destroy;
	CK_LOCKMUTEX lock;
	CK_UNLOCKMUTEX unlock;
};

struct vnp_lib {
	_Atomic bool initialized;
	pid_t pid;
	struct vnp_lock_ops lk;
	void *lock;              /* module lock */
	struct vnp_config cfg;
	struct vnp_backend_ent backends[4]; /* pcsc, vtoken, ccidsock, usb */
	unsigned n_backends;
	struct vnp_slot **slots;
	size_t n_slots;
	struct vnp_session **sessions;
	size_t n_sessions;
	CK_SESSION_HANDLE next_session;
	CK_OBJECT_HANDLE next_object;
	uint64_t next_generation;
	unsigned signers_out;    /* C_Sign callers at a card without the module lock: C_Finalize
				  * waits for them (they come back to the module lock and slot) */
};

/* The library context: the module's only global state. */
extern struct vnp_lib vnp_lib;

/* ---- general.c ---- */
/* Check that the library is initialised in this process and take the module lock.
 * CKR_OK (locked) or CKR_CRYPTOKI_NOT_INITIALIZED (not locked; also in a forked child). */
CK_RV vnp_enter(void);
/* Release the module lock taken by vnp_enter; returns rv. */
CK_RV vnp_leave(CK_RV rv);
/* Create/destroy/lock/unlock a mutex with the callbacks chosen at C_Initialize. */
CK_RV vnp_mutex_new(void **ret);
void vnp_mutex_free(void *m);
void vnp_mutex_lock(void *m);
void vnp_mutex_unlock(void *m);

/* ---- rv.c ---- */
/* Map an enum vnp_rv to a CK_RV; callers override where context matters. */
CK_RV vnp_ck_rv(int rv);
/* "CKR_PIN_INCORRECT" or "0x..." (static buffer per thread). */
const char *vnp_ckr_name(CK_RV rv);
/* Trace one call: "C_Xxx(args) = CKR_..." when VNP_LOG_P11 is on. */
void vnp_trace(const char *fn, CK_RV rv, const char *fmt, ...) VNP_PRINTF(3, 4);

/* ---- slot.c ---- */
/* Re-list the readers of every backend, add new ones, update presence, and mark tokens
 * whose card went away as removed (then reaped). Module lock held. */
void vnp_slots_refresh_locked(void);
/* Wake the threads blocked in C_WaitForSlotEvent (CKR_CRYPTOKI_NOT_INITIALIZED) and return
 * when none is left. C_Finalize, before it takes the module lock. */
void vnp_slot_wait_wake_all(void);
/* The slot with id, or NULL. */
struct vnp_slot *vnp_slot_get_locked(CK_SLOT_ID id);
/* The connected token of slot, connecting (detect + read directory) when a card is
 * present and none is connected yet. CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED,
 * CKR_DEVICE_ERROR, CKR_HOST_MEMORY. refresh: re-list readers first. */
CK_RV vnp_slot_token_locked(struct vnp_slot *slot, bool refresh, struct vnp_token **ret);
/* Drop the token of slot when marked removed: close its sessions, free it. True when it
 * did (the caller's operation then reports CKR_DEVICE_REMOVED). */
bool vnp_slot_reap_locked(struct vnp_slot *slot);
/* Free a token's memory (no card I/O beyond the driver's release of its own data when
 * disconnect is true; with disconnect false the reader handle is only forgotten). */
void vnp_token_free(struct vnp_token *tok, const struct vnp_reader_ops *ops, bool disconnect);
/* Take / release the token lock around driver calls. vnp_token_io_end looks at the
 * driver's result: a reset (card->reset_seen) drops the login state, a removal marks the
 * token removed. Returns vrv. */
void vnp_token_io_begin(struct vnp_token *tok);
int vnp_token_io_end(struct vnp_token *tok, int vrv);
/* Re-read the directory and rebuild the object list, keeping the handles of objects that
 * are still there (matched by class and card reference). Token lock NOT held. */
CK_RV vnp_token_reload_locked(struct vnp_token *tok);
/* Refresh the user PIN counter with the driver's pin_status (spends no try). */
CK_RV vnp_token_pin_refresh_locked(struct vnp_token *tok);
/* Record a new unblock counter value (tries_left < 0: unknown); 0 means terminated. */
void vnp_token_so_update(struct vnp_token *tok, int tries_left);
/* End the recovery SO login and wipe the stored response code (no card I/O). */
void vnp_token_so_logout(struct vnp_token *tok);

/* Apply a driver result to the token's state: after a reset (reset true) the login is
 * dropped, a removal marks the token removed, a terminated applet records it. Module lock
 * held; the token lock is not needed. */
void vnp_token_io_result_locked(struct vnp_token *tok, int vrv, bool reset);

/* ---- batch.c ---- */
/* One signature waiting for the card. The caller fills key, params, in, out, out_len. */
struct vnp_sign_req {
	struct vnp_obj key;            /* a copy: the object list may change meanwhile */
	struct vnp_sign_params params;
	uint8_t in[512];
	size_t in_len;
	uint8_t *out;
	size_t out_len;                /* capacity on entry, signature length on VNP_OK */
	int vrv;                       /* the driver's result for this request */
	bool reset;                    /* the card was reset during the operation */
	bool done;
	struct vnp_sign_req *next;
};
/* Make / free a token's queue (destroy false: only free the memory, in a forked child). */
CK_RV vnp_batch_new(struct vnp_batch **ret);
void vnp_batch_free(struct vnp_batch *q, bool destroy);
/* Sign req on tok's card, coalesced with other waiting requests for the same key and
 * scheme. Module lock NOT held (the caller pins tok with io_refs); takes the token lock
 * for the card I/O. Sets req->vrv, req->out_len, req->reset. */
void vnp_batch_sign(struct vnp_token *tok, struct vnp_sign_req *req);
/* Card operations made and requests served so far by q (0 for NULL). */
void vnp_batch_counts(struct vnp_batch *q, uint64_t *ret_card_ops, uint64_t *ret_requests);

/* ---- session.c ---- */
/* The session with handle h, its slot and connected token. CKR_SESSION_HANDLE_INVALID. */
CK_RV vnp_session_get_locked(CK_SESSION_HANDLE h, struct vnp_session **ret,
			     struct vnp_slot **ret_slot, struct vnp_token **ret_tok);
/* Close every session of slot (the token went away). */
void vnp_sessions_close_slot_locked(CK_SLOT_ID id);
/* Number of sessions (and read/write ones) on slot. */
void vnp_sessions_count_locked(CK_SLOT_ID id, CK_ULONG *ret_all, CK_ULONG *ret_rw);
/* End the session's operations (find, sign, verify). */
void vnp_session_end_ops(struct vnp_session *s);
void vnp_op_clear(struct vnp_op *op);
/* Free all sessions (C_Finalize, fork child). */
void vnp_sessions_free_all_locked(void);

/* ---- object.c ---- */
/* Build tok->objs from dir, keeping handles from old where class and ref match. */
CK_RV vnp_objects_build(struct vnp_token *tok, const struct vnp_dir *dir);
void vnp_objects_free(struct vnp_p11_obj *objs, size_t n);
/* The object with handle h visible to the token's login state, or NULL. */
struct vnp_p11_obj *vnp_object_get(struct vnp_token *tok, CK_OBJECT_HANDLE h);
/* The object of class cls with card reference ref, or NULL. */
struct vnp_p11_obj *vnp_object_by_ref(struct vnp_token *tok, CK_OBJECT_CLASS cls, uint8_t ref);
/* Give o its value (malloc'd; o takes it over) and parse a certificate. */
void vnp_object_set_value(struct vnp_token *tok, struct vnp_p11_obj *o, uint8_t *val, size_t len);

/* ---- attr.c ---- */
/* Template helpers. vnp_attr_find: the attribute of type in t, or NULL. */
const CK_ATTRIBUTE *vnp_attr_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type);
/* Read a CK_BBOOL / CK_ULONG attribute: CKR_ATTRIBUTE_VALUE_INVALID on a wrong size. */
CK_RV vnp_attr_bool(const CK_ATTRIBUTE *a, CK_BBOOL *ret);
CK_RV vnp_attr_ulong(const CK_ATTRIBUTE *a, CK_ULONG *ret);
/* CKR_ARGUMENTS_BAD for a NULL template with n > 0, CKR_ATTRIBUTE_VALUE_INVALID for a
 * NULL pValue with a length. */
CK_RV vnp_template_check(const CK_ATTRIBUTE *t, CK_ULONG n);
/* The same attribute twice with different values: CKR_TEMPLATE_INCONSISTENT (PKCS #11 2.40
 * §5.7, C_CreateObject / C_GenerateKeyPair: "the template specifies conflicting
 * attributes"); a repeated identical attribute is harmless. Not for find templates. */
CK_RV vnp_template_conflicts(const CK_ATTRIBUTE *t, CK_ULONG n);
/* C_GetAttributeValue rule for one attribute: NULL pValue → length; too small →
 * CK_UNAVAILABLE_INFORMATION + CKR_BUFFER_TOO_SMALL; else copy. */
CK_RV vnp_attr_out(CK_ATTRIBUTE *a, const void *val, size_t len);
/* Copy src into dst (dst_len bytes) blank-padded, cutting only between UTF-8 characters. */
void vnp_pad_utf8(CK_UTF8CHAR *dst, size_t dst_len, const char *src);

/* ---- vendor.c ---- */
extern const struct vnp_ext_functions vnp_ext_functions;     /* 1.1 */
extern const struct vnp_ext_functions vnp_ext_functions_v10; /* 1.0 */

/* ---- entry points (one group per file) ---- */
CK_RV vnp_C_Initialize(CK_VOID_PTR pInitArgs);
CK_RV vnp_C_Finalize(CK_VOID_PTR pReserved);
CK_RV vnp_C_GetInfo_v2(CK_INFO_PTR pInfo);
CK_RV vnp_C_GetInfo_v3(CK_INFO_PTR pInfo);

CK_RV vnp_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount);
CK_RV vnp_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo);
CK_RV vnp_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo);
CK_RV vnp_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
			     CK_ULONG_PTR pulCount);
CK_RV vnp_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
			     CK_MECHANISM_INFO_PTR pInfo);
CK_RV vnp_C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
		      CK_UTF8CHAR_PTR pLabel);
CK_RV vnp_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved);

CK_RV vnp_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
			CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession);
CK_RV vnp_C_CloseSession(CK_SESSION_HANDLE hSession);
CK_RV vnp_C_CloseAllSessions(CK_SLOT_ID slotID);
CK_RV vnp_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo);
CK_RV vnp_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
		  CK_ULONG ulPinLen);
CK_RV vnp_C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
		      CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen);
CK_RV vnp_C_Logout(CK_SESSION_HANDLE hSession);
CK_RV vnp_C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen);
CK_RV vnp_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
		   CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen);
CK_RV vnp_C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags);

CK_RV vnp_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			 CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject);
CK_RV vnp_C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		       CK_OBJECT_HANDLE_PTR phNewObject);
CK_RV vnp_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject);
CK_RV vnp_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			  CK_ULONG_PTR pulSize);
CK_RV vnp_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV vnp_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV vnp_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			    CK_ULONG ulCount);
CK_RV vnp_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
			CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount);
CK_RV vnp_C_FindObjectsFinal(CK_SESSION_HANDLE hSession);

CK_RV vnp_C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
			    CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
			    CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
			    CK_OBJECT_HANDLE_PTR phPrivateKey);

CK_RV vnp_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hKey);
CK_RV vnp_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		 CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CK_RV vnp_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV vnp_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG_PTR pulSignatureLen);
CK_RV vnp_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey);
CK_RV vnp_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CK_RV vnp_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV vnp_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			CK_ULONG ulSignatureLen);
CK_RV vnp_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData,
			   CK_ULONG ulRandomLen);
CK_RV vnp_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen);

/* ---- unsupported.c: session-checked CKR_FUNCTION_NOT_SUPPORTED stubs ---- */
/* Returns CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID or
 * CKR_FUNCTION_NOT_SUPPORTED, tracing fn. */
CK_RV vnp_unsupported_session(const char *fn, CK_SESSION_HANDLE hSession);
extern const CK_FUNCTION_LIST vnp_function_list_v2;
extern const CK_FUNCTION_LIST_3_0 vnp_function_list_v3;

#endif
