/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One sign or verify operation on the host side: mechanism and parameter checks, hashing,
 * DigestInfo, the bytes the card signs, and verification with the public key (OpenSSL 3,
 * default library context; no global OpenSSL setting is touched). */
#include "mech.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "compiler.h"

#define HASH_MAX 64       /* SHA-512 */
#define ECDSA_RAW_MAX 64  /* CKM_ECDSA input limit */
#define DIGESTINFO_PREFIX_MAX 19

enum kind {
	KIND_RSA_PKCS1, /* hashing or raw (hash == NONE) PKCS#1 v1.5 */
	KIND_RSA_PSS,
	KIND_ECDSA,
};

struct mech_desc {
	CK_MECHANISM_TYPE type;
	enum kind kind;
	enum vnp_hash hash; /* NONE: raw input */
};

static const struct mech_desc mech_descs[] = {
	{ CKM_RSA_PKCS, KIND_RSA_PKCS1, VNP_HASH_NONE },
	{ CKM_SHA1_RSA_PKCS, KIND_RSA_PKCS1, VNP_HASH_SHA1 },
	{ CKM_SHA224_RSA_PKCS, KIND_RSA_PKCS1, VNP_HASH_SHA224 },
	{ CKM_SHA256_RSA_PKCS, KIND_RSA_PKCS1, VNP_HASH_SHA256 },
	{ CKM_SHA384_RSA_PKCS, KIND_RSA_PKCS1, VNP_HASH_SHA384 },
	{ CKM_SHA512_RSA_PKCS, KIND_RSA_PKCS1, VNP_HASH_SHA512 },
	{ CKM_RSA_PKCS_PSS, KIND_RSA_PSS, VNP_HASH_NONE },
	{ CKM_SHA1_RSA_PKCS_PSS, KIND_RSA_PSS, VNP_HASH_SHA1 },
	{ CKM_SHA224_RSA_PKCS_PSS, KIND_RSA_PSS, VNP_HASH_SHA224 },
	{ CKM_SHA256_RSA_PKCS_PSS, KIND_RSA_PSS, VNP_HASH_SHA256 },
	{ CKM_SHA384_RSA_PKCS_PSS, KIND_RSA_PSS, VNP_HASH_SHA384 },
	{ CKM_SHA512_RSA_PKCS_PSS, KIND_RSA_PSS, VNP_HASH_SHA512 },
	{ CKM_ECDSA, KIND_ECDSA, VNP_HASH_NONE },
	{ CKM_ECDSA_SHA1, KIND_ECDSA, VNP_HASH_SHA1 },
	{ CKM_ECDSA_SHA224, KIND_ECDSA, VNP_HASH_SHA224 },
	{ CKM_ECDSA_SHA256, KIND_ECDSA, VNP_HASH_SHA256 },
	{ CKM_ECDSA_SHA384, KIND_ECDSA, VNP_HASH_SHA384 },
	{ CKM_ECDSA_SHA512, KIND_ECDSA, VNP_HASH_SHA512 },
};

struct hash_desc {
	enum vnp_hash hash;
	CK_MECHANISM_TYPE ckm;   /* as CK_RSA_PKCS_PSS_PARAMS.hashAlg */
	CK_RSA_PKCS_MGF_TYPE mgf;
	size_t len;
	const char *ossl_name;
	/* DigestInfo ::= SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (len) } up to the
	 * digest itself (RFC 8017 §9.2 note 1) */
	uint8_t prefix[DIGESTINFO_PREFIX_MAX];
	size_t prefix_len;
};

static const struct hash_desc hash_descs[] = {
	{ VNP_HASH_SHA1, CKM_SHA_1, CKG_MGF1_SHA1, 20, "SHA1",
	  { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00,
	    0x04, 0x14 }, 15 },
	{ VNP_HASH_SHA224, CKM_SHA224, CKG_MGF1_SHA224, 28, "SHA224",
	  { 0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	    0x04, 0x05, 0x00, 0x04, 0x1c }, 19 },
	{ VNP_HASH_SHA256, CKM_SHA256, CKG_MGF1_SHA256, 32, "SHA256",
	  { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	    0x01, 0x05, 0x00, 0x04, 0x20 }, 19 },
	{ VNP_HASH_SHA384, CKM_SHA384, CKG_MGF1_SHA384, 48, "SHA384",
	  { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	    0x02, 0x05, 0x00, 0x04, 0x30 }, 19 },
	{ VNP_HASH_SHA512, CKM_SHA512, CKG_MGF1_SHA512, 64, "SHA512",
	  { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	    0x03, 0x05, 0x00, 0x04, 0x40 }, 19 },
};

