/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lockout and recovery through the built module (TAP), on an in-process virtual token
 * personalised with the RECOVERY.md master key: user PIN lockout flags, a locked token that
 * can still be read (no write: the state file keeps its bytes), unblock requests through the
 * vendor interface, C_Login(CKU_SO, response code) + C_InitPIN, typos caught on the host
 * with no APDU, wrong codes spending unblock tries, termination, and
 * CKA_CERTIFICATE_CATEGORY. The expected response codes are computed here with the agency's
 * functions (include/recovery.h). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness.h"
#include "recovery.h"

static CK_FUNCTION_LIST_3_0_PTR f;
static const struct vnp_ext_functions *ext;
static CK_SLOT_ID slot;
static char state_path[256], away_path[256], log_path[256];
static char used_code[VNP_CODE_MAX]; /* a response code typed in C_Login: not in the log */
static CK_BBOOL yes = CK_TRUE;
static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* RECOVERY.md worked example */
static const uint8_t master[32] = { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
				    11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
				    22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };
static const uint8_t serial[8] = { 0x56, 0x54, 0, 0, 0, 0, 0, 0x03 };
#define SERIAL_HEX "5654000000000003"

#define PIN1 "123456"
#define PIN_NEW "24681357"
#define PIN_NEW2 "97531864"
#define SO_STATE_FLAGS (CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_LOCKED)
#define USER_STATE_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)

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

static struct vnp_ext_pin_counters counters(void)
{
	struct vnp_ext_pin_counters c = { -100, -100, -100, -100 };

	if (ext->get_pin_counters(slot, &c) != CKR_OK)
		c.user_tries_left = c.unblock_tries_left = -100;
	return c;
}

static CK_STATE session_state(CK_SESSION_HANDLE h)
{
	CK_SESSION_INFO si;

	return f->C_GetSessionInfo(h, &si) == CKR_OK ? si.state : (CK_STATE)-1;
}

static CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE u, const char *pin)
{
	return f->C_Login(h, u, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

static CK_RV init_pin(CK_SESSION_HANDLE h, const char *pin)
{
	return f->C_InitPIN(h, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

static CK_RV open_rw(CK_SESSION_HANDLE *h)
{
	return f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, h);
}

/* The agency's answer to a request: the response code for challenge. */
static void answer(const uint8_t challenge[7], char code[VNP_CODE_MAX])
{
	uint8_t key[32], resp[10];

	code[0] = 0;
	if (vnp_recovery_token_key(master, serial, key) != 0 ||
	    vnp_recovery_response(key, serial, challenge, resp) != 0 ||
	    vnp_code_encode(resp, sizeof(resp), code, VNP_CODE_MAX) != 0)
		ok(0, "agency functions failed");
}

/* A well-formed code (right check character) that is not the answer. */
static void wrong_answer(const uint8_t challenge[7], unsigned salt, char code[VNP_CODE_MAX])
{
	uint8_t key[32], resp[10];

	code[0] = 0;
	if (vnp_recovery_token_key(master, serial, key) != 0 ||
	    vnp_recovery_response(key, serial, challenge, resp) != 0)
		ok(0, "agency functions failed");
	resp[9] ^= (uint8_t)(1 + salt);
	resp[0] ^= (uint8_t)(salt >> 8);
	if (vnp_code_encode(resp, sizeof(resp), code, VNP_CODE_MAX) != 0)
		ok(0, "encode failed");
}

static uint8_t *read_file(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	*ret_len = 0;
	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) == (size_t)n)
			*ret_len = (size_t)n;
	}
	fclose(fp);
	return buf;
}

/* A self-signed P-256 certificate, DER (caller frees with OPENSSL_free). */
static unsigned char *make_cert(const char *cn, int *ret_len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char *der = NULL;

	*ret_len = 0;
	if (!k || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, k, EVP_sha256()) > 0)
		*ret_len = i2d_X509(x, &der);
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

