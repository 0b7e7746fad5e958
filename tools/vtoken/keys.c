/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On-card cryptography of the virtual token: key generation, signing, KDFs. */
#include <limits.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/kdf.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keys.h"
#include "rv.h"
#include "state.h"

#define PIN_KDF_ITER 2000

OSSL_LIB_CTX *vnp_vt_libctx_new(OSSL_PROVIDER **ret_prov)
{
	OSSL_LIB_CTX *libctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *prov = NULL;

	if (libctx && !(prov = OSSL_PROVIDER_load(libctx, "default"))) {
		OSSL_LIB_CTX_free(libctx);
		libctx = NULL;
	}
	*ret_prov = prov;
	return libctx;
}

void vnp_vt_libctx_free(OSSL_LIB_CTX *libctx, OSSL_PROVIDER *prov)
{
	if (prov)
		OSSL_PROVIDER_unload(prov);
	OSSL_LIB_CTX_free(libctx);
}

int vnp_vt_alg_supported(uint8_t alg)
{
	return alg == VNP_VT_ALG_RSA2048 || alg == VNP_VT_ALG_RSA3072 || alg == VNP_VT_ALG_P256 ||
	       alg == VNP_VT_ALG_P384;
}

static int alg_is_rsa(uint8_t alg)
{
	return alg == VNP_VT_ALG_RSA2048 || alg == VNP_VT_ALG_RSA3072;
}

size_t vnp_vt_key_size(uint8_t alg)
{
	switch (alg) {
	case VNP_VT_ALG_RSA2048: return 256;
	case VNP_VT_ALG_RSA3072: return 384;
	case VNP_VT_ALG_P256: return 32;
	case VNP_VT_ALG_P384: return 48;
	default: return 0;
	}
}

const char *vnp_vt_alg_name(uint8_t alg)
{
	switch (alg) {
	case VNP_VT_ALG_RSA2048: return "rsa2048";
	case VNP_VT_ALG_RSA3072: return "rsa3072";
	case VNP_VT_ALG_P256: return "p256";
	case VNP_VT_ALG_P384: return "p384";
	default: return "unknown";
	}
}

int vnp_vt_key_generate(OSSL_LIB_CTX *libctx, uint8_t alg, EVP_PKEY **ret)
{
	EVP_PKEY *pkey = NULL;

	switch (alg) {
	case VNP_VT_ALG_RSA2048:
	case VNP_VT_ALG_RSA3072:
		pkey = EVP_PKEY_Q_keygen(libctx, NULL, "RSA", (size_t)vnp_vt_key_size(alg) * 8);
		break;
	case VNP_VT_ALG_P256:
		pkey = EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-256");
		break;
	case VNP_VT_ALG_P384:
		pkey = EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-384");
		break;
	default:
		return VNP_E_ARGS;
	}
	if (!pkey)
		return VNP_E_CRYPTO;
	*ret = pkey;
	return VNP_OK;
}

int vnp_vt_key_to_der(EVP_PKEY *pkey, uint8_t **ret_der, size_t *ret_len)
{
	OSSL_ENCODER_CTX *ectx;
	unsigned char *der = NULL;
	size_t len = 0;
	int rv = VNP_E_CRYPTO;

	ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo",
					     NULL);
	if (!ectx || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0)
		goto out;
	if (!OSSL_ENCODER_to_data(ectx, &der, &len))
		goto out;
	*ret_der = der;
	*ret_len = len;
	rv = VNP_OK;
out:
	OSSL_ENCODER_CTX_free(ectx);
	return rv;
}

/* The algorithm reference a key actually has, or 0. */
static uint8_t alg_of(EVP_PKEY *pkey)
{
	char group[32];
	size_t glen = 0;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		switch (EVP_PKEY_get_bits(pkey)) {
		case 2048: return VNP_VT_ALG_RSA2048;
		case 3072: return VNP_VT_ALG_RSA3072;
		default: return 0;
		}
	}
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &glen)) {
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			return VNP_VT_ALG_P256;
		if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			return VNP_VT_ALG_P384;
	}
	return 0;
}

int vnp_vt_key_from_der(OSSL_LIB_CTX *libctx, uint8_t alg, const uint8_t *der, size_t len,
			EVP_PKEY **ret)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;

	if (len > LONG_MAX)
		return VNP_E_MALFORMED;
	pkey = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, libctx, NULL);
	if (!pkey)
		return VNP_E_MALFORMED;
	if (alg_of(pkey) != alg) {
		EVP_PKEY_free(pkey);
		return VNP_E_MALFORMED;
	}
	*ret = pkey;
	return VNP_OK;
}

static int put_bn(EVP_PKEY *pkey, const char *name, uint32_t tag, struct vnp_buf *out)
{
	BIGNUM *bn = NULL;
	uint8_t buf[512];
	int n, rv = VNP_E_CRYPTO;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		goto out;
	n = BN_num_bytes(bn);
	if (n <= 0 || (size_t)n > sizeof(buf))
		goto out;
	BN_bn2bin(bn, buf);
	vnp_tlv_put(out, tag, buf, (size_t)n);
	rv = VNP_OK;
out:
	BN_free(bn);
	return rv;
}

