/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mechanism table: which mechanisms a token offers, given its algorithm bits. */
#include "mech.h"

#include "compiler.h"

enum family { FAM_RSA, FAM_EC };

struct mech_row {
	CK_MECHANISM_TYPE type;
	enum family fam;
	CK_FLAGS flags;
};

#define SIGN_FLAGS (CKF_HW | CKF_SIGN | CKF_VERIFY)
#define EC_FLAGS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
#define GEN_FLAGS (CKF_HW | CKF_GENERATE_KEY_PAIR)

/* The order of this table is the order of vnp_mech_list(). */
static const struct mech_row mechs[] = {
	{ CKM_RSA_PKCS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA1_RSA_PKCS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA224_RSA_PKCS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA256_RSA_PKCS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA384_RSA_PKCS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA512_RSA_PKCS, FAM_RSA, SIGN_FLAGS },
	{ CKM_RSA_PKCS_PSS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA1_RSA_PKCS_PSS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA224_RSA_PKCS_PSS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA256_RSA_PKCS_PSS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA384_RSA_PKCS_PSS, FAM_RSA, SIGN_FLAGS },
	{ CKM_SHA512_RSA_PKCS_PSS, FAM_RSA, SIGN_FLAGS },
	{ CKM_ECDSA, FAM_EC, SIGN_FLAGS | EC_FLAGS },
	{ CKM_ECDSA_SHA1, FAM_EC, SIGN_FLAGS | EC_FLAGS },
	{ CKM_ECDSA_SHA224, FAM_EC, SIGN_FLAGS | EC_FLAGS },
	{ CKM_ECDSA_SHA256, FAM_EC, SIGN_FLAGS | EC_FLAGS },
	{ CKM_ECDSA_SHA384, FAM_EC, SIGN_FLAGS | EC_FLAGS },
	{ CKM_ECDSA_SHA512, FAM_EC, SIGN_FLAGS | EC_FLAGS },
	{ CKM_RSA_PKCS_KEY_PAIR_GEN, FAM_RSA, GEN_FLAGS },
	{ CKM_EC_KEY_PAIR_GEN, FAM_EC, GEN_FLAGS | EC_FLAGS },
};

/* Key sizes in bits of the family's algorithms the token has; false when it has none. */
static bool family_sizes(uint32_t algs, enum family fam, CK_ULONG *ret_min, CK_ULONG *ret_max)
{
	static const struct {
		enum vnp_key_alg alg;
		enum family fam;
		CK_ULONG bits;
	} sizes[] = {
		{ VNP_ALG_RSA2048, FAM_RSA, 2048 },
		{ VNP_ALG_RSA3072, FAM_RSA, 3072 },
		{ VNP_ALG_EC_P256, FAM_EC, 256 },
		{ VNP_ALG_EC_P384, FAM_EC, 384 },
	};
	CK_ULONG lo = 0, hi = 0;

	for (size_t i = 0; i < VNP_ARRAY_SIZE(sizes); i++) {
		if (sizes[i].fam != fam || !(algs & vnp_alg_bit(sizes[i].alg)))
			continue;
		if (lo == 0 || sizes[i].bits < lo)
			lo = sizes[i].bits;
		if (sizes[i].bits > hi)
			hi = sizes[i].bits;
	}
	if (hi == 0)
		return false;
	*ret_min = lo;
	*ret_max = hi;
	return true;
}

size_t vnp_mech_list(uint32_t algs, CK_MECHANISM_TYPE *out, size_t max)
{
	size_t n = 0;
	CK_ULONG lo, hi;

	for (size_t i = 0; i < VNP_ARRAY_SIZE(mechs); i++) {
		if (!family_sizes(algs, mechs[i].fam, &lo, &hi))
			continue;
		if (out != NULL) {
			if (n >= max)
				break;
			out[n] = mechs[i].type;
		}
		n++;
	}
	return n;
}

CK_RV vnp_mech_info(uint32_t algs, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *ret)
{
	CK_ULONG lo, hi;

	for (size_t i = 0; i < VNP_ARRAY_SIZE(mechs); i++) {
		if (mechs[i].type != type)
			continue;
		if (!family_sizes(algs, mechs[i].fam, &lo, &hi))
			return CKR_MECHANISM_INVALID;
		ret->ulMinKeySize = lo;
		ret->ulMaxKeySize = hi;
		ret->flags = mechs[i].flags;
		return CKR_OK;
	}
	return CKR_MECHANISM_INVALID;
}
