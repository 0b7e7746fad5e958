/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnp_sigctx: every mechanism signed by a software "card" from card_input and verified by
 * vnp_sigctx_verify and by plain OpenSSL; parameter and length errors. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "compiler.h"
#include "keys.h"

static EVP_PKEY *keys[4];
static struct vnp_pubkey pubs[4];
static const enum vnp_key_alg key_algs[4] = { VNP_ALG_RSA2048, VNP_ALG_RSA3072,
					      VNP_ALG_EC_P256, VNP_ALG_EC_P384 };

static int key_index(enum vnp_key_alg alg)
{
	for (int i = 0; i < 4; i++)
		if (key_algs[i] == alg)
			return i;
	fail();
	return -1;
}

static int setup_keys(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		keys[i] = test_key_new(key_algs[i]);
		test_pubkey_of(keys[i], key_algs[i], &pubs[i]);
	}
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

static size_t hash_len(enum vnp_hash h)
{
	return (size_t)EVP_MD_get_size(test_md(h));
}

static CK_MECHANISM_TYPE hash_ckm(enum vnp_hash h)
{
	static const CK_MECHANISM_TYPE m[] = { 0, CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384,
					       CKM_SHA512 };
	return m[h];
}

static CK_RSA_PKCS_MGF_TYPE hash_mgf(enum vnp_hash h)
{
	static const CK_RSA_PKCS_MGF_TYPE m[] = { 0, CKG_MGF1_SHA1, CKG_MGF1_SHA224,
						  CKG_MGF1_SHA256, CKG_MGF1_SHA384,
						  CKG_MGF1_SHA512 };
	return m[h];
}

/* DigestInfo built by OpenSSL's ASN.1 code (independent of the prefixes in sigctx.c). */
static size_t digest_info(enum vnp_hash h, const uint8_t *dg, size_t dg_len, uint8_t *out)
{
	X509_SIG *xs = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *os;
	uint8_t *p = out;
	int len;

	assert_non_null(xs);
	X509_SIG_getm(xs, &alg, &os);
	assert_true(X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(test_md(h))), V_ASN1_NULL,
				    NULL));
	assert_true(ASN1_OCTET_STRING_set(os, dg, (int)dg_len));
	len = i2d_X509_SIG(xs, &p);
	assert_true(len > 0);
	X509_SIG_free(xs);
	return (size_t)len;
}

enum input { IN_MSG, IN_DIGEST, IN_DIGEST_INFO };

struct sig_case {
	const char *name;
	CK_MECHANISM_TYPE mech;
	enum vnp_key_alg alg;
	enum vnp_hash hash;  /* the message digest the signature covers */
	enum input input;    /* what is fed to update */
	CK_ULONG slen;       /* PSS */
	enum vnp_sig_scheme scheme;
};

#define PKCS1 VNP_SIG_RSA_PKCS1
#define PSS VNP_SIG_RSA_PSS
#define ECDSA VNP_SIG_ECDSA

