/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PIV driver's newer parts against transcripts: extended length from the ATR,
 * compressed certificates (gzip, bombs, corrupt streams), the management key (cipher known
 * answers, external authentication), key generation with the public key kept on the host,
 * certificate writes and deletes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "../apdu/fake.h"
#include "applet/piv_int.h"
#include "config.h"
#include "piv_certs.h"
#include "rv.h"
#include "secret.h"

static struct vnp_card card;
static struct th_reader rd;

static void finish(void)
{
	th_assert_done(&rd);
	vnp_driver_piv.release(&card);
	assert_null(card.drv_data);
	assert_false(card.in_transaction);
}

static void test_atr(void **state)
{
	static const struct {
		const char *atr;
		int ext;
	} cases[] = {
		/* YubiKey 5 NFC: 80 73 C0 21 C0 ...: card capabilities, third byte C0 */
		{ "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40", 1 },
		/* the same capabilities without b7 of the third byte */
		{ "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 80 57 59 75 62 69 4B 65 79 40", 0 },
		/* only two capability bytes: no extended length */
		{ "3B 88 80 01 80 72 C0 21 00 00 00 00 00", 0 },
		/* category 00 with status bytes at the end */
		{ "3B 88 80 01 00 73 C0 21 C0 00 90 00 00", 1 },
		/* no compact-TLV historical bytes */
		{ "3B 02 14 50", -1 },
		{ "3B 8A 80 01 4A 43 4F 50 33 31 56 32 33 32 7A", -1 },
		/* truncated */
		{ "3B FD 13 00", -1 },
		{ "3B 85 80 01 73 C0", -1 },
		{ "3B", -1 },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		uint8_t atr[40];
		size_t n = th_hex(cases[i].atr, atr, sizeof(atr));

		if (vnp_piv_atr_extended(atr, n) != cases[i].ext)
			fail_msg("ATR %s: expected %d", cases[i].atr, cases[i].ext);
	}
	assert_int_equal(vnp_piv_atr_extended(NULL, 0), -1);
}

/* gzip (windowBits 31) of in. */
static uint8_t *gzip_of(const uint8_t *in, size_t len, size_t *ret_len)
{
	z_stream z;
	uint8_t *out = malloc(len + 1024);

	assert_non_null(out);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)(len + 1024);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*ret_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* 53 { 70 value, 71 01, FE 00 } + 90 00 as transcript text. */
static char *gz_container(const uint8_t *gz, size_t n)
{
	uint8_t *buf = malloc(n + 16);
	size_t o = 0;
	char *s;

	assert_non_null(buf);
	assert_true(n + 9 < 0x10000);
	buf[o++] = 0x53;
	buf[o++] = 0x82;
	buf[o++] = (uint8_t)((n + 9) >> 8);
	buf[o++] = (uint8_t)(n + 9);
	buf[o++] = 0x70;
	buf[o++] = 0x82;
	buf[o++] = (uint8_t)(n >> 8);
	buf[o++] = (uint8_t)n;
	memcpy(buf + o, gz, n);
	o += n;
	buf[o++] = 0x71;
	buf[o++] = 0x01;
	buf[o++] = 0x01;
	buf[o++] = 0xFE;
	buf[o++] = 0x00;
	s = th_hexstr(buf, o, "", "90 00");
	free(buf);
	return s;
}

#define GET_CERT(t) "00 CB 3F FF 00 00 05 5C 03 5F C1 " t " 00 00"

