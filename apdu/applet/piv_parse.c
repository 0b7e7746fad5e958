/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV (NIST SP 800-73-4) answers and signature encodings: pure functions, no I/O. */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "piv_int.h"
#include "rv.h"
#include "secret.h"
#include "tlv.h"

uint8_t vnp_piv_alg_id(enum vnp_key_alg alg)
{
	switch (alg) {
	case VNP_ALG_RSA2048: return PIV_ALG_RSA2048;
	case VNP_ALG_RSA3072: return PIV_ALG_RSA3072;
	case VNP_ALG_EC_P256: return PIV_ALG_P256;
	case VNP_ALG_EC_P384: return PIV_ALG_P384;
	case VNP_ALG_NONE: break;
	}
	return 0;
}

static enum vnp_key_alg alg_from_id(uint8_t id)
{
	switch (id) {
	case PIV_ALG_RSA2048: return VNP_ALG_RSA2048;
	case PIV_ALG_RSA3072: return VNP_ALG_RSA3072;
	case PIV_ALG_P256: return VNP_ALG_EC_P256;
	case PIV_ALG_P384: return VNP_ALG_EC_P384;
	default: break;
	}
	return VNP_ALG_NONE;
}

/* The value of the single top-level object with tag in buf, which must hold nothing else. */
static int outer(const uint8_t *buf, size_t len, uint32_t tag, struct vnp_tlv *ret)
{
	const uint8_t *p = buf, *end = buf + len;
	struct vnp_tlv t;
	int rv;

	rv = vnp_tlv_next(&p, end, &t);
	if (rv == VNP_E_NOT_FOUND)
		return VNP_E_MALFORMED;
	if (rv)
		return rv;
	if (t.tag != tag || p != end)
		return VNP_E_MALFORMED;
	*ret = t;
	return VNP_OK;
}

int vnp_piv_parse_apt(const uint8_t *buf, size_t len, struct vnp_token_info *ret)
{
	const uint8_t *p, *end;
	struct vnp_tlv apt, t;
	int rv;

	if (!ret || (!buf && len))
		return VNP_E_ARGS;
	if (len == 0)
		return VNP_OK;
	rv = outer(buf, len, 0x61, &apt);
	if (rv)
		return rv;
	p = apt.value;
	end = apt.value + apt.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (t.tag == 0x4F) {
			/* PIX 00 00 10 00 01 00 (or the full AID): the version is the last two */
			if (t.len < 2)
				return VNP_E_MALFORMED;
			ret->version_major = t.value[t.len - 2];
			ret->version_minor = t.value[t.len - 1];
		} else if (t.tag == 0x50) {
			size_t n = t.len < VNP_LABEL_MAX ? t.len : VNP_LABEL_MAX;

			memcpy(ret->label, t.value, n);
			ret->label[n] = '\0';
		} else if (t.tag == 0xAC) {
			const uint8_t *q = t.value, *qend = t.value + t.len;
			struct vnp_tlv a;

			while ((rv = vnp_tlv_next(&q, qend, &a)) == VNP_OK) {
				if (a.tag != 0x80)
					continue;
				if (a.len != 1)
					return VNP_E_MALFORMED;
				ret->algs |= vnp_alg_bit(alg_from_id(a.value[0]));
			}
			if (rv != VNP_E_NOT_FOUND)
				return rv;
		}
	}
	return rv == VNP_E_NOT_FOUND ? VNP_OK : rv;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int vnp_piv_parse_chuid(const uint8_t *buf, size_t len, uint8_t ret_serial[VNP_SERIAL_MAX],
			size_t *ret_len)
{
	const uint8_t *p, *end, *fascn = NULL, *guid = NULL;
	size_t fascn_len = 0;
	struct vnp_tlv c, t;
	int rv;

	if (!buf || !ret_serial || !ret_len)
		return VNP_E_ARGS;
	rv = outer(buf, len, 0x53, &c);
	if (rv)
		return rv;
	p = c.value;
	end = c.value + c.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (t.tag == 0x30) {
			/* FASC-N: 25 bytes of 5-bit BCD (TIG SCEPACS) */
			if (t.len == 0)
				return VNP_E_MALFORMED;
			fascn = t.value;
			fascn_len = t.len;
		} else if (t.tag == 0x34) {
			if (t.len != 16)
				return VNP_E_MALFORMED;
			if (!all_zero(t.value, t.len))
				guid = t.value;
		}
	}
	if (rv != VNP_E_NOT_FOUND)
		return rv;
	if (guid) {
		memcpy(ret_serial, guid, 16);
		*ret_len = 16;
	} else if (fascn) {
		/* agency, system and credential number lead the FASC-N */
		*ret_len = fascn_len < VNP_SERIAL_MAX ? fascn_len : VNP_SERIAL_MAX;
		memcpy(ret_serial, fascn, *ret_len);
	} else {
		return VNP_E_NOT_FOUND;
	}
	return VNP_OK;
}