static CK_RV create_cert(CK_SESSION_HANDLE h, const char *cn, const CK_BYTE *id, CK_ULONG id_len,
			 const CK_ULONG *category, CK_OBJECT_HANDLE *ret)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	int len = 0;
	unsigned char *der = make_cert(cn, &len);
	CK_ATTRIBUTE t[7] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_TOKEN, &yes, 1 },
		{ CKA_VALUE, der, (CK_ULONG)len },
		{ CKA_LABEL, (char *)cn, (CK_ULONG)strlen(cn) },
	};
	CK_ULONG n = 5;
	CK_RV rv;

	if (id)
		t[n++] = (CK_ATTRIBUTE){ CKA_ID, (CK_BYTE *)id, id_len };
	if (category)
		t[n++] = (CK_ATTRIBUTE){ CKA_CERTIFICATE_CATEGORY, (CK_ULONG *)category,
					 sizeof(*category) };
	rv = der ? f->C_CreateObject(h, t, n, ret) : CKR_GENERAL_ERROR;
	OPENSSL_free(der);
	return rv;
}

static CK_ULONG cert_category(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
	CK_ULONG cat = 99;
	CK_ATTRIBUTE a = { CKA_CERTIFICATE_CATEGORY, &cat, sizeof(cat) };

	return f->C_GetAttributeValue(h, o, &a, 1) == CKR_OK ? cat : 98;
}

static CK_RV sign_ecdsa(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key)
{
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32] = { 1, 2, 3 }, sig[128];
	CK_ULONG slen = sizeof(sig);
	CK_RV rv = f->C_SignInit(h, &m, key);

	return rv != CKR_OK ? rv : f->C_Sign(h, hash, sizeof(hash), sig, &slen);
}

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) },
			      { CKA_LABEL, (char *)label, (CK_ULONG)strlen(label) } };
	CK_OBJECT_HANDLE out[4];
	CK_ULONG n = 0;

	if (f->C_FindObjectsInit(h, t, 2) != CKR_OK)
		return 0;
	if (f->C_FindObjects(h, out, 4, &n) != CKR_OK)
		n = 0;
	f->C_FindObjectsFinal(h);
	return n == 1 ? out[0] : 0;
}