int vnp_vt_key_put_public(EVP_PKEY *pkey, uint8_t alg, struct vnp_buf *out)
{
	uint8_t point[133];
	size_t plen = 0;
	size_t mark = vnp_tlv_open(out, 0x7F49);
	int rv;

	if (alg_is_rsa(alg)) {
		rv = put_bn(pkey, OSSL_PKEY_PARAM_RSA_N, 0x81, out);
		if (rv == VNP_OK)
			rv = put_bn(pkey, OSSL_PKEY_PARAM_RSA_E, 0x82, out);
	} else {
		rv = VNP_E_CRYPTO;
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
						    point, sizeof(point), &plen) &&
		    plen > 0 && point[0] == 0x04) {
			vnp_tlv_put(out, 0x86, point, plen);
			rv = VNP_OK;
		}
	}
	vnp_tlv_close(out, mark);
	if (rv == VNP_OK && out->failed)
		rv = VNP_E_NOMEM;
	return rv;
}

static const char *hash_name(uint8_t hashref, size_t *ret_len)
{
	switch (hashref) {
	case 0x01: *ret_len = 20; return "SHA1";
	case 0x02: *ret_len = 28; return "SHA224";
	case 0x03: *ret_len = 32; return "SHA256";
	case 0x04: *ret_len = 48; return "SHA384";
	case 0x05: *ret_len = 64; return "SHA512";
	default: return NULL;
	}
}

/* DER ECDSA-Sig-Value -> r || s, each n bytes. */
static int ecdsa_raw(const uint8_t *der, size_t der_len, size_t n, uint8_t *sig, size_t *sig_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;
	int rv = VNP_E_CRYPTO;

	if (!es)
		return VNP_E_CRYPTO;
	if (*sig_len < 2 * n)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, (int)n) < 0 || BN_bn2binpad(s, sig + n, (int)n) < 0)
		goto out;
	*sig_len = 2 * n;
	rv = VNP_OK;
out:
	ECDSA_SIG_free(es);
	return rv;
}

static int setup_rsa(EVP_PKEY_CTX *ctx, OSSL_LIB_CTX *libctx, uint8_t scheme, uint8_t hashref,
		     uint16_t salt_len, size_t k, size_t in_len, EVP_MD **ret_md)
{
	const char *hname;
	size_t hlen = 0;
	EVP_MD *md;

	if (scheme == VNP_VT_SCHEME_PKCS1) {
		/* No signature digest: type 1 padding over the input as given. */
		if (in_len == 0 || in_len > k - 11)
			return VNP_E_INVALID_DATA;
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 ? VNP_OK
										 : VNP_E_CRYPTO;
	}
	hname = hash_name(hashref, &hlen);
	if (!hname || in_len != hlen || (size_t)salt_len + hlen + 2 > k)
		return VNP_E_INVALID_DATA;
	md = EVP_MD_fetch(libctx, hname, NULL);
	if (!md)
		return VNP_E_CRYPTO;
	*ret_md = md;
	if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)salt_len) <= 0)
		return VNP_E_CRYPTO;
	return VNP_OK;
}

int vnp_vt_sign(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, uint8_t alg, uint8_t scheme,
		uint8_t hashref, uint16_t salt_len, const uint8_t *in, size_t in_len,
		uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_MD *md = NULL;
	uint8_t der[160];
	size_t k = vnp_vt_key_size(alg), out_len;
	int rv = VNP_E_CONDITIONS;

	if (alg_is_rsa(alg) ? scheme == VNP_VT_SCHEME_ECDSA : scheme != VNP_VT_SCHEME_ECDSA)
		goto out;
	if (scheme != VNP_VT_SCHEME_PKCS1 && scheme != VNP_VT_SCHEME_PSS &&
	    scheme != VNP_VT_SCHEME_ECDSA)
		goto out;
	rv = VNP_E_CRYPTO;
	ctx = EVP_PKEY_CTX_new_from_pkey(libctx, pkey, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) <= 0)
		goto out;
	if (scheme == VNP_VT_SCHEME_ECDSA) {
		if (in_len == 0 || in_len > 64) {
			rv = VNP_E_INVALID_DATA;
			goto out;
		}
		out_len = sizeof(der);
		if (EVP_PKEY_sign(ctx, der, &out_len, in, in_len) <= 0)
			goto out;
		rv = ecdsa_raw(der, out_len, k, sig, sig_len);
		goto out;
	}
	rv = setup_rsa(ctx, libctx, scheme, hashref, salt_len, k, in_len, &md);
	if (rv != VNP_OK)
		goto out;
	rv = VNP_E_CRYPTO;
	out_len = *sig_len;
	if (out_len < k || EVP_PKEY_sign(ctx, sig, &out_len, in, in_len) <= 0)
		goto out;
	*sig_len = out_len;
	rv = VNP_OK;
out:
	EVP_MD_free(md);
	EVP_PKEY_CTX_free(ctx);
	return rv;
}

int vnp_vt_pin_hash(OSSL_LIB_CTX *libctx, const uint8_t *salt, size_t salt_len,
		    const uint8_t *pin, size_t pin_len, uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(libctx, "PBKDF2", NULL);
	EVP_KDF_CTX *kctx = NULL;
	unsigned iter = PIN_KDF_ITER;
	int rv = VNP_E_CRYPTO;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pin, pin_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
		OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx && EVP_KDF_derive(kctx, out, 32, params) > 0)
		rv = VNP_OK;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rv;
}