static const struct sig_case sig_cases[] = {
	{ "RSA_PKCS raw DigestInfo", CKM_RSA_PKCS, VNP_ALG_RSA2048, VNP_HASH_SHA256,
	  IN_DIGEST_INFO, 0, PKCS1 },
	{ "RSA_PKCS raw DigestInfo 3072", CKM_RSA_PKCS, VNP_ALG_RSA3072, VNP_HASH_SHA512,
	  IN_DIGEST_INFO, 0, PKCS1 },
	{ "SHA1_RSA_PKCS", CKM_SHA1_RSA_PKCS, VNP_ALG_RSA2048, VNP_HASH_SHA1, IN_MSG, 0, PKCS1 },
	{ "SHA224_RSA_PKCS", CKM_SHA224_RSA_PKCS, VNP_ALG_RSA2048, VNP_HASH_SHA224, IN_MSG, 0,
	  PKCS1 },
	{ "SHA256_RSA_PKCS", CKM_SHA256_RSA_PKCS, VNP_ALG_RSA2048, VNP_HASH_SHA256, IN_MSG, 0,
	  PKCS1 },
	{ "SHA384_RSA_PKCS", CKM_SHA384_RSA_PKCS, VNP_ALG_RSA2048, VNP_HASH_SHA384, IN_MSG, 0,
	  PKCS1 },
	{ "SHA512_RSA_PKCS", CKM_SHA512_RSA_PKCS, VNP_ALG_RSA2048, VNP_HASH_SHA512, IN_MSG, 0,
	  PKCS1 },
	{ "SHA256_RSA_PKCS 3072", CKM_SHA256_RSA_PKCS, VNP_ALG_RSA3072, VNP_HASH_SHA256, IN_MSG, 0,
	  PKCS1 },
	{ "RSA_PKCS_PSS raw SHA256", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA256,
	  IN_DIGEST, 32, PSS },
	{ "RSA_PKCS_PSS raw SHA384 salt 0", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA384,
	  IN_DIGEST, 0, PSS },
	{ "RSA_PKCS_PSS raw SHA512 max salt", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA512,
	  IN_DIGEST, 256 - 64 - 2, PSS },
	{ "SHA1_RSA_PKCS_PSS", CKM_SHA1_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA1, IN_MSG, 20,
	  PSS },
	{ "SHA224_RSA_PKCS_PSS", CKM_SHA224_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA224, IN_MSG,
	  28, PSS },
	{ "SHA256_RSA_PKCS_PSS", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA256, IN_MSG,
	  32, PSS },
	{ "SHA384_RSA_PKCS_PSS", CKM_SHA384_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA384, IN_MSG,
	  48, PSS },
	{ "SHA512_RSA_PKCS_PSS", CKM_SHA512_RSA_PKCS_PSS, VNP_ALG_RSA2048, VNP_HASH_SHA512, IN_MSG,
	  64, PSS },
	{ "SHA512_RSA_PKCS_PSS 3072 max salt", CKM_SHA512_RSA_PKCS_PSS, VNP_ALG_RSA3072,
	  VNP_HASH_SHA512, IN_MSG, 384 - 64 - 2, PSS },
	{ "ECDSA raw SHA256 P-256", CKM_ECDSA, VNP_ALG_EC_P256, VNP_HASH_SHA256, IN_DIGEST, 0,
	  ECDSA },
	{ "ECDSA raw SHA512 P-256 (truncated)", CKM_ECDSA, VNP_ALG_EC_P256, VNP_HASH_SHA512,
	  IN_DIGEST, 0, ECDSA },
	{ "ECDSA raw SHA384 P-384", CKM_ECDSA, VNP_ALG_EC_P384, VNP_HASH_SHA384, IN_DIGEST, 0,
	  ECDSA },
	{ "ECDSA raw SHA1 P-384", CKM_ECDSA, VNP_ALG_EC_P384, VNP_HASH_SHA1, IN_DIGEST, 0, ECDSA },
	{ "ECDSA_SHA1 P-256", CKM_ECDSA_SHA1, VNP_ALG_EC_P256, VNP_HASH_SHA1, IN_MSG, 0, ECDSA },
	{ "ECDSA_SHA224 P-256", CKM_ECDSA_SHA224, VNP_ALG_EC_P256, VNP_HASH_SHA224, IN_MSG, 0,
	  ECDSA },
	{ "ECDSA_SHA256 P-256", CKM_ECDSA_SHA256, VNP_ALG_EC_P256, VNP_HASH_SHA256, IN_MSG, 0,
	  ECDSA },
	{ "ECDSA_SHA384 P-256", CKM_ECDSA_SHA384, VNP_ALG_EC_P256, VNP_HASH_SHA384, IN_MSG, 0,
	  ECDSA },
	{ "ECDSA_SHA512 P-256", CKM_ECDSA_SHA512, VNP_ALG_EC_P256, VNP_HASH_SHA512, IN_MSG, 0,
	  ECDSA },
	{ "ECDSA_SHA256 P-384", CKM_ECDSA_SHA256, VNP_ALG_EC_P384, VNP_HASH_SHA256, IN_MSG, 0,
	  ECDSA },
	{ "ECDSA_SHA384 P-384", CKM_ECDSA_SHA384, VNP_ALG_EC_P384, VNP_HASH_SHA384, IN_MSG, 0,
	  ECDSA },
	{ "ECDSA_SHA512 P-384", CKM_ECDSA_SHA512, VNP_ALG_EC_P384, VNP_HASH_SHA512, IN_MSG, 0,
	  ECDSA },
};

