/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* X.509 facts with OpenSSL: subject and issuer as one UTF-8 line, serial, validity, the
 * renewal deadline (renewal must be requested with at least 30 days left). */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tool.h"

#define RENEWAL_NOTICE_DAYS 30

/* RFC 2253 order and escaping, but UTF-8 kept as is (no \XX for non-ASCII). */
static char *name_line(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *ret = NULL;
	long len;

	if (!b)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(b, &p);
		ret = malloc((size_t)len + 1);
		if (ret) {
			memcpy(ret, p, (size_t)len);
			ret[len] = 0;
		}
	}
	BIO_free(b);
	return ret;
}

static char *common_name(const X509_NAME *n)
{
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	unsigned char *u = NULL;
	char *ret;
	int len;

	if (i < 0)
		return strdup("");
	len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
	if (len < 0)
		return strdup("");
	ret = malloc((size_t)len + 1);
	if (ret) {
		memcpy(ret, u, (size_t)len);
		ret[len] = 0;
	}
	OPENSSL_free(u);
	return ret;
}

static bool asn1_time(const ASN1_TIME *a, time_t *ret)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!a || ASN1_TIME_to_tm(a, &tm) != 1)
		return false;
	*ret = timegm(&tm);
	return true;
}

bool vnp_cert_facts(const uint8_t *der, size_t len, struct cert_facts *ret)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	const ASN1_INTEGER *sn;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	bool ok = false;

	memset(ret, 0, sizeof(*ret));
	if (!x)
		return false;
	ret->subject = name_line(X509_get_subject_name(x));
	ret->issuer = name_line(X509_get_issuer_name(x));
	ret->cn = common_name(X509_get_subject_name(x));
	sn = X509_get0_serialNumber(x);
	bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	hex = bn ? BN_bn2hex(bn) : NULL;
	ret->serial_hex = hex ? strdup(hex) : NULL;
	ret->is_ca = X509_check_ca(x) > 0 && (X509_get_extension_flags(x) & EXFLAG_CA);
	ok = ret->subject && ret->issuer && ret->cn && ret->serial_hex &&
	     asn1_time(X509_get0_notBefore(x), &ret->not_before) &&
	     asn1_time(X509_get0_notAfter(x), &ret->not_after);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	if (!ok)
		vnp_cert_facts_clear(ret);
	return ok;
}

void vnp_cert_facts_clear(struct cert_facts *c)
{
	free(c->subject);
	free(c->issuer);
	free(c->cn);
	free(c->serial_hex);
	memset(c, 0, sizeof(*c));
}

long vnp_cert_days_left(const struct cert_facts *c, time_t now)
{
	double d = difftime(c->not_after, now) / 86400.0;

	return d < 0 ? -(long)(-d + 0.999999) : (long)d;
}

time_t vnp_cert_renewal_deadline(const struct cert_facts *c)
{
	return c->not_after - (time_t)RENEWAL_NOTICE_DAYS * 86400;
}

void vnp_time_iso(time_t t, char out[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "?");
}
