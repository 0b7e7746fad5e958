/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Public key attributes (EC params and point, SPKI, bits) and X.509 parsing. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/x509.h>

#include "compiler.h"
#include "keys.h"

static EVP_PKEY *keys[4];
static struct vnp_pubkey pubs[4];
static const enum vnp_key_alg key_algs[4] = { VNP_ALG_RSA2048, VNP_ALG_RSA3072,
					      VNP_ALG_EC_P256, VNP_ALG_EC_P384 };

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

static void test_ec_params(void **state)
{
	static const uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
					0x3d, 0x03, 0x01, 0x07 };
	static const uint8_t p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
	static const struct {
		const char *name;
		const uint8_t *der;
		size_t len;
		enum vnp_key_alg alg;
	} cases[] = {
		{ "P-256 OID", p256, sizeof(p256), VNP_ALG_EC_P256 },
		{ "P-384 OID", p384, sizeof(p384), VNP_ALG_EC_P384 },
		{ "prime256v1 string", (const uint8_t *)"\x13\x0aprime256v1", 12, VNP_ALG_EC_P256 },
		{ "secp384r1 string", (const uint8_t *)"\x13\x09secp384r1", 11, VNP_ALG_EC_P384 },
		{ "P-256 string", (const uint8_t *)"\x13\x05P-256", 7, VNP_ALG_EC_P256 },
		{ "P-384 string", (const uint8_t *)"\x13\x05P-384", 7, VNP_ALG_EC_P384 },
		{ "secp256k1 OID", (const uint8_t *)"\x06\x05\x2b\x81\x04\x00\x0a", 7,
		  VNP_ALG_NONE },
		{ "P-521 string", (const uint8_t *)"\x13\x05P-521", 7, VNP_ALG_NONE },
		{ "truncated OID", p256, sizeof(p256) - 1, VNP_ALG_NONE },
		{ "OID trailing byte", (const uint8_t *)"\x06\x05\x2b\x81\x04\x00\x22\x00", 8,
		  VNP_ALG_NONE },
		{ "prefix of name", (const uint8_t *)"\x13\x04P-25", 6, VNP_ALG_NONE },
		{ "OCTET STRING", (const uint8_t *)"\x04\x05P-256", 7, VNP_ALG_NONE },
		{ "empty", (const uint8_t *)"", 0, VNP_ALG_NONE },
		{ "NULL", NULL, 0, VNP_ALG_NONE },
	};
	size_t len = 0;
	const uint8_t *der;

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		print_message("# %s\n", cases[i].name);
		assert_int_equal(vnp_ec_params_alg(cases[i].der, cases[i].len), cases[i].alg);
	}
	/* round trip, and the DER OpenSSL writes for the curve */
	for (int i = 2; i < 4; i++) {
		EC_GROUP *g = NULL;
		uint8_t buf[32], *p = buf;
		char name[32];
		int n;

		der = vnp_ec_params_der(key_algs[i], &len);
		assert_non_null(der);
		assert_int_equal(vnp_ec_params_alg(der, len), key_algs[i]);
		assert_true(EVP_PKEY_get_utf8_string_param(keys[i], OSSL_PKEY_PARAM_GROUP_NAME,
							   name, sizeof(name), NULL));
		g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(name));
		assert_non_null(g);
		n = i2d_ECPKParameters(g, &p);
		assert_int_equal((size_t)n, len);
		assert_memory_equal(buf, der, len);
		EC_GROUP_free(g);
	}
	assert_null(vnp_ec_params_der(VNP_ALG_RSA2048, &len));
	assert_null(vnp_ec_params_der(VNP_ALG_NONE, &len));
}

static void test_ec_point(void **state)
{
	uint8_t out[128];
	size_t len;

	(void)state;
	for (int i = 2; i < 4; i++) {
		size_t plen = pubs[i].ec_point_len;

		len = sizeof(out);
		assert_int_equal(vnp_ec_point_der(&pubs[i], out, &len), CKR_OK);
		assert_int_equal(len, plen + 2);
		assert_int_equal(out[0], 0x04);
		assert_int_equal(out[1], plen);
		assert_int_equal(out[2], 0x04);
		assert_memory_equal(out + 2, pubs[i].ec_point, plen);
		len = plen + 1;
		assert_int_equal(vnp_ec_point_der(&pubs[i], out, &len), CKR_BUFFER_TOO_SMALL);
		assert_int_equal(len, plen + 2);
	}
	len = sizeof(out);
	assert_int_not_equal(vnp_ec_point_der(&pubs[0], out, &len), CKR_OK);
}

