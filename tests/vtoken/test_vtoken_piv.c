/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual PIV card (tools/vtoken/PIV.md) through the real plugin: SELECT and the ATR,
 * GET DATA (discovery, CHUID, CCC, PIN-protected printed information), long answers with
 * 61xx and extended Le, command chaining, VERIFY / CHANGE REFERENCE DATA / RESET RETRY
 * COUNTER, GENERAL AUTHENTICATE (RSA, ECDSA, 9C always-authenticate, 9E without PIN, ECDH),
 * the management key (mutual and external authentication, failures), GENERATE, PUT DATA.
 * Signatures are verified with OpenSSL against the certificate the card returns. */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "applet_piv.h"
#include "cli_piv.h"
#include "keys.h"
#include "rv.h"
#include "state.h"
#include "tlv.h"
#include "vcard.h"
#include "vt_helpers.h"

#define SELECT_PIV "00A404000BA00000030800001000010000"
#define PIN_FIELD "313233343536FFFF"
#define PUK_FIELD "3132333435363738"

static const uint8_t mgmt_key[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
				      5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

/* A PIV card at f->path: PIN 123456, PUK 12345678, default 3DES management key, keys 9A
 * RSA-2048, 9C P-256, 9E P-256 with certificates. */
static void make_piv(struct vt_fix *f, bool short_only, bool keys)
{
	struct vnp_vt_piv_init a = { .nkeys = 0 };
	struct vnp_vt_state *st = NULL;
	static const uint8_t serial[8] = { 0x56, 0x54, 0, 0, 0, 0, 0, 0x42 };

	if (keys) {
		a.keys[a.nkeys++] = "9a:rsa2048";
		a.keys[a.nkeys++] = "9c:p256";
		a.keys[a.nkeys++] = "9e:p256";
	}
	f->p->close(f->card);
	f->card = NULL;
	assert_int_equal(vnp_vt_state_new(f->path, &st), VNP_OK);
	memcpy(st->d.serial, serial, 8);
	memcpy(st->d.label, "PIV test", 8);
	st->d.label_len = 8;
	st->d.pin_max = 8;
	if (short_only) {
		st->d.extended = false;
		st->d.max_nc = 255;
		st->d.max_ne = 256;
	}
	assert_int_equal(RAND_bytes(st->d.pin_salt, sizeof(st->d.pin_salt)), 1);
	assert_int_equal(vnp_vt_pin_hash(st->libctx, st->d.pin_salt, sizeof(st->d.pin_salt),
					 (const uint8_t *)VT_PIN, strlen(VT_PIN), st->d.pin_hash),
			 VNP_OK);
	assert_int_equal(vnp_vt_piv_personalise(st, &a), 0);
	assert_int_equal(vnp_vt_state_create(st, true), VNP_OK);
	vnp_vt_state_free(st);
	assert_int_equal(f->p->open(f->path, &f->card), 0);
}

static int setup_keys(void **state)
{
	vt_setup(state);
	make_piv(*state, false, true);
	return 0;
}

static int setup_nokeys(void **state)
{
	vt_setup(state);
	make_piv(*state, false, false);
	return 0;
}

static int setup_short(void **state)
{
	vt_setup(state);
	make_piv(*state, true, true);
	return 0;
}

static void select_piv(struct vt_fix *f)
{
	assert_int_equal(vt_tx(f, SELECT_PIV), 0x9000);
}

static void verify_pin(struct vt_fix *f)
{
	assert_int_equal(vt_tx(f, "0020008008" PIN_FIELD), 0x9000);
}

/* The value of a top-level TLV of the last answer. */
static struct vnp_tlv resp_tlv(struct vt_fix *f, uint32_t tag)
{
	struct vnp_tlv t;

	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, tag, &t), VNP_OK);
	return t;
}

/* GET DATA of a certificate with extended Le; its public key. */
static EVP_PKEY *cert_key(struct vt_fix *f, const char *tag_hex)
{
	char cmd[64];
	struct vnp_tlv c53, c70;
	const unsigned char *p;
	EVP_PKEY *pk;
	X509 *x;

	snprintf(cmd, sizeof(cmd), "00CB3FFF0000055C03%s0000", tag_hex);
	assert_int_equal(vt_tx(f, cmd), 0x9000);
	c53 = resp_tlv(f, 0x53);
	assert_int_equal(vnp_tlv_find(c53.value, c53.len, 0x70, &c70), VNP_OK);
	p = c70.value;
	x = d2i_X509(NULL, &p, (long)c70.len);
	assert_non_null(x);
	pk = X509_get_pubkey(x);
	assert_non_null(pk);
	X509_free(x);
	return pk;
}

