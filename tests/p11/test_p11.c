/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Conformance test of the built module (TAP). It dlopen()s $VNPKI_MODULE and drives it
 * only through C_GetFunctionList / C_GetInterface, against a fresh virtual token created
 * with $VNPKI_VTOKEN_BIN and reached in-process through the vtoken reader backend. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "harness.h"

static CK_FUNCTION_LIST_PTR f2;
static CK_FUNCTION_LIST_3_0_PTR f3;
static const struct vnp_ext_functions *ext, *ext11; /* vendor interface 1.0, 1.1 */
static CK_SLOT_ID slot;
static const char PIN[] = "123456";

/* ---- mutex callbacks for C_Initialize ---- */
static int n_mutex;
static CK_RV cb_create(void **m)
{
	*m = malloc(1);
	n_mutex++;
	return CKR_OK;
}
static CK_RV cb_destroy(void *m)
{
	free(m);
	n_mutex--;
	return CKR_OK;
}
static CK_RV cb_lock(void *m)
{
	(void)m;
	return CKR_OK;
}
static CK_RV cb_unlock(void *m)
{
	(void)m;
	return CKR_OK;
}

static void test_interfaces(CK_C_GetInterface get_if, CK_C_GetInterfaceList get_list)
{
	CK_INTERFACE_PTR i = NULL;
	CK_VERSION v240 = { 2, 40 }, v30 = { 3, 0 }, v99 = { 9, 9 }, vv = { 1, 0 };
	CK_INTERFACE list[8];
	CK_ULONG n = 0;

	RV(get_if(NULL, NULL, &i, 0), CKR_OK);
	ok(i && ((CK_VERSION *)i->pFunctionList)->major == 3, "default interface is 3.0");
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", NULL, &i, 0), CKR_OK);
	f3 = i->pFunctionList;
	ok(!strcmp((char *)i->pInterfaceName, "PKCS 11") && f3->version.major == 3 &&
		   f3->version.minor == 0, "PKCS 11 -> 3.0");
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", &v240, &i, 0), CKR_OK);
	ok(((CK_VERSION *)i->pFunctionList)->minor == 40, "PKCS 11 2.40");
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", &v30, &i, 0), CKR_OK);
	RV(get_if((CK_UTF8CHAR_PTR) "PKCS 11", &v99, &i, 0), CKR_ARGUMENTS_BAD);
	RV(get_if((CK_UTF8CHAR_PTR) "nope", NULL, &i, 0), CKR_ARGUMENTS_BAD);
	RV(get_if(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
	RV(get_if(NULL, NULL, &i, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
	RV(get_if((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, &vv, &i, 0), CKR_OK);
	ext = i->pFunctionList;
	ok(ext->version.major == 1 && ext->version.minor == 0 && ext->get_pin_counters,
	   "vendor interface 1.0");
	RV(get_if((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, NULL, &i, 0), CKR_OK);
	ext11 = i->pFunctionList;
	ok(ext11->version.major == 1 && ext11->version.minor == 1 &&
		   ext11->get_apdu_stats != ext->get_apdu_stats,
	   "vendor interface: 1.1 first, with its own get_apdu_stats");
	RV(get_list(NULL, &n), CKR_OK);
	ok(n == 4, "4 interfaces (%lu)", (unsigned long)n);
	n = 1;
	RV(get_list(list, &n), CKR_BUFFER_TOO_SMALL);
	n = 8;
	RV(get_list(list, &n), CKR_OK);
	RV(get_list(list, NULL), CKR_ARGUMENTS_BAD);
	ok(f3->C_GetInterface == get_if, "3.0 list carries C_GetInterface");
	/* entry.c writes the two lists out in full: they must agree on every 2.40 function but
	 * C_GetInfo (each gives its own version) */
	ok(!memcmp((char *)f2 + offsetof(CK_FUNCTION_LIST, C_Initialize),
		   (char *)f3 + offsetof(CK_FUNCTION_LIST, C_Initialize),
		   offsetof(CK_FUNCTION_LIST, C_GetInfo) - offsetof(CK_FUNCTION_LIST, C_Initialize)) &&
		   !memcmp((char *)f2 + offsetof(CK_FUNCTION_LIST, C_GetFunctionList),
			   (char *)f3 + offsetof(CK_FUNCTION_LIST, C_GetFunctionList),
			   sizeof(*f2) - offsetof(CK_FUNCTION_LIST, C_GetFunctionList)),
	   "2.40 and 3.0 lists: the same 2.40 functions");
}

static void test_init(void)
{
	CK_C_INITIALIZE_ARGS a;
	CK_INFO info;
	CK_ULONG n;

	RV(f2->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	RV(f2->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	RV(f2->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	memset(&a, 0, sizeof(a));
	a.CreateMutex = cb_create;
	RV(f2->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	memset(&a, 0, sizeof(a));
	a.pReserved = &a;
	RV(f2->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	memset(&a, 0, sizeof(a));
	a.flags = CKF_OS_LOCKING_OK;
	RV(f2->C_Initialize(&a), CKR_OK);
	RV(f2->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	RV(f2->C_Finalize(&a), CKR_ARGUMENTS_BAD);
	RV(f2->C_Finalize(NULL), CKR_OK);
	memset(&a, 0, sizeof(a));
	a.CreateMutex = cb_create;
	a.DestroyMutex = cb_destroy;
	a.LockMutex = cb_lock;
	a.UnlockMutex = cb_unlock;
	RV(f2->C_Initialize(&a), CKR_OK);
	ok(n_mutex > 0, "application mutexes used (%d)", n_mutex);
	RV(f2->C_Finalize(NULL), CKR_OK);
	ok(n_mutex == 0, "application mutexes all destroyed (%d)", n_mutex);
	memset(&a, 0, sizeof(a));
	a.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS;
	RV(f2->C_Initialize(&a), CKR_OK);
	RV(f2->C_GetInfo(&info), CKR_OK);
	ok(info.cryptokiVersion.major == 2 && info.cryptokiVersion.minor == 40, "2.40 GetInfo");
	ok(!memcmp(info.manufacturerID, "vnpki ", 6), "manufacturer vnpki");
	ok(info.libraryVersion.major == 0 && info.libraryVersion.minor == 1, "library 0.1");
	RV(f3->C_GetInfo(&info), CKR_OK);
	ok(info.cryptokiVersion.major == 3 && info.cryptokiVersion.minor == 0, "3.0 GetInfo");
	RV(f2->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
}

static void test_slots(void)
{
	CK_SLOT_ID list[8];
	CK_ULONG n = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	const char *label = "Nguyễn Văn An";
	size_t ll = strlen(label);
	int padded = 1;

	RV(f2->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	ok(n == 1, "one slot with a token (%lu)", (unsigned long)n);
	n = 0;
	RV(f2->C_GetSlotList(CK_TRUE, list, &n), CKR_BUFFER_TOO_SMALL);
	ok(n == 1, "count after BUFFER_TOO_SMALL");
	RV(f2->C_GetSlotList(CK_FALSE, list, NULL), CKR_ARGUMENTS_BAD);
	n = 8;
	RV(f2->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
	slot = list[0];
	RV(f2->C_GetSlotInfo(slot, &si), CKR_OK);
	ok(si.flags == (CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT), "slot flags");
	RV(f2->C_GetSlotInfo(4242, &si), CKR_SLOT_ID_INVALID);
	RV(f2->C_GetTokenInfo(4242, &ti), CKR_SLOT_ID_INVALID);
	RV(f2->C_GetTokenInfo(slot, &ti), CKR_OK);
	for (size_t i = ll; i < 32; i++)
		padded &= ti.label[i] == ' ';
	ok(!memcmp(ti.label, label, ll) && padded, "UTF-8 label, blank-padded");
	ok(!memcmp(ti.serialNumber, "5654000000000001", 16), "serial");
	ok(!memcmp(ti.manufacturerID, "vnpki ", 6) && !memcmp(ti.model, "vntoken ", 8),
	   "manufacturer/model");
	ok((ti.flags & (CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
			CKF_TOKEN_INITIALIZED)) ==
		   (CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED),
	   "token flags 0x%lx", (unsigned long)ti.flags);
	ok(!(ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED)), "PIN not low");
	ok(ti.ulMinPinLen == 6 && ti.ulMaxPinLen >= 8, "PIN policy %lu..%lu",
	   (unsigned long)ti.ulMinPinLen, (unsigned long)ti.ulMaxPinLen);
	ok(ti.ulTotalPublicMemory == CK_UNAVAILABLE_INFORMATION, "memory unavailable");
	n = 0;
	RV(f2->C_GetMechanismList(slot, NULL, &n), CKR_OK);
	ok(n > 10, "mechanisms: %lu", (unsigned long)n);
	RV(f2->C_InitToken(slot, (CK_UTF8CHAR_PTR)PIN, 6, (CK_UTF8CHAR_PTR) "x"),
	   CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_FLAGS token_flags(void)
{
	CK_TOKEN_INFO ti;

	if (f2->C_GetTokenInfo(slot, &ti) != CKR_OK)
		return 0;
	return ti.flags;
}

static CK_STATE session_state(CK_SESSION_HANDLE h)
{
	CK_SESSION_INFO si;

	if (f2->C_GetSessionInfo(h, &si) != CKR_OK)
		return (CK_STATE)-1;
	return si.state;
}

static void test_login(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw)
{
	struct vnp_ext_pin_counters c0, c1;

	ok(session_state(ro) == CKS_RO_PUBLIC_SESSION, "RO public");
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "RW public");
	RV(ext->get_pin_counters(slot, &c0), CKR_OK);
	ok(c0.user_tries_left > 1 && c0.user_tries_left == c0.user_tries_max, "counter %d/%d",
	   c0.user_tries_left, c0.user_tries_max);
	RV(f2->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR) "12", 2), CKR_PIN_LEN_RANGE);
	RV(ext->get_pin_counters(slot, &c1), CKR_OK);
	ok(c1.user_tries_left == c0.user_tries_left, "short PIN spent nothing");
	RV(f2->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR) "654321", 6), CKR_PIN_INCORRECT);
	RV(ext->get_pin_counters(slot, &c1), CKR_OK);
	ok(c1.user_tries_left == c0.user_tries_left - 1, "wrong PIN spent one try");
	ok(token_flags() & CKF_USER_PIN_COUNT_LOW, "COUNT_LOW after a wrong PIN");
	RV(f2->C_Login(ro, 77, (CK_UTF8CHAR_PTR)PIN, 6), CKR_USER_TYPE_INVALID);
	RV(f2->C_Login(ro, CKU_USER, NULL, 6), CKR_ARGUMENTS_BAD);
	RV(f2->C_Login(ro, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	{
		/* a caller built against the 1.0 header has no room past bytes_in */
		struct vnp_ext_apdu_stats st;
		const unsigned char *b = (const unsigned char *)&st;
		size_t v10 = offsetof(struct vnp_ext_apdu_stats, reader_calls);
		bool untouched = true;

		memset(&st, 0xA5, sizeof(st));
		RV(ext->get_apdu_stats(slot, &st), CKR_OK);
		for (size_t k = v10; k < sizeof(st); k++)
			untouched = untouched && b[k] == 0xA5;
		ok(untouched && st.apdus > 0, "vendor 1.0 get_apdu_stats fills only its %zu bytes",
		   v10);
	}
	ok(!(token_flags() & CKF_USER_PIN_COUNT_LOW), "COUNT_LOW cleared");
	ok(session_state(ro) == CKS_RO_USER_FUNCTIONS, "RO user");
	ok(session_state(rw) == CKS_RW_USER_FUNCTIONS, "RW user");
	RV(f2->C_Login(rw, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_USER_ALREADY_LOGGED_IN);
	RV(f2->C_Login(rw, CKU_SO, (CK_UTF8CHAR_PTR)PIN, 6), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	RV(f2->C_Login(rw, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)PIN, 6),
	   CKR_OPERATION_NOT_INITIALIZED);
}

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n,
				 CK_ULONG *ret_count)
{
	CK_OBJECT_HANDLE out[16] = { 0 };
	CK_ULONG count = 0;

	if (f2->C_FindObjectsInit(h, t, n) != CKR_OK)
		return 0;
	f2->C_FindObjects(h, out, 16, &count);
	f2->C_FindObjectsFinal(h);
	if (ret_count)
		*ret_count = count;
	return count ? out[0] : 0;
}

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static void keygen(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw, CK_OBJECT_HANDLE *rsa_pub,
		   CK_OBJECT_HANDLE *rsa_priv, CK_OBJECT_HANDLE *ec_pub, CK_OBJECT_HANDLE *ec_priv)
{
	CK_MECHANISM mrsa = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM mec = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048, bad_bits = 1024;
	CK_BYTE e[] = { 1, 0, 1 };
	static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	CK_BYTE id1 = 1, id2 = 2;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) }, { CKA_PUBLIC_EXPONENT, e, 3 },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_ID, &id1, 1 }, { CKA_LABEL, (char *)"rsa key", 7 },
	};
	CK_ATTRIBUTE ecpub[] = { { CKA_TOKEN, &yes, 1 }, { CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE ecpriv[] = { { CKA_SIGN, &yes, 1 }, { CKA_ID, &id2, 1 }, { CKA_LABEL, (char *)"ec key", 6 } };
	CK_ATTRIBUTE badpub[] = { { CKA_MODULUS_BITS, &bad_bits, sizeof(bad_bits) } };

	RV(f2->C_GenerateKeyPair(ro, &mrsa, pub, 4, priv, 5, rsa_pub, rsa_priv),
	   CKR_SESSION_READ_ONLY);
	RV(f2->C_GenerateKeyPair(rw, &mrsa, badpub, 1, priv, 5, rsa_pub, rsa_priv),
	   CKR_KEY_SIZE_RANGE);
	RV(f2->C_GenerateKeyPair(rw, &mrsa, pub, 2, priv, 5, rsa_pub, rsa_priv),
	   CKR_TEMPLATE_INCOMPLETE);
	RV(f2->C_GenerateKeyPair(rw, &mrsa, pub, 4, priv, 5, rsa_pub, rsa_priv), CKR_OK);
	RV(f2->C_GenerateKeyPair(rw, &mec, ecpub, 2, ecpriv, 3, ec_pub, ec_priv), CKR_OK);
	ok(*rsa_pub && *rsa_priv && *ec_pub && *ec_priv && *rsa_pub != *rsa_priv, "handles");
}

static EVP_PKEY *pubkey_of(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
	CK_BYTE buf[1024];
	CK_ATTRIBUTE a = { CKA_PUBLIC_KEY_INFO, buf, sizeof(buf) };
	const unsigned char *p = buf;

	if (f2->C_GetAttributeValue(h, o, &a, 1) != CKR_OK)
		return NULL;
	return d2i_PUBKEY(NULL, &p, (long)a.ulValueLen);
}

/* A certificate for pkey signed by a throwaway CA key. */
static int make_cert(EVP_PKEY *pkey, unsigned char **der, X509_NAME **subject)
{
	EVP_PKEY *ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	int len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4711);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"Nguyễn Văn An",
				   -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, pkey);
	X509_sign(x, ca, EVP_sha256());
	*der = NULL;
	len = i2d_X509(x, der);
	*subject = n;
	X509_free(x);
	EVP_PKEY_free(ca);
	return len;
}

static CK_OBJECT_HANDLE test_cert(CK_SESSION_HANDLE ro, CK_SESSION_HANDLE rw, EVP_PKEY *pkey)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BYTE id = 1, garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	unsigned char *der = NULL, *sder = NULL;
	X509_NAME *subject = NULL;
	int len = make_cert(pkey, &der, &subject), slen = i2d_X509_NAME(subject, &sder);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) }, { CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_TOKEN, &yes, 1 }, { CKA_ID, &id, 1 }, { CKA_LABEL, (char *)"rsa cert", 8 },
		{ CKA_VALUE, der, (CK_ULONG)len },
	};
	CK_ATTRIBUTE bad[6];
	CK_OBJECT_HANDLE h = 0, found;
	CK_BYTE buf[2048];
	CK_ATTRIBUTE get[] = { { CKA_SUBJECT, buf, sizeof(buf) } };
	CK_ATTRIBUTE by_subject[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_SUBJECT, sder, (CK_ULONG)slen } };
	CK_ULONG count = 0;

	RV(f2->C_CreateObject(ro, t, 6, &h), CKR_SESSION_READ_ONLY);
	RV(f2->C_CreateObject(rw, t, 5, &h), CKR_TEMPLATE_INCOMPLETE);
	memcpy(bad, t, sizeof(t));
	bad[5].pValue = garbage;
	bad[5].ulValueLen = sizeof(garbage);
	RV(f2->C_CreateObject(rw, bad, 6, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	memcpy(bad, t, sizeof(t));
	bad[2].pValue = &no;
	RV(f2->C_CreateObject(rw, bad, 6, &h), CKR_TEMPLATE_INCONSISTENT);
	RV(f2->C_CreateObject(rw, t, 6, &h), CKR_OK);
	RV(f2->C_GetAttributeValue(rw, h, get, 1), CKR_OK);
	ok(get[0].ulValueLen == (CK_ULONG)slen && !memcmp(buf, sder, (size_t)slen), "CKA_SUBJECT");
	found = find_one(ro, by_subject, 2, &count);
	ok(found == h && count == 1, "find certificate by subject");
	OPENSSL_free(der);
	OPENSSL_free(sder);
	X509_NAME_free(subject);
	return h;
}

static void test_find_attrs(CK_SESSION_HANDLE ro, CK_OBJECT_HANDLE rsa_pub, CK_OBJECT_HANDLE rsa_priv)
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_BYTE id = 1;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &priv, sizeof(priv) }, { CKA_ID, &id, 1 } };
	CK_ATTRIBUTE tl[] = { { CKA_LABEL, (char *)"rsa key", 7 } };
	CK_ULONG count = 0;
	CK_OBJECT_HANDLE out[4];
	CK_BYTE mod[512], small[8];
	CK_BBOOL b = 0;
	CK_ATTRIBUTE a[4];

	ok(find_one(ro, t, 2, &count) == rsa_priv && count == 1, "find private key by class+ID");
	find_one(ro, tl, 1, &count);
	ok(count == 2, "find by label: the pair (%lu)", (unsigned long)count);
	RV(f2->C_FindObjects(ro, out, 4, &count), CKR_OPERATION_NOT_INITIALIZED);
	RV(f2->C_FindObjectsFinal(ro), CKR_OPERATION_NOT_INITIALIZED);
	RV(f2->C_FindObjectsInit(ro, NULL, 0), CKR_OK);
	RV(f2->C_FindObjectsInit(ro, NULL, 0), CKR_OPERATION_ACTIVE);
	RV(f2->C_FindObjects(ro, out, 4, &count), CKR_OK);
	ok(count == 4, "first 4 objects");
	RV(f2->C_FindObjectsFinal(ro), CKR_OK);

	a[0] = (CK_ATTRIBUTE){ CKA_PRIVATE_EXPONENT, mod, sizeof(mod) };
	RV(f2->C_GetAttributeValue(ro, rsa_priv, a, 1), CKR_ATTRIBUTE_SENSITIVE);
	ok(a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION, "sensitive: length unavailable");
	a[0] = (CK_ATTRIBUTE){ CKA_MODULUS, NULL, 0 };
	RV(f2->C_GetAttributeValue(ro, rsa_pub, a, 1), CKR_OK);
	ok(a[0].ulValueLen == 256, "size query: modulus 256");
	a[0] = (CK_ATTRIBUTE){ CKA_MODULUS, small, sizeof(small) };
	RV(f2->C_GetAttributeValue(ro, rsa_pub, a, 1), CKR_BUFFER_TOO_SMALL);
	ok(a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION, "too small: length unavailable");
	a[0] = (CK_ATTRIBUTE){ 0x7ffff00UL, small, sizeof(small) };
	a[1] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &b, 1 };
	RV(f2->C_GetAttributeValue(ro, rsa_priv, a, 2), CKR_ATTRIBUTE_TYPE_INVALID);
	ok(a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION && a[1].ulValueLen == 1 && b == CK_TRUE,
	   "invalid type reported, the rest filled");
	a[0] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &b, 1 };
	RV(f2->C_GetAttributeValue(ro, rsa_priv, a, 1), CKR_OK);
	ok(b == CK_FALSE, "not extractable");
	RV(f2->C_GetAttributeValue(ro, 999999, a, 1), CKR_OBJECT_HANDLE_INVALID);
	RV(f2->C_GetAttributeValue(ro, rsa_priv, NULL, 1), CKR_ARGUMENTS_BAD);
}

/* ---- signatures ---- */

static const EVP_MD *mech_md(CK_MECHANISM_TYPE m, int *raw_hash_len)
{
	*raw_hash_len = 0;
	switch (m) {
	case CKM_SHA1_RSA_PKCS: case CKM_SHA1_RSA_PKCS_PSS: case CKM_ECDSA_SHA1: return EVP_sha1();
	case CKM_SHA224_RSA_PKCS: case CKM_SHA224_RSA_PKCS_PSS: case CKM_ECDSA_SHA224: return EVP_sha224();
	case CKM_SHA256_RSA_PKCS: case CKM_SHA256_RSA_PKCS_PSS: case CKM_ECDSA_SHA256: return EVP_sha256();
	case CKM_SHA384_RSA_PKCS: case CKM_SHA384_RSA_PKCS_PSS: case CKM_ECDSA_SHA384: return EVP_sha384();
	case CKM_SHA512_RSA_PKCS: case CKM_SHA512_RSA_PKCS_PSS: case CKM_ECDSA_SHA512: return EVP_sha512();
	case CKM_RSA_PKCS_PSS: case CKM_ECDSA: *raw_hash_len = 32; return NULL;
	default: return NULL;
	}
}

static int is_pss(CK_MECHANISM_TYPE m)
{
	return m == CKM_RSA_PKCS_PSS || m == CKM_SHA1_RSA_PKCS_PSS || m == CKM_SHA224_RSA_PKCS_PSS ||
	       m == CKM_SHA256_RSA_PKCS_PSS || m == CKM_SHA384_RSA_PKCS_PSS ||
	       m == CKM_SHA512_RSA_PKCS_PSS;
}

static int is_ecdsa(CK_MECHANISM_TYPE m)
{
	return m == CKM_ECDSA || m == CKM_ECDSA_SHA1 || m == CKM_ECDSA_SHA224 ||
	       m == CKM_ECDSA_SHA256 || m == CKM_ECDSA_SHA384 || m == CKM_ECDSA_SHA512;
}

/* Verify with plain OpenSSL. */
static int ossl_verify(EVP_PKEY *pk, CK_MECHANISM_TYPE m, const unsigned char *data, size_t dlen,
		       const unsigned char *sig, size_t slen)
{
	int raw_len;
	const EVP_MD *md = mech_md(m, &raw_len);
	unsigned char dig[64], *der = NULL;
	unsigned int diglen = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	const unsigned char *tbs = data;
	size_t tbslen = dlen;
	int r = 0, derlen;

	if (md) {
		EVP_Digest(data, dlen, dig, &diglen, md, NULL);
		tbs = dig;
		tbslen = diglen;
	}
	EVP_PKEY_verify_init(ctx);
	if (is_ecdsa(m)) {
		ECDSA_SIG *es = ECDSA_SIG_new();

		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)slen / 2, NULL),
			       BN_bin2bn(sig + slen / 2, (int)slen / 2, NULL));
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		r = EVP_PKEY_verify(ctx, der, (size_t)derlen, tbs, tbslen) == 1;
		OPENSSL_free(der);
	} else if (is_pss(m)) {
		const EVP_MD *pmd = md ? md : EVP_sha256();

		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_signature_md(ctx, pmd);
		EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, pmd);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, EVP_MD_get_size(pmd));
		r = EVP_PKEY_verify(ctx, sig, slen, tbs, tbslen) == 1;
	} else {
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
		if (md)
			EVP_PKEY_CTX_set_signature_md(ctx, md);
		r = EVP_PKEY_verify(ctx, sig, slen, tbs, tbslen) == 1;
	}
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static void mech_params(CK_MECHANISM_TYPE m, CK_MECHANISM *mech, CK_RSA_PKCS_PSS_PARAMS *pss)
{
	int raw;
	const EVP_MD *md = mech_md(m, &raw);
	int nid = md ? EVP_MD_get_type(md) : NID_sha256;

	mech->mechanism = m;
	mech->pParameter = NULL;
	mech->ulParameterLen = 0;
	if (!is_pss(m))
		return;
	switch (nid) {
	case NID_sha1: pss->hashAlg = CKM_SHA_1; pss->mgf = CKG_MGF1_SHA1; pss->sLen = 20; break;
	case NID_sha224: pss->hashAlg = CKM_SHA224; pss->mgf = CKG_MGF1_SHA224; pss->sLen = 28; break;
	case NID_sha384: pss->hashAlg = CKM_SHA384; pss->mgf = CKG_MGF1_SHA384; pss->sLen = 48; break;
	case NID_sha512: pss->hashAlg = CKM_SHA512; pss->mgf = CKG_MGF1_SHA512; pss->sLen = 64; break;
	default: pss->hashAlg = CKM_SHA256; pss->mgf = CKG_MGF1_SHA256; pss->sLen = 32; break;
	}
	mech->pParameter = pss;
	mech->ulParameterLen = sizeof(*pss);
}