static void test_bits_spki(void **state)
{
	static const CK_ULONG bits[4] = { 2048, 3072, 256, 384 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		uint8_t *spki = NULL, *ref = NULL;
		size_t len = 0;
		int ref_len;

		assert_int_equal(vnp_pubkey_bits(&pubs[i]), bits[i]);
		assert_int_equal(vnp_pubkey_spki(&pubs[i], &spki, &len), CKR_OK);
		ref_len = i2d_PUBKEY(keys[i], &ref);
		assert_true(ref_len > 0);
		assert_int_equal(len, (size_t)ref_len);
		assert_memory_equal(spki, ref, len);
		free(spki);
		OPENSSL_free(ref);
	}
	/* a leading zero byte in the modulus does not count */
	{
		struct vnp_pubkey k = pubs[0];

		memmove(k.modulus + 1, k.modulus, k.modulus_len);
		k.modulus[0] = 0;
		k.modulus_len++;
		assert_int_equal(vnp_pubkey_bits(&k), 2048);
	}
	/* broken keys */
	{
		struct vnp_pubkey k = pubs[2];
		uint8_t *spki = NULL;
		size_t len = 0;

		k.ec_point[5] ^= 1; /* not on the curve */
		assert_int_not_equal(vnp_pubkey_spki(&k, &spki, &len), CKR_OK);
		assert_null(spki);
		k = pubs[3];
		k.ec_point_len = 65;
		assert_int_not_equal(vnp_pubkey_spki(&k, &spki, &len), CKR_OK);
		memset(&k, 0, sizeof(k));
		assert_int_not_equal(vnp_pubkey_spki(&k, &spki, &len), CKR_OK);
		assert_int_equal(vnp_pubkey_bits(&k), 0);
	}
}

/* A certificate for subject_key signed with key, DER (OPENSSL_free it). */
static uint8_t *make_cert(EVP_PKEY *key, EVP_PKEY *subject_key, const uint8_t *serial,
			  size_t serial_len, bool negative, size_t *ret_len)
{
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
	ASN1_INTEGER *sn;
	BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
	uint8_t *der = NULL;
	int len;

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	BN_set_negative(bn, negative);
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	assert_true(X509_set_serialNumber(x, sn));
	assert_true(X509_NAME_add_entry_by_txt(subj, "C", MBSTRING_UTF8, (const uint8_t *)"VN",
					       -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
					       (const uint8_t *)"Nguyễn Văn An", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(iss, "O", MBSTRING_UTF8,
					       (const uint8_t *)"Cục Chứng thực số", -1, -1,
					       0));
	assert_true(X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_UTF8,
					       (const uint8_t *)"vnpki test CA", -1, -1, 0));
	assert_true(X509_set_subject_name(x, subj));
	assert_true(X509_set_issuer_name(x, iss));
	/* UTCTime before 2050, GeneralizedTime after (RFC 5280 §4.1.2.5) */
	assert_true(ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20240229235959Z"));
	assert_true(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "20510615000000Z"));
	assert_true(X509_set_pubkey(x, subject_key));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	*ret_len = (size_t)len;
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_free(x);
	return der;
}

static void check_name(const uint8_t *got, size_t got_len, const X509_NAME *want)
{
	uint8_t *der = NULL;
	int len = i2d_X509_NAME(want, &der);

	assert_true(len > 0);
	assert_int_equal(got_len, (size_t)len);
	assert_memory_equal(got, der, got_len);
	OPENSSL_free(der);
}

static void test_x509_parse(void **state)
{
	static const struct {
		uint8_t serial[20];
		size_t len;
		bool negative;
		uint8_t der[24];
		size_t der_len;
	} serials[] = {
		{ { 0x01 }, 1, false, { 0x02, 0x01, 0x01 }, 3 },
		{ { 0x80, 0x01 }, 2, false, { 0x02, 0x03, 0x00, 0x80, 0x01 }, 5 },
		{ { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44, 0x55,
		    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc }, 20, false,
		  { 0x02, 0x14, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33,
		    0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc }, 22 },
		{ { 0x01 }, 1, true, { 0x02, 0x01, 0xff }, 3 }, /* seen in the wild */
	};

	(void)state;
	for (int i = 0; i < 4; i++) {
		for (size_t s = 0; s < VNP_ARRAY_SIZE(serials); s++) {
			struct vnp_x509 x;
			size_t len;
			uint8_t *der = make_cert(keys[i], keys[i], serials[s].serial,
						 serials[s].len, serials[s].negative, &len);
			const uint8_t *p = der;
			X509 *ref = d2i_X509(NULL, &p, (long)len);

			assert_non_null(ref);
			memset(&x, 0x5a, sizeof(x));
			assert_int_equal(vnp_x509_parse(der, len, &x), CKR_OK);
			check_name(x.subject, x.subject_len, X509_get_subject_name(ref));
			check_name(x.issuer, x.issuer_len, X509_get_issuer_name(ref));
			/* the UTF-8 name is in the subject as UTF8String (tag 0x0c) */
			assert_non_null(memmem(x.subject, x.subject_len,
					       "\x0c\x10Nguy\xe1\xbb\x85n V\xc4\x83n An", 18));
			assert_int_equal(x.serial_len, serials[s].der_len);
			assert_memory_equal(x.serial, serials[s].der, x.serial_len);
			assert_memory_equal(x.start_date.year, "2024", 4);
			assert_memory_equal(x.start_date.month, "02", 2);
			assert_memory_equal(x.start_date.day, "29", 2);
			assert_memory_equal(x.end_date.year, "2051", 4);
			assert_memory_equal(x.end_date.month, "06", 2);
			assert_memory_equal(x.end_date.day, "15", 2);
			assert_int_equal(x.pub.alg, pubs[i].alg);
			if (VNP_ALG_IS_RSA(pubs[i].alg)) {
				assert_int_equal(x.pub.modulus_len, pubs[i].modulus_len);
				assert_memory_equal(x.pub.modulus, pubs[i].modulus,
						    x.pub.modulus_len);
				assert_int_equal(x.pub.exponent_len, pubs[i].exponent_len);
				assert_memory_equal(x.pub.exponent, pubs[i].exponent,
						    x.pub.exponent_len);
			} else {
				assert_int_equal(x.pub.ec_point_len, pubs[i].ec_point_len);
				assert_memory_equal(x.pub.ec_point, pubs[i].ec_point,
						    x.pub.ec_point_len);
			}
			vnp_x509_clear(&x);
			assert_null(x.subject);
			vnp_x509_clear(&x);
			X509_free(ref);
			OPENSSL_free(der);
		}
	}
}