/* Feed data in one piece (parts == 1) or in pieces of 1, 7, ... bytes. */
static void feed(struct vnp_sigctx *ctx, const uint8_t *data, size_t len, int parts)
{
	size_t off = 0, piece = 1;

	if (parts == 1) {
		assert_int_equal(vnp_sigctx_update(ctx, data, len), CKR_OK);
		return;
	}
	assert_int_equal(vnp_sigctx_update(ctx, data, 0), CKR_OK);
	while (off < len) {
		size_t n = VNP_MIN(piece, len - off);

		assert_int_equal(vnp_sigctx_update(ctx, data + off, n), CKR_OK);
		off += n;
		piece = piece * 3 + 4;
	}
}

static void fill_mech(const struct sig_case *c, CK_MECHANISM *m, CK_RSA_PKCS_PSS_PARAMS *pss)
{
	m->mechanism = c->mech;
	m->pParameter = NULL;
	m->ulParameterLen = 0;
	if (c->scheme == PSS) {
		pss->hashAlg = hash_ckm(c->hash);
		pss->mgf = hash_mgf(c->hash);
		pss->sLen = c->slen;
		m->pParameter = pss;
		m->ulParameterLen = sizeof(*pss);
	}
}

/* Plain OpenSSL verification of sig over msg (raw r || s converted for ECDSA). */
static int openssl_verify(const struct sig_case *c, EVP_PKEY *pkey, const uint8_t *msg,
			  size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t der[128], *p = der;
	int ok;

	assert_non_null(md);
	assert_int_equal(EVP_DigestVerifyInit(md, &pctx, test_md(c->hash), NULL, pkey), 1);
	if (c->scheme == PSS) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, test_md(c->hash)) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)c->slen) > 0);
	}
	if (c->scheme == ECDSA) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		int len;

		assert_true(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)sig_len / 2, NULL),
					   BN_bin2bn(sig + sig_len / 2, (int)sig_len / 2, NULL)));
		len = i2d_ECDSA_SIG(es, &p);
		assert_true(len > 0);
		ECDSA_SIG_free(es);
		sig = der;
		sig_len = (size_t)len;
	}
	ok = EVP_DigestVerify(md, sig, sig_len, msg, msg_len);
	EVP_MD_CTX_free(md);
	return ok;
}

static void run_case(const struct sig_case *c, int parts)
{
	int ki = key_index(c->alg);
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM mech;
	struct vnp_sigctx *ctx = NULL, *vctx = NULL;
	struct vnp_sign_params params;
	uint8_t msg[1000], dg[64], di[128], in[VNP_RSA_MAX_BYTES], sig[VNP_RSA_MAX_BYTES + 1];
	uint8_t expect[128];
	size_t in_len = sizeof(in), dg_len = hash_len(c->hash), di_len, feed_len, expect_len;
	size_t sig_len, order_len = c->alg == VNP_ALG_EC_P384 ? 48 : 32;
	const uint8_t *fed;

	print_message("# %s (%d part%s)\n", c->name, parts, parts == 1 ? "" : "s");
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + c->mech);
	assert_int_equal(EVP_Digest(msg, sizeof(msg), dg, NULL, test_md(c->hash), NULL), 1);
	di_len = digest_info(c->hash, dg, dg_len, di);
	switch (c->input) {
	case IN_MSG: fed = msg; feed_len = sizeof(msg); break;
	case IN_DIGEST: fed = dg; feed_len = dg_len; break;
	default: fed = di; feed_len = di_len; break;
	}
	/* what the card must get: DigestInfo for PKCS#1, the hash for PSS and ECDSA */
	if (c->scheme == PKCS1) {
		memcpy(expect, di, di_len);
		expect_len = di_len;
	} else {
		memcpy(expect, dg, dg_len);
		expect_len = dg_len;
	}

	fill_mech(c, &mech, &pss);
	assert_int_equal(vnp_sigctx_new(&mech, &pubs[ki], &ctx), CKR_OK);
	feed(ctx, fed, feed_len, parts);
	memset(&params, 0xa5, sizeof(params));
	assert_int_equal(vnp_sigctx_card_input(ctx, in, &in_len, &params), CKR_OK);
	assert_int_equal(in_len, expect_len);
	assert_memory_equal(in, expect, expect_len);
	assert_int_equal(params.scheme, c->scheme);
	if (c->scheme == PSS) {
		assert_int_equal(params.pss_hash, c->hash);
		assert_int_equal(params.pss_mgf1_hash, c->hash);
		assert_int_equal(params.pss_salt_len, c->slen);
	}

	sig_len = test_card_sign(keys[ki], &params, order_len, in, in_len, sig, sizeof(sig) - 1);
	assert_int_equal(sig_len, vnp_sigctx_sig_len(ctx));
	assert_int_equal(sig_len, c->scheme == ECDSA ? 2 * order_len
						     : (size_t)EVP_PKEY_get_size(keys[ki]));

	/* the signing context can verify its own result */
	assert_int_equal(vnp_sigctx_verify(ctx, sig, sig_len), CKR_OK);
	/* a fresh verify operation, multi-part the other way round */
	assert_int_equal(vnp_sigctx_new(&mech, &pubs[ki], &vctx), CKR_OK);
	feed(vctx, fed, feed_len, parts == 1 ? 3 : 1);
	assert_int_equal(vnp_sigctx_verify(vctx, sig, sig_len), CKR_OK);
	assert_int_equal(vnp_sigctx_verify(vctx, sig, sig_len - 1), CKR_SIGNATURE_LEN_RANGE);
	sig[sig_len] = 0;
	assert_int_equal(vnp_sigctx_verify(vctx, sig, sig_len + 1), CKR_SIGNATURE_LEN_RANGE);
	assert_int_equal(vnp_sigctx_verify(vctx, NULL, 0), CKR_SIGNATURE_LEN_RANGE);
	{
		const size_t flips[] = { 0, sig_len / 2 - 1, sig_len / 2, sig_len - 1 };

		for (size_t i = 0; i < VNP_ARRAY_SIZE(flips); i++) {
			sig[flips[i]] ^= 0x10;
			assert_int_equal(vnp_sigctx_verify(vctx, sig, sig_len),
					 CKR_SIGNATURE_INVALID);
			assert_int_equal(openssl_verify(c, keys[ki], msg, sizeof(msg), sig,
							sig_len), 0);
			sig[flips[i]] ^= 0x10;
		}
	}
	assert_int_equal(vnp_sigctx_verify(vctx, sig, sig_len), CKR_OK);
	/* plain OpenSSL agrees, on the original message */
	assert_int_equal(openssl_verify(c, keys[ki], msg, sizeof(msg), sig, sig_len), 1);
	vnp_sigctx_free(vctx);
	vnp_sigctx_free(ctx);
}

