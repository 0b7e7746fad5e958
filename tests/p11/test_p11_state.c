/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* State tests of the built module (TAP): APDU budget of the polling functions, C_SetPIN,
 * always-authenticate keys, C_GetAttributeValue error rules, no PIN in the log, NULL /
 * bad-handle sweep of the 3.0 function list, card removal and re-insertion (the in-process
 * vtoken reader reports the card absent while its state file is renamed away). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static CK_FUNCTION_LIST_3_0_PTR f;
static const struct vnp_ext_functions *ext;
static CK_SLOT_ID slot;
static char state_path[256], away_path[256], log_path[256];
static CK_BBOOL yes = CK_TRUE;
static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

#define PIN1 "123456"
#define PIN2 "9081726354"

/* APDUs sent to the token since the last reset_apdu_stats (~0 when unknown). */
static uint64_t apdus(void)
{
	struct vnp_ext_apdu_stats st;

	if (ext->get_apdu_stats(slot, &st) != CKR_OK)
		return ~(uint64_t)0;
	return st.apdus;
}

static CK_FLAGS token_flags(void)
{
	CK_TOKEN_INFO ti;

	return f->C_GetTokenInfo(slot, &ti) == CKR_OK ? ti.flags : 0;
}

static int tries_left(void)
{
	struct vnp_ext_pin_counters c;

	return ext->get_pin_counters(slot, &c) == CKR_OK ? c.user_tries_left : -100;
}

static CK_RV open_rw(CK_SESSION_HANDLE *h)
{
	return f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, h);
}

static CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE u, const char *pin)
{
	return f->C_Login(h, u, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

static CK_RV gen_ec(CK_SESSION_HANDLE rw, CK_BBOOL always, CK_BYTE id, CK_OBJECT_HANDLE *pub,
		    CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE tpub[] = { { CKA_TOKEN, &yes, 1 },
				{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE tpriv[] = { { CKA_SIGN, &yes, 1 }, { CKA_ID, &id, 1 },
				 { CKA_LABEL, (char *)"state key", 9 },
				 { CKA_ALWAYS_AUTHENTICATE, &always, 1 } };

	return f->C_GenerateKeyPair(rw, &m, tpub, 2, tpriv, 4, pub, priv);
}

static CK_RV sign_ecdsa(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key)
{
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32] = { 1, 2, 3 }, sig[128];
	CK_ULONG slen = sizeof(sig);
	CK_RV rv = f->C_SignInit(h, &m, key);

	return rv != CKR_OK ? rv : f->C_Sign(h, hash, sizeof(hash), sig, &slen);
}

static CK_STATE session_state(CK_SESSION_HANDLE h)
{
	CK_SESSION_INFO si;

	return f->C_GetSessionInfo(h, &si) == CKR_OK ? si.state : (CK_STATE)-1;
}

/* ---- 2: no APDU for polling, one for login ---- */
static void test_budget(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE priv)
{
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO si;
	CK_SLOT_INFO sl;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_OBJECT_HANDLE out[8];
	CK_BYTE buf[256];
	CK_ATTRIBUTE a[] = { { CKA_EC_PARAMS, buf, sizeof(buf) }, { CKA_ID, buf, sizeof(buf) } };
	CK_ULONG n = 0;
	int bad = 0;
	struct vnp_ext_apdu_stats st;

	RV(ext->reset_apdu_stats(slot), CKR_OK);
	for (int i = 0; i < 20; i++) {
		bad |= f->C_GetTokenInfo(slot, &ti) != CKR_OK;
		bad |= f->C_GetSessionInfo(h, &si) != CKR_OK;
		bad |= f->C_GetSlotInfo(slot, &sl) != CKR_OK;
		bad |= f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK;
	}
	ok(!bad, "polling calls succeed");
	ok(apdus() == 0, "20x GetTokenInfo/GetSessionInfo/GetSlotInfo/GetSlotList: %llu APDUs",
	   (unsigned long long)apdus());
	RV(login(h, CKU_USER, PIN2), CKR_OK);
	memset(&st, 0, sizeof(st));
	bad = ext->get_apdu_stats(slot, &st) != CKR_OK;
	ok(!bad && st.apdus == 1 && st.by_ins[0x20] == 1,
	   "C_Login: exactly one APDU, a VERIFY (%llu)", (unsigned long long)st.apdus);
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	for (int i = 0; i < 5; i++) {
		bad |= f->C_FindObjectsInit(h, &t, 1) != CKR_OK;
		bad |= f->C_FindObjects(h, out, 8, &n) != CKR_OK;
		bad |= f->C_FindObjectsFinal(h) != CKR_OK;
		a[0].ulValueLen = a[1].ulValueLen = sizeof(buf);
		bad |= f->C_GetAttributeValue(h, priv, a, 2) != CKR_OK;
		bad |= f->C_GetTokenInfo(slot, &ti) != CKR_OK;
	}
	ok(!bad && n >= 1, "find and attributes succeed");
	ok(apdus() == 0, "find + attributes of loaded keys: %llu APDUs",
	   (unsigned long long)apdus());
	RV(f->C_Logout(h), CKR_OK);
	ok(apdus() <= 1, "C_Logout: at most one APDU (%llu)", (unsigned long long)apdus());
}

/* ---- 3: C_SetPIN ---- */
static void test_setpin(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw)
{
	int t0;

	ok(token_flags() & CKF_USER_PIN_TO_BE_CHANGED, "initial PIN: TO_BE_CHANGED");
	t0 = tries_left();
	ok(t0 > 1, "tries left %d", t0);
	RV(f->C_SetPIN(ro, (CK_UTF8CHAR_PTR)PIN1, 6, (CK_UTF8CHAR_PTR)PIN2, 10),
	   CKR_SESSION_READ_ONLY);
	RV(f->C_SetPIN(rw, NULL, 6, (CK_UTF8CHAR_PTR)PIN2, 10), CKR_ARGUMENTS_BAD);
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(f->C_SetPIN(rw, (CK_UTF8CHAR_PTR)PIN1, 6, (CK_UTF8CHAR_PTR) "12", 2), CKR_PIN_LEN_RANGE);
	RV(f->C_SetPIN(rw, (CK_UTF8CHAR_PTR)PIN1, 6, (CK_UTF8CHAR_PTR) "1234567890123456789", 19),
	   CKR_PIN_LEN_RANGE);
	ok(apdus() == 0, "new PIN outside policy: no APDU (%llu)", (unsigned long long)apdus());
	ok(tries_left() == t0, "nothing spent");
	RV(f->C_SetPIN(rw, (CK_UTF8CHAR_PTR) "654321", 6, (CK_UTF8CHAR_PTR)PIN2, 10),
	   CKR_PIN_INCORRECT);
	ok(tries_left() == t0 - 1, "wrong old PIN spent one try (%d)", tries_left());
	ok(token_flags() & CKF_USER_PIN_TO_BE_CHANGED, "still TO_BE_CHANGED");
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(f->C_SetPIN(rw, (CK_UTF8CHAR_PTR)PIN1, 6, (CK_UTF8CHAR_PTR)PIN2, 10), CKR_OK);
	{
		struct vnp_ext_apdu_stats st = { 0 };
		CK_RV srv = ext->get_apdu_stats(slot, &st);

		ok(srv == CKR_OK && st.by_ins[0x24] == 1 &&
			   st.by_ins[0x20] == 1 && st.apdus == 2,
		   "C_SetPIN from a public session: CHANGE REFERENCE DATA, then the card's "
		   "verified state dropped (VERIFY reset): %llu APDUs",
		   (unsigned long long)st.apdus);
	}
	ok(!(token_flags() & CKF_USER_PIN_TO_BE_CHANGED), "TO_BE_CHANGED cleared");
	ok(tries_left() == t0, "counter back to max (%d)", tries_left());
	RV(login(ro, CKU_USER, PIN1), CKR_PIN_INCORRECT);
	RV(login(ro, CKU_USER, PIN2), CKR_OK);
	RV(f->C_Logout(ro), CKR_OK);
}

/* ---- 4: always-authenticate ---- */
static void test_always_auth(CK_SESSION_HANDLE rw)
{
	CK_OBJECT_HANDLE pub = 0, priv = 0;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32] = { 9 }, sig[128];
	CK_ULONG slen;
	CK_BBOOL aa = CK_FALSE;
	CK_ATTRIBUTE a = { CKA_ALWAYS_AUTHENTICATE, &aa, 1 };

	RV(login(rw, CKU_USER, PIN2), CKR_OK);
	RV(gen_ec(rw, CK_TRUE, 0x42, &pub, &priv), CKR_OK);
	RV(f->C_GetAttributeValue(rw, priv, &a, 1), CKR_OK);
	ok(aa == CK_TRUE, "CKA_ALWAYS_AUTHENTICATE true");
	RV(sign_ecdsa(rw, priv), CKR_USER_NOT_LOGGED_IN);
	RV(f->C_Sign(rw, hash, 32, sig, &slen), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_SignInit(rw, &m, priv), CKR_OK);
	slen = 0;
	RV(f->C_Sign(rw, hash, 32, NULL, &slen), CKR_OK);
	ok(slen == 64, "size query without context login (%lu)", (unsigned long)slen);
	RV(login(rw, CKU_CONTEXT_SPECIFIC, PIN2), CKR_OK);
	slen = sizeof(sig);
	RV(f->C_Sign(rw, hash, 32, sig, &slen), CKR_OK);
	RV(sign_ecdsa(rw, priv), CKR_USER_NOT_LOGGED_IN);
	RV(f->C_SignInit(rw, &m, priv), CKR_OK);
	RV(login(rw, CKU_CONTEXT_SPECIFIC, PIN2), CKR_OK);
	RV(f->C_SessionCancel(rw, CKF_SIGN), CKR_OK);
	RV(f->C_Sign(rw, hash, 32, sig, &slen), CKR_OPERATION_NOT_INITIALIZED);
	/* A wrong PIN clears the card's security status (ISO 7816-4 VERIFY): the module must
	 * not go on showing a logged-in session. */
	RV(f->C_SignInit(rw, &m, priv), CKR_OK);
	RV(login(rw, CKU_CONTEXT_SPECIFIC, "000000"), CKR_PIN_INCORRECT);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "wrong context PIN: login gone (%lu)",
	   (unsigned long)session_state(rw));
	RV(f->C_Sign(rw, hash, 32, sig, &slen), CKR_OPERATION_NOT_INITIALIZED);
	RV(login(rw, CKU_USER, PIN2), CKR_OK);
	RV(f->C_SetPIN(rw, (CK_UTF8CHAR_PTR) "000000", 6, (CK_UTF8CHAR_PTR)PIN1, 6),
	   CKR_PIN_INCORRECT);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "wrong old PIN: login gone");
	RV(login(rw, CKU_USER, PIN2), CKR_OK);
	RV(f->C_DestroyObject(rw, priv), CKR_OK);
	RV(f->C_Logout(rw), CKR_OK);
	RV(login(rw, CKU_CONTEXT_SPECIFIC, PIN2), CKR_OPERATION_NOT_INITIALIZED);
}