static void test_select_atr(void **state)
{
	struct vt_fix *f = *state;
	uint8_t atr[33], vnt[33];
	size_t n = f->p->atr(f->card, atr), m = vnp_vcard_atr(vnt);
	struct vnp_tlv apt, pix;

	assert_true(n != m || memcmp(atr, vnt, n) != 0); /* not the vntoken ATR */
	assert_int_equal(atr[8], 0xC0); /* card capabilities: chaining + extended length */
	/* the full AID, the form without the version, the NIST RID alone */
	assert_int_equal(vt_tx(f, SELECT_PIV), 0x9000);
	apt = resp_tlv(f, 0x61);
	assert_int_equal(vnp_tlv_find(apt.value, apt.len, 0x4F, &pix), VNP_OK);
	assert_memory_equal(pix.value, "\x00\x00\x10\x00\x01\x00", 6);
	assert_int_equal(vt_tx(f, "00A4040009A0000003080000100000"), 0x9000);
	assert_int_equal(vt_tx(f, "00A4040005A00000030800"), 0x9000);
	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x6A82); /* no vntoken */
	assert_int_equal(vt_tx(f, "00A4040004A000000300"), 0x6A82);         /* too short */
}

static void test_short_only_atr(void **state)
{
	struct vt_fix *f = *state;
	uint8_t atr[33];

	f->p->atr(f->card, atr);
	assert_int_equal(atr[8], 0x80);
	select_piv(f);
	assert_int_equal(vt_tx(f, "00CB3FFF0000055C035FC1050000"), 0x6700); /* extended */
}

static void test_get_data(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_tlv t, guid;

	assert_int_equal(vt_tx(f, "00CB3FFF035C017E00"), 0x6D00); /* nothing selected */
	select_piv(f);
	assert_int_equal(vt_tx(f, "00CB3FFF035C017E00"), 0x9000);
	t = resp_tlv(f, 0x7E);
	assert_int_equal(vnp_tlv_find(t.value, t.len, 0x4F, &guid), VNP_OK);
	assert_int_equal(guid.len, 11);
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC10200"), 0x9000);
	t = resp_tlv(f, 0x53);
	assert_int_equal(vnp_tlv_find(t.value, t.len, 0x34, &guid), VNP_OK);
	assert_int_equal(guid.len, 16);
	assert_memory_equal(guid.value + 8, "\x56\x54\x00\x00\x00\x00\x00\x42", 8);
	assert_int_equal(vnp_tlv_find(t.value, t.len, 0x30, &guid), VNP_OK);
	assert_int_equal(guid.len, 25); /* FASC-N */
	assert_int_equal(guid.value[0], 0xD4); /* SS then 9: 11010 10011 ... */
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC10700"), 0x9000);
	t = resp_tlv(f, 0x53);
	assert_int_equal(vnp_tlv_find(t.value, t.len, 0xF0, &guid), VNP_OK);
	/* PIN-protected printed information */
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC10900"), 0x6982);
	verify_pin(f);
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC10900"), 0x9000);
	t = resp_tlv(f, 0x53);
	assert_int_equal(vnp_tlv_find(t.value, t.len, 0x01, &guid), VNP_OK);
	assert_memory_equal(guid.value, "PIV test", 8);
	/* errors */
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC1FF00"), 0x6A82); /* no such object */
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC10B00"), 0x6A82); /* 9D: no certificate */
	assert_int_equal(vt_tx(f, "00CB3F00055C035FC10200"), 0x6A86);
	assert_int_equal(vt_tx(f, "00CB3FFF055D035FC10200"), 0x6A80);
	assert_int_equal(vt_tx(f, "10CB3FFF055C035FC10200"), 0x9000); /* chained: one part */
	assert_int_equal(vt_tx(f, "00200080"), 0x6883);               /* another command */
	assert_int_equal(vt_tx(f, "80CB3FFF055C035FC10200"), 0x6E00); /* PIV: CLA 00 only */
}

/* The certificate with Le 00: 256 bytes and 61xx, GET RESPONSE to the end; the same bytes
 * as one extended answer. */
