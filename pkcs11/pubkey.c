/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Public keys as PKCS#11 attributes: CKA_EC_PARAMS, CKA_EC_POINT, CKA_PUBLIC_KEY_INFO and
 * key sizes, from struct vnp_pubkey (OpenSSL 3, default library context). */
#include "mech.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "compiler.h"

struct curve {
	enum vnp_key_alg alg;
	const char *ossl_name; /* OpenSSL group name */
	const char *nist_name;
	CK_ULONG bits;
	const uint8_t *oid_der;
	size_t oid_der_len;
};

/* OBJECT IDENTIFIER 1.2.840.10045.3.1.7 (prime256v1, RFC 5480) */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
/* OBJECT IDENTIFIER 1.3.132.0.34 (secp384r1, RFC 5480) */
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

static const struct curve curves[] = {
	{ VNP_ALG_EC_P256, "prime256v1", "P-256", 256, oid_p256, sizeof(oid_p256) },
	{ VNP_ALG_EC_P384, "secp384r1", "P-384", 384, oid_p384, sizeof(oid_p384) },
};

static const struct curve *curve_of(enum vnp_key_alg alg)
{
	for (size_t i = 0; i < VNP_ARRAY_SIZE(curves); i++)
		if (curves[i].alg == alg)
			return &curves[i];
	return NULL;
}

const uint8_t *vnp_ec_params_der(enum vnp_key_alg alg, size_t *ret_len)
{
	const struct curve *c = curve_of(alg);

	if (c == NULL)
		return NULL;
	*ret_len = c->oid_der_len;
	return c->oid_der;
}

static bool name_is(const uint8_t *s, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(s, name, len) == 0;
}

enum vnp_key_alg vnp_ec_params_alg(const uint8_t *der, size_t len)
{
	if (der == NULL || len < 2 || der[1] >= 0x80 || (size_t)der[1] + 2 != len)
		return VNP_ALG_NONE;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(curves); i++) {
		const struct curve *c = &curves[i];

		if (der[0] == 0x06 && len == c->oid_der_len && memcmp(der, c->oid_der, len) == 0)
			return c->alg;
		/* PrintableString or UTF8String holding the curve name */
		if ((der[0] == 0x13 || der[0] == 0x0c) &&
		    (name_is(der + 2, len - 2, c->ossl_name) ||
		     name_is(der + 2, len - 2, c->nist_name)))
			return c->alg;
	}
	return VNP_ALG_NONE;
}

/* Expected length of 04 || X || Y for the curve. */
static size_t point_len(enum vnp_key_alg alg)
{
	const struct curve *c = curve_of(alg);

	return c == NULL ? 0 : 1 + 2 * ((c->bits + 7) / 8);
}

CK_RV vnp_ec_point_der(const struct vnp_pubkey *key, uint8_t *out, size_t *ret_len)
{
	size_t plen = point_len(key->alg);

	if (plen == 0 || key->ec_point_len != plen || key->ec_point[0] != 0x04)
		return CKR_GENERAL_ERROR;
	/* OCTET STRING, short-form length: plen <= 97 */
	if (*ret_len < plen + 2) {
		*ret_len = plen + 2;
		return CKR_BUFFER_TOO_SMALL;
	}
	out[0] = 0x04;
	out[1] = (uint8_t)plen;
	memcpy(out + 2, key->ec_point, plen);
	*ret_len = plen + 2;
	return CKR_OK;
}

CK_ULONG vnp_pubkey_bits(const struct vnp_pubkey *key)
{
	const struct curve *c = curve_of(key->alg);
	size_t i = 0;
	CK_ULONG bits;
	uint8_t top;

	if (c != NULL)
		return c->bits;
	if (!VNP_ALG_IS_RSA(key->alg))
		return 0;
	while (i < key->modulus_len && key->modulus[i] == 0)
		i++;
	if (i == key->modulus_len)
		return key->alg == VNP_ALG_RSA3072 ? 3072 : 2048;
	bits = (CK_ULONG)(key->modulus_len - i) * 8;
	for (top = key->modulus[i]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

/* An OpenSSL public key from key; NULL on failure. */
static EVP_PKEY *pubkey_to_evp(const struct vnp_pubkey *key)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	const struct curve *c = curve_of(key->alg);
	const char *type;

	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		goto out;
	if (VNP_ALG_IS_RSA(key->alg)) {
		if (key->modulus_len == 0 || key->exponent_len == 0 ||
		    key->modulus_len > sizeof(key->modulus) ||
		    key->exponent_len > sizeof(key->exponent))
			goto out;
		type = "RSA";
		n = BN_bin2bn(key->modulus, (int)key->modulus_len, NULL);
		e = BN_bin2bn(key->exponent, (int)key->exponent_len, NULL);
		if (n == NULL || e == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
	} else if (c != NULL) {
		if (key->ec_point_len != point_len(key->alg) || key->ec_point[0] != 0x04)
			goto out;
		type = "EC";
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_name,
						     0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, key->ec_point,
						      key->ec_point_len))
			goto out;
	} else {
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

CK_RV vnp_pubkey_spki(const struct vnp_pubkey *key, uint8_t **ret, size_t *ret_len)
{
	EVP_PKEY *pkey;
	uint8_t *der = NULL, *p;
	int len;
	CK_RV rv = CKR_GENERAL_ERROR;

	ERR_set_mark();
	pkey = pubkey_to_evp(key);
	if (pkey == NULL)
		goto out;
	len = i2d_PUBKEY(pkey, NULL);
	if (len <= 0)
		goto out;
	der = malloc((size_t)len);
	if (der == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	p = der;
	if (i2d_PUBKEY(pkey, &p) != len)
		goto out;
	*ret = der;
	*ret_len = (size_t)len;
	der = NULL;
	rv = CKR_OK;
out:
	free(der);
	EVP_PKEY_free(pkey);
	ERR_pop_to_mark();
	return rv;
}
