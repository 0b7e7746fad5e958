/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PIV card driver (NIST SP 800-73-4) against scripted transcripts of a made-up card. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "../apdu/fake.h"
#include "applet/piv_int.h"
#include "piv_certs.h"
#include "rv.h"

#define SELECT "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00"
/* 61 { 4F PIX, 79 { 4F AID }, 50 label, AC { 80 07, 80 11, 80 14, 06 00 } } */
#define APT                                                                          \
	"61 28 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 50 08 54 65 73 74 " \
	"20 50 49 56 AC 0B 80 01 07 80 01 11 80 01 14 06 00"
#define GET_CHUID "00 CB 3F FF 05 5C 03 5F C1 02 00"
#define GET_DISCOVERY "00 CB 3F FF 03 5C 01 7E 00"
#define GET_CCC "00 CB 3F FF 05 5C 03 5F C1 07 00"
#define GET_CERT(t) "00 CB 3F FF 00 00 05 5C 03 5F C1 " t " 00 00"
/* 53 { 30 FASC-N(25), 34 GUID(16), 35 expiry, 3E signature (empty), FE } */
#define CHUID "53 3B 30 19 {25:D0+} 34 10 {16:A0+} 35 08 32 30 33 30 30 31 30 31 3E 00 FE 00"
#define DISCOVERY "7E 12 4F 0B A0 00 00 03 08 00 00 10 00 01 00 5F 2F 02 40 00"
#define VERIFY_EMPTY "00 20 00 80"

static struct vnp_card card;
static struct th_reader rd;

static void finish(void)
{
	th_assert_done(&rd);
	vnp_driver_piv.release(&card);
	assert_null(card.drv_data);
	assert_false(card.in_transaction);
}

static void test_probe(void **state)
{
	static const struct th_step steps[] = {
		{ SELECT, APT " 90 00" },
		{ GET_CHUID, CHUID " 90 00" },
		{ NULL },
	};
	struct vnp_token_info info;

	(void)state;
	th_card_init(&card, &rd, steps, false);
	assert_int_equal(vnp_driver_piv.probe(&card, &info), VNP_OK);
	assert_int_equal(info.type, VNP_DEVICE_PIV);
	assert_int_equal(info.serial_len, 8);
	th_assert_hex(info.serial, info.serial_len, "{8:A8+}"); /* the GUID's last 8 bytes */
	assert_string_equal(info.label, "Test PIV");
	assert_int_equal(info.version_major, 1);
	assert_int_equal(info.version_minor, 0);
	assert_int_equal(info.algs, vnp_alg_bit(VNP_ALG_RSA2048) | vnp_alg_bit(VNP_ALG_EC_P256) |
					    vnp_alg_bit(VNP_ALG_EC_P384));
	assert_int_equal(info.pin_min, 6);
	assert_int_equal(info.pin_max, 8);
	assert_int_equal(info.user_pin.tries_left, -1); /* not read: no VERIFY in the probe */
	assert_false(info.user_pin.verified);
	assert_int_equal(info.so_pin.tries_left, -1);
	assert_int_equal(info.so_kind, VNP_SO_PUK);
	assert_int_equal(info.puk_min, 6);
	assert_int_equal(info.puk_max, 8);
	assert_int_equal(rd.begins, 1);
	finish();
}