/* A certificate carrying a compressed EC point still yields the uncompressed point. */
static void test_x509_compressed_point(void **state)
{
	static const uint8_t one = 1;
	EVP_PKEY *comp = EVP_PKEY_dup(keys[2]);
	struct vnp_x509 x = { 0 };
	uint8_t *der;
	size_t len;

	(void)state;
	assert_non_null(comp);
	assert_true(EVP_PKEY_set_utf8_string_param(comp, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
						   "compressed"));
	der = make_cert(keys[2], comp, &one, 1, false, &len);
	/* the SPKI holds 33 bytes of point: 02/03 || X */
	assert_int_equal(vnp_x509_parse(der, len, &x), CKR_OK);
	assert_int_equal(x.pub.alg, VNP_ALG_EC_P256);
	assert_int_equal(x.pub.ec_point_len, 65);
	assert_memory_equal(x.pub.ec_point, pubs[2].ec_point, 65);
	vnp_x509_clear(&x);
	OPENSSL_free(der);
	EVP_PKEY_free(comp);
}

/* Keys we do not know (RSA-1024, Ed25519) parse with alg NONE. */
static void test_x509_unknown_key(void **state)
{
	static const uint8_t one = 1;
	EVP_PKEY *others[2];

	(void)state;
	others[0] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	others[1] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	for (int i = 0; i < 2; i++) {
		struct vnp_x509 x;
		uint8_t *der;
		size_t len;

		assert_non_null(others[i]);
		der = make_cert(keys[0], others[i], &one, 1, false, &len);
		assert_int_equal(vnp_x509_parse(der, len, &x), CKR_OK);
		assert_int_equal(x.pub.alg, VNP_ALG_NONE);
		assert_int_equal(x.pub.modulus_len, 0);
		assert_non_null(x.subject);
		vnp_x509_clear(&x);
		OPENSSL_free(der);
		EVP_PKEY_free(others[i]);
	}
}

static void test_x509_garbage(void **state)
{
	static const uint8_t one = 1;
	uint8_t junk[64];
	uint8_t *der, *copy;
	size_t len;
	struct vnp_x509 x = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(vnp_x509_parse(junk, sizeof(junk), &x), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(vnp_x509_parse((const uint8_t *)"\x30\x00", 2, &x),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(vnp_x509_parse(junk, 0, &x), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(vnp_x509_parse(NULL, 10, &x), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_null(x.subject);

	der = make_cert(keys[2], keys[2], &one, 1, false, &len);
	/* truncated anywhere */
	for (size_t cut = 1; cut < len; cut += 17)
		assert_int_equal(vnp_x509_parse(der, cut, &x), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(vnp_x509_parse(der, len - 1, &x), CKR_ATTRIBUTE_VALUE_INVALID);
	/* trailing bytes */
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, der, len);
	copy[len] = 0;
	assert_int_equal(vnp_x509_parse(copy, len + 1, &x), CKR_ATTRIBUTE_VALUE_INVALID);
	/* a public key, not a certificate */
	{
		uint8_t *spki = NULL;
		int n = i2d_PUBKEY(keys[2], &spki);

		assert_int_equal(vnp_x509_parse(spki, (size_t)n, &x), CKR_ATTRIBUTE_VALUE_INVALID);
		OPENSSL_free(spki);
	}
	assert_null(x.subject);
	assert_int_equal(vnp_x509_parse(copy, len, &x), CKR_OK);
	vnp_x509_clear(&x);
	free(copy);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_params),
		cmocka_unit_test(test_ec_point),
		cmocka_unit_test(test_bits_spki),
		cmocka_unit_test(test_x509_parse),
		cmocka_unit_test(test_x509_compressed_point),
		cmocka_unit_test(test_x509_unknown_key),
		cmocka_unit_test(test_x509_garbage),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