struct vnp_sigctx {
	const struct mech_desc *mech;
	struct vnp_pubkey key;
	size_t sig_len;       /* k, or 2 * order */
	size_t raw_max;       /* raw mechanisms: the most update() may collect */
	enum vnp_hash hash;   /* the digest the signature covers (PSS raw: params' hashAlg) */
	CK_ULONG salt_len;    /* PSS */
	EVP_MD_CTX *md;       /* hashing mechanisms, until finish() */
	EVP_PKEY *pkey;       /* built on first verify */
	bool finished;
	/* raw input, then (after finish) the hash for hashing mechanisms */
	uint8_t data[VNP_RSA_MAX_BYTES];
	size_t data_len;
};

static const struct mech_desc *mech_desc_of(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < VNP_ARRAY_SIZE(mech_descs); i++)
		if (mech_descs[i].type == type)
			return &mech_descs[i];
	return NULL;
}

static const struct hash_desc *hash_desc_of(enum vnp_hash hash)
{
	for (size_t i = 0; i < VNP_ARRAY_SIZE(hash_descs); i++)
		if (hash_descs[i].hash == hash)
			return &hash_descs[i];
	return NULL;
}

static const struct hash_desc *hash_desc_of_ckm(CK_MECHANISM_TYPE ckm)
{
	for (size_t i = 0; i < VNP_ARRAY_SIZE(hash_descs); i++)
		if (hash_descs[i].ckm == ckm)
			return &hash_descs[i];
	return NULL;
}

/* PSS parameters against the mechanism and the key (PKCS#11 2.40 §2.1.14; RFC 8017 §9.1.1:
 * emLen >= hLen + sLen + 2 with emLen = ceil((modBits - 1) / 8)). */
