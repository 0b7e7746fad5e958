/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken init --profile piv: PUK, management key, default data objects and, on
 * request, key pairs with self-signed certificates ("personalised at the factory"). */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "applet_piv.h"
#include "cli_piv.h"
#include "keys.h"
#include "rv.h"
#include "tlv.h"
#include "util.h"

static const uint8_t default_mgmt[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
					  5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

bool vnp_vt_piv_pin_ok(const uint8_t *pin, size_t len)
{
	size_t i;

	if (len < 6 || len > 8)
		return false;
	for (i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

static int set_puk(struct vnp_vt_state *st, const char *puk)
{
	uint8_t p[PIV_REF_DATA_LEN], v[48];
	size_t n = strlen(puk);
	int rv = -1;

	if (n < 6 || n > PIV_REF_DATA_LEN) {
		fprintf(stderr, "vnpki-vtoken init: --puk wants 6 to 8 characters\n");
		return -1;
	}
	memset(p, 0xFF, sizeof(p));
	memcpy(p, puk, n);
	if (vnp_vt_piv_puk_verifier(st->libctx, p, v) != VNP_OK ||
	    vnp_vt_piv_store(&st->d, PIV_REF_PUK, v, sizeof(v)) != VNP_OK)
		fprintf(stderr, "vnpki-vtoken init: cannot store the PUK\n");
	else
		rv = 0;
	OPENSSL_cleanse(p, sizeof(p));
	OPENSSL_cleanse(v, sizeof(v));
	return rv;
}

/* 24 bytes: 3DES (03), 16: AES-128 (08), 32: AES-256 (0C). */
static int set_mgmt(struct vnp_vt_state *st, const char *hex)
{
	uint8_t v[33];
	size_t n = sizeof(default_mgmt);
	int rv = -1;

	memcpy(v + 1, default_mgmt, n);
	if (hex && (vnp_hex_decode(hex, strlen(hex), v + 1, sizeof(v) - 1, &n) != VNP_OK ||
		    (n != 16 && n != 24 && n != 32))) {
		fprintf(stderr, "vnpki-vtoken init: --mgmt-key wants 32, 48 or 64 hex digits\n");
		goto out;
	}
	v[0] = n == 16 ? PIV_ALG_AES128 : n == 24 ? PIV_ALG_3DES : PIV_ALG_AES256;
	if (vnp_vt_piv_store(&st->d, PIV_REF_MGMT, v, n + 1) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: out of memory\n");
		goto out;
	}
	rv = 0;
out:
	OPENSSL_cleanse(v, sizeof(v));
	return rv;
}

static int parse_slot(const char *spec, uint8_t *ret_slot, uint8_t *ret_alg)
{
	static const struct { const char *name; uint8_t alg; } algs[] = {
		{ "rsa2048", VNP_VT_ALG_RSA2048 }, { "rsa3072", VNP_VT_ALG_RSA3072 },
		{ "p256", VNP_VT_ALG_P256 }, { "p384", VNP_VT_ALG_P384 },
	};
	const char *colon = strchr(spec, ':');
	uint8_t slot;
	size_t n = 0, i;

	if (!colon || vnp_hex_decode(spec, (size_t)(colon - spec), &slot, 1, &n) != VNP_OK ||
	    n != 1 || !vnp_vt_piv_key_ref(slot))
		return -1;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(colon + 1, algs[i].name) == 0) {
			*ret_slot = slot;
			*ret_alg = algs[i].alg;
			return 0;
		}
	return -1;
}

/* A self-signed certificate for the key: CN = "<label> <slot name>", 10 years. */
static X509 *self_signed(const struct vnp_vt_data *d, uint8_t slot, EVP_PKEY *pkey)
{
	char cn[128];
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext = NULL;
	ASN1_INTEGER *serial = NULL;
	uint8_t rnd[8];
	bool ok;

	snprintf(cn, sizeof(cn), "%.*s %s", (int)d->label_len, (const char *)d->label,
		 vnp_vt_piv_key_name(slot));
	ok = x && RAND_bytes(rnd, sizeof(rnd)) == 1;
	if (ok) {
		BIGNUM *bn;
		rnd[0] &= 0x7F;
		bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
		serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
		BN_free(bn);
	}
	ok = ok && serial && X509_set_version(x, X509_VERSION_3) &&
	     X509_set_serialNumber(x, serial) && X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) && X509_set_pubkey(x, pkey);
	name = ok ? X509_get_subject_name(x) : NULL;
	ok = ok && name &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)"VNPKI virtual PIV", -1, -1, 0) &&
	     X509_set_issuer_name(x, name);
	if (ok) {
		const char *ku = slot == PIV_KEY_SIGN ? "critical,digitalSignature,nonRepudiation"
			       : slot == PIV_KEY_AUTH || slot == PIV_KEY_CAUTH
				       ? "critical,digitalSignature"
				       : "critical,keyEncipherment,keyAgreement";
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, ku);
		ok = ext && X509_add_ext(x, ext, -1);
	}
	ok = ok && X509_sign(x, pkey, EVP_sha256()) > 0;
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(serial);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Generate the key of one "SLOT:ALG" and its certificate container (70 cert 71 00 FE). */
static int make_key(struct vnp_vt_state *st, const char *spec)
{
	struct vnp_vt_data *d = &st->d;
	struct vnp_vt_key *k = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL;
	struct vnp_buf b;
	uint8_t slot, alg, ref;
	int len, rv = -1;

	vnp_buf_init(&b);
	if (parse_slot(spec, &slot, &alg) < 0) {
		fprintf(stderr, "vnpki-vtoken init: --piv-key wants SLOT:ALG, SLOT one of 9a 9c "
				"9d 9e 82..95, ALG one of rsa2048 rsa3072 p256 p384 (got '%s')\n",
			spec);
		return -1;
	}
	ref = vnp_vt_piv_key_ref(slot);
	if (vnp_vt_key_generate(st->libctx, alg, &pkey) != VNP_OK ||
	    vnp_vt_piv_key_new(st->libctx, slot, alg, pkey, &k) != VNP_OK ||
	    !(x = self_signed(d, slot, pkey)) || (len = i2d_X509(x, &der)) <= 0) {
		fprintf(stderr, "vnpki-vtoken init: key generation for %s failed\n", spec);
		goto out;
	}
	vnp_tlv_put(&b, 0x70, der, (size_t)len);
	vnp_tlv_put_uint(&b, 0x71, 0x00, 1);
	vnp_tlv_put(&b, 0xFE, NULL, 0);
	if (b.failed || vnp_vt_piv_store(d, (uint8_t)(0x40 | ref), b.p, b.len) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: out of memory\n");
		goto out;
	}
	vnp_vt_key_free(d->keys[ref]);
	d->keys[ref] = k;
	k = NULL;
	rv = 0;
out:
	vnp_buf_free(&b);
	OPENSSL_free(der);
	X509_free(x);
	vnp_vt_key_free(k);
	EVP_PKEY_free(pkey);
	return rv;
}

int vnp_vt_piv_personalise(struct vnp_vt_state *st, const struct vnp_vt_piv_init *a)
{
	size_t i;

	st->d.profile = VNP_VT_PROFILE_PIV;
	if (set_puk(st, a->puk ? a->puk : "12345678") < 0 || set_mgmt(st, a->mgmt_key) < 0)
		return -1;
	if (vnp_vt_piv_default_objects(&st->d) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: out of memory\n");
		return -1;
	}
	for (i = 0; i < a->nkeys; i++)
		if (make_key(st, a->keys[i]) < 0)
			return -1;
	return 0;
}