static void test_sign_verify_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(sig_cases); i++) {
		run_case(&sig_cases[i], 1);
		run_case(&sig_cases[i], 3);
	}
}

/* A wrong-message signature fails for every mechanism (and plain OpenSSL agrees). */
static void test_verify_other_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(sig_cases); i++) {
		const struct sig_case *c = &sig_cases[i];
		int ki = key_index(c->alg);
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_MECHANISM mech;
		struct vnp_sigctx *ctx = NULL;
		struct vnp_sign_params params;
		uint8_t in[VNP_RSA_MAX_BYTES], in2[VNP_RSA_MAX_BYTES], sig[VNP_RSA_MAX_BYTES];
		uint8_t data[64] = { 1, 2, 3 };
		size_t in_len = sizeof(in), in2_len = sizeof(in2), sig_len;
		size_t feed_len = c->input == IN_MSG ? sizeof(data) : hash_len(c->hash);

		if (c->input == IN_DIGEST_INFO)
			continue;
		fill_mech(c, &mech, &pss);
		assert_int_equal(vnp_sigctx_new(&mech, &pubs[ki], &ctx), CKR_OK);
		assert_int_equal(vnp_sigctx_update(ctx, data, feed_len), CKR_OK);
		assert_int_equal(vnp_sigctx_card_input(ctx, in, &in_len, &params), CKR_OK);
		sig_len = test_card_sign(keys[ki], &params, c->alg == VNP_ALG_EC_P384 ? 48 : 32,
					 in, in_len, sig, sizeof(sig));
		vnp_sigctx_free(ctx);

		data[0] ^= 1; /* not the tail: raw ECDSA input is truncated to the order */
		assert_int_equal(vnp_sigctx_new(&mech, &pubs[ki], &ctx), CKR_OK);
		assert_int_equal(vnp_sigctx_update(ctx, data, feed_len), CKR_OK);
		assert_int_equal(vnp_sigctx_card_input(ctx, in2, &in2_len, NULL), CKR_OK);
		assert_memory_not_equal(in, in2, in_len);
		assert_int_equal(vnp_sigctx_verify(ctx, sig, sig_len), CKR_SIGNATURE_INVALID);
		vnp_sigctx_free(ctx);
	}
}

