/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Mẫu 06 recovery protocol (include/recovery.h, shared/design/RECOVERY.md): codes as
 * Crockford base32 with a mod-37 check character, K_token by KBKDF (SP 800-108 counter mode,
 * CMAC-AES-256) and the response by CMAC-AES-256. Each crypto call uses its own private
 * OpenSSL library context with the default provider loaded explicitly (STYLE.md §6). */
#include <ctype.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "recovery.h"
#include "rv.h"

/* 32 data symbols, then the 5 extra check symbols (Crockford's mod-37 check set). */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
#define DATA_SYMBOLS 32
#define CHECK_SYMBOLS 37
#define GROUP 4

static const char token_key_label[] = "vnpki unblock key";
static const char response_label[] = "vnpki unblock response";

static size_t data_chars(size_t n)
{
	return (n * 8 + 4) / 5;
}

static unsigned check_value(const uint8_t *bytes, size_t n)
{
	unsigned r = 0;

	for (size_t i = 0; i < n; i++)
		r = (r * 256 + bytes[i]) % CHECK_SYMBOLS;
	return r;
}

/* The symbol value of c, or -1. Case-folded; 'O' reads as 0, 'I' and 'L' as 1. */
static int symbol_value(char c)
{
	const char *p;

	c = (char)toupper((unsigned char)c);
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

int vnp_code_encode(const uint8_t *bytes, size_t n, char *out, size_t out_size)
{
	size_t nchars, need, pos = 0;
	unsigned acc = 0, bits = 0;
	size_t in = 0;
	int rv = VNP_OK;

	if (!out || (!bytes && n > 0) || n == 0 || n > VNP_RECOVERY_REQUEST_LEN) {
		rv = VNP_E_ARGS;
		goto out;
	}
	nchars = data_chars(n);
	/* data characters, a '-' between groups, "-C" and the NUL */
	need = nchars + (nchars - 1) / GROUP + 2 + 1;
	if (out_size < need) {
		rv = VNP_E_BUFFER_TOO_SMALL;
		goto out;
	}
	for (size_t i = 0; i < nchars; i++) {
		unsigned v;

		if (bits < 5) {
			acc = (acc << 8) | (in < n ? bytes[in] : 0);
			in++;
			bits += 8;
		}
		v = (acc >> (bits - 5)) & 0x1F;
		bits -= 5;
		acc &= (1u << bits) - 1;
		if (i > 0 && i % GROUP == 0)
			out[pos++] = '-';
		out[pos++] = alphabet[v];
	}
	out[pos++] = '-';
	out[pos++] = alphabet[check_value(bytes, n)];
	out[pos] = '\0';
out:
	return rv;
}

int vnp_code_decode(const char *code, uint8_t *bytes, size_t n)
{
	uint8_t buf[VNP_RECOVERY_REQUEST_LEN];
	size_t nchars, count = 0, outpos = 0;
	unsigned acc = 0, bits = 0;
	int check = -1;
	int rv = VNP_OK;

	memset(buf, 0, sizeof(buf));
	if (!code || !bytes || n == 0 || n > sizeof(buf)) {
		rv = VNP_E_ARGS;
		goto out;
	}
	nchars = data_chars(n);
	for (const char *p = code; *p; p++) {
		int v;

		if (*p == '-' || *p == ' ')
			continue;
		v = symbol_value(*p);
		if (v < 0 || count > nchars) {
			rv = VNP_E_INVALID_DATA;
			goto out;
		}
		if (count == nchars) {
			check = v;
			count++;
			continue;
		}
		if (v >= DATA_SYMBOLS) {
			rv = VNP_E_INVALID_DATA;
			goto out;
		}
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (outpos < n)
				buf[outpos++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
		count++;
	}
	/* the wrong number of characters, or non-zero padding bits */
	if (count != nchars + 1 || outpos != n || acc != 0) {
		rv = VNP_E_INVALID_DATA;
		goto out;
	}
	if ((unsigned)check != check_value(buf, n)) {
		rv = VNP_E_CODE_CHECK;
		goto out;
	}
	memcpy(bytes, buf, n);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rv;
}

static int open_libctx(OSSL_LIB_CTX **ret_ctx, OSSL_PROVIDER **ret_prov)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *prov = NULL;
	int rv = VNP_E_CRYPTO;

	if (!ctx)
		goto out;
	prov = OSSL_PROVIDER_load(ctx, "default");
	if (!prov)
		goto out;
	*ret_ctx = ctx;
	*ret_prov = prov;
	ctx = NULL;
	rv = VNP_OK;
out:
	OSSL_LIB_CTX_free(ctx);
	return rv;
}

static void close_libctx(OSSL_LIB_CTX *ctx, OSSL_PROVIDER *prov)
{
	if (prov)
		OSSL_PROVIDER_unload(prov);
	OSSL_LIB_CTX_free(ctx);
}

int vnp_recovery_token_key(const uint8_t master[VNP_RECOVERY_KEY_LEN],
			   const uint8_t serial[VNP_RECOVERY_SERIAL_LEN],
			   uint8_t ret_key[VNP_RECOVERY_KEY_LEN])
{
	OSSL_LIB_CTX *ctx = NULL;
	OSSL_PROVIDER *prov = NULL;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	uint8_t key[VNP_RECOVERY_KEY_LEN];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"counter", 0),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)"CMAC", 0),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_CIPHER, (char *)"AES-256-CBC", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master,
						  VNP_RECOVERY_KEY_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)token_key_label,
						  sizeof(token_key_label) - 1),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)serial,
						  VNP_RECOVERY_SERIAL_LEN),
		OSSL_PARAM_construct_end(),
	};
	int rv = VNP_E_ARGS;

	if (!master || !serial || !ret_key)
		goto out;
	rv = open_libctx(&ctx, &prov);
	if (rv != VNP_OK)
		goto out;
	rv = VNP_E_CRYPTO;
	kdf = EVP_KDF_fetch(ctx, "KBKDF", NULL);
	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx || EVP_KDF_derive(kctx, key, sizeof(key), params) <= 0)
		goto out;
	memcpy(ret_key, key, sizeof(key));
	rv = VNP_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	close_libctx(ctx, prov);
	return rv;
}