static CK_RV check_pss(struct vnp_sigctx *ctx, const CK_MECHANISM *mech)
{
	const CK_RSA_PKCS_PSS_PARAMS *pss = mech->pParameter;
	const struct hash_desc *h;
	CK_ULONG em_len = (vnp_pubkey_bits(&ctx->key) - 1 + 7) / 8;

	if (pss == NULL || mech->ulParameterLen != sizeof(*pss))
		return CKR_MECHANISM_PARAM_INVALID;
	h = hash_desc_of_ckm(pss->hashAlg);
	if (h == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (ctx->mech->hash != VNP_HASH_NONE && ctx->mech->hash != h->hash)
		return CKR_MECHANISM_PARAM_INVALID;
	/* the card uses one hash for the message and for MGF1 */
	if (pss->mgf != h->mgf)
		return CKR_MECHANISM_PARAM_INVALID;
	if (em_len < h->len + 2 || pss->sLen > em_len - h->len - 2)
		return CKR_MECHANISM_PARAM_INVALID;
	ctx->hash = h->hash;
	ctx->salt_len = pss->sLen;
	return CKR_OK;
}

CK_RV vnp_sigctx_new(const CK_MECHANISM *mech, const struct vnp_pubkey *key,
		     struct vnp_sigctx **ret)
{
	struct vnp_sigctx *ctx = NULL;
	const struct mech_desc *m;
	const struct hash_desc *h;
	CK_RV rv;

	if (mech == NULL || key == NULL || ret == NULL)
		return CKR_ARGUMENTS_BAD;
	m = mech_desc_of(mech->mechanism);
	if (m == NULL)
		return CKR_MECHANISM_INVALID;
	if (m->kind == KIND_ECDSA ? !VNP_ALG_IS_EC(key->alg) : !VNP_ALG_IS_RSA(key->alg))
		return CKR_KEY_TYPE_INCONSISTENT;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	ctx->mech = m;
	ctx->key = *key;
	ctx->hash = m->hash;
	if (m->kind == KIND_ECDSA) {
		ctx->sig_len = 2 * (size_t)(vnp_pubkey_bits(key) / 8);
		ctx->raw_max = ECDSA_RAW_MAX;
	} else {
		ctx->sig_len = (size_t)(vnp_pubkey_bits(key) + 7) / 8;
		if (ctx->sig_len < 11 + 1 || ctx->sig_len > VNP_RSA_MAX_BYTES) {
			rv = CKR_KEY_TYPE_INCONSISTENT;
			goto out;
		}
		ctx->raw_max = m->kind == KIND_RSA_PSS ? HASH_MAX : ctx->sig_len - 11;
	}
	if (m->kind == KIND_RSA_PSS) {
		rv = check_pss(ctx, mech);
		if (rv != CKR_OK)
			goto out;
	} else if (mech->ulParameterLen != 0) {
		rv = CKR_MECHANISM_PARAM_INVALID;
		goto out;
	}
	if (m->hash != VNP_HASH_NONE) {
		h = hash_desc_of(m->hash);
		ctx->md = EVP_MD_CTX_new();
		if (ctx->md == NULL) {
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		if (!EVP_DigestInit_ex2(ctx->md, EVP_get_digestbyname(h->ossl_name), NULL)) {
			rv = CKR_GENERAL_ERROR;
			goto out;
		}
	}
	*ret = ctx;
	ctx = NULL;
	rv = CKR_OK;
out:
	vnp_sigctx_free(ctx);
	return rv;
}

void vnp_sigctx_free(struct vnp_sigctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->md);
	EVP_PKEY_free(ctx->pkey);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

size_t vnp_sigctx_sig_len(const struct vnp_sigctx *ctx)
{
	return ctx->sig_len;
}

CK_RV vnp_sigctx_update(struct vnp_sigctx *ctx, const uint8_t *data, size_t len)
{
	if (ctx->finished)
		return CKR_FUNCTION_FAILED;
	if (len == 0)
		return CKR_OK;
	if (data == NULL)
		return CKR_ARGUMENTS_BAD;
	if (ctx->md != NULL)
		return EVP_DigestUpdate(ctx->md, data, len) ? CKR_OK : CKR_GENERAL_ERROR;
	if (len > ctx->raw_max - ctx->data_len)
		return CKR_DATA_LEN_RANGE;
	memcpy(ctx->data + ctx->data_len, data, len);
	ctx->data_len += len;
	return CKR_OK;
}

/* End the input: hash it (hashing mechanisms) and check raw lengths. Idempotent. */
static CK_RV finish(struct vnp_sigctx *ctx)
{
	unsigned int n = 0;

	if (!ctx->finished && ctx->md != NULL) {
		if (!EVP_DigestFinal_ex(ctx->md, ctx->data, &n))
			return CKR_GENERAL_ERROR;
		ctx->data_len = n;
		EVP_MD_CTX_free(ctx->md);
		ctx->md = NULL;
	}
	ctx->finished = true;
	if (ctx->mech->kind == KIND_RSA_PSS && ctx->data_len != hash_desc_of(ctx->hash)->len)
		return CKR_DATA_LEN_RANGE;
	if (ctx->mech->kind == KIND_ECDSA && ctx->data_len == 0)
		return CKR_DATA_LEN_RANGE;
	return CKR_OK;
}

CK_RV vnp_sigctx_card_input(struct vnp_sigctx *ctx, uint8_t *out, size_t *out_len,
			    struct vnp_sign_params *ret_params)
{
	const struct hash_desc *h = hash_desc_of(ctx->hash);
	struct vnp_sign_params params = { 0 };
	size_t prefix_len = 0;
	CK_RV rv;

	rv = finish(ctx);
	if (rv != CKR_OK)
		return rv;
	switch (ctx->mech->kind) {
	case KIND_RSA_PKCS1:
		params.scheme = VNP_SIG_RSA_PKCS1;
		if (h != NULL)
			prefix_len = h->prefix_len;
		break;
	case KIND_RSA_PSS:
		params.scheme = VNP_SIG_RSA_PSS;
		params.pss_hash = ctx->hash;
		params.pss_mgf1_hash = ctx->hash;
		params.pss_salt_len = (uint16_t)ctx->salt_len;
		break;
	case KIND_ECDSA:
		params.scheme = VNP_SIG_ECDSA;
		break;
	}
	if (*out_len < prefix_len + ctx->data_len) {
		*out_len = prefix_len + ctx->data_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (prefix_len != 0)
		memcpy(out, h->prefix, prefix_len);
	memcpy(out + prefix_len, ctx->data, ctx->data_len);
	*out_len = prefix_len + ctx->data_len;
	if (ret_params != NULL)
		*ret_params = params;
	return CKR_OK;
}

/* r || s (each half of sig_len bytes) as DER ECDSA-Sig-Value (RFC 5480 §2.2). */
static CK_RV ecdsa_sig_der(const uint8_t *sig, size_t sig_len, uint8_t **ret, int *ret_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(sig_len / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + sig_len / 2, (int)(sig_len / 2), NULL);
	CK_RV rv = CKR_HOST_MEMORY;
	int len;

	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL;
	*ret = NULL;
	len = i2d_ECDSA_SIG(es, ret);
	if (len <= 0)
		goto out;
	*ret_len = len;
	rv = CKR_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rv;
}

static CK_RV make_pkey(struct vnp_sigctx *ctx)
{
	uint8_t *spki = NULL;
	const uint8_t *p;
	size_t len = 0;
	CK_RV rv;

	if (ctx->pkey != NULL)
		return CKR_OK;
	rv = vnp_pubkey_spki(&ctx->key, &spki, &len);
	if (rv != CKR_OK)
		return rv;
	p = spki;
	ctx->pkey = d2i_PUBKEY(NULL, &p, (long)len);
	free(spki);
	return ctx->pkey != NULL ? CKR_OK : CKR_GENERAL_ERROR;
}

/* Set up pctx for the mechanism's verification; returns false on an OpenSSL failure. */
static bool setup_verify(struct vnp_sigctx *ctx, EVP_PKEY_CTX *pctx)
{
	const struct hash_desc *h = hash_desc_of(ctx->hash);
	const EVP_MD *md;

	switch (ctx->mech->kind) {
	case KIND_RSA_PKCS1:
		/* no md: recover the padded block and compare it with the input (DigestInfo or
		 * raw data) ourselves; EVP_PKEY_verify cannot take empty raw input */
		return EVP_PKEY_verify_recover_init(pctx) > 0 &&
		       EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
	case KIND_RSA_PSS:
		md = EVP_get_digestbyname(h->ossl_name);
		return md != NULL && EVP_PKEY_verify_init(pctx) > 0 &&
		       EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_signature_md(pctx, md) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ctx->salt_len) > 0;
	case KIND_ECDSA:
		return EVP_PKEY_verify_init(pctx) > 0;
	}
	return false;
}

/* PKCS#1 v1.5 (RFC 8017 §8.2.2): the recovered block must be exactly tbs. */
static bool pkcs1_verify(EVP_PKEY_CTX *pctx, const uint8_t *sig, size_t sig_len,
			 const uint8_t *tbs, size_t tbs_len)
{
	uint8_t rec[VNP_RSA_MAX_BYTES];
	size_t rec_len = sizeof(rec);

	if (EVP_PKEY_verify_recover(pctx, rec, &rec_len, sig, sig_len) <= 0)
		return false;
	return rec_len == tbs_len && CRYPTO_memcmp(rec, tbs, tbs_len) == 0;
}

CK_RV vnp_sigctx_verify(struct vnp_sigctx *ctx, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t tbs[DIGESTINFO_PREFIX_MAX + VNP_RSA_MAX_BYTES];
	size_t tbs_len = sizeof(tbs);
	uint8_t *der = NULL;
	const uint8_t *s = sig;
	int der_len = 0;
	bool ok;
	CK_RV rv;

	ERR_set_mark();
	rv = finish(ctx);
	if (rv != CKR_OK)
		goto out;
	if (sig == NULL || sig_len != ctx->sig_len) {
		rv = CKR_SIGNATURE_LEN_RANGE;
		goto out;
	}
	rv = vnp_sigctx_card_input(ctx, tbs, &tbs_len, NULL);
	if (rv != CKR_OK)
		goto out;
	rv = make_pkey(ctx);
	if (rv != CKR_OK)
		goto out;
	if (ctx->mech->kind == KIND_ECDSA) {
		rv = ecdsa_sig_der(sig, sig_len, &der, &der_len);
		if (rv != CKR_OK)
			goto out;
		s = der;
		sig_len = (size_t)der_len;
	}
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, ctx->pkey, NULL);
	if (pctx == NULL || !setup_verify(ctx, pctx)) {
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if (ctx->mech->kind == KIND_RSA_PKCS1)
		ok = pkcs1_verify(pctx, s, sig_len, tbs, tbs_len);
	else
		ok = EVP_PKEY_verify(pctx, s, sig_len, tbs, tbs_len) == 1;
	rv = ok ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_cleanse(tbs, sizeof(tbs));
	ERR_pop_to_mark();
	return rv;
}
