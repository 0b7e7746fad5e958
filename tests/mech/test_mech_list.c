/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnp_mech_list / vnp_mech_info against the token's algorithm bits. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "compiler.h"
#include "pkcs11/mech.h"

static const CK_MECHANISM_TYPE rsa_mechs[] = {
	CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS,
	CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS,
	CKM_SHA224_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
	CKM_SHA512_RSA_PKCS_PSS, CKM_RSA_PKCS_KEY_PAIR_GEN,
};
static const CK_MECHANISM_TYPE ec_mechs[] = {
	CKM_ECDSA, CKM_ECDSA_SHA1, CKM_ECDSA_SHA224, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384,
	CKM_ECDSA_SHA512, CKM_EC_KEY_PAIR_GEN,
};

#define RSA2048 (1u << 0)
#define RSA3072 (1u << 1)
#define P256 (1u << 2)
#define P384 (1u << 3)

static bool in_list(CK_MECHANISM_TYPE m, const CK_MECHANISM_TYPE *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == m)
			return true;
	return false;
}

static void test_alg_bits(void **state)
{
	(void)state;
	/* the bit values this test (and the table) rely on */
	assert_int_equal(vnp_alg_bit(VNP_ALG_RSA2048), RSA2048);
	assert_int_equal(vnp_alg_bit(VNP_ALG_RSA3072), RSA3072);
	assert_int_equal(vnp_alg_bit(VNP_ALG_EC_P256), P256);
	assert_int_equal(vnp_alg_bit(VNP_ALG_EC_P384), P384);
}

static void test_counts(void **state)
{
	static const struct {
		uint32_t algs;
		size_t count;
		bool rsa, ec;
	} cases[] = {
		{ 0, 0, false, false },
		{ RSA2048, 13, true, false },
		{ RSA3072, 13, true, false },
		{ RSA2048 | RSA3072, 13, true, false },
		{ P256, 7, false, true },
		{ P384, 7, false, true },
		{ P256 | P384, 7, false, true },
		{ RSA2048 | P256, 20, true, true },
		{ RSA2048 | RSA3072 | P256 | P384, 20, true, true },
		{ 1u << 7, 0, false, false }, /* an unknown bit adds nothing */
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		CK_MECHANISM_TYPE list[32], again[32];
		size_t n = vnp_mech_list(cases[i].algs, NULL, 0);

		assert_int_equal(n, cases[i].count);
		assert_int_equal(vnp_mech_list(cases[i].algs, list, VNP_ARRAY_SIZE(list)), n);
		for (size_t j = 0; j < n; j++) {
			bool r = in_list(list[j], rsa_mechs, VNP_ARRAY_SIZE(rsa_mechs));
			bool e = in_list(list[j], ec_mechs, VNP_ARRAY_SIZE(ec_mechs));

			assert_true(r || e);
			assert_true(r ? cases[i].rsa : cases[i].ec);
			for (size_t k = 0; k < j; k++)
				assert_true(list[k] != list[j]);
		}
		/* stable order, and a short buffer gets the head of the list */
		assert_int_equal(vnp_mech_list(cases[i].algs, again, VNP_ARRAY_SIZE(again)), n);
		assert_memory_equal(list, again, n * sizeof(list[0]));
		if (n > 3) {
			memset(again, 0, sizeof(again));
			assert_int_equal(vnp_mech_list(cases[i].algs, again, 3), 3);
			assert_memory_equal(list, again, 3 * sizeof(list[0]));
			assert_int_equal(again[3], 0);
		}
	}
}

static void test_info(void **state)
{
	static const struct {
		uint32_t algs;
		CK_MECHANISM_TYPE mech;
		CK_RV rv;
		CK_ULONG min, max;
		CK_FLAGS flags;
	} cases[] = {
		{ RSA2048, CKM_SHA256_RSA_PKCS, CKR_OK, 2048, 2048,
		  CKF_HW | CKF_SIGN | CKF_VERIFY },
		{ RSA2048 | RSA3072, CKM_RSA_PKCS_PSS, CKR_OK, 2048, 3072,
		  CKF_HW | CKF_SIGN | CKF_VERIFY },
		{ RSA3072, CKM_RSA_PKCS, CKR_OK, 3072, 3072, CKF_HW | CKF_SIGN | CKF_VERIFY },
		{ RSA2048 | RSA3072, CKM_RSA_PKCS_KEY_PAIR_GEN, CKR_OK, 2048, 3072,
		  CKF_HW | CKF_GENERATE_KEY_PAIR },
		{ P256, CKM_ECDSA, CKR_OK, 256, 256,
		  CKF_HW | CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
			  CKF_EC_UNCOMPRESS },
		{ P256 | P384 | RSA2048, CKM_ECDSA_SHA384, CKR_OK, 256, 384,
		  CKF_HW | CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
			  CKF_EC_UNCOMPRESS },
		{ P384, CKM_EC_KEY_PAIR_GEN, CKR_OK, 384, 384,
		  CKF_HW | CKF_GENERATE_KEY_PAIR | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
			  CKF_EC_UNCOMPRESS },
		{ RSA2048, CKM_ECDSA, CKR_MECHANISM_INVALID, 0, 0, 0 },
		{ P256, CKM_SHA256_RSA_PKCS, CKR_MECHANISM_INVALID, 0, 0, 0 },
		{ RSA2048 | P256, CKM_SHA256_HMAC, CKR_MECHANISM_INVALID, 0, 0, 0 },
		{ RSA2048 | P256, CKM_MD5_RSA_PKCS, CKR_MECHANISM_INVALID, 0, 0, 0 },
		{ 0, CKM_RSA_PKCS, CKR_MECHANISM_INVALID, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		CK_MECHANISM_INFO info = { 0, 0, 0 };

		assert_int_equal(vnp_mech_info(cases[i].algs, cases[i].mech, &info), cases[i].rv);
		if (cases[i].rv != CKR_OK)
			continue;
		assert_int_equal(info.ulMinKeySize, cases[i].min);
		assert_int_equal(info.ulMaxKeySize, cases[i].max);
		assert_int_equal(info.flags, cases[i].flags);
	}
}

/* Every listed mechanism has info, for every token kind. */
static void test_list_info_agree(void **state)
{
	(void)state;
	for (uint32_t algs = 0; algs < 16; algs++) {
		CK_MECHANISM_TYPE list[32];
		size_t n = vnp_mech_list(algs, list, VNP_ARRAY_SIZE(list));

		for (size_t j = 0; j < n; j++) {
			CK_MECHANISM_INFO info;

			assert_int_equal(vnp_mech_info(algs, list[j], &info), CKR_OK);
			assert_true(info.ulMinKeySize <= info.ulMaxKeySize);
			assert_true(info.flags & CKF_HW);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_bits),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_list_info_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