static void sign_one(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub,
		     EVP_PKEY *pk, CK_MECHANISM_TYPE m, int multipart)
{
	CK_MECHANISM mech;
	CK_RSA_PKCS_PSS_PARAMS pss;
	unsigned char data[200], sig[512];
	CK_ULONG slen = sizeof(sig), dlen = sizeof(data);
	int raw;
	CK_RV rv;

	mech_md(m, &raw);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 1);
	if (raw)
		dlen = (CK_ULONG)raw;
	if (m == CKM_RSA_PKCS)
		dlen = 51;
	mech_params(m, &mech, &pss);
	rv = f2->C_SignInit(h, &mech, priv);
	if (rv == CKR_OK && multipart) {
		rv = f2->C_SignUpdate(h, data, dlen / 2);
		if (rv == CKR_OK)
			rv = f2->C_SignUpdate(h, data + dlen / 2, dlen - dlen / 2);
		if (rv == CKR_OK)
			rv = f2->C_SignFinal(h, sig, &slen);
	} else if (rv == CKR_OK) {
		rv = f2->C_Sign(h, data, dlen, sig, &slen);
	}
	ok(rv == CKR_OK, "sign mech 0x%lx %s: 0x%lx", (unsigned long)m,
	   multipart ? "multi" : "single", (unsigned long)rv);
	if (rv != CKR_OK)
		return;
	ok(ossl_verify(pk, m, data, dlen, sig, slen), "OpenSSL verifies mech 0x%lx %s",
	   (unsigned long)m, multipart ? "multi" : "single");
	rv = f2->C_VerifyInit(h, &mech, pub);
	if (rv == CKR_OK && multipart) {
		rv = f2->C_VerifyUpdate(h, data, dlen);
		if (rv == CKR_OK)
			rv = f2->C_VerifyFinal(h, sig, slen);
	} else if (rv == CKR_OK) {
		rv = f2->C_Verify(h, data, dlen, sig, slen);
	}
	ok(rv == CKR_OK, "C_Verify mech 0x%lx: 0x%lx", (unsigned long)m, (unsigned long)rv);
	sig[3] ^= 1;
	f2->C_VerifyInit(h, &mech, pub);
	RV(f2->C_Verify(h, data, dlen, sig, slen), CKR_SIGNATURE_INVALID);
}