static void test_long_answer(void **state)
{
	struct vt_fix *f = *state;
	uint8_t whole[4096], parts[4096];
	size_t wn, pn = 0;
	uint16_t sw;
	char cmd[16];

	select_piv(f);
	assert_int_equal(vt_tx(f, "00CB3FFF0000055C035FC1050000"), 0x9000);
	wn = f->resp_len;
	assert_true(wn > 700);
	memcpy(whole, f->resp, wn);
	sw = vt_tx(f, "00CB3FFF055C035FC10500");
	assert_int_equal(f->resp_len, 256);
	while ((sw & 0xFF00) == 0x6100) {
		memcpy(parts + pn, f->resp, f->resp_len);
		pn += f->resp_len;
		snprintf(cmd, sizeof(cmd), "00C00000%02X", sw & 0xFF);
		sw = vt_tx(f, cmd);
	}
	assert_int_equal(sw, 0x9000);
	memcpy(parts + pn, f->resp, f->resp_len);
	pn += f->resp_len;
	assert_int_equal(pn, wn);
	assert_memory_equal(parts, whole, wn);
	/* a short Le of 8: 8 bytes then 61xx with the rest */
	sw = vt_tx(f, "00CB3FFF055C035FC10508");
	assert_int_equal(f->resp_len, 8);
	assert_int_equal(sw & 0xFF00, 0x6100);
}

static void test_verify(void **state)
{
	struct vt_fix *f = *state;

	select_piv(f);
	assert_int_equal(vt_tx(f, "00200080"), 0x63C3);
	assert_int_equal(vt_tx(f, "0020008008313233343537FFFF"), 0x63C2);
	assert_int_equal(vt_tx(f, "00200080"), 0x63C2);
	assert_int_equal(vt_tx(f, "0020008006313233343536"), 0x6A80); /* not 8 bytes */
	assert_int_equal(vt_tx(f, "0020000008" PIN_FIELD), 0x6A88);   /* no global PIN */
	verify_pin(f);
	assert_int_equal(vt_tx(f, "00200080"), 0x9000);
	assert_int_equal(vt_tx(f, "0020FF80"), 0x9000); /* reset the security status */
	assert_int_equal(vt_tx(f, "00200080"), 0x63C3);
	/* the PIN status survives a re-SELECT, not a reset */
	verify_pin(f);
	select_piv(f);
	assert_int_equal(vt_tx(f, "00200080"), 0x9000);
	f->p->reset(f->card);
	select_piv(f);
	assert_int_equal(vt_tx(f, "00200080"), 0x63C3);
	/* three wrong PINs block it, even the right one then */
	assert_int_equal(vt_tx(f, "00200080083939393939393939"), 0x63C2);
	assert_int_equal(vt_tx(f, "0020008008393939393939FFFF"), 0x63C1);
	assert_int_equal(vt_tx(f, "0020008008393939393939FFFF"), 0x63C0);
	assert_int_equal(vt_tx(f, "0020008008" PIN_FIELD), 0x6983);
	assert_int_equal(vt_tx(f, "00200080"), 0x6983);
	assert_string_equal(vt_state_value(f, "pin_tries"), "0");
}

static void test_change_reset(void **state)
{
	struct vt_fix *f = *state;

	select_piv(f);
	/* CHANGE REFERENCE DATA: old || new, 8 bytes each */
	assert_int_equal(vt_tx(f, "0024008010" "393939393939FFFF" "3131313131313131"), 0x63C2);
	assert_int_equal(vt_tx(f, "0024008010" PIN_FIELD "31313131FFFFFFFF"), 0x6A80);
	assert_int_equal(vt_tx(f, "0024008010" PIN_FIELD "41414141414141FF"), 0x6A80);
	assert_int_equal(vt_tx(f, "0024008010" PIN_FIELD "3131313131313131"), 0x9000);
	assert_int_equal(vt_tx(f, "00200080"), 0x9000);
	assert_int_equal(vt_tx(f, "0020008008" PIN_FIELD), 0x63C2);
	assert_int_equal(vt_tx(f, "00200080083131313131313131"), 0x9000);
	/* the PUK: change it, then unblock the PIN with it */
	assert_int_equal(vt_tx(f, "0024008110" "3030303030303030" "3838383838383838"), 0x63C9);
	assert_int_equal(vt_tx(f, "0024008110" PUK_FIELD "3838383838383838"), 0x9000);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	assert_int_equal(vt_tx(f, "0020008008393939393939FFFF"), 0x63C2);
	assert_int_equal(vt_tx(f, "0020008008393939393939FFFF"), 0x63C1);
	assert_int_equal(vt_tx(f, "0020008008393939393939FFFF"), 0x63C0);
	assert_int_equal(vt_tx(f, "002C008010" PUK_FIELD PIN_FIELD), 0x63C9); /* the old PUK */
	assert_int_equal(vt_tx(f, "002C008010" "3838383838383838" "3132FFFFFFFFFFFF"), 0x6A80);
	assert_int_equal(vt_tx(f, "002C008010" "3838383838383838" PIN_FIELD), 0x9000);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	assert_int_equal(vt_tx(f, "00200080"), 0x63C3); /* unblocked, not verified */
	verify_pin(f);
	assert_int_equal(vt_tx(f, "002C008110" "3838383838383838" PIN_FIELD), 0x6A88);
}