/* ---- 6: C_GetAttributeValue ---- */
static void test_attrs(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw, CK_OBJECT_HANDLE priv)
{
	CK_BYTE small[2], val[64], id[8];
	CK_ATTRIBUTE a[4];
	CK_ULONG n = 0;
	CK_RV rv;

	RV(login(rw, CKU_USER, PIN2), CKR_OK);
	a[0] = (CK_ATTRIBUTE){ 0x7ffff00UL, val, sizeof(val) };
	a[1] = (CK_ATTRIBUTE){ CKA_VALUE, val, sizeof(val) };
	a[2] = (CK_ATTRIBUTE){ CKA_LABEL, small, sizeof(small) };
	a[3] = (CK_ATTRIBUTE){ CKA_ID, id, sizeof(id) };
	rv = f->C_GetAttributeValue(ro, priv, a, 4);
	ok(rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
		   rv == CKR_BUFFER_TOO_SMALL,
	   "invalid+sensitive+small: one of the three (0x%lx)", (unsigned long)rv);
	ok(a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION, "invalid: unavailable");
	ok(a[1].ulValueLen == CK_UNAVAILABLE_INFORMATION, "sensitive: unavailable");
	ok(a[2].ulValueLen == CK_UNAVAILABLE_INFORMATION, "too small: unavailable");
	ok(a[3].ulValueLen == 1 && id[0] == 0x41, "the rest still filled");
	a[0] = (CK_ATTRIBUTE){ CKA_LABEL, NULL, 0 };
	a[1] = (CK_ATTRIBUTE){ CKA_ID, NULL, 0 };
	RV(f->C_GetAttributeValue(ro, priv, a, 2), CKR_OK);
	ok(a[0].ulValueLen == 9 && a[1].ulValueLen == 1, "NULL pValue: lengths %lu, %lu",
	   (unsigned long)a[0].ulValueLen, (unsigned long)a[1].ulValueLen);
	RV(f->C_GetAttributeValue(ro, priv, NULL, 2), CKR_ARGUMENTS_BAD);
	RV(f->C_GetObjectSize(ro, priv, &n), CKR_OK);
	RV(f->C_Logout(rw), CKR_OK);
	a[0] = (CK_ATTRIBUTE){ CKA_LABEL, NULL, 0 };
	RV(f->C_GetAttributeValue(ro, priv, a, 1), CKR_OBJECT_HANDLE_INVALID);
	RV(f->C_GetObjectSize(ro, priv, &n), CKR_OBJECT_HANDLE_INVALID);
}