int vnp_recovery_response(const uint8_t token_key[VNP_RECOVERY_KEY_LEN],
			  const uint8_t serial[VNP_RECOVERY_SERIAL_LEN],
			  const uint8_t challenge[VNP_RECOVERY_CHALLENGE_LEN],
			  uint8_t ret_response[VNP_RECOVERY_RESPONSE_LEN])
{
	OSSL_LIB_CTX *ctx = NULL;
	OSSL_PROVIDER *prov = NULL;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *mctx = NULL;
	uint8_t tag[16];
	size_t tag_len = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-256-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	int rv = VNP_E_ARGS;

	if (!token_key || !serial || !challenge || !ret_response)
		goto out;
	rv = open_libctx(&ctx, &prov);
	if (rv != VNP_OK)
		goto out;
	rv = VNP_E_CRYPTO;
	mac = EVP_MAC_fetch(ctx, "CMAC", NULL);
	if (!mac)
		goto out;
	mctx = EVP_MAC_CTX_new(mac);
	if (!mctx || EVP_MAC_init(mctx, token_key, VNP_RECOVERY_KEY_LEN, params) <= 0 ||
	    EVP_MAC_update(mctx, (const unsigned char *)response_label,
			   sizeof(response_label) - 1) <= 0 ||
	    EVP_MAC_update(mctx, serial, VNP_RECOVERY_SERIAL_LEN) <= 0 ||
	    EVP_MAC_update(mctx, challenge, VNP_RECOVERY_CHALLENGE_LEN) <= 0 ||
	    EVP_MAC_final(mctx, tag, &tag_len, sizeof(tag)) <= 0 ||
	    tag_len < VNP_RECOVERY_RESPONSE_LEN)
		goto out;
	memcpy(ret_response, tag, VNP_RECOVERY_RESPONSE_LEN);
	rv = VNP_OK;
out:
	OPENSSL_cleanse(tag, sizeof(tag));
	EVP_MAC_CTX_free(mctx); /* wipes the key schedule */
	EVP_MAC_free(mac);
	close_libctx(ctx, prov);
	return rv;
}