/* EMSA-PKCS1-v1_5 block of SHA-256(data) for a 2048-bit key. */
static void pkcs1_block(const uint8_t *data, size_t len, uint8_t blk[256])
{
	static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
					  0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
					  0x20 };
	unsigned int hl = 32;
	size_t ps = 256 - 3 - sizeof(prefix) - 32;

	blk[0] = 0x00;
	blk[1] = 0x01;
	memset(blk + 2, 0xFF, ps);
	blk[2 + ps] = 0x00;
	memcpy(blk + 3 + ps, prefix, sizeof(prefix));
	assert_int_equal(EVP_Digest(data, len, blk + 3 + ps + sizeof(prefix), &hl, EVP_sha256(),
				    NULL), 1);
}

/* GENERAL AUTHENTICATE alg key 7C {82 00, 81 in}; short APDUs chained in 255-byte parts.
 * Returns the SW; the full answer (after GET RESPONSE) in out. */
static uint16_t gen_auth(struct vt_fix *f, uint8_t alg, uint8_t key, uint32_t itag,
			 const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
	uint8_t data[600], cmd[300];
	size_t n = 0, off = 0, part;
	struct vnp_buf b;
	size_t mark;
	uint16_t sw;

	vnp_buf_init(&b);
	mark = vnp_tlv_open(&b, 0x7C);
	vnp_tlv_put(&b, 0x82, NULL, 0);
	vnp_tlv_put(&b, itag, in, in_len);
	vnp_tlv_close(&b, mark);
	memcpy(data, b.p, b.len);
	n = b.len;
	vnp_buf_free(&b);
	do {
		part = n - off > 255 ? 255 : n - off;
		cmd[0] = off + part < n ? 0x10 : 0x00;
		cmd[1] = 0x87;
		cmd[2] = alg;
		cmd[3] = key;
		cmd[4] = (uint8_t)part;
		memcpy(cmd + 5, data + off, part);
		cmd[5 + part] = 0x00;
		sw = vt_txb(f, f->card, cmd, part + 6);
		off += part;
		if (off < n)
			assert_int_equal(sw, 0x9000);
	} while (off < n);
	*out_len = 0;
	while ((sw & 0xFF00) == 0x6100 || sw == 0x9000) {
		memcpy(out + *out_len, f->resp, f->resp_len);
		*out_len += f->resp_len;
		if (sw == 0x9000)
			break;
		sw = vt_tx(f, "00C0000000");
	}
	return sw;
}

/* The 82 value of a 7C answer. */
static struct vnp_tlv answer_82(const uint8_t *out, size_t len)
{
	struct vnp_tlv c, r;

	assert_int_equal(vnp_tlv_find(out, len, 0x7C, &c), VNP_OK);
	assert_int_equal(vnp_tlv_find(c.value, c.len, 0x82, &r), VNP_OK);
	return r;
}

