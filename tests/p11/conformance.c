/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PKCS#11 conformance of the built module (TAP), organised by the rules of the base
 * specification (2.40 §5 / 3.0 §5): it dlopen()s VNPKI_MODULE and drives it only through
 * C_GetFunctionList and C_GetInterface. It makes its own virtual token with VNPKI_VTOKEN_BIN;
 * VNPKI_VTOKEN_INIT_ARGS adds init options (the token profile, e.g. "--short-only"), so the
 * same program runs on every profile; on a --short-only token the 700-byte data object and
 * the RSA signature go through command chaining and GET RESPONSE. (ccid/recovery.c only
 * encodes the SO response code.) */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "recovery.h"

#define PIN "123456"
#define BAD_SESSION ((CK_SESSION_HANDLE)0x7777777)
#define BAD_OBJECT ((CK_OBJECT_HANDLE)0x5555555)

static CK_FUNCTION_LIST_PTR f2;
static CK_FUNCTION_LIST_3_0_PTR f;
static CK_C_GetInterface get_if;
static CK_SLOT_ID slot;
static char so_code[64];
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static CK_RV open_ro(CK_SESSION_HANDLE *h)
{
	return f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, h);
}

static CK_RV open_rw(CK_SESSION_HANDLE *h)
{
	return f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, h);
}

static CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE u, const char *pin)
{
	return f->C_Login(h, u, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

static CK_STATE state_of(CK_SESSION_HANDLE h)
{
	CK_SESSION_INFO si;

	return f->C_GetSessionInfo(h, &si) == CKR_OK ? si.state : (CK_STATE)-1;
}

/* ---- §5.4 general-purpose functions, before C_Initialize ---- */
static void test_not_initialized(void)
{
	CK_INFO info;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO ssi;
	CK_MECHANISM_INFO mi;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_SLOT_ID list[4], ev;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o;
	CK_BYTE buf[64];
	CK_ULONG n = 4;
	CK_ATTRIBUTE a = { CKA_CLASS, buf, sizeof(buf) };
	const CK_RV NI = CKR_CRYPTOKI_NOT_INITIALIZED;
	struct {
		const char *name;
		CK_RV got;
	} c[] = {
		{ "Finalize", f->C_Finalize(NULL) },
		{ "GetInfo", f->C_GetInfo(&info) },
		{ "GetSlotList", f->C_GetSlotList(CK_FALSE, list, &n) },
		{ "GetSlotInfo", f->C_GetSlotInfo(0, &si) },
		{ "GetTokenInfo", f->C_GetTokenInfo(0, &ti) },
		{ "GetMechanismList", f->C_GetMechanismList(0, NULL, &n) },
		{ "GetMechanismInfo", f->C_GetMechanismInfo(0, CKM_ECDSA, &mi) },
		{ "InitPIN", f->C_InitPIN(1, (CK_UTF8CHAR_PTR)PIN, 6) },
		{ "SetPIN", f->C_SetPIN(1, (CK_UTF8CHAR_PTR)PIN, 6, (CK_UTF8CHAR_PTR)PIN, 6) },
		{ "OpenSession", f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h) },
		{ "CloseSession", f->C_CloseSession(1) },
		{ "CloseAllSessions", f->C_CloseAllSessions(0) },
		{ "GetSessionInfo", f->C_GetSessionInfo(1, &ssi) },
		{ "Login", f->C_Login(1, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6) },
		{ "Logout", f->C_Logout(1) },
		{ "CreateObject", f->C_CreateObject(1, &a, 1, &o) },
		{ "DestroyObject", f->C_DestroyObject(1, 1) },
		{ "GetObjectSize", f->C_GetObjectSize(1, 1, &n) },
		{ "GetAttributeValue", f->C_GetAttributeValue(1, 1, &a, 1) },
		{ "SetAttributeValue", f->C_SetAttributeValue(1, 1, &a, 1) },
		{ "FindObjectsInit", f->C_FindObjectsInit(1, NULL, 0) },
		{ "FindObjects", f->C_FindObjects(1, &o, 1, &n) },
		{ "FindObjectsFinal", f->C_FindObjectsFinal(1) },
		{ "SignInit", f->C_SignInit(1, &m, 1) },
		{ "Sign", f->C_Sign(1, buf, 32, buf, &n) },
		{ "SignUpdate", f->C_SignUpdate(1, buf, 32) },
		{ "SignFinal", f->C_SignFinal(1, buf, &n) },
		{ "VerifyInit", f->C_VerifyInit(1, &m, 1) },
		{ "Verify", f->C_Verify(1, buf, 32, buf, 64) },
		{ "VerifyUpdate", f->C_VerifyUpdate(1, buf, 32) },
		{ "VerifyFinal", f->C_VerifyFinal(1, buf, 64) },
		{ "GenerateKeyPair", f->C_GenerateKeyPair(1, &m, NULL, 0, NULL, 0, &o, &o) },
		{ "SeedRandom", f->C_SeedRandom(1, buf, 8) },
		{ "GenerateRandom", f->C_GenerateRandom(1, buf, 8) },
		{ "WaitForSlotEvent", f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL) },
		{ "LoginUser", f->C_LoginUser(1, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6, NULL, 0) },
		{ "SessionCancel", f->C_SessionCancel(1, CKF_FIND_OBJECTS) },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ok(c[i].got == NI, "before C_Initialize: C_%s = 0x%lx", c[i].name,
		   (unsigned long)c[i].got);
	/* not implemented: CKR_FUNCTION_NOT_SUPPORTED may come first */
	n = f->C_EncryptInit(1, &m, 1);
	ok(n == NI || n == CKR_FUNCTION_NOT_SUPPORTED, "before C_Initialize: C_EncryptInit = 0x%lx",
	   (unsigned long)n);
}

/* ---- §5.4: C_Initialize / C_Finalize ---- */
static void test_initialize(void)
{
	CK_C_INITIALIZE_ARGS bad = { 0 }, os = { .flags = CKF_OS_LOCKING_OK };
	int dummy;

	RV(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	bad.CreateMutex = (CK_CREATEMUTEX)(void (*)(void))abort; /* some but not all mutex fns */
	RV(f->C_Initialize(&bad), CKR_ARGUMENTS_BAD);
	bad.CreateMutex = NULL;
	bad.pReserved = &dummy;
	RV(f->C_Initialize(&bad), CKR_ARGUMENTS_BAD);
	RV(f->C_Initialize(&os), CKR_OK);
	RV(f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	RV(f->C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
	RV(f->C_Finalize(NULL), CKR_OK);
	RV(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	RV(f->C_Initialize(NULL), CKR_OK);
}

/* ---- 3.0 §5.2: C_GetInterfaceList, C_GetInterface, C_GetFunctionList ---- */
static void test_interfaces(void)
{
	CK_C_GetInterfaceList get_list;
	CK_C_GetFunctionList get_fl;
	CK_INTERFACE_PTR i = NULL;
	CK_INTERFACE list[8];
	CK_ULONG n = 0, want;
	CK_VERSION v30 = { 3, 0 }, v240 = { 2, 40 }, v99 = { 9, 9 };
	void *self = NULL;
	Dl_info di;

	if (dladdr((void *)f->C_Initialize, &di))
		self = dlopen(di.dli_fname, RTLD_NOW | RTLD_NOLOAD);
	get_list = self ? (CK_C_GetInterfaceList)dlsym(self, "C_GetInterfaceList") : NULL;
	get_fl = self ? (CK_C_GetFunctionList)dlsym(self, "C_GetFunctionList") : NULL;
	ok(get_list && get_fl, "C_GetInterfaceList and C_GetFunctionList exported");
	if (!get_list || !get_fl)
		goto out;
	RV(get_list(NULL, NULL), CKR_ARGUMENTS_BAD);
	RV(get_list(NULL, &n), CKR_OK);
	ok(n >= 2, "size query: %lu interfaces", (unsigned long)n);
	want = n;
	n = 0;
	RV(get_list(list, &n), CKR_BUFFER_TOO_SMALL);
	ok(n == want, "BUFFER_TOO_SMALL sets the count (%lu)", (unsigned long)n);
	n = sizeof(list) / sizeof(list[0]);
	RV(get_list(list, &n), CKR_OK);
	ok(n == want, "count on success");
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", NULL, NULL, 0), CKR_ARGUMENTS_BAD);
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", NULL, &i, 0), CKR_OK);
	ok(i && ((CK_VERSION *)i->pFunctionList)->major == 3, "default interface is 3.x");
	RV(get_if(NULL, NULL, &i, 0), CKR_OK);
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", &v30, &i, 0), CKR_OK);
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", &v240, &i, 0), CKR_OK);
	ok(i && ((CK_VERSION *)i->pFunctionList)->major == 2 &&
		   ((CK_VERSION *)i->pFunctionList)->minor == 40,
	   "2.40 interface by version");
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", &v99, &i, 0), CKR_ARGUMENTS_BAD);
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS #11", NULL, &i, 0), CKR_ARGUMENTS_BAD);
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", NULL, &i, 0x80000000UL), CKR_ARGUMENTS_BAD);
	RV(get_fl(NULL), CKR_ARGUMENTS_BAD);
	RV(get_fl(&f2), CKR_OK);
	ok(f2 && f2->version.major == 2 && f2->version.minor == 40, "C_GetFunctionList: 2.40");
out:
	if (self)
		dlclose(self);
}

/* ---- §5.5 slot and token management: size queries ---- */
static void test_slot_lists(void)
{
	CK_SLOT_ID list[8];
	CK_MECHANISM_TYPE mechs[64];
	CK_ULONG n = 0, want;

	RV(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	ok(n == 1, "size query: one slot with a token");
	want = n;
	n = 0;
	RV(f->C_GetSlotList(CK_TRUE, list, &n), CKR_BUFFER_TOO_SMALL);
	ok(n == want, "BUFFER_TOO_SMALL sets the count");
	n = 8;
	RV(f->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
	slot = list[0];
	RV(f->C_GetSlotInfo(0x7777, &(CK_SLOT_INFO){ 0 }), CKR_SLOT_ID_INVALID);
	RV(f->C_GetTokenInfo(0x7777, &(CK_TOKEN_INFO){ 0 }), CKR_SLOT_ID_INVALID);
	RV(f->C_GetMechanismList(slot, NULL, NULL), CKR_ARGUMENTS_BAD);
	RV(f->C_GetMechanismList(slot, NULL, &n), CKR_OK);
	ok(n > 1 && n <= 64, "size query: %lu mechanisms", (unsigned long)n);
	want = n;
	n = 1;
	RV(f->C_GetMechanismList(slot, mechs, &n), CKR_BUFFER_TOO_SMALL);
	ok(n == want, "BUFFER_TOO_SMALL sets the count");
	n = 64;
	RV(f->C_GetMechanismList(slot, mechs, &n), CKR_OK);
	ok(n == want, "same count on success");
	RV(f->C_GetMechanismInfo(slot, 0x7fff0001UL, &(CK_MECHANISM_INFO){ 0 }),
	   CKR_MECHANISM_INVALID);
}

/* ---- §5.6 session management: the state machine of §4 "Sessions" ---- */
static void test_sessions(void)
{
	CK_SESSION_HANDLE ro, rw, x;
	CK_SESSION_INFO si;

	RV(f->C_OpenSession(slot, 0, NULL, NULL, &x), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	RV(f->C_OpenSession(0x7777, CKF_SERIAL_SESSION, NULL, NULL, &x), CKR_SLOT_ID_INVALID);
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	RV(open_ro(&ro), CKR_OK);
	RV(open_rw(&rw), CKR_OK);
	RV(f->C_GetSessionInfo(ro, NULL), CKR_ARGUMENTS_BAD);
	RV(f->C_GetSessionInfo(BAD_SESSION, &si), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_GetSessionInfo(ro, &si), CKR_OK);
	ok(si.slotID == slot && si.state == CKS_RO_PUBLIC_SESSION &&
		   si.flags == CKF_SERIAL_SESSION,
	   "RO public session info");
	ok(state_of(rw) == CKS_RW_PUBLIC_SESSION, "RW public");
	RV(f->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
	RV(login(ro, 77, PIN), CKR_USER_TYPE_INVALID);

	/* user */
	RV(login(ro, CKU_USER, PIN), CKR_OK);
	ok(state_of(ro) == CKS_RO_USER_FUNCTIONS, "RO user functions");
	ok(state_of(rw) == CKS_RW_USER_FUNCTIONS, "RW user functions (login is per token)");
	RV(login(rw, CKU_USER, PIN), CKR_USER_ALREADY_LOGGED_IN);
	RV(login(rw, CKU_SO, so_code), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	RV(open_ro(&x), CKR_OK);
	ok(state_of(x) == CKS_RO_USER_FUNCTIONS, "a new session joins the login");
	RV(f->C_CloseSession(x), CKR_OK);
	RV(f->C_CloseSession(x), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_Logout(rw), CKR_OK);
	ok(state_of(ro) == CKS_RO_PUBLIC_SESSION, "logout returns every session to public");
	RV(f->C_Logout(rw), CKR_USER_NOT_LOGGED_IN);

	/* SO: RW sessions only */
	RV(login(rw, CKU_SO, so_code), CKR_SESSION_READ_ONLY_EXISTS);
	RV(f->C_CloseSession(ro), CKR_OK);
	RV(login(rw, CKU_SO, so_code), CKR_OK);
	ok(state_of(rw) == CKS_RW_SO_FUNCTIONS, "RW SO functions");
	RV(login(rw, CKU_SO, so_code), CKR_USER_ALREADY_LOGGED_IN);
	RV(login(rw, CKU_USER, PIN), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	RV(open_ro(&x), CKR_SESSION_READ_WRITE_SO_EXISTS);
	RV(open_rw(&x), CKR_OK);
	ok(state_of(x) == CKS_RW_SO_FUNCTIONS, "new RW session joins the SO login");
	RV(f->C_Logout(x), CKR_OK);
	ok(state_of(rw) == CKS_RW_PUBLIC_SESSION, "SO logout: public");
	RV(f->C_CloseSession(x), CKR_OK);

	/* closing the last session logs out */
	RV(login(rw, CKU_USER, PIN), CKR_OK);
	RV(f->C_CloseSession(rw), CKR_OK);
	RV(open_ro(&ro), CKR_OK);
	ok(state_of(ro) == CKS_RO_PUBLIC_SESSION, "last session closed: logged out");
	RV(f->C_CloseSession(ro), CKR_OK);

	/* C_CloseAllSessions: every handle invalid, login gone */
	RV(open_ro(&ro), CKR_OK);
	RV(open_rw(&rw), CKR_OK);
	RV(login(rw, CKU_USER, PIN), CKR_OK);
	RV(f->C_CloseAllSessions(0x7777), CKR_SLOT_ID_INVALID);
	RV(f->C_CloseAllSessions(slot), CKR_OK);
	RV(f->C_GetSessionInfo(ro, &si), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_GetSessionInfo(rw, &si), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_CloseSession(rw), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_Logout(rw), CKR_SESSION_HANDLE_INVALID);
	RV(open_ro(&ro), CKR_OK);
	ok(state_of(ro) == CKS_RO_PUBLIC_SESSION, "after C_CloseAllSessions: not logged in");
	RV(f->C_CloseSession(ro), CKR_OK);
}

/* ---- keys for the object and crypto rules ---- */
static void gen_keys(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw, CK_OBJECT_HANDLE *ec_pub,
		     CK_OBJECT_HANDLE *ec_priv, CK_OBJECT_HANDLE *rsa_pub,
		     CK_OBJECT_HANDLE *rsa_priv)
{
	CK_MECHANISM mec = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM mrsa = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048, bad_bits = 1000;
	CK_BYTE e[] = { 1, 0, 1 }, id1 = 0x31, id2 = 0x32;
	CK_ATTRIBUTE ecpub[] = { { CKA_TOKEN, &yes, 1 },
				 { CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE ecpriv[] = { { CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 },
				  { CKA_ID, &id1, 1 } };
	CK_ATTRIBUTE rpub[] = { { CKA_TOKEN, &yes, 1 }, { CKA_MODULUS_BITS, &bits, sizeof(bits) },
				{ CKA_PUBLIC_EXPONENT, e, 3 } };
	CK_ATTRIBUTE rpriv[] = { { CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 },
				 { CKA_ID, &id2, 1 } };
	CK_ATTRIBUTE badbits[] = { { CKA_TOKEN, &yes, 1 },
				   { CKA_MODULUS_BITS, &bad_bits, sizeof(bad_bits) } };
	CK_ATTRIBUTE shortbits[] = { { CKA_TOKEN, &yes, 1 }, { CKA_MODULUS_BITS, &bits, 1 } };
	CK_ATTRIBUTE conflict[] = { { CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 },
				    { CKA_SIGN, &no, 1 } };
	CK_ATTRIBUTE ecpriv_twice[] = { { CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 },
					{ CKA_ID, &id1, 1 }, { CKA_SIGN, &yes, 1 } };
	CK_OBJECT_HANDLE a, b;

	RV(f->C_GenerateKeyPair(ro, &mec, ecpub, 2, ecpriv, 3, &a, &b), CKR_SESSION_READ_ONLY);
	RV(f->C_GenerateKeyPair(rw, &mec, ecpub, 2, ecpriv, 3, NULL, &b), CKR_ARGUMENTS_BAD);
	RV(f->C_GenerateKeyPair(rw, NULL, ecpub, 2, ecpriv, 3, &a, &b), CKR_ARGUMENTS_BAD);
	RV2(f->C_GenerateKeyPair(rw, &mrsa, badbits, 2, rpriv, 3, &a, &b), CKR_KEY_SIZE_RANGE,
	    CKR_ATTRIBUTE_VALUE_INVALID);
	RV(f->C_GenerateKeyPair(rw, &mrsa, shortbits, 2, rpriv, 3, &a, &b),
	   CKR_ATTRIBUTE_VALUE_INVALID);
	RV(f->C_GenerateKeyPair(rw, &mec, ecpub, 1, ecpriv, 3, &a, &b), CKR_TEMPLATE_INCOMPLETE);
	RV(f->C_GenerateKeyPair(rw, &mec, ecpub, 2, conflict, 3, &a, &b),
	   CKR_TEMPLATE_INCONSISTENT);
	RV(f->C_GenerateKeyPair(rw, &mec, ecpub, 2, ecpriv_twice, 4, ec_pub, ec_priv), CKR_OK);
	RV(f->C_DestroyObject(rw, *ec_priv), CKR_OK);
	RV(f->C_GenerateKeyPair(rw, &mec, ecpub, 2, ecpriv, 3, ec_pub, ec_priv), CKR_OK);
	RV(f->C_GenerateKeyPair(rw, &mrsa, rpub, 3, rpriv, 3, rsa_pub, rsa_priv), CKR_OK);
}

/* ---- §5.7 object management: templates and attribute rules ---- */
static void test_templates(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw)
{
	CK_OBJECT_CLASS data = CKO_DATA, cert = CKO_CERTIFICATE, badcls = 0x7fff1234UL;
	CK_CERTIFICATE_TYPE x509 = CKC_X_509;
	CK_ULONG wide = 1;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &data, sizeof(data) }, { CKA_TOKEN, &yes, 1 },
			     { CKA_LABEL, (char *)"conf data", 9 }, { CKA_VALUE, (char *)"v", 1 } };
	CK_ATTRIBUTE c[] = { { CKA_CLASS, &cert, sizeof(cert) },
			     { CKA_CERTIFICATE_TYPE, &x509, sizeof(x509) },
			     { CKA_TOKEN, &yes, 1 } };
	CK_ATTRIBUTE bad[4];
	CK_OBJECT_HANDLE h = 0;
	static CK_BYTE big[700], back[1024];
	CK_ATTRIBUTE get = { CKA_VALUE, NULL, 0 };

	RV(f->C_CreateObject(rw, NULL, 1, &h), CKR_ARGUMENTS_BAD);
	RV(f->C_CreateObject(rw, t, 4, NULL), CKR_ARGUMENTS_BAD);
	RV(f->C_CreateObject(BAD_SESSION, t, 4, &h), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_CreateObject(rw, c, 3, &h), CKR_TEMPLATE_INCOMPLETE); /* no CKA_VALUE */
	RV(f->C_CreateObject(rw, &t[1], 3, &h), CKR_TEMPLATE_INCOMPLETE); /* no CKA_CLASS */
	memcpy(bad, t, sizeof(t));
	bad[0].pValue = &badcls;
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	memcpy(bad, t, sizeof(t));
	bad[0].ulValueLen = 1;
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	memcpy(bad, t, sizeof(t));
	bad[1].pValue = &wide;
	bad[1].ulValueLen = sizeof(wide); /* a CK_BBOOL of the wrong size */
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	memcpy(bad, t, sizeof(t));
	bad[2].type = CKA_CLASS;
	bad[2].pValue = &cert;
	bad[2].ulValueLen = sizeof(cert); /* two different classes */
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_TEMPLATE_INCONSISTENT);
	memcpy(bad, t, sizeof(t));
	bad[3].type = CKA_TOKEN;
	bad[3].pValue = &no;
	bad[3].ulValueLen = 1; /* CKA_TOKEN both true and false */
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_TEMPLATE_INCONSISTENT);
	/* this token holds token objects only (objwrite.c): CKA_TOKEN false is inconsistent,
	 * and a token object needs a R/W session */
	memcpy(bad, t, sizeof(t));
	bad[1].pValue = &no;
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_TEMPLATE_INCONSISTENT);
	RV(f->C_CreateObject(ro, t, 4, &h), CKR_SESSION_READ_ONLY);
	RV(f->C_CreateObject(rw, t, 4, &h), CKR_OK);
	RV(f->C_DestroyObject(rw, h), CKR_OK);
	RV(f->C_DestroyObject(rw, h), CKR_OBJECT_HANDLE_INVALID);
	RV(f->C_DestroyObject(rw, BAD_OBJECT), CKR_OBJECT_HANDLE_INVALID);

	/* a value longer than one short APDU each way (command chaining, GET RESPONSE) */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (CK_BYTE)(i * 7 + 1);
	memcpy(bad, t, sizeof(t));
	bad[3].pValue = big;
	bad[3].ulValueLen = sizeof(big);
	RV(f->C_CreateObject(rw, bad, 4, &h), CKR_OK);
	get.pValue = NULL;
	RV(f->C_GetAttributeValue(ro, h, &get, 1), CKR_OK);
	ok(get.ulValueLen == sizeof(big), "size query of a %zu-byte CKA_VALUE", sizeof(big));
	get.pValue = back;
	get.ulValueLen = sizeof(big) - 1;
	RV(f->C_GetAttributeValue(ro, h, &get, 1), CKR_BUFFER_TOO_SMALL);
	ok(get.ulValueLen == CK_UNAVAILABLE_INFORMATION, "too small: unavailable");
	get.ulValueLen = sizeof(back);
	RV(f->C_GetAttributeValue(ro, h, &get, 1), CKR_OK);
	ok(get.ulValueLen == sizeof(big) && !memcmp(back, big, sizeof(big)), "value read back");
	RV(f->C_DestroyObject(rw, h), CKR_OK);
}

/* C_GetAttributeValue §5.7: size query, too small, sensitive, invalid type. */
static void test_get_attribute(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE ec_pub,
			       CK_OBJECT_HANDLE ec_priv, CK_OBJECT_HANDLE rsa_priv)
{
	CK_BYTE buf[512], small[2];
	CK_OBJECT_CLASS cls = 0;
	CK_ULONG want;
	CK_ATTRIBUTE a = { CKA_EC_POINT, NULL, 0 };
	CK_ATTRIBUTE multi[] = { { CKA_CLASS, &cls, sizeof(cls) },
				 { CKA_EC_POINT, small, sizeof(small) },
				 { 0x7fff4321UL, buf, sizeof(buf) } };
	CK_ATTRIBUTE sens[] = { { CKA_PRIVATE_EXPONENT, buf, sizeof(buf) },
				{ CKA_MODULUS, NULL, 0 } };
	CK_ATTRIBUTE ecv = { CKA_VALUE, buf, sizeof(buf) };

	RV(f->C_GetAttributeValue(h, BAD_OBJECT, &a, 1), CKR_OBJECT_HANDLE_INVALID);
	RV(f->C_GetAttributeValue(h, ec_pub, NULL, 1), CKR_ARGUMENTS_BAD);
	RV(f->C_GetAttributeValue(h, ec_pub, &a, 1), CKR_OK);
	ok(a.ulValueLen == 67, "size query of CKA_EC_POINT: %lu", (unsigned long)a.ulValueLen);
	want = a.ulValueLen;
	a.pValue = buf;
	RV(f->C_GetAttributeValue(h, ec_pub, &a, 1), CKR_OK);
	ok(a.ulValueLen == want && buf[0] == 0x04, "CKA_EC_POINT value");
	/* every attribute is processed; the "worst" error is returned (§5.7 C_GetAttributeValue) */
	RV2(f->C_GetAttributeValue(h, ec_pub, multi, 3), CKR_BUFFER_TOO_SMALL,
	    CKR_ATTRIBUTE_TYPE_INVALID);
	ok(cls == CKO_PUBLIC_KEY && multi[0].ulValueLen == sizeof(cls), "valid one still copied");
	ok(multi[1].ulValueLen == CK_UNAVAILABLE_INFORMATION, "too small: unavailable");
	ok(multi[2].ulValueLen == CK_UNAVAILABLE_INFORMATION, "invalid type: unavailable");
	RV(f->C_GetAttributeValue(h, rsa_priv, sens, 2), CKR_ATTRIBUTE_SENSITIVE);
	ok(sens[0].ulValueLen == CK_UNAVAILABLE_INFORMATION,
	   "CKA_PRIVATE_EXPONENT: CK_UNAVAILABLE_INFORMATION");
	ok(sens[1].ulValueLen == 256, "CKA_MODULUS length still reported (%lu)",
	   (unsigned long)sens[1].ulValueLen);
	RV(f->C_GetAttributeValue(h, ec_priv, &ecv, 1), CKR_ATTRIBUTE_SENSITIVE);
	ok(ecv.ulValueLen == CK_UNAVAILABLE_INFORMATION, "EC CKA_VALUE: CK_UNAVAILABLE_INFORMATION");
	RV(f->C_GetObjectSize(h, BAD_OBJECT, &want), CKR_OBJECT_HANDLE_INVALID);
}

/* §5.7 C_FindObjects*: one search at a time per session. */
static void test_find(CK_SESSION_HANDLE h, CK_SESSION_HANDLE other)
{
	CK_OBJECT_HANDLE out[16];
	CK_ULONG n = 0;

	RV(f->C_FindObjects(h, out, 16, &n), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_FindObjectsInit(h, NULL, 0), CKR_OK);
	RV(f->C_FindObjectsInit(h, NULL, 0), CKR_OPERATION_ACTIVE);
	RV(f->C_FindObjectsInit(other, NULL, 0), CKR_OK); /* per session */
	RV(f->C_FindObjects(h, NULL, 16, &n), CKR_ARGUMENTS_BAD);
	RV(f->C_FindObjects(h, out, 16, &n), CKR_OK);
	ok(n >= 4, "found %lu objects", (unsigned long)n);
	RV(f->C_FindObjectsFinal(h), CKR_OK);
	RV(f->C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_FindObjectsFinal(other), CKR_OK);
}

/* §5.12 signing and §5.13 verifying: the operation's life (§5.2 "single-part" rules). */
static void test_sign(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
		      CK_ULONG siglen_want, CK_MECHANISM_TYPE mech, CK_ULONG data_len,
		      CK_ULONG too_long, const char *what)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_BYTE data[1024] = { 1, 2, 3 }, sig[512];
	CK_ULONG n;

	printf("# sign with %s\n", what);
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_SignInit(h, &m, BAD_OBJECT), CKR_KEY_HANDLE_INVALID);
	RV(f->C_SignInit(h, &m, priv), CKR_OK);
	RV(f->C_SignInit(h, &m, priv), CKR_OPERATION_ACTIVE);
	/* any result but BUFFER_TOO_SMALL or a length query ends the operation (§5.2) */
	RV(f->C_Sign(h, data, data_len, NULL, NULL), CKR_ARGUMENTS_BAD);
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_SignInit(h, &m, priv), CKR_OK);
	n = 0;
	RV(f->C_Sign(h, data, data_len, NULL, &n), CKR_OK);
	ok(n == siglen_want, "size query: %lu", (unsigned long)n);
	n = 3;
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_BUFFER_TOO_SMALL);
	ok(n == siglen_want, "BUFFER_TOO_SMALL gives the length (%lu)", (unsigned long)n);
	n = sizeof(sig);
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OK);
	ok(n == siglen_want, "signature length %lu", (unsigned long)n);
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OPERATION_NOT_INITIALIZED);

	if (too_long) {
		RV(f->C_SignInit(h, &m, priv), CKR_OK);
		RV(f->C_Sign(h, data, too_long, sig, &n), CKR_DATA_LEN_RANGE);
		RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	}

	/* verify, against the public key */
	RV(f->C_Verify(h, data, data_len, sig, siglen_want), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_VerifyInit(h, &m, pub), CKR_OK);
	RV(f->C_VerifyInit(h, &m, pub), CKR_OPERATION_ACTIVE);
	n = sizeof(sig);
	RV(f->C_SignInit(h, &m, priv), CKR_OK); /* sign and verify may run side by side */
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OK);
	RV(f->C_Verify(h, data, data_len, sig, n), CKR_OK);
	RV(f->C_Verify(h, data, data_len, sig, n), CKR_OPERATION_NOT_INITIALIZED);
	sig[n / 2] ^= 1;
	RV(f->C_VerifyInit(h, &m, pub), CKR_OK);
	RV2(f->C_Verify(h, data, data_len, sig, n), CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE);
	RV(f->C_Verify(h, data, data_len, sig, n), CKR_OPERATION_NOT_INITIALIZED);

	/* keys that cannot sign */
	RV2(f->C_SignInit(h, &m, pub), CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED);
	RV(f->C_Sign(h, data, data_len, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	RV2(f->C_VerifyInit(h, &m, priv), CKR_KEY_TYPE_INCONSISTENT,
	    CKR_KEY_FUNCTION_NOT_PERMITTED);
}

static void test_wrong_objects(CK_SESSION_HANDLE h, CK_SESSION_HANDLE rw, CK_OBJECT_HANDLE ec_priv,
			       CK_OBJECT_HANDLE rsa_priv)
{
	CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 }, rsa = { CKM_RSA_PKCS, NULL, 0 };
	CK_OBJECT_CLASS data = CKO_DATA;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &data, sizeof(data) }, { CKA_VALUE, (char *)"v", 1 } };
	CK_OBJECT_HANDLE d = 0;

	RV(f->C_CreateObject(rw, t, 2, &d), CKR_OK);
	RV(f->C_SignInit(h, &ecdsa, d), CKR_KEY_HANDLE_INVALID); /* not a key */
	RV(f->C_VerifyInit(h, &ecdsa, d), CKR_KEY_HANDLE_INVALID);
	RV(f->C_SignInit(h, &ecdsa, rsa_priv), CKR_KEY_TYPE_INCONSISTENT);
	RV(f->C_SignInit(h, &rsa, ec_priv), CKR_KEY_TYPE_INCONSISTENT);
	RV(f->C_SignInit(h, &(CK_MECHANISM){ 0x7fff0001UL, NULL, 0 }, ec_priv),
	   CKR_MECHANISM_INVALID);
	RV(f->C_DestroyObject(rw, d), CKR_OK);
	RV(f->C_SignInit(h, &ecdsa, d), CKR_KEY_HANDLE_INVALID);
}

