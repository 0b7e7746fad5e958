/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signing (on the card), verification (on the host), random numbers.
 *
 * Sign: the host part (hashing, DigestInfo, PSS checks) is vnp_sigctx_*; the card signs
 * what vnp_sigctx_card_input gives. Size-query rule (PKCS #11 2.40 §5.2): a NULL
 * pSignature returns the length and keeps the operation; CKR_BUFFER_TOO_SMALL keeps it;
 * any other result ends it. Keys with CKA_ALWAYS_AUTHENTICATE need C_Login
 * (CKU_CONTEXT_SPECIFIC) after C_SignInit, else C_Sign/C_SignFinal give
 * CKR_USER_NOT_LOGGED_IN. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "p11.h"
#include "mech.h"
#include "log.h"
#include "rv.h"

#define RANDOM_CHUNK 256

static CK_RV op_init_locked(struct vnp_session *s, struct vnp_token *tok, bool sign,
			    const CK_MECHANISM *mech, CK_OBJECT_HANDLE hKey)
{
	struct vnp_op *op = sign ? &s->sign : &s->verify;
	struct vnp_p11_obj *o;
	CK_RV rv;

	if (sign ? s->sign_active : s->verify_active)
		return CKR_OPERATION_ACTIVE;
	if (sign && !tok->user_logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	o = vnp_object_get(tok, hKey);
	if (!o || (o->cls != CKO_PRIVATE_KEY && o->cls != CKO_PUBLIC_KEY))
		return CKR_KEY_HANDLE_INVALID;
	/* A private key has no CKA_VERIFY and a public key no CKA_SIGN (PKCS #11 2.40 §4.8-4.9):
	 * the key's attributes do not allow the function. */
	if (o->cls != (sign ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (!(o->meta.usage & VNP_USAGE_SIGN))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (vnp_mech_info(tok->info.algs, mech->mechanism, &(CK_MECHANISM_INFO){ 0 }) != CKR_OK)
		return CKR_MECHANISM_INVALID;
	memset(op, 0, sizeof(*op));
	rv = vnp_sigctx_new(mech, &o->meta.pub, &op->ctx);
	if (rv != CKR_OK)
		return rv;
	op->key = hKey;
	op->always_auth = sign && (o->meta.key_flags & VNP_KEY_ALWAYS_AUTH);
	if (sign)
		s->sign_active = true;
	else
		s->verify_active = true;
	return CKR_OK;
}

static CK_RV op_init(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hKey, bool sign)
{
	struct vnp_session *s;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, &tok);
	if (rv == CKR_OK && !pMechanism)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = op_init_locked(s, tok, sign, pMechanism, hKey);
	vnp_leave(rv);
out:
	vnp_trace(sign ? "C_SignInit" : "C_VerifyInit", rv,
		  "hSession=%lu, mechanism=0x%lx, hKey=%lu", (unsigned long)hSession,
		  pMechanism ? (unsigned long)pMechanism->mechanism : 0ul, (unsigned long)hKey);
	return rv;
}

CK_RV vnp_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hKey)
{
	return op_init(hSession, pMechanism, hKey, true);
}

CK_RV vnp_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey)
{
	return op_init(hSession, pMechanism, hKey, false);
}

static void sign_end(struct vnp_session *s)
{
	vnp_op_clear(&s->sign);
	s->sign_active = false;
}

static void verify_end(struct vnp_session *s)
{
	vnp_op_clear(&s->verify);
	s->verify_active = false;
}

/* Prepare the card part of a signature (everything fed is in s->sign.ctx) as req. */
static CK_RV sign_prepare_locked(struct vnp_session *s, struct vnp_token *tok, CK_BYTE_PTR sig,
				 CK_ULONG_PTR sig_len, struct vnp_sign_req *req)
{
	struct vnp_p11_obj *key;

	if (!tok->user_logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	if (s->sign.always_auth && !s->sign.ctx_auth)
		return CKR_USER_NOT_LOGGED_IN;
	if (!tok->card.drv->sign)
		return CKR_FUNCTION_NOT_SUPPORTED;
	key = vnp_object_get(tok, s->sign.key);
	if (!key)
		return CKR_KEY_HANDLE_INVALID;
	memset(req, 0, offsetof(struct vnp_sign_req, in));
	req->key = key->meta;
	req->in_len = sizeof(req->in);
	req->out = sig;
	req->out_len = *sig_len;
	return vnp_sigctx_card_input(s->sign.ctx, req->in, &req->in_len, &req->params);
}

/* Send req to the card through the token's signing queue without the module lock, then
 * apply the result. Module lock held on entry and on return (released meanwhile). */
static CK_RV sign_card(struct vnp_slot *slot, struct vnp_token *tok, struct vnp_sign_req *req,
		       CK_ULONG_PTR sig_len)
{
	CK_RV rv = CKR_OK;

	if (!tok->batch)
		rv = vnp_batch_new(&tok->batch);
	if (rv != CKR_OK)
		return rv;
	tok->io_refs++;
	vnp_lib.signers_out++;
	vnp_mutex_unlock(vnp_lib.lock);
	vnp_batch_sign(tok, req);
	vnp_mutex_lock(vnp_lib.lock);
	vnp_lib.signers_out--;
	tok->io_refs--;
	vnp_token_io_result_locked(tok, req->vrv, req->reset);
	if (tok->orphan) {
		/* the token was reaped meanwhile (card removed) */
		if (!tok->io_refs)
			vnp_token_free(tok, vnp_lib.backends[slot->backend].ops, true);
		return CKR_DEVICE_REMOVED;
	}
	if (req->vrv == VNP_E_CONDITIONS)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (req->vrv == VNP_E_INVALID_DATA)
		return CKR_DATA_LEN_RANGE; /* 6A80: the input does not fit the scheme */
	if (req->vrv != VNP_OK)
		return vnp_ck_rv(req->vrv);
	*sig_len = req->out_len;
	return CKR_OK;
}

/* Size query / buffer check shared by C_Sign and C_SignFinal. CKR_OK with *done set when
 * the call ends here keeping the operation. */
static CK_RV sign_len_check(struct vnp_session *s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len,
			    bool *done)
{
	size_t need = vnp_sigctx_sig_len(s->sign.ctx);

	*done = true;
	if (!sig) {
		*sig_len = need;
		return CKR_OK;
	}
	if (*sig_len < need) {
		*sig_len = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	*done = false;
	return CKR_OK;
}

/* The host part of C_Sign / C_SignFinal. CKR_OK with *ret_card set: req is ready for the
 * card (the session's operation has ended). */
static CK_RV sign_locked(struct vnp_session *s, struct vnp_token *tok, bool final,
			 CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len,
			 struct vnp_sign_req *req, bool *ret_card)
{
	bool done;
	CK_RV rv;

	if (!s->sign_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!sig_len || (!final && !data && data_len)) {
		sign_end(s);
		return CKR_ARGUMENTS_BAD;
	}
	if (!final && s->sign.multipart) {
		sign_end(s);
		return CKR_OPERATION_ACTIVE; /* C_Sign cannot finish a multi-part operation */
	}
	rv = sign_len_check(s, sig, sig_len, &done);
	if (done)
		return rv;
	if (!final)
		rv = vnp_sigctx_update(s->sign.ctx, data, data_len);
	if (rv == CKR_OK)
		rv = sign_prepare_locked(s, tok, sig, sig_len, req);
	sign_end(s);
	*ret_card = rv == CKR_OK;
	return rv;
}

static CK_RV sign_entry(const char *fn, CK_SESSION_HANDLE hSession, bool final, CK_BYTE_PTR pData,
			CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	struct vnp_sign_req req;
	bool card = false;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK)
		rv = sign_locked(s, tok, final, pData, ulDataLen, pSignature, pulSignatureLen,
				 &req, &card);
	if (card)
		rv = sign_card(slot, tok, &req, pulSignatureLen);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace(fn, rv, "hSession=%lu, ulDataLen=%lu, pSignature=%p, *pulSignatureLen=%lu",
		  (unsigned long)hSession, (unsigned long)ulDataLen, (void *)pSignature,
		  pulSignatureLen ? (unsigned long)*pulSignatureLen : 0ul);
	return rv;
}

CK_RV vnp_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		 CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return sign_entry("C_Sign", hSession, false, pData, ulDataLen, pSignature,
			  pulSignatureLen);
}

CK_RV vnp_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG_PTR pulSignatureLen)
{
	return sign_entry("C_SignFinal", hSession, true, NULL, 0, pSignature, pulSignatureLen);
}

