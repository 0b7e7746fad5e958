/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading certificates from a file: DER, PEM (one or several), PKCS#7 (.p7b/.p7c, PEM or
 * DER). */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "cert_file.h"

static STACK_OF(X509) *from_pkcs7(PKCS7 *p7)
{
	STACK_OF(X509) *src = NULL, *out;
	int i;

	if (PKCS7_type_is_signed(p7) && p7->d.sign)
		src = p7->d.sign->cert;
	else if (PKCS7_type_is_signedAndEnveloped(p7) && p7->d.signed_and_enveloped)
		src = p7->d.signed_and_enveloped->cert;
	out = sk_X509_new_null();
	for (i = 0; out && src && i < sk_X509_num(src); i++) {
		X509 *x = sk_X509_value(src, i);
		if (!X509_up_ref(x) || !sk_X509_push(out, x)) {
			sk_X509_pop_free(out, X509_free);
			return NULL;
		}
	}
	return out;
}

static STACK_OF(X509) *from_pem(BIO *b)
{
	STACK_OF(X509) *out = sk_X509_new_null();
	X509 *x;

	while (out && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			sk_X509_pop_free(out, X509_free);
			return NULL;
		}
	}
	ERR_clear_error();
	return out;
}

STACK_OF(X509) *vnp_cert_file_read(const char *path)
{
	STACK_OF(X509) *out = NULL;
	BIO *b = BIO_new_file(path, "rb");
	PKCS7 *p7;
	X509 *x;

	if (!b)
		return NULL;
	/* PEM PKCS#7 ("-----BEGIN PKCS7-----") */
	p7 = PEM_read_bio_PKCS7(b, NULL, NULL, NULL);
	if (!p7) {
		(void)BIO_reset(b);
		p7 = d2i_PKCS7_bio(b, NULL);
	}
	if (p7) {
		out = from_pkcs7(p7);
		PKCS7_free(p7);
		goto out;
	}
	(void)BIO_reset(b);
	x = d2i_X509_bio(b, NULL);
	if (x) {
		out = sk_X509_new_null();
		if (!out || !sk_X509_push(out, x)) {
			X509_free(x);
			sk_X509_free(out);
			out = NULL;
		}
		goto out;
	}
	(void)BIO_reset(b);
	out = from_pem(b);
out:
	ERR_clear_error();
	BIO_free(b);
	if (out && sk_X509_num(out) == 0) {
		sk_X509_free(out);
		out = NULL;
	}
	return out;
}
