/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "keys.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

EVP_PKEY *test_key_new(enum vnp_key_alg alg)
{
	EVP_PKEY *k = NULL;

	switch (alg) {
	case VNP_ALG_RSA2048: k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048); break;
	case VNP_ALG_RSA3072: k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072); break;
	case VNP_ALG_EC_P256: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
	case VNP_ALG_EC_P384: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"); break;
	case VNP_ALG_NONE: break;
	}
	assert_non_null(k);
	return k;
}

void test_pubkey_of(EVP_PKEY *pkey, enum vnp_key_alg alg, struct vnp_pubkey *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->alg = alg;
	if (VNP_ALG_IS_RSA(alg)) {
		BIGNUM *n = NULL, *e = NULL;

		assert_true(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n));
		assert_true(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e));
		ret->modulus_len = (size_t)BN_bn2bin(n, ret->modulus);
		ret->exponent_len = (size_t)BN_bn2bin(e, ret->exponent);
		BN_free(n);
		BN_free(e);
	} else {
		assert_true(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
							    ret->ec_point, sizeof(ret->ec_point),
							    &ret->ec_point_len));
		assert_int_equal(ret->ec_point[0], 0x04);
	}
}

const EVP_MD *test_md(enum vnp_hash h)
{
	switch (h) {
	case VNP_HASH_SHA1: return EVP_sha1();
	case VNP_HASH_SHA224: return EVP_sha224();
	case VNP_HASH_SHA256: return EVP_sha256();
	case VNP_HASH_SHA384: return EVP_sha384();
	case VNP_HASH_SHA512: return EVP_sha512();
	case VNP_HASH_NONE: break;
	}
	return NULL;
}

size_t test_card_sign(EVP_PKEY *pkey, const struct vnp_sign_params *params, size_t order_len,
		      const uint8_t *in, size_t in_len, uint8_t *sig, size_t sig_cap)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	uint8_t der[256];
	size_t len = sizeof(der);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	switch (params->scheme) {
	case VNP_SIG_RSA_PKCS1:
		assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
		len = sig_cap;
		assert_int_equal(EVP_PKEY_sign(ctx, sig, &len, in, in_len), 1);
		break;
	case VNP_SIG_RSA_PSS:
		assert_int_equal(params->pss_hash, params->pss_mgf1_hash);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_signature_md(ctx, test_md(params->pss_hash)) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, test_md(params->pss_mgf1_hash)) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, params->pss_salt_len) > 0);
		len = sig_cap;
		assert_int_equal(EVP_PKEY_sign(ctx, sig, &len, in, in_len), 1);
		break;
	case VNP_SIG_ECDSA: {
		const uint8_t *p = der;
		ECDSA_SIG *es;

		assert_int_equal(EVP_PKEY_sign(ctx, der, &len, in, in_len), 1);
		es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		assert_non_null(es);
		assert_true(2 * order_len <= sig_cap);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)order_len),
				 (int)order_len);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + order_len,
					      (int)order_len), (int)order_len);
		ECDSA_SIG_free(es);
		len = 2 * order_len;
		break;
	}
	default:
		fail_msg("unknown scheme %d", (int)params->scheme);
	}
	EVP_PKEY_CTX_free(ctx);
	return len;
}
