/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV helpers without I/O: ATR card capabilities, GENERATE ASYMMETRIC KEY PAIR answers,
 * the management key cipher, certificate inflation. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "piv_int.h"
#include "rv.h"
#include "tlv.h"

int vnp_piv_atr_extended(const uint8_t *atr, size_t len)
{
	size_t i = 2, k, end;
	unsigned y;
	const uint8_t *h;

	if (!atr || len < 2)
		return -1;
	k = atr[1] & 0x0F; /* T0: K historical bytes */
	y = atr[1] >> 4;
	/* ISO/IEC 7816-3 §8.2: TAi TBi TCi TDi as Y says, TDi gives the next Y */
	for (;;) {
		i += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1);
		if (!(y & 8))
			break;
		if (i >= len)
			return -1;
		y = atr[i++] >> 4;
	}
	if (i + k > len || k < 1)
		return -1;
	h = atr + i;
	/* category indicator 80: compact-TLV objects follow; 00: the same, then three status
	 * bytes at the end (ISO/IEC 7816-4 §8.1.1) */
	if (h[0] == 0x80)
		end = k;
	else if (h[0] == 0x00 && k >= 4)
		end = k - 3;
	else
		return -1;
	for (size_t o = 1; o < end;) {
		unsigned tag = h[o] >> 4, l = h[o] & 0x0F;

		if (o + 1 + l > end)
			return -1;
		if (tag == 7) /* card capabilities: third software function table, b7 */
			return l >= 3 && (h[o + 3] & 0x40) ? 1 : 0;
		o += 1 + l;
	}
	return -1;
}

static enum vnp_key_alg rsa_alg_of(size_t modulus_len)
{
	return modulus_len == 256 ? VNP_ALG_RSA2048 : modulus_len == 384 ? VNP_ALG_RSA3072
									 : VNP_ALG_NONE;
}

int vnp_piv_parse_genkey(const uint8_t *buf, size_t len, enum vnp_key_alg alg,
			 struct vnp_pubkey *ret)
{
	const uint8_t *p, *end, *q = buf;
	struct vnp_tlv outer, t;
	struct vnp_pubkey pub;
	int rv;

	if (!buf || !ret)
		return VNP_E_ARGS;
	rv = vnp_tlv_next(&q, buf + len, &outer);
	if (rv || outer.tag != 0x7F49 || q != buf + len)
		return VNP_E_MALFORMED;
	memset(&pub, 0, sizeof(pub));
	p = outer.value;
	end = outer.value + outer.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (t.tag == 0x81) {
			while (t.len && !t.value[0]) { /* leading zeros */
				t.value++;
				t.len--;
			}
			if (t.len > sizeof(pub.modulus) || pub.modulus_len)
				return VNP_E_MALFORMED;
			memcpy(pub.modulus, t.value, t.len);
			pub.modulus_len = t.len;
		} else if (t.tag == 0x82) {
			if (t.len == 0 || t.len > sizeof(pub.exponent) || pub.exponent_len)
				return VNP_E_MALFORMED;
			memcpy(pub.exponent, t.value, t.len);
			pub.exponent_len = t.len;
		} else if (t.tag == 0x86) {
			if (t.len > sizeof(pub.ec_point) || pub.ec_point_len)
				return VNP_E_MALFORMED;
			memcpy(pub.ec_point, t.value, t.len);
			pub.ec_point_len = t.len;
		}
	}
	if (rv != VNP_E_NOT_FOUND)
		return VNP_E_MALFORMED;
	if (pub.modulus_len && pub.exponent_len && !pub.ec_point_len)
		pub.alg = rsa_alg_of(pub.modulus_len);
	else if (!pub.modulus_len && !pub.exponent_len && pub.ec_point[0] == 0x04)
		pub.alg = pub.ec_point_len == 65 ? VNP_ALG_EC_P256
			  : pub.ec_point_len == 97 ? VNP_ALG_EC_P384
						   : VNP_ALG_NONE;
	if (pub.alg == VNP_ALG_NONE || (alg != VNP_ALG_NONE && pub.alg != alg))
		return VNP_E_MALFORMED;
	*ret = pub;
	return VNP_OK;
}

size_t vnp_piv_mgmt_block(uint8_t alg)
{
	switch (alg) {
	case 0x03: return 8;
	case 0x08: case 0x0A: case 0x0C: return 16;
	default: return 0;
	}
}

static const char *cipher_name(uint8_t alg, size_t key_len)
{
	switch (alg) {
	case 0x03: return key_len == 24 ? "DES-EDE3-ECB" : NULL;
	case 0x08: return key_len == 16 ? "AES-128-ECB" : NULL;
	case 0x0A: return key_len == 24 ? "AES-192-ECB" : NULL;
	case 0x0C: return key_len == 32 ? "AES-256-ECB" : NULL;
	default: return NULL;
	}
}

int vnp_piv_mgmt_crypt(uint8_t alg, const uint8_t *key, size_t key_len, bool encrypt,
		       const uint8_t *in, uint8_t *out)
{
	const char *name = cipher_name(alg, key_len);
	size_t bs = vnp_piv_mgmt_block(alg);
	EVP_CIPHER *c = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, rv = VNP_E_CRYPTO;

	if (!name || !key || !in || !out)
		return VNP_E_ARGS;
	c = EVP_CIPHER_fetch(NULL, name, NULL);
	ctx = EVP_CIPHER_CTX_new();
	if (!c || !ctx)
		goto out;
	if (!EVP_CipherInit_ex2(ctx, c, key, NULL, encrypt ? 1 : 0, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, out, &n, in, (int)bs) || (size_t)n != bs)
		goto out;
	rv = VNP_OK;
out:
	EVP_CIPHER_CTX_free(ctx); /* clears the key schedule */
	EVP_CIPHER_free(c);
	return rv;
}

int vnp_piv_inflate(const uint8_t *in, size_t len, size_t max, uint8_t **ret, size_t *ret_len)
{
	z_stream z;
	uint8_t *out;
	int zr, rv;

	if (!in || !ret || !ret_len || len > UINT32_MAX || max == 0 || max > UINT32_MAX)
		return VNP_E_ARGS;
	/* one byte more than allowed: filling it means the output is too long */
	out = malloc(max + 1);
	if (!out)
		return VNP_E_NOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK) { /* 32: gzip or zlib header, detected */
		free(out);
		return VNP_E_NOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)(max + 1);
	zr = inflate(&z, Z_FINISH);
	if (zr == Z_STREAM_END && z.avail_in == 0 && z.total_out <= max) {
		*ret = out;
		*ret_len = z.total_out;
		out = NULL;
		rv = VNP_OK;
	} else if (z.total_out > max || (zr == Z_BUF_ERROR && z.avail_out == 0)) {
		rv = VNP_E_RANGE;
	} else {
		rv = VNP_E_MALFORMED; /* corrupt, truncated (Z_BUF_ERROR with input spent), or
				       * bytes after the end of the stream */
	}
	inflateEnd(&z);
	free(out);
	return rv;
}