/* ---- 7: NULL pointers and bad handles on every function ---- */
static void test_sweep(CK_SESSION_HANDLE h)
{
	const CK_SESSION_HANDLE bad = 0x7777777;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_ULONG n = 0;
	CK_FLAGS fl;
	CK_SLOT_ID sid;
	int i = 0;
	struct {
		const char *name;
		CK_RV got, want;
	} c[] = {
		{ "GetSlotList NULL count", f->C_GetSlotList(CK_TRUE, NULL, NULL), CKR_ARGUMENTS_BAD },
		{ "GetSlotInfo NULL", f->C_GetSlotInfo(slot, NULL), CKR_ARGUMENTS_BAD },
		{ "GetTokenInfo NULL", f->C_GetTokenInfo(slot, NULL), CKR_ARGUMENTS_BAD },
		{ "GetMechanismList NULL", f->C_GetMechanismList(slot, NULL, NULL), CKR_ARGUMENTS_BAD },
		{ "GetMechanismList bad slot", f->C_GetMechanismList(99, NULL, &n), CKR_SLOT_ID_INVALID },
		{ "GetMechanismInfo NULL", f->C_GetMechanismInfo(slot, CKM_ECDSA, NULL), CKR_ARGUMENTS_BAD },
		{ "GetMechanismInfo bad mech", f->C_GetMechanismInfo(slot, 0x7fff0001UL, &(CK_MECHANISM_INFO){ 0 }), CKR_MECHANISM_INVALID },
		{ "InitToken NULL label", f->C_InitToken(slot, NULL, 0, NULL), CKR_ARGUMENTS_BAD },
		{ "InitPIN bad", f->C_InitPIN(bad, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "SetPIN bad", f->C_SetPIN(bad, NULL, 0, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "OpenSession NULL", f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD },
		{ "CloseSession bad", f->C_CloseSession(bad), CKR_SESSION_HANDLE_INVALID },
		{ "CloseAllSessions bad", f->C_CloseAllSessions(99), CKR_SLOT_ID_INVALID },
		{ "GetSessionInfo NULL", f->C_GetSessionInfo(h, NULL), CKR_ARGUMENTS_BAD },
		{ "GetSessionInfo bad", f->C_GetSessionInfo(bad, NULL), CKR_SESSION_HANDLE_INVALID },
		{ "GetOperationState", f->C_GetOperationState(h, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "SetOperationState", f->C_SetOperationState(h, NULL, 0, 0, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "Login bad", f->C_Login(bad, CKU_USER, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "Login NULL", f->C_Login(h, CKU_USER, NULL, 6), CKR_ARGUMENTS_BAD },
		{ "Logout bad", f->C_Logout(bad), CKR_SESSION_HANDLE_INVALID },
		{ "CreateObject NULL", f->C_CreateObject(h, NULL, 1, NULL), CKR_ARGUMENTS_BAD },
		{ "CopyObject NULL", f->C_CopyObject(bad, 1, NULL, 0, NULL), CKR_SESSION_HANDLE_INVALID },
		{ "DestroyObject bad", f->C_DestroyObject(bad, 1), CKR_SESSION_HANDLE_INVALID },
		{ "GetObjectSize bad obj", f->C_GetObjectSize(h, 0x55555, &n), CKR_OBJECT_HANDLE_INVALID },
		{ "GetAttributeValue bad", f->C_GetAttributeValue(bad, 1, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "SetAttributeValue bad", f->C_SetAttributeValue(bad, 1, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "FindObjectsInit NULL", f->C_FindObjectsInit(h, NULL, 3), CKR_ARGUMENTS_BAD },
		{ "FindObjects NULL", f->C_FindObjects(h, NULL, 1, NULL), CKR_ARGUMENTS_BAD },
		{ "FindObjectsFinal bad", f->C_FindObjectsFinal(bad), CKR_SESSION_HANDLE_INVALID },
		{ "EncryptInit", f->C_EncryptInit(h, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "Encrypt", f->C_Encrypt(h, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "DecryptInit bad", f->C_DecryptInit(bad, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "Decrypt", f->C_Decrypt(h, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "DigestInit", f->C_DigestInit(h, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "Digest", f->C_Digest(h, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "DigestKey", f->C_DigestKey(h, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "SignInit NULL", f->C_SignInit(h, NULL, 1), CKR_ARGUMENTS_BAD },
		{ "SignInit bad", f->C_SignInit(bad, &m, 1), CKR_SESSION_HANDLE_INVALID },
		{ "Sign not init", f->C_Sign(h, NULL, 0, NULL, NULL), CKR_OPERATION_NOT_INITIALIZED },
		{ "SignUpdate not init", f->C_SignUpdate(h, NULL, 0), CKR_OPERATION_NOT_INITIALIZED },
		{ "SignFinal bad", f->C_SignFinal(bad, NULL, NULL), CKR_SESSION_HANDLE_INVALID },
		{ "SignRecoverInit", f->C_SignRecoverInit(h, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "VerifyInit NULL", f->C_VerifyInit(h, NULL, 1), CKR_ARGUMENTS_BAD },
		{ "VerifyInit bad key", f->C_VerifyInit(h, &m, 0x55555), CKR_KEY_HANDLE_INVALID },
		{ "Verify not init", f->C_Verify(h, NULL, 0, NULL, 0), CKR_OPERATION_NOT_INITIALIZED },
		{ "VerifyUpdate bad", f->C_VerifyUpdate(bad, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "VerifyFinal not init", f->C_VerifyFinal(h, NULL, 0), CKR_OPERATION_NOT_INITIALIZED },
		{ "VerifyRecover", f->C_VerifyRecover(h, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "GenerateKey", f->C_GenerateKey(h, NULL, NULL, 0, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "GenerateKeyPair NULL", f->C_GenerateKeyPair(h, NULL, NULL, 0, NULL, 0, NULL, NULL), CKR_ARGUMENTS_BAD },
		{ "GenerateKeyPair bad", f->C_GenerateKeyPair(bad, NULL, NULL, 0, NULL, 0, NULL, NULL), CKR_SESSION_HANDLE_INVALID },
		{ "WrapKey", f->C_WrapKey(h, NULL, 0, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "UnwrapKey", f->C_UnwrapKey(h, NULL, 0, NULL, 0, NULL, 0, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "DeriveKey", f->C_DeriveKey(h, NULL, 0, NULL, 0, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "SeedRandom NULL", f->C_SeedRandom(h, NULL, 4), CKR_ARGUMENTS_BAD },
		{ "GenerateRandom NULL", f->C_GenerateRandom(h, NULL, 4), CKR_ARGUMENTS_BAD },
		{ "GenerateRandom bad", f->C_GenerateRandom(bad, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "GetFunctionStatus", f->C_GetFunctionStatus(h), CKR_FUNCTION_NOT_PARALLEL },
		{ "CancelFunction", f->C_CancelFunction(h), CKR_FUNCTION_NOT_PARALLEL },
		{ "WaitForSlotEvent NULL", f->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), CKR_ARGUMENTS_BAD },
		{ "GetInterfaceList NULL", f->C_GetInterfaceList(NULL, NULL), CKR_ARGUMENTS_BAD },
		{ "GetInterface NULL", f->C_GetInterface(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD },
		{ "LoginUser bad", f->C_LoginUser(bad, CKU_USER, NULL, 0, NULL, 0), CKR_SESSION_HANDLE_INVALID },
		{ "LoginUser NULL", f->C_LoginUser(h, CKU_USER, NULL, 6, NULL, 0), CKR_ARGUMENTS_BAD },
		{ "SessionCancel bad", f->C_SessionCancel(bad, CKF_SIGN), CKR_SESSION_HANDLE_INVALID },
		{ "MessageEncryptInit", f->C_MessageEncryptInit(h, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "EncryptMessage", f->C_EncryptMessage(h, NULL, 0, NULL, 0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "MessageDecryptFinal bad", f->C_MessageDecryptFinal(bad), CKR_SESSION_HANDLE_INVALID },
		{ "MessageSignInit", f->C_MessageSignInit(h, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "SignMessage", f->C_SignMessage(h, NULL, 0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "SignMessageNext", f->C_SignMessageNext(h, NULL, 0, NULL, 0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED },
		{ "MessageVerifyInit", f->C_MessageVerifyInit(h, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "VerifyMessage", f->C_VerifyMessage(h, NULL, 0, NULL, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED },
		{ "MessageVerifyFinal bad", f->C_MessageVerifyFinal(bad), CKR_SESSION_HANDLE_INVALID },
	};

	for (i = 0; i < (int)(sizeof(c) / sizeof(c[0])); i++)
		ok(c[i].got == c[i].want, "sweep %s = 0x%lx (want 0x%lx)", c[i].name,
		   (unsigned long)c[i].got, (unsigned long)c[i].want);
	fl = 0;
	(void)fl;
	RV(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &sid, (void *)&sid), CKR_ARGUMENTS_BAD);
}

/* ---- 5: no PIN in the log ---- */
static int log_has(const char *needle)
{
	FILE *fp = fopen(log_path, "r");
	char line[4096];
	int found = 0;

	if (!fp)
		return -1;
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

static void test_log(void)
{
	static const char *const needles[] = { PIN1, PIN2, "313233343536", "31 32 33 34 35 36",
					       "39303831373236333534",
					       "39 30 38 31 37 32 36 33 35 34" };

	ok(log_has("C_Login") == 1, "the log was written");
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		ok(log_has(needles[i]) == 0, "no \"%s\" in the log", needles[i]);
}

/* ---- 1: removal and re-insertion ---- */
static int slots_with_token(void)
{
	CK_ULONG n = 0;

	return f->C_GetSlotList(CK_TRUE, NULL, &n) == CKR_OK ? (int)n : -1;
}

static void test_removal(void)
{
	CK_SESSION_HANDLE a = 0, b = 0, c = 0;
	CK_OBJECT_HANDLE pub, priv, out[8];
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32] = { 7 }, sig[128];
	CK_ULONG slen = sizeof(sig), n = 0;
	CK_SESSION_INFO si;
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO sl;
	CK_SLOT_ID ev = 999;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_RV rv;

	RV(open_rw(&a), CKR_OK);
	RV(open_rw(&b), CKR_OK);
	RV(login(a, CKU_USER, PIN2), CKR_OK);
	RV(gen_ec(a, CK_FALSE, 0x51, &pub, &priv), CKR_OK);
	RV(f->C_SignInit(a, &m, priv), CKR_OK);
	while (f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL) == CKR_OK)
		;

	/* the card goes away in the middle of a signature */
	ok(rename(state_path, away_path) == 0, "state file renamed away");
	rv = f->C_Sign(a, hash, 32, sig, &slen);
	ok(rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID,
	   "C_Sign after removal: 0x%lx", (unsigned long)rv);
	RV(f->C_GetSessionInfo(a, &si), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_GetSessionInfo(b, &si), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_Login(b, CKU_USER, (CK_UTF8CHAR_PTR)PIN2, 10), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_CloseSession(b), CKR_SESSION_HANDLE_INVALID);
	ok(slots_with_token() == 0, "GetSlotList(TRUE) drops the slot");
	n = 8;
	RV(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	ok(n == 1, "the reader stays listed");
	RV(f->C_GetSlotInfo(slot, &sl), CKR_OK);
	ok(!(sl.flags & CKF_TOKEN_PRESENT), "slot: no token");
	RV(f->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_PRESENT);
	RV(open_rw(&c), CKR_TOKEN_NOT_PRESENT);
	RV(f->C_GetMechanismList(slot, NULL, &n), CKR_TOKEN_NOT_PRESENT);
	RV(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
	ok(ev == slot, "slot event on removal");
	RV(f->C_CloseAllSessions(slot), CKR_OK);

	/* removal noticed by a session call that does not touch the card */
	ok(rename(away_path, state_path) == 0, "state file back");
	ok(slots_with_token() == 1, "token back in GetSlotList(TRUE)");
	RV(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
	RV(open_rw(&a), CKR_OK);
	RV(f->C_GetSessionInfo(a, &si), CKR_OK);
	ok(si.state == CKS_RW_PUBLIC_SESSION, "fresh token: public session");
	RV(login(a, CKU_USER, PIN2), CKR_OK);
	RV(f->C_FindObjectsInit(a, &t, 1), CKR_OK);
	ok(rename(state_path, away_path) == 0, "state file renamed away again");
	rv = f->C_GetSessionInfo(a, &si);
	ok(rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID,
	   "GetSessionInfo after removal: 0x%lx", (unsigned long)rv);
	RV(f->C_FindObjects(a, &pub, 1, &n), CKR_SESSION_HANDLE_INVALID);
	ok(rename(away_path, state_path) == 0, "state file back again");

	/* usable again without C_Finalize; the login did not survive */
	RV(open_rw(&c), CKR_OK);
	RV(f->C_GetSessionInfo(c, &si), CKR_OK);
	ok(si.state == CKS_RW_PUBLIC_SESSION, "not logged in after re-insertion");
	RV(login(c, CKU_USER, PIN2), CKR_OK);
	RV(f->C_FindObjectsInit(c, &t, 1), CKR_OK);
	RV(f->C_FindObjects(c, out, 8, &n), CKR_OK);
	RV(f->C_FindObjectsFinal(c), CKR_OK);
	ok(n == 2, "both private keys found again (%lu)", (unsigned long)n);
	RV(sign_ecdsa(c, out[n ? n - 1 : 0]), CKR_OK);
	RV(f->C_GetTokenInfo(slot, &ti), CKR_OK);
	ok(ti.ulSessionCount == 1, "one session (%lu)", (unsigned long)ti.ulSessionCount);
	RV(f->C_CloseSession(c), CKR_OK);
}

static int setup_token(void)
{
	const char *dir = h_make_dir("p11s");

	if (!dir)
		return -1;
	snprintf(state_path, sizeof(state_path), "%s", h_state_path());
	snprintf(away_path, sizeof(away_path), "%s/state.away", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	if (h_init_token("--serial 5654000000000002 --label state --pin " PIN1) != 0)
		return -1;
	setenv("VNP_DEBUG", "all", 1);
	setenv("VNP_DEBUG_FILE", log_path, 1);
	return 0;
}

int main(void)
{
	CK_C_GetInterface get_if;
	CK_SLOT_ID list[4];
	CK_ULONG n = 4;
	CK_SESSION_HANDLE ro = 0, rw = 0;
	CK_OBJECT_HANDLE pub = 0, priv = 0;
	void *mod;

	f = h_start(setup_token, &mod, &get_if);
	if (!f)
		return 1;
	ext = h_vendor(get_if);
	RV(f->C_Initialize(NULL), CKR_OK);
	RV(f->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
	slot = list[0];
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	RV(open_rw(&rw), CKR_OK);

	test_setpin(ro, rw);
	RV(login(rw, CKU_USER, PIN2), CKR_OK);
	RV(gen_ec(rw, CK_FALSE, 0x41, &pub, &priv), CKR_OK);
	RV(f->C_Logout(rw), CKR_OK);
	test_budget(ro, priv);
	test_always_auth(rw);
	test_attrs(ro, rw, priv);
	test_sweep(ro);
	test_removal();
	test_log();

	/* C_Finalize with sessions open, then again from scratch */
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	RV(login(ro, CKU_USER, PIN2), CKR_OK);
	RV(f->C_FindObjectsInit(ro, NULL, 0), CKR_OK);
	RV(f->C_Finalize(NULL), CKR_OK);
	RV(f->C_GetSessionInfo(ro, &(CK_SESSION_INFO){ 0 }), CKR_CRYPTOKI_NOT_INITIALIZED);
	RV(f->C_Initialize(NULL), CKR_OK);
	RV(f->C_GetSessionInfo(ro, &(CK_SESSION_INFO){ 0 }), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_Finalize(NULL), CKR_OK);
	return h_finish(mod);
}