/* Multi-part feed for sign (sign true) or verify. Errors end the operation. */
static CK_RV update_entry(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			  bool sign)
{
	struct vnp_session *s;
	struct vnp_op *op;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, NULL);
	if (rv != CKR_OK)
		goto unlock;
	op = sign ? &s->sign : &s->verify;
	if (!(sign ? s->sign_active : s->verify_active)) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto unlock;
	}
	if (!pPart && ulPartLen)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = vnp_sigctx_update(op->ctx, pPart, ulPartLen);
	op->multipart = true;
	if (rv != CKR_OK) {
		if (sign)
			sign_end(s);
		else
			verify_end(s);
	}
unlock:
	vnp_leave(rv);
out:
	vnp_trace(sign ? "C_SignUpdate" : "C_VerifyUpdate", rv, "hSession=%lu, ulPartLen=%lu",
		  (unsigned long)hSession, (unsigned long)ulPartLen);
	return rv;
}

CK_RV vnp_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return update_entry(hSession, pPart, ulPartLen, true);
}

CK_RV vnp_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return update_entry(hSession, pPart, ulPartLen, false);
}

static CK_RV verify_entry(const char *fn, CK_SESSION_HANDLE hSession, bool final,
			  CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
			  CK_ULONG ulSignatureLen)
{
	struct vnp_session *s;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, NULL);
	if (rv != CKR_OK)
		goto unlock;
	if (!s->verify_active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto unlock;
	}
	if (!pSignature || (!final && !pData && ulDataLen))
		rv = CKR_ARGUMENTS_BAD;
	else if (!final && s->verify.multipart)
		rv = CKR_OPERATION_ACTIVE;
	else if (!final)
		rv = vnp_sigctx_update(s->verify.ctx, pData, ulDataLen);
	if (rv == CKR_OK)
		rv = vnp_sigctx_verify(s->verify.ctx, pSignature, ulSignatureLen);
	verify_end(s);