static void test_gzip_cert(void **state)
{
	size_t cn, gn, zn, bn;
	uint8_t *cert = th_hex_alloc(CERT_RSA, &cn), *gz = gzip_of(cert, cn, &gn);
	uint8_t *zeros = calloc(1, 1 << 20), *bomb;
	char *good, *trunc, *trail, *bombc;
	struct vnp_obj obj = { .kind = VNP_OBJ_CERT, .ref = 0x9A };
	struct vnp_dir *dir = NULL;
	uint8_t *val = NULL, *withtail;
	size_t len = 0;

	(void)state;
	assert_non_null(zeros);
	bomb = gzip_of(zeros, 1 << 20, &bn);
	assert_true(bn < 4096); /* 1 MiB of zeros in a few KiB */
	good = gz_container(gz, gn);
	trunc = gz_container(gz, gn - 10);
	withtail = malloc(gn + 4);
	memcpy(withtail, gz, gn);
	memcpy(withtail + gn, "junk", 4);
	trail = gz_container(withtail, gn + 4);
	bombc = gz_container(bomb, bn);
	zn = gn;
	(void)zn;
	{
		const struct th_step steps[] = {
			{ GET_CERT("05"), good },
			{ GET_CERT("05"), trunc },
			{ GET_CERT("05"), trail },
			{ GET_CERT("05"), bombc },
			/* read_dir: the bomb is skipped, the slot shows empty */
			{ GET_CERT("05"), bombc },
			{ GET_CERT("0A"), "6A 82" },
			{ GET_CERT("0B"), "6A 82" },
			{ GET_CERT("01"), "6A 82" },
			{ NULL },
		};

		th_card_init(&card, &rd, steps, true);
		assert_int_equal(vnp_driver_piv.read_object(&card, &obj, &val, &len), VNP_OK);
		assert_int_equal(len, cn);
		assert_memory_equal(val, cert, cn);
		free(val);
		val = NULL;
		vnp_driver_piv.release(&card); /* drop the cache: read again */
		assert_int_equal(vnp_driver_piv.read_object(&card, &obj, &val, &len),
				 VNP_E_MALFORMED);
		assert_int_equal(vnp_driver_piv.read_object(&card, &obj, &val, &len),
				 VNP_E_MALFORMED);
		assert_int_equal(vnp_driver_piv.read_object(&card, &obj, &val, &len), VNP_E_RANGE);
		assert_null(val);
		assert_int_equal(vnp_driver_piv.read_dir(&card, &dir), VNP_OK);
		assert_int_equal(dir->count, 0);
		vnp_dir_free(dir);
		finish();
	}
	/* the pure function: bound, empty and garbage input */
	assert_int_equal(vnp_piv_inflate(gz, gn, cn, &val, &len), VNP_OK);
	assert_int_equal(len, cn);
	free(val);
	assert_int_equal(vnp_piv_inflate(gz, gn, cn - 1, &val, &len), VNP_E_RANGE);
	assert_int_equal(vnp_piv_inflate(gz, 0, cn, &val, &len), VNP_E_MALFORMED);
	assert_int_equal(vnp_piv_inflate((const uint8_t *)"not gzip at all", 15, cn, &val, &len),
			 VNP_E_MALFORMED);
	free(cert);
	free(gz);
	free(zeros);
	free(bomb);
	free(withtail);
	free(good);
	free(trunc);
	free(trail);
	free(bombc);
}

static void test_mgmt_cipher(void **state)
{
	uint8_t k3[24], in[16], out[16], back[16], k16[16];

	(void)state;
	th_hex("01 02 03 04 05 06 07 08 01 02 03 04 05 06 07 08 01 02 03 04 05 06 07 08", k3,
	       sizeof(k3));
	th_hex("11 22 33 44 55 66 77 88", in, 8);
	assert_int_equal(vnp_piv_mgmt_block(0x03), 8);
	assert_int_equal(vnp_piv_mgmt_crypt(0x03, k3, 24, true, in, out), VNP_OK);
	th_assert_hex(out, 8, "6C 5E 94 DC AD D3 9F 1D"); /* openssl enc -des-ede3 -nopad */
	assert_int_equal(vnp_piv_mgmt_crypt(0x03, k3, 24, false, out, back), VNP_OK);
	assert_memory_equal(back, in, 8);
	/* FIPS-197 Appendix C.1 */
	th_hex("{16:00+}", k16, sizeof(k16));
	th_hex("00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF", in, 16);
	assert_int_equal(vnp_piv_mgmt_block(0x08), 16);
	assert_int_equal(vnp_piv_mgmt_crypt(0x08, k16, 16, true, in, out), VNP_OK);
	th_assert_hex(out, 16, "69 C4 E0 D8 6A 7B 04 30 D8 CD B7 80 70 B4 C5 5A");
	/* key length not the algorithm's, unknown algorithm */
	assert_int_equal(vnp_piv_mgmt_crypt(0x03, k16, 16, true, in, out), VNP_E_ARGS);
	assert_int_equal(vnp_piv_mgmt_crypt(0x42, k16, 16, true, in, out), VNP_E_ARGS);
	assert_int_equal(vnp_piv_mgmt_block(0x42), 0);
}