static void test_sign(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE rsa_pub, CK_OBJECT_HANDLE rsa_priv,
		      CK_OBJECT_HANDLE ec_pub, CK_OBJECT_HANDLE ec_priv)
{
	EVP_PKEY *rsa = pubkey_of(h, rsa_pub), *ec = pubkey_of(h, ec_pub);
	CK_MECHANISM_TYPE mechs[64];
	CK_ULONG n = 64;
	CK_MECHANISM_INFO mi;
	CK_MECHANISM sha = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char sig[512];
	CK_ULONG slen;

	ok(rsa && ec, "public keys via CKA_PUBLIC_KEY_INFO");
	f2->C_GetMechanismList(slot, mechs, &n);
	for (CK_ULONG i = 0; i < n; i++) {
		int raw;

		if (f2->C_GetMechanismInfo(slot, mechs[i], &mi) != CKR_OK || !(mi.flags & CKF_SIGN))
			continue;
		if (is_ecdsa(mechs[i])) {
			sign_one(h, ec_priv, ec_pub, ec, mechs[i], 0);
			if (mech_md(mechs[i], &raw))
				sign_one(h, ec_priv, ec_pub, ec, mechs[i], 1);
		} else {
			sign_one(h, rsa_priv, rsa_pub, rsa, mechs[i], 0);
			if (mech_md(mechs[i], &raw))
				sign_one(h, rsa_priv, rsa_pub, rsa, mechs[i], 1);
		}
	}
	/* size query and buffer too small keep the operation */
	RV(f2->C_Sign(h, (CK_BYTE_PTR) "x", 1, sig, &slen), CKR_OPERATION_NOT_INITIALIZED);
	RV(f2->C_SignInit(h, &sha, rsa_pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
	RV(f2->C_SignInit(h, &sha, 987654), CKR_KEY_HANDLE_INVALID);
	RV(f2->C_SignInit(h, NULL, rsa_priv), CKR_ARGUMENTS_BAD);
	RV(f2->C_SignInit(h, &sha, rsa_priv), CKR_OK);
	RV(f2->C_SignInit(h, &sha, rsa_priv), CKR_OPERATION_ACTIVE);
	slen = 0;
	RV(f2->C_Sign(h, (CK_BYTE_PTR) "x", 1, NULL, &slen), CKR_OK);
	ok(slen == 256, "size query 256");
	slen = 10;
	RV(f2->C_Sign(h, (CK_BYTE_PTR) "x", 1, sig, &slen), CKR_BUFFER_TOO_SMALL);
	ok(slen == 256, "needed length reported");
	RV(f2->C_Sign(h, (CK_BYTE_PTR) "x", 1, sig, &slen), CKR_OK);
	ok(ossl_verify(rsa, CKM_SHA256_RSA_PKCS, (const unsigned char *)"x", 1, sig, slen),
	   "signature after size query verifies");
	RV(f2->C_SignFinal(h, sig, &slen), CKR_OPERATION_NOT_INITIALIZED);
	RV(f2->C_SignInit(h, &sha, rsa_priv), CKR_OK);
	RV(f2->C_SignUpdate(h, (CK_BYTE_PTR) "ab", 2), CKR_OK);
	slen = 0;
	RV(f2->C_SignFinal(h, NULL, &slen), CKR_OK);
	slen = sizeof(sig);
	RV(f2->C_SignFinal(h, sig, &slen), CKR_OK);
	ok(ossl_verify(rsa, CKM_SHA256_RSA_PKCS, (const unsigned char *)"ab", 2, sig, slen),
	   "multi-part after size query verifies");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

static void test_fork(void)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		CK_INFO info;
		CK_ULONG n = 0;
		int bad = 0;

		bad |= f2->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED;
		bad |= (f2->C_GetSlotList(CK_FALSE, NULL, &n) != CKR_CRYPTOKI_NOT_INITIALIZED) << 1;
		bad |= (f2->C_Initialize(NULL) != CKR_OK) << 2;
		bad |= (f2->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n != 1) << 3;
		bad |= (f2->C_Finalize(NULL) != CKR_OK) << 4;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "fork child: NOT_INITIALIZED, then re-initialises (status %d)", WEXITSTATUS(status));
}

static int setup_token(void)
{
	if (!h_make_dir("p11"))
		return -1;
	return h_init_token("--serial 5654000000000001 --label 'Nguyễn Văn An' --pin 123456");
}

int main(void)
{
	void *mod;
	CK_C_GetFunctionList gfl;
	CK_SESSION_HANDLE ro = 0, rw = 0, h;
	CK_OBJECT_HANDLE rsa_pub = 0, rsa_priv = 0, ec_pub = 0, ec_priv = 0, cert;
	CK_OBJECT_CLASS cls = CKO_DATA, pk = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE data[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_VALUE, (char *)"v", 1 } };
	CK_ATTRIBUTE tpk[] = { { CKA_CLASS, &pk, sizeof(pk) } };
	CK_MECHANISM sha = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE rnd[300];
	CK_ULONG count;
	EVP_PKEY *rsa;

	if (h_setup(setup_token) != 0)
		return 1;
	mod = h_load_module();
	if (!mod)
		return 1;
	gfl = (CK_C_GetFunctionList)dlsym(mod, "C_GetFunctionList");
	ok(gfl && gfl(&f2) == CKR_OK && f2->version.major == 2 && f2->version.minor == 40,
	   "C_GetFunctionList: 2.40");
	test_interfaces((CK_C_GetInterface)dlsym(mod, "C_GetInterface"),
			(CK_C_GetInterfaceList)dlsym(mod, "C_GetInterfaceList"));
	test_init();
	test_slots();

	RV(f2->C_OpenSession(slot, 0, NULL, NULL, &h), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	RV(f2->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	RV(f2->C_OpenSession(4242, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_SLOT_ID_INVALID);
	RV(f2->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	RV(f2->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &rw), CKR_OK);
	RV(f2->C_GetSessionInfo(12345, &(CK_SESSION_INFO){ 0 }), CKR_SESSION_HANDLE_INVALID);
	RV(f2->C_SignInit(ro, &sha, 1), CKR_USER_NOT_LOGGED_IN);
	RV(f2->C_CreateObject(rw, data, 2, &h), CKR_USER_NOT_LOGGED_IN);
	test_login(ro, rw);
	RV(f2->C_CreateObject(ro, data, 2, &h), CKR_SESSION_READ_ONLY);
	keygen(ro, rw, &rsa_pub, &rsa_priv, &ec_pub, &ec_priv);
	rsa = pubkey_of(ro, rsa_pub);
	cert = test_cert(ro, rw, rsa);
	EVP_PKEY_free(rsa);
	test_find_attrs(ro, rsa_pub, rsa_priv);
	test_sign(ro, rsa_pub, rsa_priv, ec_pub, ec_priv);

	RV(f2->C_GenerateRandom(ro, rnd, sizeof(rnd)), CKR_OK);
	RV(f2->C_GenerateRandom(ro, NULL, 4), CKR_ARGUMENTS_BAD);
	RV(f2->C_SeedRandom(ro, rnd, 4), CKR_RANDOM_SEED_NOT_SUPPORTED);
	RV(f2->C_EncryptInit(ro, &sha, rsa_pub), CKR_FUNCTION_NOT_SUPPORTED);
	RV(f2->C_EncryptInit(777, &sha, rsa_pub), CKR_SESSION_HANDLE_INVALID);

	RV(f2->C_DestroyObject(ro, cert), CKR_SESSION_READ_ONLY);
	RV(f2->C_DestroyObject(rw, rsa_pub), CKR_ACTION_PROHIBITED);
	RV(f2->C_DestroyObject(rw, cert), CKR_OK);
	RV(f2->C_DestroyObject(rw, cert), CKR_OBJECT_HANDLE_INVALID);
	RV(f2->C_SetAttributeValue(rw, rsa_pub, data, 1), CKR_ACTION_PROHIBITED);
	RV(f2->C_DestroyObject(rw, ec_priv), CKR_OK);
	RV(f2->C_GetAttributeValue(ro, ec_pub, tpk, 1), CKR_OBJECT_HANDLE_INVALID);

	test_fork();
	RV(f2->C_GetSessionInfo(ro, &(CK_SESSION_INFO){ 0 }), CKR_OK);

	RV(f2->C_Logout(ro), CKR_OK);
	RV(f2->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "RW public after logout");
	find_one(ro, tpk, 1, &count);
	ok(count == 0, "private keys hidden after logout");
	RV(f2->C_GetAttributeValue(ro, rsa_priv, tpk, 1), CKR_OBJECT_HANDLE_INVALID);
	RV(f2->C_CloseSession(ro), CKR_OK);
	RV(f2->C_CloseSession(ro), CKR_SESSION_HANDLE_INVALID);
	RV(f2->C_CloseAllSessions(slot), CKR_OK);
	RV(f2->C_GetSessionInfo(rw, &(CK_SESSION_INFO){ 0 }), CKR_SESSION_HANDLE_INVALID);
	RV(f2->C_Finalize(NULL), CKR_OK);
	RV(f2->C_GetInfo(&(CK_INFO){ 0 }), CKR_CRYPTOKI_NOT_INITIALIZED);
	return h_finish(mod);
}