static void test_probe_errors(void **state)
{
	static const struct {
		struct th_step steps[6];
		int rv;
	} cases[] = {
		{ { { SELECT, "6A 82" }, { NULL } }, VNP_E_NOT_FOUND },
		/* truncated property template, lying length */
		{ { { SELECT, "61 2A 4F 06 00 00 10 00 01 00 90 00" }, { NULL } }, VNP_E_MALFORMED },
		{ { { SELECT, "61 03 4F 06 00 90 00" }, { NULL } }, VNP_E_MALFORMED },
		{ { { SELECT, "6F 00 90 00" }, { NULL } }, VNP_E_MALFORMED },
		/* CHUID whose inner TLV lies */
		{ { { SELECT, APT " 90 00" }, { GET_CHUID, "53 04 34 10 A0 A1 90 00" }, { NULL } },
		  VNP_E_MALFORMED },
		/* empty SELECT answer, no CHUID */
		{ { { SELECT, "90 00" }, { GET_CHUID, "6A 82" }, { NULL } }, VNP_OK },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		struct vnp_token_info info;

		th_card_init(&card, &rd, cases[i].steps, false);
		assert_int_equal(vnp_driver_piv.probe(&card, &info), cases[i].rv);
		if (cases[i].rv == VNP_OK) {
			assert_int_equal(info.serial_len, 0);
			assert_string_equal(info.label, "PIV Card");
		}
		finish();
	}
}

static void test_parse_chuid(void **state)
{
	static const struct {
		const char *hex;
		int rv;
		const char *serial;
	} cases[] = {
		{ CHUID, VNP_OK, "{16:A0+}" },
		/* all-zero GUID: the FASC-N's first 16 bytes */
		{ "53 2D 30 19 {25:D0+} 34 10 {16:00}", VNP_OK, "{16:D0+}" },
		{ "53 1B 30 19 {25:D0+}", VNP_OK, "{16:D0+}" },
		{ "53 03 35 01 00", VNP_E_NOT_FOUND, NULL },
		{ "53 05 34 03 01 02 03", VNP_E_MALFORMED, NULL },
		{ "53 12 34 10 {15:A0}", VNP_E_MALFORMED, NULL },
		{ "53 02 34 10 90", VNP_E_MALFORMED, NULL },
		{ "7E 00", VNP_E_MALFORMED, NULL },
		{ "53 00 01", VNP_E_MALFORMED, NULL },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		uint8_t serial[VNP_SERIAL_MAX];
		size_t n, sn = 0;
		uint8_t *buf = th_hex_alloc(cases[i].hex, &n);

		assert_int_equal(vnp_piv_parse_chuid(buf, n, serial, &sn), cases[i].rv);
		if (cases[i].serial)
			th_assert_hex(serial, sn, cases[i].serial);
		free(buf);
	}
}

static void test_parse_misc(void **state)
{
	uint8_t pol[2];
	size_t n;
	uint8_t *buf = th_hex_alloc(DISCOVERY, &n);
	const uint8_t *cert;
	size_t cert_len;
	bool comp;

	(void)state;
	assert_int_equal(vnp_piv_parse_discovery(buf, n, pol), VNP_OK);
	th_assert_hex(pol, 2, "40 00");
	assert_int_equal(vnp_piv_parse_discovery(buf, n - 1, pol), VNP_E_MALFORMED);
	free(buf);
	buf = th_hex_alloc("53 0A 70 03 30 01 00 71 01 01 FE 00", &n);
	assert_int_equal(vnp_piv_parse_cert_container(buf, n, &cert, &cert_len, &comp), VNP_OK);
	assert_true(comp);
	assert_int_equal(cert_len, 3);
	free(buf);
	buf = th_hex_alloc("53 00", &n);
	assert_int_equal(vnp_piv_parse_cert_container(buf, n, &cert, &cert_len, &comp),
			 VNP_E_NOT_FOUND);
	free(buf);
	buf = th_hex_alloc("53 06 71 01 00 FE 00", &n);
	assert_int_equal(vnp_piv_parse_cert_container(buf, n, &cert, &cert_len, &comp),
			 VNP_E_MALFORMED);
	free(buf);
	buf = th_hex_alloc("53 05 70 82 01 00 30", &n);
	assert_int_equal(vnp_piv_parse_cert_container(buf, n, &cert, &cert_len, &comp),
			 VNP_E_MALFORMED);
	free(buf);
}

