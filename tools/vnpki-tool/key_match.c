/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Is a key on the token the certificate's key? RSA: CKA_MODULUS and CKA_PUBLIC_EXPONENT
 * against n and e; EC: CKA_EC_POINT (a DER OCTET STRING, or the bare point some modules
 * give) against the certificate's encoded point. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "cert_file.h"

static bool bn_equals(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
		      CK_ATTRIBUTE_TYPE type, const BIGNUM *want)
{
	uint8_t *v = NULL;
	CK_ULONG len = 0;
	BIGNUM *got;
	bool eq = false;

	if (vnp_tool_attr(t, s, h, type, &v, &len) != CKR_OK)
		return false;
	got = BN_bin2bn(v, (int)len, NULL);
	eq = got && BN_cmp(got, want) == 0;
	BN_free(got);
	free(v);
	return eq;
}

static bool rsa_matches(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, EVP_PKEY *pk)
{
	BIGNUM *n = NULL, *e = NULL;
	bool eq = false;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) &&
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e))
		eq = bn_equals(t, s, h, CKA_MODULUS, n) && bn_equals(t, s, h, CKA_PUBLIC_EXPONENT, e);
	BN_free(n);
	BN_free(e);
	return eq;
}

static bool ec_matches(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, EVP_PKEY *pk)
{
	unsigned char point[256];
	size_t plen = 0, off = 0;
	uint8_t *v = NULL;
	CK_ULONG len = 0;
	bool eq = false;

	if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					     sizeof(point), &plen))
		return false;
	if (vnp_tool_attr(t, s, h, CKA_EC_POINT, &v, &len) != CKR_OK)
		return false;
	/* DER OCTET STRING: 04 len point, or 04 81 len point */
	if (len >= 2 && v[0] == 0x04 && v[1] < 0x80 && (CK_ULONG)v[1] + 2 == len)
		off = 2;
	else if (len >= 3 && v[0] == 0x04 && v[1] == 0x81 && (CK_ULONG)v[2] + 3 == len)
		off = 3;
	eq = len - off == plen && memcmp(v + off, point, plen) == 0;
	/* a bare point that happens to look like an OCTET STRING header */
	if (!eq && off)
		eq = len == plen && memcmp(v, point, plen) == 0;
	free(v);
	return eq;
}

bool vnp_key_matches(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	uint8_t *v = NULL;
	CK_ULONG len = 0;
	CK_KEY_TYPE kt;
	bool eq = false;

	if (!pk || vnp_tool_attr(t, s, h, CKA_KEY_TYPE, &v, &len) != CKR_OK)
		return false;
	if (len == sizeof(kt)) {
		memcpy(&kt, v, sizeof(kt));
		if (kt == CKK_RSA && EVP_PKEY_is_a(pk, "RSA"))
			eq = rsa_matches(t, s, h, pk);
		else if (kt == CKK_EC && EVP_PKEY_is_a(pk, "EC"))
			eq = ec_matches(t, s, h, pk);
	}
	free(v);
	return eq;
}