/* Public sessions see no private objects and cannot sign. */
static void test_public(CK_OBJECT_HANDLE ec_priv)
{
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_SESSION_HANDLE h;
	CK_ATTRIBUTE a = { CKA_ID, NULL, 0 };

	RV(open_ro(&h), CKR_OK);
	RV2(f->C_GetAttributeValue(h, ec_priv, &a, 1), CKR_OBJECT_HANDLE_INVALID,
	    CKR_USER_NOT_LOGGED_IN);
	RV2(f->C_SignInit(h, &m, ec_priv), CKR_KEY_HANDLE_INVALID, CKR_USER_NOT_LOGGED_IN);
	RV(f->C_CloseSession(h), CKR_OK);
}

static int setup_token(void)
{
	const char *extra = getenv("VNPKI_VTOKEN_INIT_ARGS"), *so;
	char opts[512];
	uint8_t resp[VNP_RECOVERY_RESPONSE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	if (!h_make_dir("p11c"))
		return -1;
	if (vnp_code_encode(resp, sizeof(resp), so_code, sizeof(so_code)) != 0)
		return -1;
	/* PUK cards (profile sim): the SO secret is the PUK the token was made with. */
	so = getenv("VNPKI_SO_SECRET");
	if (so && *so)
		snprintf(so_code, sizeof(so_code), "%s", so);
	snprintf(opts, sizeof(opts), "--serial 5654000000000005 --label conformance --pin " PIN " %s",
		 extra ? extra : "");
	return h_init_token(opts);
}

int main(void)
{
	CK_SESSION_HANDLE ro = 0, rw = 0;
	CK_OBJECT_HANDLE ec_pub = 0, ec_priv = 0, rsa_pub = 0, rsa_priv = 0;
	void *mod;

	f = h_start(setup_token, &mod, &get_if);
	if (!f)
		return 1;
	test_not_initialized();
	test_initialize();
	test_interfaces();
	test_slot_lists();
	test_sessions();

	RV(open_ro(&ro), CKR_OK);
	RV(open_rw(&rw), CKR_OK);
	RV(login(rw, CKU_USER, PIN), CKR_OK);
	gen_keys(ro, rw, &ec_pub, &ec_priv, &rsa_pub, &rsa_priv);
	test_templates(ro, rw);
	test_get_attribute(ro, ec_pub, ec_priv, rsa_priv);
	test_find(ro, rw);
	test_sign(ro, ec_pub, ec_priv, 64, CKM_ECDSA, 32, 0, "ECDSA P-256");
	test_sign(ro, rsa_pub, rsa_priv, 256, CKM_RSA_PKCS, 51, 246, "RSA-2048 PKCS#1 v1.5");
	test_wrong_objects(ro, rw, ec_priv, rsa_priv);
	RV(f->C_Logout(rw), CKR_OK);
	test_public(ec_priv);

	/* C_Finalize with sessions and an operation open */
	RV(login(rw, CKU_USER, PIN), CKR_OK);
	RV(f->C_FindObjectsInit(ro, NULL, 0), CKR_OK);
	RV(f->C_Finalize(NULL), CKR_OK);
	RV(f->C_GetSessionInfo(ro, &(CK_SESSION_INFO){ 0 }), CKR_CRYPTOKI_NOT_INITIALIZED);
	RV(f->C_Initialize(NULL), CKR_OK);
	RV(f->C_GetSessionInfo(ro, &(CK_SESSION_INFO){ 0 }), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_Finalize(NULL), CKR_OK);

	return h_finish(mod);
}