static void test_rsa_sign(void **state)
{
	struct vt_fix *f = *state;
	uint8_t blk[256], out[600], msg[] = "vnpki PIV";
	size_t out_len;
	struct vnp_tlv sig;
	EVP_PKEY *pk;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	select_piv(f);
	pk = cert_key(f, "5FC105");
	pkcs1_block(msg, sizeof(msg), blk);
	assert_int_equal(gen_auth(f, 0x07, 0x9A, 0x81, blk, 256, out, &out_len), 0x6982);
	verify_pin(f);
	assert_int_equal(gen_auth(f, 0x11, 0x9A, 0x81, blk, 256, out, &out_len), 0x6A86);
	assert_int_equal(gen_auth(f, 0x07, 0x9A, 0x81, blk, 255, out, &out_len), 0x6A80);
	assert_int_equal(gen_auth(f, 0x07, 0x9D, 0x81, blk, 256, out, &out_len), 0x6A88);
	assert_int_equal(gen_auth(f, 0x07, 0x9A, 0x81, blk, 256, out, &out_len), 0x9000);
	sig = answer_82(out, out_len);
	assert_int_equal(sig.len, 256);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(md, sig.value, sig.len, msg, sizeof(msg)), 1);
	/* 9A needs the PIN once: a second signature works */
	assert_int_equal(gen_auth(f, 0x07, 0x9A, 0x81, blk, 256, out, &out_len), 0x9000);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
}

static void ec_verify(EVP_PKEY *pk, const uint8_t *hash, const struct vnp_tlv *sig)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, sig->value, sig->len, hash, 32), 1);
	EVP_PKEY_CTX_free(ctx);
}

/* 9C: one signature per VERIFY; 9E: no PIN at all. */
static void test_ec_always_auth(void **state)
{
	struct vt_fix *f = *state;
	uint8_t hash[32], out[300];
	size_t out_len;
	struct vnp_tlv sig;
	EVP_PKEY *pk9c, *pk9e;

	assert_int_equal(RAND_bytes(hash, sizeof(hash)), 1);
	select_piv(f);
	pk9c = cert_key(f, "5FC10A");
	pk9e = cert_key(f, "5FC101");
	assert_int_equal(gen_auth(f, 0x11, 0x9E, 0x81, hash, 32, out, &out_len), 0x9000);
	sig = answer_82(out, out_len);
	ec_verify(pk9e, hash, &sig);
	assert_int_equal(gen_auth(f, 0x11, 0x9C, 0x81, hash, 32, out, &out_len), 0x6982);
	verify_pin(f);
	assert_int_equal(gen_auth(f, 0x11, 0x9C, 0x81, hash, 32, out, &out_len), 0x9000);
	sig = answer_82(out, out_len);
	ec_verify(pk9c, hash, &sig);
	assert_int_equal(gen_auth(f, 0x11, 0x9C, 0x81, hash, 32, out, &out_len), 0x6982);
	assert_int_equal(vt_tx(f, "00200080"), 0x9000); /* still logged in for 9A */
	verify_pin(f);
	assert_int_equal(gen_auth(f, 0x11, 0x9C, 0x81, hash, 32, out, &out_len), 0x9000);
	/* a wrong PIN drops the login */
	assert_int_equal(vt_tx(f, "0020008008393939393939FFFF"), 0x63C2);
	assert_int_equal(gen_auth(f, 0x11, 0x9C, 0x81, hash, 32, out, &out_len), 0x6982);
	EVP_PKEY_free(pk9c);
	EVP_PKEY_free(pk9e);
}

static void des3(const uint8_t *in, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;

	assert_int_equal(EVP_CipherInit_ex(c, EVP_des_ede3_ecb(), NULL, mgmt_key, NULL, enc), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_CipherUpdate(c, out, &n, in, 8), 1);
	assert_int_equal(n, 8);
	EVP_CIPHER_CTX_free(c);
}

/* Mutual authentication with the default 3DES key; wrong_witness spoils step 2. */
static uint16_t mutual(struct vt_fix *f, bool wrong_witness)
{
	uint8_t witness[8], chal[8], expect[8], cmd[64];
	struct vnp_tlv c, t;
	uint16_t sw;

	assert_int_equal(vt_tx(f, "008703 9B 04 7C02 8000 00"), 0x9000);
	c = resp_tlv(f, 0x7C);
	assert_int_equal(vnp_tlv_find(c.value, c.len, 0x80, &t), VNP_OK);
	assert_int_equal(t.len, 8);
	des3(t.value, witness, 0);
	if (wrong_witness)
		witness[0] ^= 1;
	assert_int_equal(RAND_bytes(chal, 8), 1);
	memcpy(cmd, "\x00\x87\x03\x9B\x16\x7C\x14\x80\x08", 9);
	memcpy(cmd + 9, witness, 8);
	memcpy(cmd + 17, "\x81\x08", 2);
	memcpy(cmd + 19, chal, 8);
	cmd[27] = 0x00;
	sw = vt_txb(f, f->card, cmd, 28);
	if (sw != 0x9000)
		return sw;
	c = resp_tlv(f, 0x7C);
	assert_int_equal(vnp_tlv_find(c.value, c.len, 0x82, &t), VNP_OK);
	des3(chal, expect, 1);
	assert_int_equal(t.len, 8);
	assert_memory_equal(t.value, expect, 8);
	return sw;
}