static void test_read_dir(void **state)
{
	static const struct th_step steps[] = {
		{ GET_CERT("05"), CONT_RSA " 90 00" },
		{ GET_CERT("0A"), CONT_EC " 90 00" },
		{ GET_CERT("0B"), "6A 82" },
		{ GET_CERT("01"), "53 00 90 00" },
		{ NULL },
	};
	struct vnp_dir *dir = NULL;
	const struct vnp_obj *o;

	(void)state;
	th_card_init(&card, &rd, steps, true);
	assert_int_equal(vnp_driver_piv.read_dir(&card, &dir), VNP_OK);
	assert_int_equal(dir->count, 4);
	o = &dir->objs[0];
	assert_int_equal(o->kind, VNP_OBJ_CERT);
	assert_int_equal(o->ref, 0x9A);
	th_assert_hex(o->id, o->id_len, "01"); /* OpenSC's CKA_ID for 9A */
	assert_int_equal(o->length, CERT_RSA_LEN);
	assert_true(o->has_hash);
	o = &dir->objs[1];
	assert_int_equal(o->kind, VNP_OBJ_KEY);
	assert_int_equal(o->id_len, 1);
	assert_int_equal(o->id[0], 0x01);
	assert_int_equal(o->pub.alg, VNP_ALG_RSA2048);
	assert_int_equal(o->pub.modulus_len, 256);
	th_assert_hex(o->pub.modulus, o->pub.modulus_len, RSA_MODULUS_FIRST);
	th_assert_hex(o->pub.exponent, o->pub.exponent_len, "01 00 01");
	assert_int_equal(o->key_flags, VNP_KEY_FIXED); /* no PIV command deletes a key */
	o = &dir->objs[2];
	assert_int_equal(o->kind, VNP_OBJ_CERT);
	assert_int_equal(o->ref, 0x9C);
	assert_int_equal(o->length, CERT_EC_LEN);
	o = &dir->objs[3];
	assert_int_equal(o->kind, VNP_OBJ_KEY);
	assert_int_equal(o->ref, 0x9C);
	assert_int_equal(o->pub.alg, VNP_ALG_EC_P256);
	assert_int_equal(o->pub.ec_point_len, 65);
	assert_int_equal(o->pub.ec_point[0], 0x04);
	assert_int_equal(o->key_flags, VNP_KEY_ALWAYS_AUTH | VNP_KEY_FIXED);
	assert_int_equal(o->usage, VNP_USAGE_SIGN);
	assert_int_equal(o->id[0], 0x02);
	/* each object was read once, whole: the values and a second enumeration come from the
	 * card session's cache, with no APDU (the transcript is spent) */
	{
		struct vnp_dir *again = NULL;
		uint8_t *val = NULL, *want;
		size_t len = 0, wlen;

		assert_int_equal(vnp_driver_piv.read_object(&card, &dir->objs[0], &val, &len),
				 VNP_OK);
		want = th_hex_alloc(CERT_RSA, &wlen);
		assert_int_equal(len, wlen);
		assert_memory_equal(val, want, wlen);
		free(want);
		free(val);
		assert_int_equal(vnp_driver_piv.read_dir(&card, &again), VNP_OK);
		assert_int_equal(again->count, 4);
		vnp_dir_free(again);
	}
	vnp_dir_free(dir);
	finish();
}