/* Raw CKM_RSA_PKCS with arbitrary data up to k - 11 bytes: the recovered block is checked
 * byte for byte. */
static void test_rsa_pkcs_raw_data(void **state)
{
	static const size_t lens[] = { 0, 1, 100, 245 };
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	uint8_t data[245], in[VNP_RSA_MAX_BYTES], sig[VNP_RSA_MAX_BYTES], rec[VNP_RSA_MAX_BYTES];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xff - i);
	for (size_t i = 0; i < VNP_ARRAY_SIZE(lens); i++) {
		struct vnp_sigctx *ctx = NULL;
		struct vnp_sign_params params;
		size_t in_len = sizeof(in), sig_len, rec_len = sizeof(rec);
		EVP_PKEY_CTX *pctx;

		print_message("# %zu bytes\n", lens[i]);
		assert_int_equal(vnp_sigctx_new(&mech, &pubs[0], &ctx), CKR_OK);
		assert_int_equal(vnp_sigctx_update(ctx, data, lens[i]), CKR_OK);
		assert_int_equal(vnp_sigctx_card_input(ctx, in, &in_len, &params), CKR_OK);
		assert_int_equal(in_len, lens[i]);
		assert_int_equal(params.scheme, VNP_SIG_RSA_PKCS1);
		sig_len = test_card_sign(keys[0], &params, 0, in, in_len, sig, sizeof(sig));
		assert_int_equal(vnp_sigctx_verify(ctx, sig, sig_len), CKR_OK);
		sig[sig_len - 1] ^= 1;
		assert_int_equal(vnp_sigctx_verify(ctx, sig, sig_len), CKR_SIGNATURE_INVALID);
		sig[sig_len - 1] ^= 1;
		/* OpenSSL recovers exactly the data */
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, keys[0], NULL);
		assert_int_equal(EVP_PKEY_verify_recover_init(pctx), 1);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0);
		assert_int_equal(EVP_PKEY_verify_recover(pctx, rec, &rec_len, sig, sig_len), 1);
		assert_int_equal(rec_len, lens[i]);
		assert_memory_equal(rec, data, lens[i]);
		EVP_PKEY_CTX_free(pctx);
		vnp_sigctx_free(ctx);
	}
}

/* Raw RSA-3072 CKM_RSA_PKCS input (373 bytes) does not fit 128 bytes: card_input says so. */
static void test_card_input_buffer(void **state)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	struct vnp_sigctx *ctx = NULL;
	uint8_t data[384 - 11] = { 0 }, out[VNP_RSA_MAX_BYTES];
	size_t out_len = 128;

	(void)state;
	assert_int_equal(vnp_sigctx_new(&mech, &pubs[1], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_sig_len(ctx), 384);
	assert_int_equal(vnp_sigctx_update(ctx, data, sizeof(data)), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 1), CKR_DATA_LEN_RANGE);
	assert_int_equal(vnp_sigctx_card_input(ctx, out, &out_len, NULL), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(out_len, sizeof(data));
	assert_int_equal(vnp_sigctx_card_input(ctx, out, &out_len, NULL), CKR_OK);
	assert_int_equal(out_len, sizeof(data));
	vnp_sigctx_free(ctx);
}

struct param_case {
	const char *name;
	CK_MECHANISM_TYPE mech;
	enum vnp_key_alg alg;
	int pss; /* 0: no params, 1: PSS params below, 2: non-NULL pointer with param_len */
	CK_MECHANISM_TYPE hash_alg;
	CK_RSA_PKCS_MGF_TYPE mgf;
	CK_ULONG slen;
	CK_ULONG param_len; /* 0: sizeof(CK_RSA_PKCS_PSS_PARAMS) when pss == 1 */
	CK_RV rv;
};