static void test_mgmt_generate_put(void **state)
{
	struct vt_fix *f = *state;
	uint8_t cmd[2200], out[300], peer_pub[65], secret[32], hash[32];
	size_t n, out_len, slen = sizeof(secret);
	struct vnp_tlv pub, pt;
	EVP_PKEY *card_pk = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM params[3];

	select_piv(f);
	verify_pin(f); /* the PIN does not stand in for the management key */
	assert_int_equal(vt_tx(f, "004700 9D 05 AC03800111 00"), 0x6982);
	assert_int_equal(vt_tx(f, "00DB3FFF 08 5C035FC10B 530100"), 0x6982);
	/* failures: wrong witness, step 2 without step 1, wrong algorithm */
	assert_int_equal(mutual(f, true), 0x6982);
	assert_int_equal(vt_tx(f, "004700 9D 05 AC03800111 00"), 0x6982);
	assert_int_equal(vt_tx(f, "008703 9B 0C 7C0A 82080102030405060708"), 0x6985);
	assert_int_equal(vt_tx(f, "008708 9B 04 7C02 8000 00"), 0x6A86);
	assert_int_equal(mutual(f, false), 0x9000);
	/* GENERATE P-256 into 9D: 7F49 {86 point} */
	assert_int_equal(vt_tx(f, "004700 9D 05 AC03800111 00"), 0x9000);
	pub = resp_tlv(f, 0x7F49);
	assert_int_equal(vnp_tlv_find(pub.value, pub.len, 0x86, &pt), VNP_OK);
	assert_int_equal(pt.len, 65);
	assert_int_equal(vt_tx(f, "004700 9D 05 AC03800199 00"), 0x6A80); /* unknown alg */
	assert_int_equal(vt_tx(f, "004700 9B 05 AC03800111 00"), 0x6A86); /* not a key slot */
	/* ECDH with it (tag 85) equals OpenSSL's */
	params[0] = OSSL_PARAM_construct_utf8_string("group", (char *)"P-256", 0);
	params[1] = OSSL_PARAM_construct_octet_string("pub", (void *)pt.value, pt.len);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &card_pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(peer);
	assert_int_equal(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
							 peer_pub, sizeof(peer_pub), &n), 1);
	assert_int_equal(gen_auth(f, 0x11, 0x9D, 0x85, peer_pub, 65, out, &out_len), 0x9000);
	pt = answer_82(out, out_len);
	ctx = EVP_PKEY_CTX_new(peer, NULL);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, card_pk), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, secret, &slen), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(pt.len, 32);
	assert_memory_equal(pt.value, secret, 32);
	peer_pub[10] ^= 1; /* not on the curve */
	assert_int_equal(gen_auth(f, 0x11, 0x9D, 0x85, peer_pub, 65, out, &out_len), 0x6A80);
	memset(hash, 0x5A, sizeof(hash));
	assert_int_equal(gen_auth(f, 0x11, 0x9D, 0x81, hash, 32, out, &out_len), 0x9000);
	/* PUT DATA of a 1500-byte object, chained, read back; an empty 53 deletes it */
	n = 0;
	memcpy(cmd, "\x5C\x03\x5F\xC1\x0B\x53\x82\x05\xDC", 9);
	n = 9;
	for (size_t i = 0; i < 1500; i++)
		cmd[n++] = (uint8_t)i;
	{
		uint8_t apdu[300];
		size_t off = 0, part;
		uint16_t sw;
		do {
			part = n - off > 255 ? 255 : n - off;
			apdu[0] = off + part < n ? 0x10 : 0x00;
			memcpy(apdu + 1, "\xDB\x3F\xFF", 3);
			apdu[4] = (uint8_t)part;
			memcpy(apdu + 5, cmd + off, part);
			sw = vt_txb(f, f->card, apdu, part + 5);
			assert_int_equal(sw, 0x9000);
			off += part;
		} while (off < n);
	}
	assert_int_equal(vt_tx(f, "00CB3FFF0000055C035FC10B0000"), 0x9000);
	assert_int_equal(f->resp_len, 4 + 1500);
	assert_memory_equal(f->resp + 4, cmd + 9, 1500);
	assert_int_equal(vt_tx(f, "00DB3FFF 07 5C035FC10B 5300"), 0x9000);
	assert_int_equal(vt_tx(f, "00CB3FFF055C035FC10B00"), 0x6A82);
	assert_int_equal(vt_tx(f, "00DB3FFF 07 5C035FC1FF 5300"), 0x6A80);
	/* the discovery object is written as 7E {...} */
	assert_int_equal(vt_tx(f, "00DB3FFF 0B 7E09 4F03A00000 5F2F0140"), 0x9000);
	assert_int_equal(vt_tx(f, "00CB3FFF035C017E00"), 0x9000);
	assert_int_equal(f->resp_len, 11);
	/* the management key status ends with a reset */
	f->p->reset(f->card);
	select_piv(f);
	assert_int_equal(vt_tx(f, "004700 9D 05 AC03800111 00"), 0x6982);
	EVP_PKEY_free(card_pk);
	EVP_PKEY_free(peer);
}