/* Short Le: the card gives 256 bytes and 61xx; the driver collects the rest. */
static void test_read_object_chained(void **state)
{
	size_t n, cn;
	uint8_t *cont = th_hex_alloc(CONT_EC, &n);
	uint8_t *cert = th_hex_alloc(CERT_EC, &cn);
	char tail[8], *part1, *part2, get_resp[32];
	struct vnp_obj obj = { .kind = VNP_OBJ_CERT, .ref = 0x9C };
	uint8_t *val = NULL;
	size_t len = 0;

	(void)state;
	assert_true(n > 256 && n < 512);
	snprintf(tail, sizeof(tail), "61 %02X", (unsigned)(n - 256));
	snprintf(get_resp, sizeof(get_resp), "00 C0 00 00 %02X", (unsigned)(n - 256));
	part1 = th_hexstr(cont, 256, "", tail);
	part2 = th_hexstr(cont + 256, n - 256, "", "90 00");
	{
		const struct th_step steps[] = {
			{ "00 CB 3F FF 05 5C 03 5F C1 0A 00", part1 },
			{ get_resp, part2 },
			{ NULL },
		};

		th_card_init(&card, &rd, steps, false);
		assert_int_equal(vnp_driver_piv.read_object(&card, &obj, &val, &len), VNP_OK);
		assert_int_equal(len, cn);
		assert_memory_equal(val, cert, cn);
		finish();
	}
	free(val);
	free(part1);
	free(part2);
	free(cont);
	free(cert);
}

static void test_read_object_errors(void **state)
{
	static const struct {
		const char *resp;
		int rv;
	} cases[] = {
		{ "6A 82", VNP_E_NOT_FOUND },
		{ "53 00 90 00", VNP_E_NOT_FOUND },
		{ "69 82", VNP_E_SECURITY_STATUS },
		{ "53 0A 70 03 30 01 00 71 01 01 FE 00 90 00", VNP_E_MALFORMED }, /* bad gzip */
		{ "53 82 10 00 70 01 90 00", VNP_E_MALFORMED },
		{ "90 00", VNP_E_MALFORMED },
	};
	struct vnp_obj obj = { .kind = VNP_OBJ_CERT, .ref = 0x9A };

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		const struct th_step steps[] = { { GET_CERT("05"), cases[i].resp }, { NULL } };
		uint8_t *val = NULL;
		size_t len = 0;

		th_card_init(&card, &rd, steps, true);
		assert_int_equal(vnp_driver_piv.read_object(&card, &obj, &val, &len),
				 cases[i].rv);
		assert_null(val);
		finish();
	}
}

static void test_verify(void **state)
{
	static const struct {
		const char *pin;
		const char *resp;
		int rv, tries;
	} cases[] = {
		{ "123456", "90 00", VNP_OK, -1 },
		{ "000000", "63 C2", VNP_E_PIN_INCORRECT, 2 },
		{ "000000", "63 C0", VNP_E_PIN_LOCKED, 0 },
		{ "000000", "69 83", VNP_E_PIN_LOCKED, 0 },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		char cmd[64];
		const struct th_step steps[] = { { cmd, cases[i].resp }, { NULL } };
		int tries = 99;

		snprintf(cmd, sizeof(cmd), "00 20 00 80 08 %02X %02X %02X %02X %02X %02X FF FF",
			 cases[i].pin[0], cases[i].pin[1], cases[i].pin[2], cases[i].pin[3],
			 cases[i].pin[4], cases[i].pin[5]);
		th_card_init(&card, &rd, steps, false);
		assert_int_equal(vnp_driver_piv.verify(&card, VNP_PIN_USER,
						       (const uint8_t *)cases[i].pin, 6, &tries),
				 cases[i].rv);
		assert_int_equal(tries, cases[i].tries);
		finish();
	}
	/* outside the 6..8 policy: no APDU, no try spent */
	{
		static const struct th_step none[] = { { NULL } };

		th_card_init(&card, &rd, none, false);
		assert_int_equal(vnp_driver_piv.verify(&card, VNP_PIN_USER,
						       (const uint8_t *)"12345", 5, NULL),
				 VNP_E_PIN_LEN);
		assert_int_equal(vnp_driver_piv.verify(&card, VNP_PIN_USER,
						       (const uint8_t *)"123456789", 9, NULL),
				 VNP_E_PIN_LEN);
		finish();
	}
}

