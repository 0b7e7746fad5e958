/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* X.509 certificates: the attributes of a certificate object (subject, issuer, serial,
 * validity) and its public key, parsed with OpenSSL 3. */
#include "mech.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "compiler.h"

/* A malloc'd copy of the DER encoding of val; *ret_len set. */
static CK_RV der_of(int (*i2d)(const void *, unsigned char **), const void *val, uint8_t **ret,
		    size_t *ret_len)
{
	uint8_t *buf, *p;
	int len = i2d(val, NULL);

	if (len <= 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	buf = malloc((size_t)len);
	if (buf == NULL)
		return CKR_HOST_MEMORY;
	p = buf;
	if (i2d(val, &p) != len) {
		free(buf);
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	*ret = buf;
	*ret_len = (size_t)len;
	return CKR_OK;
}

static int i2d_name(const void *v, unsigned char **pp)
{
	return i2d_X509_NAME(v, pp);
}

static int i2d_integer(const void *v, unsigned char **pp)
{
	return i2d_ASN1_INTEGER(v, pp);
}

static void put_digits(CK_CHAR *dst, size_t n, unsigned v)
{
	for (size_t i = n; i-- > 0; v /= 10)
		dst[i] = (CK_CHAR)('0' + v % 10);
}

static CK_RV to_ck_date(const ASN1_TIME *t, CK_DATE *ret)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	put_digits(ret->year, 4, (unsigned)(tm.tm_year + 1900));
	put_digits(ret->month, 2, (unsigned)(tm.tm_mon + 1));
	put_digits(ret->day, 2, (unsigned)tm.tm_mday);
	return CKR_OK;
}

static bool rsa_pub(EVP_PKEY *pkey, struct vnp_pubkey *pub)
{
	BIGNUM *n = NULL, *e = NULL;
	bool ok = false;
	int bits;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
		goto out;
	bits = BN_num_bits(n);
	if (bits == 2048)
		pub->alg = VNP_ALG_RSA2048;
	else if (bits == 3072)
		pub->alg = VNP_ALG_RSA3072;
	else
		goto out;
	if (BN_num_bytes(e) > (int)sizeof(pub->exponent) || BN_is_zero(e))
		goto out;
	pub->modulus_len = (size_t)BN_bn2bin(n, pub->modulus);
	pub->exponent_len = (size_t)BN_bn2bin(e, pub->exponent);
	ok = true;
out:
	BN_free(n);
	BN_free(e);
	return ok;
}

/* The public point in uncompressed form (certificates may carry a compressed one). */
static bool ec_pub(EVP_PKEY *pkey, struct vnp_pubkey *pub)
{
	char group[64];
	uint8_t enc[VNP_EC_POINT_MAX + 1];
	size_t enc_len = 0, want;
	EC_GROUP *grp = NULL;
	EC_POINT *pt = NULL;
	enum vnp_key_alg alg;
	int nid;
	bool ok = false;

	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					    sizeof(group), NULL) ||
	    !EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof(enc),
					     &enc_len))
		goto out;
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
		alg = VNP_ALG_EC_P256;
		nid = NID_X9_62_prime256v1;
		want = 65;
	} else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
		alg = VNP_ALG_EC_P384;
		nid = NID_secp384r1;
		want = 97;
	} else {
		goto out;
	}
	if (enc_len != want || enc[0] != 0x04) {
		grp = EC_GROUP_new_by_curve_name(nid);
		pt = grp == NULL ? NULL : EC_POINT_new(grp);
		if (pt == NULL || !EC_POINT_oct2point(grp, pt, enc, enc_len, NULL) ||
		    EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub->ec_point,
				       sizeof(pub->ec_point), NULL) != want)
			goto out;
	} else {
		memcpy(pub->ec_point, enc, want);
	}
	pub->ec_point_len = want;
	pub->alg = alg;
	ok = true;
out:
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return ok;
}

CK_RV vnp_x509_parse(const uint8_t *der, size_t len, struct vnp_x509 *ret)
{
	struct vnp_x509 x = { 0 };
	const uint8_t *p = der;
	X509 *cert = NULL;
	EVP_PKEY *pkey;
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	ERR_set_mark();
	if (der == NULL || len == 0 || len > LONG_MAX)
		goto out;
	cert = d2i_X509(NULL, &p, (long)len);
	if (cert == NULL || p != der + len)
		goto out;
	rv = der_of(i2d_name, X509_get_subject_name(cert), &x.subject, &x.subject_len);
	if (rv == CKR_OK)
		rv = der_of(i2d_name, X509_get_issuer_name(cert), &x.issuer, &x.issuer_len);
	if (rv == CKR_OK)
		rv = der_of(i2d_integer, X509_get0_serialNumber(cert), &x.serial, &x.serial_len);
	if (rv == CKR_OK)
		rv = to_ck_date(X509_get0_notBefore(cert), &x.start_date);
	if (rv == CKR_OK)
		rv = to_ck_date(X509_get0_notAfter(cert), &x.end_date);
	if (rv != CKR_OK)
		goto out;
	/* an unknown or unsupported key is not an error: the certificate is still shown */
	pkey = X509_get0_pubkey(cert);
	if (pkey != NULL) {
		bool known = false;

		if (EVP_PKEY_is_a(pkey, "RSA"))
			known = rsa_pub(pkey, &x.pub);
		else if (EVP_PKEY_is_a(pkey, "EC"))
			known = ec_pub(pkey, &x.pub);
		if (!known)
			memset(&x.pub, 0, sizeof(x.pub));
	}
	*ret = x;
	memset(&x, 0, sizeof(x));
out:
	vnp_x509_clear(&x);
	X509_free(cert);
	ERR_pop_to_mark();
	return rv;
}

void vnp_x509_clear(struct vnp_x509 *x)
{
	if (x == NULL)
		return;
	free(x->subject);
	free(x->issuer);
	free(x->serial);
	memset(x, 0, sizeof(*x));
}