int vnp_piv_parse_discovery(const uint8_t *buf, size_t len, uint8_t ret_policy[2])
{
	struct vnp_tlv d, t;
	int rv;

	if (!buf || !ret_policy)
		return VNP_E_ARGS;
	rv = outer(buf, len, PIV_TAG_DISCOVERY, &d);
	if (rv)
		return rv;
	rv = vnp_tlv_find(d.value, d.len, 0x5F2F, &t);
	if (rv)
		return rv;
	if (t.len != 2)
		return VNP_E_MALFORMED;
	memcpy(ret_policy, t.value, 2);
	return VNP_OK;
}

int vnp_piv_parse_cert_container(const uint8_t *buf, size_t len, const uint8_t **ret_cert,
				 size_t *ret_cert_len, bool *ret_compressed)
{
	const uint8_t *p, *end, *cert = NULL;
	size_t cert_len = 0;
	bool compressed = false;
	struct vnp_tlv c, t;
	int rv;

	if (!buf || !ret_cert || !ret_cert_len || !ret_compressed)
		return VNP_E_ARGS;
	rv = outer(buf, len, 0x53, &c);
	if (rv)
		return rv;
	if (c.len == 0)
		return VNP_E_NOT_FOUND;
	p = c.value;
	end = c.value + c.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (t.tag == 0x70) {
			if (cert)
				return VNP_E_MALFORMED;
			cert = t.value;
			cert_len = t.len;
		} else if (t.tag == 0x71) {
			if (t.len != 1)
				return VNP_E_MALFORMED;
			compressed = (t.value[0] & 0x01) != 0;
		}
	}
	if (rv != VNP_E_NOT_FOUND)
		return rv;
	if (!cert)
		return VNP_E_MALFORMED;
	if (cert_len == 0)
		return VNP_E_NOT_FOUND;
	*ret_cert = cert;
	*ret_cert_len = cert_len;
	*ret_compressed = compressed;
	return VNP_OK;
}

static int rsa_pub(EVP_PKEY *pk, struct vnp_pubkey *ret)
{
	BIGNUM *n = NULL, *e = NULL;
	int bits, rv = VNP_E_NOT_SUPPORTED;

	bits = EVP_PKEY_get_bits(pk);
	if (bits == 2048)
		ret->alg = VNP_ALG_RSA2048;
	else if (bits == 3072)
		ret->alg = VNP_ALG_RSA3072;
	else
		goto out;
	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
		rv = VNP_E_CRYPTO;
		goto out;
	}
	if ((size_t)BN_num_bytes(n) > sizeof(ret->modulus) ||
	    (size_t)BN_num_bytes(e) > sizeof(ret->exponent))
		goto out;
	ret->modulus_len = (size_t)BN_bn2bin(n, ret->modulus);
	ret->exponent_len = (size_t)BN_bn2bin(e, ret->exponent);
	rv = VNP_OK;
out:
	BN_free(n);
	BN_free(e);
	return rv;
}

static int ec_pub(EVP_PKEY *pk, struct vnp_pubkey *ret)
{
	char group[64];
	size_t n = 0, want;

	if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL))
		return VNP_E_NOT_SUPPORTED;
	if (strcmp(group, "prime256v1") == 0) {
		ret->alg = VNP_ALG_EC_P256;
		want = 65;
	} else if (strcmp(group, "secp384r1") == 0) {
		ret->alg = VNP_ALG_EC_P384;
		want = 97;
	} else {
		return VNP_E_NOT_SUPPORTED;
	}
	if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
					     ret->ec_point, sizeof(ret->ec_point), &n))
		return VNP_E_MALFORMED;
	if (n != want || ret->ec_point[0] != 0x04)
		return VNP_E_NOT_SUPPORTED; /* compressed point */
	ret->ec_point_len = n;
	return VNP_OK;
}

int vnp_piv_cert_pubkey(const uint8_t *der, size_t len, struct vnp_pubkey *ret)
{
	const unsigned char *p = der;
	struct vnp_pubkey pub;
	X509 *x = NULL;
	EVP_PKEY *pk;
	int rv;

	if (!der || !ret || len > LONG_MAX)
		return VNP_E_ARGS;
	memset(&pub, 0, sizeof(pub));
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		rv = VNP_E_MALFORMED;
		goto out;
	}
	pk = X509_get0_pubkey(x);
	if (!pk) {
		rv = VNP_E_NOT_SUPPORTED;
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
		rv = rsa_pub(pk, &pub);
	else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
		rv = ec_pub(pk, &pub);
	else
		rv = VNP_E_NOT_SUPPORTED;
	if (rv == VNP_OK)
		*ret = pub;
out:
	X509_free(x);
	return rv;
}

int vnp_piv_pad_pkcs1(const uint8_t *in, size_t in_len, uint8_t *out, size_t k)
{
	if ((!in && in_len) || !out || k < 11)
		return VNP_E_ARGS;
	if (in_len > k - 11)
		return VNP_E_RANGE;
	out[0] = 0x00;
	out[1] = 0x01;
	memset(out + 2, 0xFF, k - 3 - in_len);
	out[k - 1 - in_len] = 0x00;
	if (in_len)
		memcpy(out + k - in_len, in, in_len);
	return VNP_OK;
}