static void test_external_auth(void **state)
{
	struct vt_fix *f = *state;
	uint8_t chal[8], resp[8], cmd[32];
	struct vnp_tlv c, t;

	select_piv(f);
	assert_int_equal(vt_tx(f, "008703 9B 04 7C02 8100 00"), 0x9000);
	c = resp_tlv(f, 0x7C);
	assert_int_equal(vnp_tlv_find(c.value, c.len, 0x81, &t), VNP_OK);
	assert_int_equal(t.len, 8);
	memcpy(chal, t.value, 8);
	des3(chal, resp, 1);
	memcpy(cmd, "\x00\x87\x03\x9B\x0C\x7C\x0A\x82\x08", 9);
	memcpy(cmd + 9, resp, 8);
	cmd[9] ^= 0x80; /* wrong */
	assert_int_equal(vt_txb(f, f->card, cmd, 17), 0x6982);
	cmd[9] ^= 0x80; /* the right answer, but the challenge is spent */
	assert_int_equal(vt_txb(f, f->card, cmd, 17), 0x6985);
	/* P1 00: the key's own algorithm (OpenSC's GET CHALLENGE) */
	assert_int_equal(vt_tx(f, "008700 9B 04 7C02 8100 00"), 0x9000);
	c = resp_tlv(f, 0x7C);
	assert_int_equal(vnp_tlv_find(c.value, c.len, 0x81, &t), VNP_OK);
	des3(t.value, resp, 1);
	memcpy(cmd + 9, resp, 8);
	assert_int_equal(vt_txb(f, f->card, cmd, 17), 0x9000);
	assert_int_equal(vt_tx(f, "004700 9A 05 AC03800111 00"), 0x9000);
	assert_int_equal(vt_tx(f, "00DB3FFF 07 5C035FC105 5300"), 0x9000);
}

/* The mapping is the documented one (PIV.md): 9A at key ref 1A, its certificate at 5A,
 * the PUK verifier and the management key at BC and BD; the profile line. */
static void test_state_mapping(void **state)
{
	struct vt_fix *f = *state;

	assert_string_equal(vt_state_value(f, "profile"), "piv");
	assert_string_equal(vt_state_value(f, "key.1a.alg"), "01");
	assert_string_equal(vt_state_value(f, "key.1a.id"), "9a");
	assert_string_equal(vt_state_value(f, "key.1c.flags"), "01"); /* always-auth */
	assert_non_null(vt_state_value(f, "obj.5a.value"));
	assert_non_null(vt_state_value(f, "obj.5c.value"));
	assert_non_null(vt_state_value(f, "obj.5e.value"));
	assert_string_equal(vt_state_value(f, "obj.bd.value"),
			    "03010203040506070801020304050607080102030405060708");
	assert_int_equal(strlen(vt_state_value(f, "obj.bc.value")), 96);
	assert_null(vt_state_value(f, "key.1d.alg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_select_atr, setup_nokeys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_short_only_atr, setup_short, vt_teardown),
		cmocka_unit_test_setup_teardown(test_get_data, setup_nokeys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_long_answer, setup_keys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup_nokeys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_change_reset, setup_nokeys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_rsa_sign, setup_keys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_ec_always_auth, setup_keys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_mgmt_generate_put, setup_nokeys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_external_auth, setup_nokeys, vt_teardown),
		cmocka_unit_test_setup_teardown(test_state_mapping, setup_keys, vt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