static void test_parse_genkey(void **state)
{
	static const struct {
		const char *hex;
		enum vnp_key_alg alg;
		int rv;
		enum vnp_key_alg got;
	} cases[] = {
		{ "7F 49 82 01 09 81 82 01 00 {256:80+} 82 03 01 00 01", VNP_ALG_RSA2048, VNP_OK,
		  VNP_ALG_RSA2048 },
		{ "7F 49 82 01 09 81 82 01 00 {256:80+} 82 03 01 00 01", VNP_ALG_NONE, VNP_OK,
		  VNP_ALG_RSA2048 },
		{ "7F 49 43 86 41 04 {64:01+}", VNP_ALG_EC_P256, VNP_OK, VNP_ALG_EC_P256 },
		{ "7F 49 63 86 61 04 {96:01+}", VNP_ALG_NONE, VNP_OK, VNP_ALG_EC_P384 },
		/* asked for P-384, got P-256 */
		{ "7F 49 43 86 41 04 {64:01+}", VNP_ALG_EC_P384, VNP_E_MALFORMED, 0 },
		/* compressed point, no exponent, wrong outer tag, trailing bytes, lying length */
		{ "7F 49 23 86 21 02 {32:01+}", VNP_ALG_NONE, VNP_E_MALFORMED, 0 },
		{ "7F 49 82 01 04 81 82 01 00 {256:80+}", VNP_ALG_NONE, VNP_E_MALFORMED, 0 },
		{ "7F 48 43 86 41 04 {64:01+}", VNP_ALG_NONE, VNP_E_MALFORMED, 0 },
		{ "7F 49 43 86 41 04 {64:01+} 00 01", VNP_ALG_NONE, VNP_E_MALFORMED, 0 },
		{ "7F 49 50 86 41 04 {64:01+}", VNP_ALG_NONE, VNP_E_MALFORMED, 0 },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		struct vnp_pubkey pub;
		size_t n;
		uint8_t *buf = th_hex_alloc(cases[i].hex, &n);

		if (vnp_piv_parse_genkey(buf, n, cases[i].alg, &pub) != cases[i].rv)
			fail_msg("case %zu: expected %d", i, cases[i].rv);
		if (cases[i].rv == VNP_OK)
			assert_int_equal(pub.alg, cases[i].got);
		free(buf);
	}
}

static struct vnp_config *cfg_with_key(const char *dir)
{
	struct vnp_config *c = malloc(sizeof(*c));
	char text[PATH_MAX + 200];

	assert_non_null(c);
	vnp_config_defaults(c);
	snprintf(text, sizeof(text),
		 "piv.management_key = 010203040506070801020304050607080102030405060708\n"
		 "cache.dir = %s\n", dir);
	assert_int_equal(vnp_config_parse_string(c, text, "t"), VNP_OK);
	assert_int_equal(c->piv_mgmt_key.len, 24);
	assert_int_equal(c->piv_mgmt_alg, 0x03);
	return c;
}

#define KEY3DES "01 02 03 04 05 06 07 08 01 02 03 04 05 06 07 08 01 02 03 04 05 06 07 08"
/* external authentication: the card's challenge 11..88, our answer its 3DES encryption */
#define EXT_AUTH                                                                       \
	{ "00 87 03 9B 04 7C 02 80 00 00", "6A 80" },                                   \
	{ "00 87 03 9B 04 7C 02 81 00 00", "7C 0A 81 08 11 22 33 44 55 66 77 88 90 00" }, \
	{ "00 87 03 9B 0C 7C 0A 82 08 6C 5E 94 DC AD D3 9F 1D 00", "90 00" }
#define EC_POINT "04 {64:01+}"