static const struct param_case param_cases[] = {
	{ "PSS ok", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA256, CKG_MGF1_SHA256, 32,
	  0, CKR_OK },
	{ "PSS wrong hash", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA384,
	  CKG_MGF1_SHA384, 32, 0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS wrong MGF", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA256, CKG_MGF1_SHA1,
	  32, 0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS raw wrong MGF", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA384, CKG_MGF1_SHA256,
	  32, 0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS MGF 0", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA256, 0, 32, 0,
	  CKR_MECHANISM_PARAM_INVALID },
	{ "PSS unknown hash", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_MD5, CKG_MGF1_SHA256, 16,
	  0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS max salt 2048", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA256, CKG_MGF1_SHA256,
	  256 - 32 - 2, 0, CKR_OK },
	{ "PSS salt too big 2048", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA256,
	  CKG_MGF1_SHA256, 256 - 32 - 1, 0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS salt too big 3072", CKM_SHA512_RSA_PKCS_PSS, VNP_ALG_RSA3072, 1, CKM_SHA512,
	  CKG_MGF1_SHA512, 384 - 64 - 1, 0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS huge salt", CKM_SHA1_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA_1, CKG_MGF1_SHA1,
	  (CK_ULONG)-1, 0, CKR_MECHANISM_PARAM_INVALID },
	{ "PSS NULL params", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_RSA2048, 0, 0, 0, 0, 0,
	  CKR_MECHANISM_PARAM_INVALID },
	{ "PSS raw NULL params", CKM_RSA_PKCS_PSS, VNP_ALG_RSA2048, 0, 0, 0, 0, 0,
	  CKR_MECHANISM_PARAM_INVALID },
	{ "PSS short params", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_RSA2048, 1, CKM_SHA256,
	  CKG_MGF1_SHA256, 32, sizeof(CK_RSA_PKCS_PSS_PARAMS) - 1, CKR_MECHANISM_PARAM_INVALID },
	{ "PKCS1 params len 0", CKM_SHA256_RSA_PKCS, VNP_ALG_RSA2048, 2, 0, 0, 0, 0, CKR_OK },
	{ "PKCS1 params len 4", CKM_SHA256_RSA_PKCS, VNP_ALG_RSA2048, 2, 0, 0, 0, 4,
	  CKR_MECHANISM_PARAM_INVALID },
	{ "ECDSA params len 8", CKM_ECDSA, VNP_ALG_EC_P256, 2, 0, 0, 0, 8,
	  CKR_MECHANISM_PARAM_INVALID },
	{ "RSA mech on EC key", CKM_SHA256_RSA_PKCS, VNP_ALG_EC_P256, 0, 0, 0, 0, 0,
	  CKR_KEY_TYPE_INCONSISTENT },
	{ "PSS mech on EC key", CKM_SHA256_RSA_PKCS_PSS, VNP_ALG_EC_P384, 1, CKM_SHA256,
	  CKG_MGF1_SHA256, 32, 0, CKR_KEY_TYPE_INCONSISTENT },
	{ "ECDSA on RSA key", CKM_ECDSA_SHA256, VNP_ALG_RSA2048, 0, 0, 0, 0, 0,
	  CKR_KEY_TYPE_INCONSISTENT },
	{ "unknown mech", CKM_SHA256_HMAC, VNP_ALG_RSA2048, 0, 0, 0, 0, 0,
	  CKR_MECHANISM_INVALID },
	{ "keygen mech", CKM_RSA_PKCS_KEY_PAIR_GEN, VNP_ALG_RSA2048, 0, 0, 0, 0, 0,
	  CKR_MECHANISM_INVALID },
	{ "MD5_RSA_PKCS", CKM_MD5_RSA_PKCS, VNP_ALG_RSA2048, 0, 0, 0, 0, 0,
	  CKR_MECHANISM_INVALID },
};

static void test_param_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(param_cases); i++) {
		const struct param_case *c = &param_cases[i];
		CK_RSA_PKCS_PSS_PARAMS pss = { c->hash_alg, c->mgf, c->slen };
		uint8_t junk[16] = { 0 };
		CK_MECHANISM mech = { c->mech, NULL, 0 };
		struct vnp_sigctx *ctx = NULL;

		print_message("# %s\n", c->name);
		if (c->pss == 1) {
			mech.pParameter = &pss;
			mech.ulParameterLen = c->param_len ? c->param_len : sizeof(pss);
		} else if (c->pss == 2) {
			mech.pParameter = junk;
			mech.ulParameterLen = c->param_len;
		}
		assert_int_equal(vnp_sigctx_new(&mech, &pubs[key_index(c->alg)], &ctx), c->rv);
		if (c->rv == CKR_OK)
			assert_non_null(ctx);
		else
			assert_null(ctx);
		vnp_sigctx_free(ctx);
	}
	vnp_sigctx_free(NULL);
}