static void test_pin_change_unblock(void **state)
{
	static const struct th_step steps[] = {
		{ "00 24 00 80 10 31 32 33 34 35 36 FF FF 38 37 36 35 34 33 32 31", "63 C1" },
		{ "00 2C 00 80 10 {8:41} 31 32 33 34 35 36 37 FF", "90 00" },
		{ "00 2C 00 80 10 {8:41} 31 32 33 34 35 36 37 FF", "69 83" },
		{ VERIFY_EMPTY, "90 00" },
		{ "00 20 FF 80", "90 00" },
		{ NULL },
	};
	struct vnp_pin_info pi;
	int tries = 99;

	(void)state;
	th_card_init(&card, &rd, steps, false);
	assert_int_equal(vnp_driver_piv.change_pin(&card, VNP_PIN_USER,
						   (const uint8_t *)"123456", 6,
						   (const uint8_t *)"87654321", 8, &tries),
			 VNP_E_PIN_INCORRECT);
	assert_int_equal(tries, 1);
	assert_int_equal(vnp_driver_piv.unblock(&card, (const uint8_t *)"AAAAAAAA", 8,
						(const uint8_t *)"1234567", 7, &tries),
			 VNP_OK);
	assert_int_equal(vnp_driver_piv.unblock(&card, (const uint8_t *)"AAAAAAAA", 8,
						(const uint8_t *)"1234567", 7, &tries),
			 VNP_E_PIN_LOCKED); /* the PUK is blocked */
	assert_int_equal(tries, 0);
	assert_int_equal(vnp_driver_piv.pin_status(&card, VNP_PIN_USER, &pi), VNP_OK);
	assert_true(pi.verified);
	assert_int_equal(pi.max_tries, 3); /* assumed: PIV cannot tell the maximum */
	assert_int_equal(vnp_driver_piv.logout(&card, VNP_PIN_USER), VNP_OK);
	assert_int_equal(vnp_driver_piv.pin_status(&card, VNP_PIN_SO, &pi), VNP_OK);
	assert_int_equal(pi.tries_left, -1);
	finish();
}

/* SHA-256 DigestInfo of "abc" */
#define DIGEST_INFO                                                                       \
	"30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20 BA 78 16 BF 8F 01 CF EA " \
	"41 41 40 DE 5D AE 22 23 B0 03 61 A3 96 17 7A 9C B4 10 FF 61 F2 00 15 AD"