static void test_keygen_and_cert(void **state)
{
	char dir[] = "/tmp/vnpki-piv-test.XXXXXX", path[PATH_MAX];
	struct vnp_config *cfg;
	struct vnp_keygen req = { .alg = VNP_ALG_EC_P256, .id = { 0x9E }, .id_len = 1 };
	struct vnp_obj key, cert = { .kind = VNP_OBJ_CERT, .id = { 0x04 }, .id_len = 1 };
	struct vnp_dir *d = NULL;
	struct piv_state *st;
	struct stat sb;
	uint8_t ref = 0;
	size_t cn;
	uint8_t *certv = th_hex_alloc(CERT_EC, &cn);
	char *put;

	(void)state;
	assert_non_null(mkdtemp(dir));
	cfg = cfg_with_key(dir);
	put = th_hexstr(certv, cn, "00 DB 3F FF 00 01 92 5C 03 5F C1 01 53 82 01 89 70 82 01 80",
		     "71 01 00 FE 00");
	{
		const struct th_step steps[] = {
			EXT_AUTH,
			{ "00 47 00 9E 00 00 05 AC 03 80 01 11 00 00", "7F 49 43 86 41 " EC_POINT " 90 00" },
			/* a new card session: the slots are read again; the key shows from the
			 * host copy of its public key */
			{ GET_CERT("05"), "6A 82" },
			{ GET_CERT("0A"), "6A 82" },
			{ GET_CERT("0B"), "6A 82" },
			{ GET_CERT("01"), "6A 82" },
			EXT_AUTH,
			{ put, "90 00" },
			EXT_AUTH,
			{ "00 DB 3F FF 07 5C 03 5F C1 01 53 00", "90 00" },
			{ NULL },
		};

		th_card_init(&card, &rd, steps, true);
		card.cfg = cfg;
		st = vnp_piv_state(&card);
		memcpy(st->serial, "\x01\x02\x03\x04", 4);
		st->serial_len = 4;
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key), VNP_OK);
		assert_int_equal(key.ref, 0x9E);
		assert_int_equal(key.id[0], 0x04);
		assert_int_equal(key.pub.alg, VNP_ALG_EC_P256);
		th_assert_hex(key.pub.ec_point, key.pub.ec_point_len, EC_POINT);
		snprintf(path, sizeof(path), "%s/piv-01020304-9E.pub", dir);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		/* drop the card session's state, as a new process would start */
		vnp_driver_piv.release(&card);
		st = vnp_piv_state(&card);
		memcpy(st->serial, "\x01\x02\x03\x04", 4);
		st->serial_len = 4;
		assert_int_equal(vnp_driver_piv.read_dir(&card, &d), VNP_OK);
		assert_int_equal(d->count, 1);
		assert_int_equal(d->objs[0].kind, VNP_OBJ_KEY);
		assert_int_equal(d->objs[0].ref, 0x9E);
		assert_int_equal(d->objs[0].pub.alg, VNP_ALG_EC_P256);
		vnp_dir_free(d);
		/* the certificate (for another key: the host copy stays) */
		assert_int_equal(vnp_driver_piv.write_object(&card, &cert, certv, cn, &ref), VNP_OK);
		assert_int_equal(ref, 0x9E);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(vnp_driver_piv.read_dir(&card, &d), VNP_OK); /* no APDU */
		assert_int_equal(d->count, 2);
		assert_int_equal(d->objs[0].kind, VNP_OBJ_CERT);
		assert_int_equal(d->objs[0].length, cn);
		vnp_dir_free(d);
		cert.ref = 0x9E;
		assert_int_equal(vnp_driver_piv.delete_object(&card, &cert), VNP_OK);
		/* a key pair cannot be deleted on PIV; no APDU */
		assert_int_equal(vnp_driver_piv.delete_object(&card, &key), VNP_E_NOT_SUPPORTED);
		finish();
	}
	/* bad slot ids and no management key: nothing is sent */
	{
		static const struct th_step none[] = { { NULL } };
		struct vnp_config plain;

		th_card_init(&card, &rd, none, true);
		card.cfg = cfg;
		req.id[0] = 0x05; /* no slot known (not enumerated): none is free */
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key), VNP_E_CARD_FULL);
		req.id[0] = 0x9B;
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key), VNP_E_INVALID_DATA);
		cert.kind = VNP_OBJ_DATA;
		assert_int_equal(vnp_driver_piv.write_object(&card, &cert, certv, cn, &ref),
				 VNP_E_NOT_SUPPORTED);
		vnp_config_defaults(&plain);
		card.cfg = &plain;
		req.id[0] = 0x01;
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key), VNP_E_NOT_SUPPORTED);
		card.cfg = NULL;
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key), VNP_E_NOT_SUPPORTED);
		/* an AES-128 key with the default 3DES algorithm: a configuration error, found
		 * before anything goes to the card */
		assert_int_equal(vnp_config_parse_string(&plain,
							 "piv.management_key = "
							 "000102030405060708090A0B0C0D0E0F\n",
							 "t"),
				 VNP_OK);
		card.cfg = &plain;
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key), VNP_E_CONFIG);
		assert_int_equal(vnp_driver_piv.write_object(&card, &cert, certv, cn, &ref),
				 VNP_E_NOT_SUPPORTED); /* kind DATA: refused first */
		cert.kind = VNP_OBJ_CERT;
		assert_int_equal(vnp_driver_piv.write_object(&card, &cert, certv, cn, &ref),
				 VNP_E_CONFIG);
		vnp_config_free(&plain);
		card.cfg = NULL;
		finish();
	}
	/* the card refuses the management key */
	{
		static const struct th_step steps[] = {
			{ "00 87 03 9B 04 7C 02 80 00 00", "6A 80" },
			{ "00 87 03 9B 04 7C 02 81 00 00", "7C 0A 81 08 11 22 33 44 55 66 77 88 90 00" },
			{ "00 87 03 9B 0C 7C 0A 82 08 6C 5E 94 DC AD D3 9F 1D 00", "69 82" },
			{ NULL },
		};

		th_card_init(&card, &rd, steps, true);
		card.cfg = cfg;
		req.id[0] = 0x01;
		assert_int_equal(vnp_driver_piv.generate_key(&card, &req, &key),
				 VNP_E_SECURITY_STATUS);
		finish();
	}
	unlink(path);
	rmdir(dir);
	vnp_config_free(cfg);
	free(cfg);
	free(put);
	free(certv);
}