/* Raw input limits: RSA_PKCS k - 11, ECDSA 64 (and not empty), raw PSS the hash length. */
static void test_data_len(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM rsa = { CKM_RSA_PKCS, NULL, 0 }, ec = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM ps = { CKM_RSA_PKCS_PSS, &pss, sizeof(pss) };
	uint8_t data[300] = { 0 }, out[VNP_RSA_MAX_BYTES], sig[256] = { 0 };
	size_t out_len;
	struct vnp_sigctx *ctx = NULL;

	(void)state;
	/* RSA-2048: at most 245 bytes, in one piece or several */
	assert_int_equal(vnp_sigctx_new(&rsa, &pubs[0], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 246), CKR_DATA_LEN_RANGE);
	assert_int_equal(vnp_sigctx_update(ctx, data, 200), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 45), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 1), CKR_DATA_LEN_RANGE);
	vnp_sigctx_free(ctx);

	/* ECDSA: up to 64 bytes, not empty */
	ctx = NULL;
	assert_int_equal(vnp_sigctx_new(&ec, &pubs[2], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_sig_len(ctx), 64);
	assert_int_equal(vnp_sigctx_update(ctx, data, 65), CKR_DATA_LEN_RANGE);
	out_len = sizeof(out);
	assert_int_equal(vnp_sigctx_card_input(ctx, out, &out_len, NULL), CKR_DATA_LEN_RANGE);
	vnp_sigctx_free(ctx);
	ctx = NULL;
	assert_int_equal(vnp_sigctx_new(&ec, &pubs[3], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_sig_len(ctx), 96);
	assert_int_equal(vnp_sigctx_update(ctx, data, 64), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 1), CKR_DATA_LEN_RANGE);
	out_len = sizeof(out);
	assert_int_equal(vnp_sigctx_card_input(ctx, out, &out_len, NULL), CKR_OK);
	assert_int_equal(out_len, 64);
	vnp_sigctx_free(ctx);

	/* raw PSS: exactly the params' hash length */
	ctx = NULL;
	assert_int_equal(vnp_sigctx_new(&ps, &pubs[0], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 31), CKR_OK);
	out_len = sizeof(out);
	assert_int_equal(vnp_sigctx_card_input(ctx, out, &out_len, NULL), CKR_DATA_LEN_RANGE);
	assert_int_equal(vnp_sigctx_verify(ctx, sig, sizeof(sig)), CKR_DATA_LEN_RANGE);
	vnp_sigctx_free(ctx);
	ctx = NULL;
	assert_int_equal(vnp_sigctx_new(&ps, &pubs[0], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 33), CKR_OK);
	out_len = sizeof(out);
	assert_int_equal(vnp_sigctx_card_input(ctx, out, &out_len, NULL), CKR_DATA_LEN_RANGE);
	vnp_sigctx_free(ctx);
	ctx = NULL;
	assert_int_equal(vnp_sigctx_new(&ps, &pubs[0], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, data, 65), CKR_DATA_LEN_RANGE);
	vnp_sigctx_free(ctx);
}

/* An ECDSA signature with r = 0 or s >= order is invalid, not an error. */
static void test_ecdsa_out_of_range(void **state)
{
	CK_MECHANISM ec = { CKM_ECDSA_SHA256, NULL, 0 };
	struct vnp_sigctx *ctx = NULL;
	uint8_t sig[64];

	(void)state;
	assert_int_equal(vnp_sigctx_new(&ec, &pubs[2], &ctx), CKR_OK);
	assert_int_equal(vnp_sigctx_update(ctx, (const uint8_t *)"abc", 3), CKR_OK);
	memset(sig, 0, sizeof(sig));
	assert_int_equal(vnp_sigctx_verify(ctx, sig, sizeof(sig)), CKR_SIGNATURE_INVALID);
	memset(sig, 0xff, sizeof(sig));
	assert_int_equal(vnp_sigctx_verify(ctx, sig, sizeof(sig)), CKR_SIGNATURE_INVALID);
	vnp_sigctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify_all),
		cmocka_unit_test(test_verify_other_message),
		cmocka_unit_test(test_rsa_pkcs_raw_data),
		cmocka_unit_test(test_card_input_buffer),
		cmocka_unit_test(test_param_errors),
		cmocka_unit_test(test_data_len),
		cmocka_unit_test(test_ecdsa_out_of_range),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