/* Finalize and initialise again: the next call SELECTs the token afresh. */
static void restart(void)
{
	CK_SLOT_ID list[4];
	CK_ULONG n = 4;

	RV(f->C_Finalize(NULL), CKR_OK);
	RV(f->C_Initialize(NULL), CKR_OK);
	RV(f->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
	slot = list[0];
}

/* ---- 1: the fresh token; key and certificates; CKA_CERTIFICATE_CATEGORY ---- */
static void test_setup_objects(void)
{
	struct vnp_ext_token_details d;
	struct vnp_ext_pin_counters c;
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BYTE id = 0x51, other = 0x77;
	CK_ATTRIBUTE tpub[] = { { CKA_TOKEN, &yes, 1 },
				{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE tpriv[] = { { CKA_SIGN, &yes, 1 }, { CKA_ID, &id, 1 },
				 { CKA_LABEL, (char *)"rec key", 7 } };
	CK_ULONG authority = 2, user = 1, bad = 4;
	CK_OBJECT_HANDLE pub, priv, ca, mine, loose, h;
	CK_SESSION_HANDLE rw;
	CK_FLAGS fl;

	memset(&d, 0, sizeof(d));
	RV(ext->get_token_details(slot, &d), CKR_OK);
	ok(d.device_type == VNPKI_DEVICE_PKI_TOKEN && d.serial_len == 8 &&
		   !memcmp(d.serial, serial, 8),
	   "details: PKI token, serial " SERIAL_HEX);
	ok(!d.terminated && !d.unblock_pending && d.pin_initial,
	   "details: not terminated, no request, initial PIN");
	RV(ext->get_token_details(slot, NULL), CKR_ARGUMENTS_BAD);
	RV(ext->get_token_details(99, &d), CKR_SLOT_ID_INVALID);
	c = counters();
	ok(c.user_tries_left == 3 && c.user_tries_max == 3 && c.unblock_tries_left == 10 &&
		   c.unblock_tries_max == 10,
	   "counters: user %d/%d, unblock %d/%d", c.user_tries_left, c.user_tries_max,
	   c.unblock_tries_left, c.unblock_tries_max);
	fl = token_flags();
	ok(!(fl & (SO_STATE_FLAGS | USER_STATE_FLAGS)) && (fl & CKF_USER_PIN_TO_BE_CHANGED),
	   "fresh token flags 0x%lx", (unsigned long)fl);

	RV(open_rw(&rw), CKR_OK);
	RV(login(rw, CKU_USER, PIN1), CKR_OK);
	RV(f->C_GenerateKeyPair(rw, &m, tpub, 2, tpriv, 3, &pub, &priv), CKR_OK);
	RV(create_cert(rw, "rec CA", NULL, 0, &authority, &ca), CKR_OK);
	RV(create_cert(rw, "rec user", &id, 1, &user, &mine), CKR_OK);
	RV(create_cert(rw, "rec loose", &other, 1, NULL, &loose), CKR_OK);
	RV(create_cert(rw, "rec bad", NULL, 0, &bad, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	ok(cert_category(rw, ca) == 2, "CA certificate: category 2 (%lu)", cert_category(rw, ca));
	ok(cert_category(rw, mine) == 1, "certificate of a key: category 1");
	ok(cert_category(rw, loose) == 0, "other certificate: category 0");
	RV(f->C_Logout(rw), CKR_OK);
	RV(f->C_CloseSession(rw), CKR_OK);
	/* the category comes back from the card's directory */
	restart();
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	ca = find_one(h, CKO_CERTIFICATE, "rec CA");
	mine = find_one(h, CKO_CERTIFICATE, "rec user");
	ok(ca && cert_category(h, ca) == 2, "after restart: CA certificate category 2");
	ok(mine && cert_category(h, mine) == 1, "after restart: user certificate category 1");
	{
		CK_ULONG want = 2;
		CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
		CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) },
				      { CKA_CERTIFICATE_CATEGORY, &want, sizeof(want) } };
		CK_OBJECT_HANDLE out[4];
		CK_ULONG n = 0;

		RV(f->C_FindObjectsInit(h, t, 2), CKR_OK);
		RV(f->C_FindObjects(h, out, 4, &n), CKR_OK);
		RV(f->C_FindObjectsFinal(h), CKR_OK);
		ok(n == 1 && out[0] == ca, "find by category 2: the CA certificate only (%lu)",
		   (unsigned long)n);
	}
	RV(f->C_CloseSession(h), CKR_OK);
}

/* ---- 2: lockout by wrong PINs ---- */
static void test_lockout(void)
{
	static const struct {
		CK_RV rv;
		CK_FLAGS flags;
		int left;
	} steps[] = {
		{ CKR_PIN_INCORRECT, CKF_USER_PIN_COUNT_LOW, 2 },
		{ CKR_PIN_INCORRECT, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY, 1 },
		{ CKR_PIN_LOCKED, CKF_USER_PIN_LOCKED, 0 },
	};
	CK_SESSION_HANDLE h;
	struct vnp_ext_apdu_stats st;

	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CK_FLAGS fl;

		RV(ext->reset_apdu_stats(slot), CKR_OK);
		RV(login(h, CKU_USER, "000000"), steps[i].rv);
		ok(apdus() == 1, "wrong PIN %zu: one APDU (%llu)", i + 1,
		   (unsigned long long)apdus());
		fl = token_flags();
		ok((fl & USER_STATE_FLAGS) == steps[i].flags, "after %zu wrong: flags 0x%lx", i + 1,
		   (unsigned long)(fl & USER_STATE_FLAGS));
		ok(!(fl & SO_STATE_FLAGS), "no SO flag");
		ok(counters().user_tries_left == steps[i].left, "tries left %d",
		   counters().user_tries_left);
	}
	/* the right PIN on a locked token: refused, and it spends nothing */
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(login(h, CKU_USER, PIN1), CKR_PIN_LOCKED);
	memset(&st, 0, sizeof(st));
	RV(ext->get_apdu_stats(slot, &st), CKR_OK);
	ok(st.apdus <= 1 && st.by_ins[0x24] == 0 && st.by_ins[0x2C] == 0,
	   "locked: at most one VERIFY (%llu)", (unsigned long long)st.apdus);
	ok(session_state(h) == CKS_RO_PUBLIC_SESSION, "still public");
	RV(f->C_CloseSession(h), CKR_OK);
}

/* ---- 3: a locked token reads but does not write ---- */
static void test_locked_reads(void)
{
	struct vnp_ext_apdu_stats st;
	struct vnp_ext_pin_counters c;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE out[16], ca;
	CK_BYTE buf[2048];
	CK_ATTRIBUTE a = { CKA_VALUE, buf, sizeof(buf) };
	CK_ULONG n = 0;
	uint8_t *before, *after;
	size_t blen, alen;

	before = read_file(state_path, &blen);
	restart();
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(f->C_GetTokenInfo(slot, &ti), CKR_OK);
	ok(ti.flags & CKF_USER_PIN_LOCKED, "locked after SELECT afresh: flags 0x%lx",
	   (unsigned long)ti.flags);
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	RV(f->C_FindObjectsInit(h, NULL, 0), CKR_OK);
	RV(f->C_FindObjects(h, out, 16, &n), CKR_OK);
	RV(f->C_FindObjectsFinal(h), CKR_OK);
	ok(n == 4, "public key and three certificates listed (%lu)", (unsigned long)n);
	ca = find_one(h, CKO_CERTIFICATE, "rec CA");
	RV(f->C_GetAttributeValue(h, ca, &a, 1), CKR_OK);
	ok(a.ulValueLen > 100 && buf[0] == 0x30, "certificate read (%lu bytes)",
	   (unsigned long)a.ulValueLen);
	c = counters();
	ok(c.user_tries_left == 0 && c.unblock_tries_left == 10, "counters %d, %d",
	   c.user_tries_left, c.unblock_tries_left);
	memset(&st, 0, sizeof(st));
	RV(ext->get_apdu_stats(slot, &st), CKR_OK);
	ok(st.by_ins[0x24] + st.by_ins[0x2C] + st.by_ins[0x50] + st.by_ins[0xE0] +
			   st.by_ins[0xE4] + st.by_ins[0x47] ==
		   0,
	   "no writing command (%llu APDUs)", (unsigned long long)st.apdus);
	RV(f->C_CloseSession(h), CKR_OK);
	after = read_file(state_path, &alen);
	ok(before && after && blen == alen && !memcmp(before, after, blen),
	   "state file unchanged (%zu / %zu bytes)", blen, alen);
	free(before);
	free(after);
}

/* ---- 4: request, typos, a wrong code, the right code ---- */
static void test_unblock(void)
{
	struct vnp_ext_unblock_request req;
	struct vnp_ext_token_details d;
	struct vnp_ext_apdu_stats st;
	char code[VNP_CODE_MAX], bad[VNP_CODE_MAX];
	CK_SESSION_HANDLE ro, rw, h2;
	CK_OBJECT_HANDLE priv;
	CK_FLAGS fl;
	size_t len;
	uint8_t reqbytes[15], back[15];

	memset(&req, 0, sizeof(req));
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(ext->create_unblock_request(slot, &req), CKR_OK);
	memset(&st, 0, sizeof(st));
	RV(ext->get_apdu_stats(slot, &st), CKR_OK);
	ok(st.apdus == 1 && st.by_ins[0x50] == 1, "request: one GET UNBLOCK CHALLENGE");
	ok(strlen(req.request_code) == 31 && !memcmp(req.serial, serial, 8),
	   "request code %s", req.request_code);
	memcpy(reqbytes, req.serial, 8);
	memcpy(reqbytes + 8, req.challenge, 7);
	ok(vnp_code_decode(req.request_code, back, 15) == 0 && !memcmp(back, reqbytes, 15),
	   "request code = serial || challenge");
	RV(ext->get_token_details(slot, &d), CKR_OK);
	ok(d.unblock_pending && !d.terminated, "details: request pending");
	RV(ext->create_unblock_request(slot, NULL), CKR_ARGUMENTS_BAD);
	answer(req.challenge, code);
	memcpy(used_code, code, sizeof(used_code));

	/* SO login rules */
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	RV(open_rw(&rw), CKR_OK);
	RV(login(rw, CKU_SO, code), CKR_SESSION_READ_ONLY_EXISTS);
	RV(f->C_CloseSession(ro), CKR_OK);

	/* typos: caught on the host, no APDU, nothing spent */
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	len = strlen(code);
	memcpy(bad, code, len + 1);
	bad[len - 1] = bad[len - 1] == 'T' ? 'U' : 'T'; /* check character */
	RV(login(rw, CKU_SO, bad), CKR_PIN_INCORRECT);
	memcpy(bad, code, len + 1);
	bad[2] = bad[2] == '7' ? '8' : '7';            /* one data character */
	RV(login(rw, CKU_SO, bad), CKR_PIN_INCORRECT);
	RV(login(rw, CKU_SO, "BE78-QKEW-WV2A-14HP-!"), CKR_PIN_INVALID);
	RV(login(rw, CKU_SO, "BE78-QKEW-WV2A"), CKR_PIN_INVALID);
	RV(f->C_Login(rw, CKU_SO, (CK_UTF8CHAR_PTR) "BE78\0QKEW", 9), CKR_PIN_INVALID);
	ok(apdus() == 0, "typos: no APDU (%llu)", (unsigned long long)apdus());
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "not logged in after typos");
	ok(counters().unblock_tries_left == 10, "no unblock try spent");

	/* a well-formed wrong code: the token spends one unblock try */
	wrong_answer(req.challenge, 0, bad);
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(login(rw, CKU_SO, bad), CKR_OK);
	ok(apdus() == 0, "SO login: no APDU");
	ok(session_state(rw) == CKS_RW_SO_FUNCTIONS, "SO state");
	RV(login(rw, CKU_SO, bad), CKR_USER_ALREADY_LOGGED_IN);
	RV(login(rw, CKU_USER, PIN1), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h2),
	   CKR_SESSION_READ_WRITE_SO_EXISTS);
	RV(sign_ecdsa(rw, 1), CKR_USER_NOT_LOGGED_IN);
	RV(f->C_SetPIN(rw, (CK_UTF8CHAR_PTR)PIN1, 6, (CK_UTF8CHAR_PTR)PIN_NEW, 8),
	   CKR_FUNCTION_NOT_SUPPORTED);
	RV(init_pin(rw, "123"), CKR_PIN_LEN_RANGE);
	RV(init_pin(rw, "12345678901234567"), CKR_PIN_LEN_RANGE);
	ok(apdus() == 0, "SO state refusals and short PINs: no APDU (%llu)",
	   (unsigned long long)apdus());
	RV(init_pin(rw, PIN_NEW), CKR_PIN_INCORRECT);
	memset(&st, 0, sizeof(st));
	RV(ext->get_apdu_stats(slot, &st), CKR_OK);
	ok(st.apdus == 1 && st.by_ins[0x2C] == 1, "one RESET RETRY COUNTER (%llu)",
	   (unsigned long long)st.apdus);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "wrong code: SO login gone");
	RV(init_pin(rw, PIN_NEW), CKR_USER_NOT_LOGGED_IN);
	fl = token_flags();
	ok((fl & SO_STATE_FLAGS) == CKF_SO_PIN_COUNT_LOW, "SO flags COUNT_LOW (0x%lx)",
	   (unsigned long)fl);
	ok((fl & USER_STATE_FLAGS) == CKF_USER_PIN_LOCKED, "user still locked");
	ok(counters().unblock_tries_left == 9, "9 unblock tries left");

	/* the right code */
	RV(login(rw, CKU_SO, code), CKR_OK);
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	RV(init_pin(rw, PIN_NEW), CKR_OK);
	ok(apdus() == 1, "C_InitPIN: one APDU (%llu)", (unsigned long long)apdus());
	ok(session_state(rw) == CKS_RW_SO_FUNCTIONS, "SO stays logged in until C_Logout");
	fl = token_flags();
	ok(!(fl & (USER_STATE_FLAGS | SO_STATE_FLAGS | CKF_USER_PIN_TO_BE_CHANGED)),
	   "flags cleared (0x%lx)", (unsigned long)fl);
	RV(init_pin(rw, PIN_NEW2), CKR_FUNCTION_FAILED); /* the code was used */
	RV(f->C_Logout(rw), CKR_OK);
	RV(f->C_Logout(rw), CKR_USER_NOT_LOGGED_IN);
	RV(ext->get_token_details(slot, &d), CKR_OK);
	ok(!d.unblock_pending && !d.pin_initial, "details: no request, PIN not initial");
	ok(counters().user_tries_left == 3 && counters().unblock_tries_left == 10,
	   "counters back to 3 and 10");
	RV(login(rw, CKU_USER, PIN_NEW), CKR_OK);
	priv = find_one(rw, CKO_PRIVATE_KEY, "rec key");
	ok(priv != 0, "private key found");
	RV(sign_ecdsa(rw, priv), CKR_OK);
	RV(f->C_Logout(rw), CKR_OK);

	/* the used code again: no request pending, nothing spent */
	RV(login(rw, CKU_SO, code), CKR_OK);
	RV(init_pin(rw, PIN_NEW2), CKR_FUNCTION_FAILED);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "no request: SO login gone");
	ok(counters().unblock_tries_left == 10, "no request: nothing spent");
	/* C_CloseAllSessions ends an SO login */
	RV(login(rw, CKU_SO, code), CKR_OK);
	RV(f->C_CloseAllSessions(slot), CKR_OK);
	RV(open_rw(&rw), CKR_OK);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "after C_CloseAllSessions: public");
	/* so does closing the last session */
	RV(login(rw, CKU_SO, code), CKR_OK);
	RV(f->C_CloseSession(rw), CKR_OK);
	RV(open_rw(&rw), CKR_OK);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "after the last C_CloseSession: public");
	/* and removing the token (the in-process reader sees no card while the state file is
	 * away) */
	RV(login(rw, CKU_SO, code), CKR_OK);
	ok(rename(state_path, away_path) == 0, "token pulled");
	ok(session_state(rw) == (CK_STATE)-1, "session gone with the token");
	ok(rename(away_path, state_path) == 0, "token back");
	RV(open_rw(&rw), CKR_OK);
	ok(session_state(rw) == CKS_RW_PUBLIC_SESSION, "re-inserted token: public");
	RV(f->C_CloseSession(rw), CKR_OK);
}