unlock:
	vnp_leave(rv);
out:
	vnp_trace(fn, rv, "hSession=%lu, ulDataLen=%lu, ulSignatureLen=%lu",
		  (unsigned long)hSession, (unsigned long)ulDataLen, (unsigned long)ulSignatureLen);
	return rv;
}

CK_RV vnp_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	return verify_entry("C_Verify", hSession, false, pData, ulDataLen, pSignature,
			    ulSignatureLen);
}

CK_RV vnp_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			CK_ULONG ulSignatureLen)
{
	return verify_entry("C_VerifyFinal", hSession, true, NULL, 0, pSignature, ulSignatureLen);
}

static CK_RV random_locked(struct vnp_token *tok, CK_BYTE_PTR buf, CK_ULONG len)
{
	int vrv = VNP_OK;

	if (!tok->card.drv->get_random)
		return CKR_RANDOM_NO_RNG;
	vnp_token_io_begin(tok);
	for (CK_ULONG off = 0; off < len && vrv == VNP_OK; off += RANDOM_CHUNK)
		vrv = tok->card.drv->get_random(&tok->card, buf + off,
						VNP_MIN((CK_ULONG)RANDOM_CHUNK, len - off));
	vnp_token_io_end(tok, vrv);
	return vnp_ck_rv(vrv);
}

CK_RV vnp_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData,
			   CK_ULONG ulRandomLen)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && !RandomData && ulRandomLen)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK && ulRandomLen)
		rv = random_locked(tok, RandomData, ulRandomLen);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_GenerateRandom", rv, "hSession=%lu, ulRandomLen=%lu", (unsigned long)hSession,
		  (unsigned long)ulRandomLen);
	return rv;
}

CK_RV vnp_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	struct vnp_session *s;
	struct vnp_token *tok = NULL;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, &tok);
	if (rv == CKR_OK && !pSeed && ulSeedLen)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK) /* a token without a generator (PIV) says so here too */
		rv = tok && !tok->card.drv->get_random ? CKR_RANDOM_NO_RNG
						       : CKR_RANDOM_SEED_NOT_SUPPORTED;
	vnp_leave(rv);
out:
	vnp_trace("C_SeedRandom", rv, "hSession=%lu", (unsigned long)hSession);
	return rv;
}