static void test_sign_rsa_pkcs1(void **state)
{
	/* 7C 82 01 06 { 82 00, 81 82 01 00 { 00 01 FF x 202 00 DigestInfo } }, extended */
	static const struct th_step steps[] = {
		{ "00 87 07 9A 00 01 0A 7C 82 01 06 82 00 81 82 01 00 00 01 {202:FF} 00 " DIGEST_INFO
		  " 04 00",
		  "7C 82 01 04 82 82 01 00 {256:10+} 90 00" },
		{ "00 87 07 9A 00 01 0A 7C 82 01 06 82 00 81 82 01 00 00 01 {202:FF} 00 " DIGEST_INFO
		  " 04 00",
		  "7C 82 01 03 82 81 FF {255:10+} 90 00" },
		{ "00 87 07 9A 00 01 0A 7C 82 01 06 82 00 81 82 01 00 00 01 {202:FF} 00 " DIGEST_INFO
		  " 04 00",
		  "69 82" },
		/* 6982 without a transaction: re-select (probe) and send once more, no more */
		{ SELECT, APT " 90 00" },
		{ "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00", CHUID " 90 00" },
		{ "00 87 07 9A 00 01 0A 7C 82 01 06 82 00 81 82 01 00 00 01 {202:FF} 00 " DIGEST_INFO
		  " 04 00",
		  "69 82" },
		{ NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 0x9A, .pub.alg = VNP_ALG_RSA2048 };
	struct vnp_sign_params p = { .scheme = VNP_SIG_RSA_PKCS1 };
	uint8_t di[51], sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	assert_int_equal(th_hex(DIGEST_INFO, di, sizeof(di)), 51);
	th_card_init(&card, &rd, steps, true);
	card.drv = &vnp_driver_piv; /* the re-select after 6982 is the driver's probe */
	assert_int_equal(vnp_driver_piv.sign(&card, &key, &p, di, sizeof(di), sig, &sig_len),
			 VNP_OK);
	assert_int_equal(sig_len, 256);
	th_assert_hex(sig, sig_len, "{256:10+}");
	/* a signature shorter than the modulus */
	sig_len = sizeof(sig);
	assert_int_equal(vnp_driver_piv.sign(&card, &key, &p, di, sizeof(di), sig, &sig_len),
			 VNP_E_MALFORMED);
	assert_int_equal(vnp_driver_piv.sign(&card, &key, &p, di, sizeof(di), sig, &sig_len),
			 VNP_E_SECURITY_STATUS);
	finish();
}

static void test_sign_ecdsa(void **state)
{
	static const struct {
		const char *resp;
		int rv;
		const char *rs;
	} cases[] = {
		{ "7C 4A 82 48 30 46 02 21 00 {32:80+} 02 21 00 {32:C0+} 90 00", VNP_OK,
		  "{32:80+} {32:C0+}" },
		/* short integers are left-padded */
		{ "7C 44 82 42 30 40 02 1F {31:01+} 02 1D {29:40+} 90 00", VNP_OK,
		  "00 {31:01+} 00 00 00 {29:40+}" },
		/* truncated 7C */
		{ "7C 4C 82 4A 30 48 02 21 00 90 00", VNP_E_MALFORMED, NULL },
		/* lying inner lengths */
		{ "7C 06 82 08 30 06 02 01 01 02 90 00", VNP_E_MALFORMED, NULL },
		{ "7C 08 82 06 30 08 02 01 01 02 01 01 90 00", VNP_E_MALFORMED, NULL },
		/* no 82, empty 82, trailing bytes after the SEQUENCE, integer too long */
		{ "7C 03 81 01 00 90 00", VNP_E_MALFORMED, NULL },
		{ "7C 02 82 00 90 00", VNP_E_MALFORMED, NULL },
		{ "7C 0A 82 08 30 06 02 01 01 02 01 01 00 90 00", VNP_E_MALFORMED, NULL },
		{ "7C 4A 82 48 30 46 02 21 {33:01+} 02 21 00 {32:C0+} 90 00", VNP_E_MALFORMED, NULL },
		{ "7D 00 90 00", VNP_E_MALFORMED, NULL },
		{ "90 00", VNP_E_MALFORMED, NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 0x9C, .pub.alg = VNP_ALG_EC_P256 };
	struct vnp_sign_params p = { .scheme = VNP_SIG_ECDSA };
	uint8_t hash[48];

	(void)state;
	for (size_t i = 0; i < 48; i++)
		hash[i] = (uint8_t)(1 + i);
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		/* the SHA-384 hash is cut to the 32-byte order */
		const struct th_step steps[] = {
			{ "00 87 11 9C 26 7C 24 82 00 81 20 {32:01+} 00", cases[i].resp }, { NULL }
		};
		uint8_t sig[64];
		size_t sig_len = sizeof(sig);

		th_card_init(&card, &rd, steps, false);
		assert_int_equal(vnp_driver_piv.sign(&card, &key, &p, hash, 48, sig, &sig_len),
				 cases[i].rv);
		if (cases[i].rs) {
			assert_int_equal(sig_len, 64);
			th_assert_hex(sig, sig_len, cases[i].rs);
		}
		finish();
	}
	/* short hash: left-padded; output buffer too small: nothing sent */
	{
		const struct th_step steps[] = {
			{ "00 87 11 9C 26 7C 24 82 00 81 20 {12:00} {20:01+} 00",
			  "7C 0A 82 08 30 06 02 01 01 02 01 02 90 00" },
			{ NULL }
		};
		uint8_t sig[64];
		size_t sig_len = 63;

		th_card_init(&card, &rd, steps, false);
		assert_int_equal(vnp_driver_piv.sign(&card, &key, &p, hash, 20, sig, &sig_len),
				 VNP_E_BUFFER_TOO_SMALL);
		sig_len = sizeof(sig);
		assert_int_equal(vnp_driver_piv.sign(&card, &key, &p, hash, 20, sig, &sig_len),
				 VNP_OK);
		th_assert_hex(sig, 64, "{31:00} 01 {31:00} 02");
		finish();
	}
}

/* The PSS encoding, checked by OpenSSL: raw RSA on it must verify as RSASSA-PSS. */
static void test_pss_encode(void **state)
{
	static const unsigned salts[] = { 0, 20, 32 };
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	uint8_t hash[32], em[256], sig[256];

	(void)state;
	assert_non_null(pk);
	for (size_t i = 0; i < 32; i++)
		hash[i] = (uint8_t)(0x30 + i);
	for (size_t i = 0; i < VNP_ARRAY_SIZE(salts); i++) {
		struct vnp_sign_params p = { .scheme = VNP_SIG_RSA_PSS,
					     .pss_hash = VNP_HASH_SHA256,
					     .pss_mgf1_hash = VNP_HASH_SHA256,
					     .pss_salt_len = (uint16_t)salts[i] };
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
		size_t sl = sizeof(sig);

		assert_int_equal(vnp_piv_pss_encode(&p, hash, 32, NULL, 2048, em), VNP_OK);
		assert_int_equal(em[255], 0xBC);
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
		assert_int_equal(EVP_PKEY_sign(ctx, sig, &sl, em, sizeof(em)), 1);
		EVP_PKEY_CTX_free(ctx);
		ctx = EVP_PKEY_CTX_new(pk, NULL);
		assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)salts[i]), 1);
		assert_int_equal(EVP_PKEY_verify(ctx, sig, sl, hash, 32), 1);
		EVP_PKEY_CTX_free(ctx);
	}
	{
		struct vnp_sign_params p = { .scheme = VNP_SIG_RSA_PSS,
					     .pss_hash = VNP_HASH_SHA256,
					     .pss_salt_len = 250 };

		assert_int_equal(vnp_piv_pss_encode(&p, hash, 32, NULL, 2048, em), VNP_E_RANGE);
		p.pss_salt_len = 0;
		assert_int_equal(vnp_piv_pss_encode(&p, hash, 31, NULL, 2048, em), VNP_E_ARGS);
	}
	EVP_PKEY_free(pk);
}

static void test_pad_pkcs1(void **state)
{
	uint8_t in[246], out[256];

	(void)state;
	memset(in, 0x5A, sizeof(in));
	assert_int_equal(vnp_piv_pad_pkcs1(in, 245, out, 256), VNP_OK);
	th_assert_hex(out, 256, "00 01 {8:FF} 00 {245:5A}");
	assert_int_equal(vnp_piv_pad_pkcs1(in, 246, out, 256), VNP_E_RANGE);
	assert_int_equal(vnp_piv_pad_pkcs1(NULL, 0, out, 256), VNP_OK);
	th_assert_hex(out, 256, "00 01 {253:FF} 00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_probe_errors),
		cmocka_unit_test(test_parse_chuid),
		cmocka_unit_test(test_parse_misc),
		cmocka_unit_test(test_read_dir),
		cmocka_unit_test(test_read_object_chained),
		cmocka_unit_test(test_read_object_errors),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_pin_change_unblock),
		cmocka_unit_test(test_sign_rsa_pkcs1),
		cmocka_unit_test(test_sign_ecdsa),
		cmocka_unit_test(test_pss_encode),
		cmocka_unit_test(test_pad_pkcs1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