/* ---- 5: a second request replaces the first; ten wrong codes terminate ---- */
static void test_terminate(void)
{
	struct vnp_ext_unblock_request r1, r2;
	struct vnp_ext_token_details d;
	CK_SESSION_HANDLE rw, h;
	CK_OBJECT_HANDLE ca;
	CK_BYTE buf[2048];
	CK_ATTRIBUTE a = { CKA_VALUE, buf, sizeof(buf) };
	char code[VNP_CODE_MAX];
	CK_FLAGS fl;

	RV(ext->create_unblock_request(slot, &r1), CKR_OK);
	RV(ext->create_unblock_request(slot, &r2), CKR_OK);
	ok(strcmp(r1.request_code, r2.request_code) != 0, "a new challenge each time");
	RV(open_rw(&rw), CKR_OK);
	answer(r1.challenge, code);
	RV(login(rw, CKU_SO, code), CKR_OK);
	RV(init_pin(rw, PIN_NEW2), CKR_PIN_INCORRECT);
	ok(counters().unblock_tries_left == 9, "the first request's answer is refused");
	for (int left = 8; left >= 0; left--) {
		CK_RV want = left ? CKR_PIN_INCORRECT : CKR_PIN_LOCKED;
		CK_FLAGS so_want = left == 0 ? CKF_SO_PIN_LOCKED :
				   left == 1 ? CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY :
					       CKF_SO_PIN_COUNT_LOW;

		wrong_answer(r2.challenge, (unsigned)left + 0x100, code);
		RV(login(rw, CKU_SO, code), CKR_OK);
		RV(init_pin(rw, PIN_NEW2), want);
		fl = token_flags();
		ok((fl & SO_STATE_FLAGS) == so_want, "%d unblock tries left: SO flags 0x%lx", left,
		   (unsigned long)(fl & SO_STATE_FLAGS));
	}
	RV(ext->get_token_details(slot, &d), CKR_OK);
	ok(d.terminated && !d.unblock_pending, "details: terminated");
	RV(ext->reset_apdu_stats(slot), CKR_OK);
	answer(r2.challenge, code);
	RV(login(rw, CKU_SO, code), CKR_PIN_LOCKED);
	RV(login(rw, CKU_USER, PIN_NEW), CKR_PIN_LOCKED);
	ok(apdus() == 0, "terminated: logins refused on the host (%llu)",
	   (unsigned long long)apdus());
	RV(ext->create_unblock_request(slot, &r1), CKR_PIN_LOCKED);
	RV(f->C_CloseSession(rw), CKR_OK);

	/* still terminated when selected afresh, and still readable */
	restart();
	fl = token_flags();
	ok((fl & CKF_SO_PIN_LOCKED) != 0, "after restart: SO_PIN_LOCKED (0x%lx)",
	   (unsigned long)fl);
	RV(ext->get_token_details(slot, &d), CKR_OK);
	ok(d.terminated, "after restart: details terminated");
	ok(counters().unblock_tries_left == 0, "unblock counter 0");
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h), CKR_OK);
	RV(login(h, CKU_USER, PIN_NEW), CKR_PIN_LOCKED);
	RV(login(h, CKU_SO, code), CKR_PIN_LOCKED);
	RV(ext->create_unblock_request(slot, &r1), CKR_PIN_LOCKED);
	ca = find_one(h, CKO_CERTIFICATE, "rec CA");
	RV(f->C_GetAttributeValue(h, ca, &a, 1), CKR_OK);
	RV(f->C_CloseSession(h), CKR_OK);
}