/* piv.management_key and piv.management_key_alg in vnpki.conf */
static void test_config_mgmt_key(void **state)
{
	static const char *const bad[] = {
		"piv.management_key = 0102\n",                                     /* too short */
		"piv.management_key = 01020304050607080102030405060708010203040506070G\n",
		"piv.management_key_alg = des\n",
	};
	struct vnp_config c;

	(void)state;
	vnp_config_defaults(&c);
	assert_int_equal(c.piv_mgmt_alg, 0x03);
	assert_null(c.piv_mgmt_key.p);
	for (size_t i = 0; i < VNP_ARRAY_SIZE(bad); i++)
		assert_int_equal(vnp_config_parse_string(&c, bad[i], "t"), VNP_E_CONFIG);
	assert_null(c.piv_mgmt_key.p); /* unchanged on error */
	assert_int_equal(vnp_config_parse_string(&c, "piv.management_key = 0x0102\n", "t"),
			 VNP_E_CONFIG);
	assert_int_equal(vnp_config_parse_string(&c,
						 "piv.management_key = 000102030405060708090a0b0c0d0e0f\n"
						 "piv.management_key = 000102030405060708090A0B0C0D0E0F\n"
						 "piv.management_key_alg = aes128\n",
						 "t"),
			 VNP_OK);
	assert_int_equal(c.piv_mgmt_key.len, 16);
	th_assert_hex(c.piv_mgmt_key.p, 16, "{16:00+}");
	assert_int_equal(c.piv_mgmt_alg, 0x08);
	/* a later file replaces the key; an error in it keeps the one before */
	assert_int_equal(vnp_config_parse_string(&c, "piv.management_key = 11111111111111111111111111111111\n"
						 "bad line\n",
						 "t"),
			 VNP_E_CONFIG);
	th_assert_hex(c.piv_mgmt_key.p, 16, "{16:00+}");
	assert_int_equal(vnp_config_parse_string(&c,
						 "piv.management_key = "
						 "0101010101010101010101010101010101010101010101010101010101010101\n"
						 "piv.management_key_alg = aes256\n",
						 "t"),
			 VNP_OK);
	assert_int_equal(c.piv_mgmt_key.len, 32);
	assert_int_equal(c.piv_mgmt_alg, 0x0C);
	vnp_config_free(&c);
	assert_null(c.piv_mgmt_key.p);
	vnp_config_free(&c); /* twice: a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atr),
		cmocka_unit_test(test_gzip_cert),
		cmocka_unit_test(test_mgmt_cipher),
		cmocka_unit_test(test_parse_genkey),
		cmocka_unit_test(test_keygen_and_cert),
		cmocka_unit_test(test_config_mgmt_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