static const EVP_MD *md_of(enum vnp_hash h)
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

/* MGF1 (RFC 8017 §B.2.1): XOR the mask of seed into out[len]. */
static int mgf1_xor(const EVP_MD *md, const uint8_t *seed, size_t seed_len, uint8_t *out,
		    size_t len)
{
	uint8_t block[EVP_MAX_MD_SIZE];
	size_t hlen = (size_t)EVP_MD_get_size(md);
	uint32_t counter = 0;
	int rv = VNP_E_CRYPTO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		return VNP_E_NOMEM;
	for (size_t done = 0; done < len; counter++) {
		uint8_t c[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
				 (uint8_t)(counter >> 8), (uint8_t)counter };
		size_t n = len - done < hlen ? len - done : hlen;

		if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, seed, seed_len) ||
		    !EVP_DigestUpdate(ctx, c, 4) || !EVP_DigestFinal_ex(ctx, block, NULL))
			goto out;
		for (size_t i = 0; i < n; i++)
			out[done + i] ^= block[i];
		done += n;
	}
	rv = VNP_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rv;
}

int vnp_piv_pss_encode(const struct vnp_sign_params *p, const uint8_t *mhash, size_t mhash_len,
		       const uint8_t *salt, unsigned mod_bits, uint8_t *out)
{
	static const uint8_t zeros[8];
	uint8_t salt_buf[EVP_MAX_MD_SIZE * 2];
	const EVP_MD *md, *mgf;
	EVP_MD_CTX *ctx = NULL;
	size_t hlen, k, em_len, em_bits, db_len, slen;
	uint8_t *em;
	int rv;

	if (!p || !mhash || !out || mod_bits < 16)
		return VNP_E_ARGS;
	md = md_of(p->pss_hash);
	mgf = md_of(p->pss_mgf1_hash ? p->pss_mgf1_hash : p->pss_hash);
	if (!md || !mgf)
		return VNP_E_ARGS;
	hlen = (size_t)EVP_MD_get_size(md);
	slen = p->pss_salt_len;
	if (mhash_len != hlen)
		return VNP_E_ARGS;
	if (slen > sizeof(salt_buf))
		return VNP_E_RANGE;
	k = (mod_bits + 7) / 8;
	em_bits = mod_bits - 1;
	em_len = (em_bits + 7) / 8;
	if (em_len < hlen + slen + 2)
		return VNP_E_RANGE;
	memset(out, 0, k);
	em = out + (k - em_len);
	if (salt)
		memcpy(salt_buf, salt, slen);
	else if (slen && RAND_bytes(salt_buf, (int)slen) != 1)
		return VNP_E_CRYPTO;
	db_len = em_len - hlen - 1;
	/* H = Hash(00 x 8 || mHash || salt), right after maskedDB */
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return VNP_E_NOMEM;
	rv = VNP_E_CRYPTO;
	if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, zeros, 8) ||
	    !EVP_DigestUpdate(ctx, mhash, hlen) || !EVP_DigestUpdate(ctx, salt_buf, slen) ||
	    !EVP_DigestFinal_ex(ctx, em + db_len, NULL))
		goto out;
	/* DB = PS || 01 || salt */
	em[db_len - slen - 1] = 0x01;
	memcpy(em + db_len - slen, salt_buf, slen);
	rv = mgf1_xor(mgf, em + db_len, hlen, em, db_len);
	if (rv)
		goto out;
	em[0] &= (uint8_t)(0xFF >> (8 * em_len - em_bits));
	em[em_len - 1] = 0xBC;
	rv = VNP_OK;
out:
	vnp_wipe(salt_buf, sizeof(salt_buf));
	EVP_MD_CTX_free(ctx);
	return rv;
}

int vnp_piv_parse_auth_resp(const uint8_t *buf, size_t len, const uint8_t **ret_sig,
			    size_t *ret_len)
{
	struct vnp_tlv d, t;
	int rv;

	if (!buf || !ret_sig || !ret_len)
		return VNP_E_ARGS;
	rv = outer(buf, len, 0x7C, &d);
	if (rv)
		return rv;
	rv = vnp_tlv_find(d.value, d.len, 0x82, &t);
	if (rv == VNP_E_NOT_FOUND || (rv == VNP_OK && t.len == 0))
		return VNP_E_MALFORMED;
	if (rv)
		return rv;
	*ret_sig = t.value;
	*ret_len = t.len;
	return VNP_OK;
}

int vnp_piv_ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t n, uint8_t *out)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int rv = VNP_E_MALFORMED;

	if (!der || !out || n == 0 || n > 66 || len > LONG_MAX)
		return VNP_E_ARGS;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig || p != der + len)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_is_negative(r) || BN_is_negative(s) || BN_bn2binpad(r, out, (int)n) < 0 ||
	    BN_bn2binpad(s, out + n, (int)n) < 0)
		goto out;
	rv = VNP_OK;
out:
	ECDSA_SIG_free(sig);
	return rv;
}