/* ---- 6: nothing secret in the debug log ---- */
static void test_log(void)
{
	size_t n;
	uint8_t *log = read_file(log_path, &n);
	char *s = (char *)log;

	ok(log && n > 0, "log written (%zu bytes)", n);
	if (!log)
		return;
	s[n] = 0;
	ok(!strstr(s, PIN_NEW) && !strstr(s, PIN_NEW2) && !strstr(s, PIN1),
	   "no PIN in the log");
	ok(used_code[0] && !strstr(s, used_code) && strstr(s, "redacted"),
	   "response code not in the log, APDU data redacted");
	free(log);
}

static int setup_token(void)
{
	const char *dir = h_make_dir("p11r");
	char opts[512], keyp[300];
	FILE *fp;

	if (!dir)
		return -1;
	snprintf(state_path, sizeof(state_path), "%s", h_state_path());
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(away_path, sizeof(away_path), "%s/state.away", dir);
	snprintf(keyp, sizeof(keyp), "%s/master.key", dir);
	fp = fopen(keyp, "w");
	if (!fp)
		return -1;
	for (size_t i = 0; i < sizeof(master); i++)
		fprintf(fp, "%02x", master[i]);
	fprintf(fp, "\n");
	fclose(fp);
	snprintf(opts, sizeof(opts),
		 "--serial " SERIAL_HEX " --label recovery --pin " PIN1 " --recovery-key '%s'", keyp);
	if (h_init_token(opts) != 0)
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
	void *mod;

	f = h_start(setup_token, &mod, &get_if);
	if (!f)
		return 1;
	ext = h_vendor(get_if);
	if (!ext->get_token_details || !ext->create_unblock_request) {
		printf("Bail out! vendor interface without the recovery functions\n");
		return 1;
	}
	RV(f->C_Initialize(NULL), CKR_OK);
	RV(f->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
	slot = list[0];

	test_setup_objects();
	test_lockout();
	test_locked_reads();
	test_unblock();
	test_terminate();
	RV(f->C_Finalize(NULL), CKR_OK);
	test_log();

	return h_finish(mod);
}
