/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vntoken card driver against scripted transcripts (tools/vtoken/APPLET.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet/vntoken_int.h"
#include "fake.h"
#include "rv.h"
#include "tlv.h"

#define SELECT "00 A4 04 00 08 F0 56 4E 50 4B 49 54 4B 00"
#define SELECT_PIV "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00"
#define SELECT_SIM "00 A4 04 00 09 F0 56 4E 50 4B 49 53 49 4D 00"
#define CAPS                                                                               \
	"6F 3A 80 02 01 00 81 08 01 02 03 04 05 06 07 08 82 02 08 00 83 02 04 00 84 01 05 " \
	"85 04 01 02 11 12 86 07 54 65 73 74 20 56 54 87 04 00 00 00 2A 88 03 04 08 03 "   \
	"89 02 03 05 8A 01 01"
#define KEY_EC                                                                      \
	"A0 5C 80 01 01 81 01 11 82 02 AB CD 83 04 73 69 67 6E 84 01 01 88 01 03 " \
	"7F 49 43 86 41 04 {64:10+}"
#define DIR                                                                                \
	"71 81 AF 87 04 00 00 00 2A " KEY_EC                                               \
	" A2 33 80 01 40 82 02 AB CD 83 04 63 65 72 74 8A 02 03 00 8D 20 {32:EE} "          \
	"A1 14 80 01 80 83 03 63 66 67 89 03 61 70 70 8A 02 00 10 8B 01 01"

static struct vnp_card card;
static struct th_reader rd;

static void start(const struct th_step *steps, bool extended)
{
	th_card_init(&card, &rd, steps, extended);
}

static void finish(void)
{
	th_assert_done(&rd);
	if (card.drv && card.drv->release)
		card.drv->release(&card);
	else
		vnp_driver_vntoken.release(&card);
	assert_null(card.drv_data);
	assert_false(card.in_transaction);
}

static void test_probe(void **state)
{
	static const struct th_step steps[] = { { SELECT, CAPS " 90 00" }, { NULL } };
	struct vnp_token_info info;

	(void)state;
	start(steps, true);
	card.io.card_extended = false;
	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_ptr_equal(card.drv, &vnp_driver_vntoken);
	assert_int_equal(info.version_major, 1);
	assert_int_equal(info.version_minor, 0);
	assert_int_equal(info.serial_len, 8);
	th_assert_hex(info.serial, info.serial_len, "01 02 03 04 05 06 07 08");
	assert_int_equal(info.max_cmd_data, 2048);
	assert_int_equal(info.max_resp_data, 1024);
	assert_true(info.extended);
	assert_true(info.user_pin.initial);
	assert_int_equal(info.algs, vnp_alg_bit(VNP_ALG_RSA2048) | vnp_alg_bit(VNP_ALG_RSA3072) |
					    vnp_alg_bit(VNP_ALG_EC_P256) |
					    vnp_alg_bit(VNP_ALG_EC_P384));
	assert_string_equal(info.label, "Test VT");
	assert_int_equal(info.counter, 42);
	assert_int_equal(info.pin_min, 4);
	assert_int_equal(info.pin_max, 8);
	assert_int_equal(info.user_pin.max_tries, 3);
	assert_int_equal(info.user_pin.tries_left, 3);
	assert_int_equal(info.type, VNP_DEVICE_PKI_TOKEN);
	assert_int_equal(info.so_pin.tries_left, 5);
	assert_int_equal(info.so_pin.max_tries, 0);
	assert_false(info.terminated);
	assert_false(info.challenge_pending);
	assert_true(card.io.card_extended);
	assert_int_equal(card.io.card_max_cmd_data, 2048);
	assert_int_equal(card.io.card_max_resp_data, 1024);
	assert_int_equal(card.io.stats.transactions, 1);
	finish();
}

/* Recovery state in the capability template: 84 bits 3 (terminated) and 4 (challenge
 * pending), 89 second byte (unblock tries left), 8B (unblock maximum). */
#define CAPS_RECOVERY(flags, tries)                                                        \
	"6F 3D 80 02 01 00 81 08 01 02 03 04 05 06 07 08 82 02 08 00 83 02 04 00 84 01 " flags \
	" 85 04 01 02 11 12 86 07 54 65 73 74 20 56 54 87 04 00 00 00 2A 88 03 04 08 03 "  \
	"89 02 " tries " 8B 01 0A 8A 01 01"

static void test_probe_recovery_state(void **state)
{
	static const struct {
		const char *caps;
		bool terminated, pending, initial;
		int user_left, so_left;
	} cases[] = {
		{ CAPS_RECOVERY("01", "03 0A"), false, false, false, 3, 10 },
		{ CAPS_RECOVERY("11", "00 0A"), false, true, false, 0, 10 },
		{ CAPS_RECOVERY("15", "00 07"), false, true, true, 0, 7 },
		{ CAPS_RECOVERY("09", "00 00"), true, false, false, 0, 0 },
		/* terminated wins over a counter that still says tries are left */
		{ CAPS_RECOVERY("19", "00 02"), true, true, false, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		struct vnp_token_info info;
		size_t n;
		uint8_t *buf = th_hex_alloc(cases[i].caps, &n);

		assert_int_equal(vnp_vntoken_parse_caps(buf, n, &info), VNP_OK);
		assert_int_equal(info.terminated, cases[i].terminated);
		assert_int_equal(info.challenge_pending, cases[i].pending);
		assert_int_equal(info.user_pin.initial, cases[i].initial);
		assert_int_equal(info.user_pin.tries_left, cases[i].user_left);
		assert_int_equal(info.so_pin.tries_left, cases[i].so_left);
		assert_int_equal(info.so_pin.max_tries, 10);
		assert_int_equal(info.user_pin.max_tries, 3);
		free(buf);
	}
}

static void test_detect_unknown_card(void **state)
{
	static const struct th_step steps_one[] = { { SELECT, "6A 82" }, { NULL } };
	/* No ATR from this reader: the default order, vntoken, PIV, SIM PKI (detect.c). */
	static const struct th_step steps_detect[] = { { SELECT, "6A 82" }, { SELECT_PIV, "6A 82" },
						{ SELECT_SIM, "6A 82" }, { NULL } };
	static const struct th_step steps2[] = { { SELECT, "6E 00" }, { SELECT_PIV, "6E 00" },
						 { SELECT_SIM, "6E 00" }, { NULL } };
	static const struct th_step steps3[] = { { SELECT, NULL, VNP_E_NO_CARD }, { NULL } };
	struct vnp_token_info info;

	(void)state;
	start(steps_one, false);
	assert_int_equal(vnp_driver_vntoken.probe(&card, &info), VNP_E_NOT_FOUND);
	finish();
	start(steps_detect, false);
	assert_int_equal(vnp_card_detect(&card, &info), VNP_E_NOT_SUPPORTED);
	assert_null(card.drv);
	finish();
	start(steps2, false);
	assert_int_equal(vnp_card_detect(&card, &info), VNP_E_NOT_SUPPORTED);
	finish();
	start(steps3, false);
	assert_int_equal(vnp_card_detect(&card, &info), VNP_E_NO_CARD);
	finish();
}

static void check_dir(const struct vnp_dir *d)
{
	const struct vnp_obj *k = &d->objs[0], *c = &d->objs[1], *o = &d->objs[2];

	assert_int_equal(d->counter, 42);
	assert_int_equal(d->count, 3);
	assert_int_equal(k->kind, VNP_OBJ_KEY);
	assert_int_equal(k->ref, 1);
	assert_int_equal(k->pub.alg, VNP_ALG_EC_P256);
	th_assert_hex(k->id, k->id_len, "AB CD");
	assert_int_equal(k->id_len, 2);
	assert_string_equal(k->label, "sign");
	assert_int_equal(k->usage, VNP_USAGE_SIGN);
	assert_int_equal(k->key_flags, VNP_KEY_ALWAYS_AUTH | VNP_KEY_LOCAL);
	assert_int_equal(k->pub.ec_point_len, 65);
	th_assert_hex(k->pub.ec_point, 65, "04 {64:10+}");
	assert_int_equal(c->kind, VNP_OBJ_CERT);
	assert_int_equal(c->ref, 0x40);
	assert_string_equal(c->label, "cert");
	assert_int_equal(c->length, 0x300);
	assert_true(c->has_hash);
	th_assert_hex(c->hash, 32, "{32:EE}");
	assert_false(c->private_obj);
	assert_int_equal(o->kind, VNP_OBJ_DATA);
	assert_int_equal(o->ref, 0x80);
	assert_string_equal(o->label, "cfg");
	assert_string_equal(o->application, "app");
	assert_int_equal(o->length, 16);
	assert_true(o->private_obj);
	assert_int_equal(o->id_len, 0);
}

static void test_read_dir_extended(void **state)
{
	static const struct th_step steps[] = {
		{ "80 CA 01 00 00 00 00", DIR " 90 00" },
		{ NULL },
	};
	struct vnp_dir *d = NULL;

	(void)state;
	start(steps, true);
	assert_int_equal(vnp_driver_vntoken.read_dir(&card, &d), VNP_OK);
	check_dir(d);
	vnp_dir_free(d);
	vnp_dir_free(NULL);
	finish();
}

/* Short APDUs only: the directory comes in two pieces, 61xx and GET RESPONSE. */
static void test_read_dir_short_chained(void **state)
{
	uint8_t dir[512];
	size_t n = th_hex(DIR, dir, sizeof(dir));
	char first[1024], second[1024];
	size_t i, o;
	struct th_step steps[] = {
		{ "80 CA 01 00 00", first },
		{ "00 C0 00 00 32", second },
		{ NULL },
	};
	struct vnp_dir *d = NULL;

	(void)state;
	assert_int_equal(n, 178);
	for (i = 0, o = 0; i < 128; i++)
		o += (size_t)snprintf(first + o, sizeof(first) - o, "%02X", dir[i]);
	snprintf(first + o, sizeof(first) - o, " 61 32");
	for (i = 128, o = 0; i < n; i++)
		o += (size_t)snprintf(second + o, sizeof(second) - o, "%02X", dir[i]);
	snprintf(second + o, sizeof(second) - o, " 90 00");
	start(steps, false);
	assert_int_equal(vnp_driver_vntoken.read_dir(&card, &d), VNP_OK);
	check_dir(d);
	vnp_dir_free(d);
	finish();
}

static void test_read_object(void **state)
{
	static const struct th_step ext[] = {
		{ "80 B0 40 00 00 00 00", "{768:00+} 90 00" },
		{ NULL },
	};
	static const struct th_step shrt[] = {
		{ "80 B0 40 00 00", "{256:00+} 61 00" },
		{ "00 C0 00 00 00", "{256:00+} 61 00" },
		{ "00 C0 00 00 00", "{256:00+} 90 00" },
		{ NULL },
	};
	struct vnp_obj obj = { .kind = VNP_OBJ_CERT, .ref = 0x40, .length = 768 };
	uint8_t *val = NULL;
	size_t len = 0;

	(void)state;
	start(ext, true);
	assert_int_equal(vnp_driver_vntoken.read_object(&card, &obj, &val, &len), VNP_OK);
	assert_int_equal(len, 768);
	th_assert_hex(val, len, "{256:00+} {256:00+} {256:00+}");
	free(val);
	assert_int_equal(card.io.stats.apdus, 1);
	finish();

	start(shrt, false);
	assert_int_equal(vnp_driver_vntoken.read_object(&card, &obj, &val, &len), VNP_OK);
	assert_int_equal(len, 768);
	th_assert_hex(val, len, "{256:00+} {256:00+} {256:00+}");
	free(val);
	assert_int_equal(card.io.stats.apdus, 3);
	finish();
}

#define MSE_EC "00 22 41 B6 06 84 01 01 80 01 03"
#define PSO_32 "00 2A 9E 9A 20 {32:01} 00"


static void test_sign_mse_cached(void **state)
{
	static const struct th_step steps[] = {
		{ MSE_EC, "90 00" },
		{ PSO_32, "{64:55} 90 00" },
		{ PSO_32, "{64:56} 90 00" },
		/* PSS with SHA-256, salt 32: a new environment */
		{ "00 22 41 B6 0D 84 01 01 80 01 02 81 01 03 85 02 00 20", "90 00" },
		{ PSO_32, "{256:57} 90 00" },
		{ NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 1 };
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	struct vnp_sign_params pss = { .scheme = VNP_SIG_RSA_PSS, .pss_hash = VNP_HASH_SHA256,
				       .pss_mgf1_hash = VNP_HASH_SHA256, .pss_salt_len = 32 };
	uint8_t in[32], out[384];
	size_t out_len;

	(void)state;
	memset(in, 1, sizeof(in));
	start(steps, false);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	assert_int_equal(out_len, 64);
	th_assert_hex(out, out_len, "{64:55}");
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	th_assert_hex(out, out_len, "{64:56}");
	assert_int_equal(card.io.stats.apdus, 3);
	assert_int_equal(card.io.stats.by_ins[0x22], 1);
	assert_int_equal(card.io.stats.by_ins[0x2A], 2);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &pss, in, 32, out, &out_len), VNP_OK);
	assert_int_equal(out_len, 256);
	assert_int_equal(card.io.stats.by_ins[0x22], 2);
	/* MGF1 hash different from the hash: the applet cannot do it, nothing is sent */
	pss.pss_mgf1_hash = VNP_HASH_SHA1;
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &pss, in, 32, out, &out_len),
			 VNP_E_NOT_SUPPORTED);
	finish();
}

static void test_sign_env_lost(void **state)
{
	static const struct th_step steps[] = {
		{ MSE_EC, "90 00" },
		{ PSO_32, "{64:55} 90 00" },
		/* the card forgot the environment: 6985, MSE again, PSO again */
		{ PSO_32, "69 85" },
		{ MSE_EC, "90 00" },
		{ PSO_32, "{64:56} 90 00" },
		/* a fresh MSE followed by 6985: the key cannot sign, no retry */
		{ "00 22 41 B6 06 84 01 02 80 01 03", "90 00" },
		{ PSO_32, "69 85" },
		{ NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 1 };
	struct vnp_obj key2 = { .kind = VNP_OBJ_KEY, .ref = 2 };
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	uint8_t in[32], out[64];
	size_t out_len;

	(void)state;
	memset(in, 1, sizeof(in));
	start(steps, false);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	th_assert_hex(out, out_len, "{64:56}");
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key2, &ec, in, 32, out, &out_len),
			 VNP_E_CONDITIONS);
	finish();
}

/* A reset seen at begin(): SELECT again inside the transaction, forget the environment. */
static void test_reset_reselects(void **state)
{
	static const struct th_step steps[] = {
		{ SELECT, CAPS " 90 00" },
		{ MSE_EC, "90 00" },
		{ PSO_32, "{64:55} 90 00" },
		{ SELECT, CAPS " 90 00" },
		{ MSE_EC, "90 00" },
		{ PSO_32, "{64:56} 90 00" },
		{ NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 1 };
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	struct vnp_token_info info;
	uint8_t in[32], out[64];
	size_t out_len = sizeof(out);

	(void)state;
	memset(in, 1, sizeof(in));
	start(steps, false);
	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	assert_false(card.reset_seen);
	rd.begin_rv = VNP_E_CARD_RESET;
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	assert_true(card.reset_seen);
	assert_int_equal(rd.begins, 3);
	finish();
}

/* ---- SIGN / SIGN BATCH (80 2B): one self-contained APDU, no transaction ---- */

#define CAPS_SIGN                                                                          \
	"6F 3A 80 02 01 00 81 08 01 02 03 04 05 06 07 08 82 02 08 00 83 02 04 00 84 01 25 " \
	"85 04 01 02 11 12 86 07 54 65 73 74 20 56 54 87 04 00 00 00 2A 88 03 04 08 03 "   \
	"89 02 03 05 8A 01 01"
#define SIGN_EC "80 2B 00 00 28 84 01 01 80 01 03 9A 20 {32:01} 40"

static void test_sign_self(void **state)
{
	static const struct th_step steps[] = {
		{ SELECT, CAPS_SIGN " 90 00" },
		/* steady state: one APDU, no transaction, no MSE */
		{ SIGN_EC, "{64:55} 90 00" },
		/* PSS: hash and salt in the template; Le 256 (short form 00) */
		{ "80 2B 00 00 2F 84 01 01 80 01 02 81 01 03 85 02 00 20 9A 20 {32:01} 00",
		  "{256:57} 90 00" },
		/* the applet is no longer selected: SELECT and the command again, in a
		 * transaction */
		{ SIGN_EC, "6D 00" },
		{ SELECT, CAPS_SIGN " 90 00" },
		{ SIGN_EC, "{64:56} 90 00" },
		/* another application holds a transaction: ours waits for one */
		{ SIGN_EC, NULL, VNP_E_SHARING },
		{ SIGN_EC, "{64:58} 90 00" },
		/* 6982 stays 6982 after one re-select: no second retry */
		{ SIGN_EC, "69 82" },
		{ SELECT, CAPS_SIGN " 90 00" },
		{ SIGN_EC, "69 82" },
		/* a reset reported by the transmit: reset_seen, SELECT, once more */
		{ SIGN_EC, NULL, VNP_E_CARD_RESET },
		{ SELECT, CAPS_SIGN " 90 00" },
		{ SIGN_EC, "{64:59} 90 00" },
		/* VERIFY spends a try: never retried, whatever the answer */
		{ "00 20 00 81 06 31 32 33 34 35 36", "6D 00" },
		{ NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 1,
			       .pub = { .alg = VNP_ALG_EC_P256, .ec_point_len = 65 } };
	struct vnp_obj rsa = { .kind = VNP_OBJ_KEY, .ref = 1,
			       .pub = { .alg = VNP_ALG_RSA2048, .modulus_len = 256 } };
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	struct vnp_sign_params pss = { .scheme = VNP_SIG_RSA_PSS, .pss_hash = VNP_HASH_SHA256,
				       .pss_mgf1_hash = VNP_HASH_SHA256, .pss_salt_len = 32 };
	struct vnp_token_info info;
	uint8_t in[32], out[384];
	size_t out_len;
	int tries;

	(void)state;
	memset(in, 1, sizeof(in));
	start(steps, false);
	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_true(info.sign_self);
	assert_int_equal(rd.begins, 1);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	th_assert_hex(out, out_len, "{64:55}");
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &rsa, &pss, in, 32, out, &out_len), VNP_OK);
	assert_int_equal(out_len, 256);
	assert_int_equal(rd.begins, 1);
	assert_int_equal(card.io.stats.reader_calls, 3 + 2); /* probe: begin, SELECT, end */
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	th_assert_hex(out, out_len, "{64:56}");
	assert_int_equal(rd.begins, 2);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	th_assert_hex(out, out_len, "{64:58}");
	assert_int_equal(rd.begins, 3);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len),
			 VNP_E_SECURITY_STATUS);
	assert_false(card.reset_seen);
	out_len = sizeof(out);
	assert_int_equal(vnp_driver_vntoken.sign(&card, &key, &ec, in, 32, out, &out_len), VNP_OK);
	th_assert_hex(out, out_len, "{64:59}");
	assert_true(card.reset_seen);
	assert_int_not_equal(vnp_driver_vntoken.verify(&card, VNP_PIN_USER,
						       (const uint8_t *)"123456", 6, &tries),
			     VNP_OK);
	assert_int_equal(card.io.stats.by_ins[0x22], 0);
	assert_int_equal(card.io.stats.by_ins[0x2A], 0);
	finish();
}

static void test_sign_batch(void **state)
{
	static const struct th_step steps[] = {
		{ SELECT, CAPS_SIGN " 90 00" },
		/* two inputs, one answered with a signature, one with its own SW */
		{ "80 2B 01 00 4A 84 01 01 80 01 03 9A 20 {32:01} 9A 20 {32:02} 88",
		  "9E 40 {64:55} 96 02 6A 80 90 00" },
		/* five inputs in short form: 3 answers fit 256 bytes, then 2 */
		{ "80 2B 01 00 6C 84 01 01 80 01 03 9A 20 {32:01} 9A 20 {32:01} 9A 20 {32:01} CC",
		  "9E 40 {64:61} 9E 40 {64:62} 9E 40 {64:63} 90 00" },
		{ "80 2B 01 00 4A 84 01 01 80 01 03 9A 20 {32:01} 9A 20 {32:01} 88", "69 82" },
		{ SELECT, CAPS_SIGN " 90 00" },
		{ "80 2B 01 00 4A 84 01 01 80 01 03 9A 20 {32:01} 9A 20 {32:01} 88", "69 82" },
		/* a malformed answer: fewer results than inputs */
		{ "80 2B 01 00 4A 84 01 01 80 01 03 9A 20 {32:01} 9A 20 {32:02} 88",
		  "9E 40 {64:55} 90 00" },
		{ NULL },
	};
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 1,
			       .pub = { .alg = VNP_ALG_EC_P256, .ec_point_len = 65 } };
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	struct vnp_sign_item items[5];
	uint8_t in1[32], in2[32], out[5][64];

	(void)state;
	memset(in1, 1, sizeof(in1));
	memset(in2, 2, sizeof(in2));
	start(steps, false);
	assert_int_equal(vnp_card_detect(&card, NULL), VNP_OK);
	memset(items, 0, sizeof(items));
	for (int i = 0; i < 5; i++) {
		items[i].in = i == 1 ? in2 : in1;
		items[i].in_len = 32;
		items[i].out = out[i];
		items[i].out_len = sizeof(out[i]);
	}
	/* arguments are checked before the key is looked at: no APDU, no crash */
	assert_int_equal(vnp_driver_vntoken.sign_batch(&card, NULL, &ec, items, 2), VNP_E_ARGS);
	assert_int_equal(vnp_driver_vntoken.sign_batch(&card, &key, &ec, items, 2), VNP_OK);
	assert_int_equal(items[0].rv, VNP_OK);
	assert_int_equal(items[0].out_len, 64);
	th_assert_hex(out[0], 64, "{64:55}");
	assert_int_equal(items[1].rv, VNP_E_INVALID_DATA);
	items[1].in = in1;
	assert_int_equal(vnp_driver_vntoken.sign_batch(&card, &key, &ec, items, 5),
			 VNP_E_SECURITY_STATUS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(items[i].rv, VNP_OK);
	th_assert_hex(out[2], 64, "{64:63}");
	for (int i = 3; i < 5; i++)
		assert_int_equal(items[i].rv, VNP_E_SECURITY_STATUS);
	items[1].in = in2;
	assert_int_equal(vnp_driver_vntoken.sign_batch(&card, &key, &ec, items, 2),
			 VNP_E_MALFORMED);
	assert_int_equal(items[0].rv, VNP_E_MALFORMED);
	assert_int_equal(items[1].rv, VNP_E_MALFORMED);
	finish();
}

static void test_nested_transactions(void **state)
{
	static const struct th_step steps[] = { { NULL } };

	(void)state;
	start(steps, false);
	assert_int_equal(vnp_card_begin(&card), VNP_OK);
	assert_int_equal(vnp_card_begin(&card), VNP_OK);
	assert_true(card.in_transaction);
	vnp_card_end(&card);
	assert_true(card.in_transaction);
	assert_int_equal(rd.ends, 0);
	vnp_card_end(&card);
	assert_false(card.in_transaction);
	vnp_card_end(&card); /* unbalanced end is ignored */
	assert_int_equal(rd.begins, 1);
	assert_int_equal(rd.ends, 1);
	rd.begin_rv = VNP_E_NO_CARD;
	assert_int_equal(vnp_card_begin(&card), VNP_E_NO_CARD);
	assert_false(card.in_transaction);
	rd.ends++; /* the failed begin took no transaction */
	finish();
}

static void test_verify(void **state)
{
	static const struct th_step steps[] = {
		{ "00 20 00 81 04 31 32 33 34", "63 C2" },
		{ "00 20 00 81 04 31 32 33 34", "69 83" },
		{ "00 20 00 81 04 31 32 33 35", "90 00" },
		{ "00 20 00 81", "63 C3" },
		{ "00 20 00 81", "90 00" },
		{ "00 20 00 81", "69 83" },
		{ "00 20 FF 81", "90 00" },
		{ "00 24 00 81 09 04 31 32 33 34 35 36 37 38", "63 C1" },
		{ "00 24 00 81 09 04 31 32 33 34 35 36 37 38", "90 00" },
		{ NULL },
	};
	struct vnp_pin_info pi;
	int tries = 99;

	(void)state;
	start(steps, false);
	assert_int_equal(vnp_driver_vntoken.verify(&card, VNP_PIN_USER, (const uint8_t *)"1234",
						    4, &tries),
			 VNP_E_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	assert_int_equal(vnp_driver_vntoken.verify(&card, VNP_PIN_USER, (const uint8_t *)"1234",
						    4, &tries),
			 VNP_E_PIN_LOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(vnp_driver_vntoken.verify(&card, VNP_PIN_USER, (const uint8_t *)"1235",
						    4, &tries),
			 VNP_OK);
	assert_int_equal(vnp_driver_vntoken.pin_status(&card, VNP_PIN_USER, &pi), VNP_OK);
	assert_false(pi.verified);
	assert_int_equal(pi.tries_left, 3);
	assert_int_equal(vnp_driver_vntoken.pin_status(&card, VNP_PIN_USER, &pi), VNP_OK);
	assert_true(pi.verified);
	assert_int_equal(vnp_driver_vntoken.pin_status(&card, VNP_PIN_USER, &pi), VNP_OK);
	assert_false(pi.verified);
	assert_int_equal(pi.tries_left, 0);
	assert_int_equal(vnp_driver_vntoken.logout(&card, VNP_PIN_USER), VNP_OK);
	assert_int_equal(vnp_driver_vntoken.change_pin(&card, VNP_PIN_USER,
							(const uint8_t *)"1234", 4,
							(const uint8_t *)"5678", 4, &tries),
			 VNP_E_PIN_INCORRECT);
	assert_int_equal(tries, 1);
	assert_int_equal(vnp_driver_vntoken.change_pin(&card, VNP_PIN_USER,
							(const uint8_t *)"1234", 4,
							(const uint8_t *)"5678", 4, &tries),
			 VNP_OK);
	/* an empty PIN would be a status query: refused, nothing sent */
	assert_int_equal(vnp_driver_vntoken.verify(&card, VNP_PIN_USER, (const uint8_t *)"", 0,
						    &tries),
			 VNP_E_ARGS);
	finish();
}

#define UNBLOCK_CMD "00 2C 00 81 10 {10:A5} 31 32 33 34 35 36"

/* Recovery commands (APPLET.md "Recovery"): unblock status, GET UNBLOCK CHALLENGE, RESET
 * RETRY COUNTER, each with the status words the applet may answer. */
static void test_recovery_commands(void **state)
{
	static const struct th_step steps[] = {
		{ SELECT, CAPS_RECOVERY("11", "02 0A") " 90 00" },
		{ "00 20 00 82", "63 C7" },
		{ "00 20 00 82", "62 83" },
		{ "00 20 00 82", "69 85" },
		{ "80 50 00 00 07", "01 23 45 67 89 AB CD 90 00" },
		{ "80 50 00 00 07", "62 83" },
		{ "80 50 00 00 07", "01 02 90 00" },
		{ "80 50 00 00 07", "69 85" },
		{ UNBLOCK_CMD, "90 00" },
		{ UNBLOCK_CMD, "63 C9" },
		{ UNBLOCK_CMD, "63 C1" },
		{ UNBLOCK_CMD, "63 C0" },
		{ UNBLOCK_CMD, "62 83" },
		{ UNBLOCK_CMD, "6A 80" },
		{ UNBLOCK_CMD, "69 85" },
		{ UNBLOCK_CMD, "67 00" },
		{ UNBLOCK_CMD, NULL, VNP_E_NO_CARD },
		{ NULL },
	};
	static const struct {
		const char *sw;
		int rv, tries;
	} unblock[] = {
		{ "90 00", VNP_OK, -1 },
		{ "63 C9", VNP_E_PIN_INCORRECT, 9 },
		{ "63 C1", VNP_E_PIN_INCORRECT, 1 },
		{ "63 C0", VNP_E_TERMINATED, 0 },
		{ "62 83", VNP_E_TERMINATED, 0 },
		{ "6A 80", VNP_E_PIN_LEN, -1 },
		{ "69 85", VNP_E_CONDITIONS, -1 },
		{ "67 00", VNP_E_WRONG_LENGTH, -1 },
		{ "(gone)", VNP_E_NO_CARD, -1 },
	};
	struct vnp_token_info info;
	struct vnp_pin_info pi;
	uint8_t resp[10], ch[8];
	int tries;

	(void)state;
	memset(resp, 0xA5, sizeof(resp));
	start(steps, false);
	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_true(info.challenge_pending);
	assert_int_equal(info.so_pin.tries_left, 10);
	assert_int_equal(info.so_pin.max_tries, 10);

	assert_int_equal(vnp_driver_vntoken.pin_status(&card, VNP_PIN_SO, &pi), VNP_OK);
	assert_int_equal(pi.tries_left, 7);
	assert_int_equal(pi.max_tries, 10);
	assert_false(pi.verified);
	assert_int_equal(vnp_driver_vntoken.pin_status(&card, VNP_PIN_SO, &pi), VNP_OK);
	assert_int_equal(pi.tries_left, 0);
	assert_int_equal(vnp_driver_vntoken.pin_status(&card, VNP_PIN_SO, &pi), VNP_E_CONDITIONS);

	/* wrong sizes are refused before anything is sent */
	assert_int_equal(vnp_driver_vntoken.unblock_challenge(&card, ch, 8), VNP_E_ARGS);
	assert_int_equal(vnp_driver_vntoken.unblock(&card, resp, 9, (const uint8_t *)"123456", 6,
						     &tries),
			 VNP_E_ARGS);
	assert_int_equal(vnp_driver_vntoken.unblock(&card, resp, 10, (const uint8_t *)"", 0,
						     &tries),
			 VNP_E_ARGS);

	memset(ch, 0xEE, sizeof(ch));
	assert_int_equal(vnp_driver_vntoken.unblock_challenge(&card, ch, 7), VNP_OK);
	th_assert_hex(ch, 8, "01 23 45 67 89 AB CD EE");
	assert_int_equal(vnp_driver_vntoken.unblock_challenge(&card, ch, 7), VNP_E_TERMINATED);
	assert_int_equal(vnp_driver_vntoken.unblock_challenge(&card, ch, 7), VNP_E_MALFORMED);
	assert_int_equal(vnp_driver_vntoken.unblock_challenge(&card, ch, 7), VNP_E_CONDITIONS);
	th_assert_hex(ch, 8, "01 23 45 67 89 AB CD EE");

	for (size_t i = 0; i < VNP_ARRAY_SIZE(unblock); i++) {
		int rv;

		tries = 99;
		rv = vnp_driver_vntoken.unblock(&card, resp, 10, (const uint8_t *)"123456", 6,
						&tries);
		if (rv != unblock[i].rv || tries != unblock[i].tries)
			fail_msg("unblock answered %s: rv %d tries %d, expected %d %d",
				 unblock[i].sw, rv, tries, unblock[i].rv, unblock[i].tries);
	}
	assert_int_equal(card.io.stats.by_ins[0x2C], 9);
	finish();
}

/* Certificate category (tag 8E): parsed from the directory, sent by CREATE OBJECT for
 * authority certificates only. */
static void test_authority_certs(void **state)
{
	static const struct th_step steps[] = {
		{ "80 E0 00 00 18 80 01 A2 82 02 AB CD 83 04 63 65 72 74 8B 01 00 8E 01 02 "
		  "8C 03 01 02 03 00",
		  "80 01 42 90 00" },
		{ "80 CA 01 00 00",
		  "71 1B 87 04 00 00 00 03 A2 06 80 01 40 8E 01 02 A2 06 80 01 41 8E 01 00 "
		  "A2 03 80 01 42 90 00" },
		{ NULL },
	};
	static const struct {
		const char *val;
		int rv;
		bool authority;
	} objs[] = {
		{ "80 01 40 8E 01 02", VNP_OK, true },
		{ "80 01 40 8E 01 00", VNP_OK, false },
		{ "80 01 40 8E 01 01", VNP_OK, false },
		{ "80 01 40", VNP_OK, false },
		{ "80 01 40 8E 02 00 02", VNP_E_MALFORMED, false },
		{ "80 01 40 8E 00", VNP_E_MALFORMED, false },
		{ "80 01 40 8E 01 02 8E 01 02", VNP_E_MALFORMED, false },
	};
	struct vnp_obj cert = { .kind = VNP_OBJ_CERT, .id = { 0xAB, 0xCD }, .id_len = 2,
				.label = "cert", .authority = true };
	struct vnp_dir *d = NULL;
	uint8_t ref = 0;

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(objs); i++) {
		size_t n;
		uint8_t *buf = th_hex_alloc(objs[i].val, &n);
		struct vnp_obj o;
		int rv = vnp_vntoken_parse_object(VNP_OBJ_CERT, buf, n, &o);

		if (rv != objs[i].rv || (rv == VNP_OK && o.authority != objs[i].authority))
			fail_msg("%s: rv %d authority %d", objs[i].val, rv, (int)o.authority);
		free(buf);
	}
	start(steps, false);
	assert_int_equal(vnp_driver_vntoken.write_object(&card, &cert,
							  (const uint8_t *)"\x01\x02\x03", 3, &ref),
			 VNP_OK);
	assert_int_equal(ref, 0x42);
	assert_int_equal(vnp_driver_vntoken.read_dir(&card, &d), VNP_OK);
	assert_int_equal(d->count, 3);
	assert_true(d->objs[0].authority);
	assert_false(d->objs[1].authority);
	assert_false(d->objs[2].authority);
	vnp_dir_free(d);
	finish();
}

static void test_objects_and_random(void **state)
{
	static const struct th_step steps[] = {
		{ "80 E0 00 00 15 80 01 A2 82 02 AB CD 83 04 63 65 72 74 8B 01 00 8C 03 01 02 03 00",
		  "80 01 41 90 00" },
		{ "80 E0 00 00 12 80 01 A1 83 01 64 89 03 61 70 70 8B 01 01 8C 02 AA BB 00",
		  "6A 84" },
		{ "80 E0 00 00 12 80 01 A1 83 01 64 89 03 61 70 70 8B 01 01 8C 02 AA BB 00",
		  "81 01 41 90 00" },
		{ "80 E4 41 00", "90 00" },
		{ "00 84 00 00 00", "{256:01} 90 00" },
		{ "00 84 00 00 2C", "{44:02} 90 00" },
		{ "00 84 00 00 08", "{4:02} 90 00" },
		{ "00 47 00 00 15 A0 13 81 01 11 82 02 AB CD 83 04 73 69 67 6E 84 01 01 88 01 00 00",
		  KEY_EC " 90 00" },
		{ NULL },
	};
	struct vnp_obj cert = { .kind = VNP_OBJ_CERT, .id = { 0xAB, 0xCD }, .id_len = 2,
				.label = "cert" };
	struct vnp_obj data = { .kind = VNP_OBJ_DATA, .label = "d", .application = "app",
				.private_obj = true };
	struct vnp_keygen kg = { .alg = VNP_ALG_EC_P256, .id = { 0xAB, 0xCD }, .id_len = 2,
				 .label = "sign", .usage = VNP_USAGE_SIGN };
	struct vnp_obj key;
	uint8_t ref = 0, rnd[300];

	(void)state;
	start(steps, false);
	assert_int_equal(vnp_driver_vntoken.write_object(&card, &cert,
							  (const uint8_t *)"\x01\x02\x03", 3, &ref),
			 VNP_OK);
	assert_int_equal(ref, 0x41);
	assert_int_equal(vnp_driver_vntoken.write_object(&card, &data,
							  (const uint8_t *)"\xAA\xBB", 2, &ref),
			 VNP_E_CARD_FULL);
	assert_int_equal(vnp_driver_vntoken.write_object(&card, &data,
							  (const uint8_t *)"\xAA\xBB", 2, &ref),
			 VNP_E_MALFORMED);
	cert.ref = 0x41;
	assert_int_equal(vnp_driver_vntoken.delete_object(&card, &cert), VNP_OK);
	assert_int_equal(vnp_driver_vntoken.get_random(&card, rnd, 300), VNP_OK);
	th_assert_hex(rnd, 300, "{256:01} {44:02}");
	assert_int_equal(vnp_driver_vntoken.get_random(&card, rnd, 8), VNP_E_MALFORMED);
	assert_int_equal(vnp_driver_vntoken.generate_key(&card, &kg, &key), VNP_OK);
	assert_int_equal(key.ref, 1);
	assert_int_equal(key.pub.alg, VNP_ALG_EC_P256);
	assert_int_equal(key.pub.ec_point_len, 65);
	finish();
}

/* Card answers that must give a clean error. Each is parsed from an exact-size heap copy
 * so that ASan sees any over-read. */
static const struct {
	const char *name;
	const char *dir;
	int rv;
} bad_dirs[] = {
	{ "truncated entry", "71 10 87 04 00 00 00 01 A0 08 80 01 01", VNP_E_MALFORMED },
	{ "template longer than answer", "71 20 87 04 00 00 00 01", VNP_E_MALFORMED },
	{ "lying length in key", "71 0E 87 04 00 00 00 01 A0 06 80 01 01 81 09 11",
	  VNP_E_MALFORMED },
	{ "truncated tag at the end", "71 07 87 04 00 00 00 01 7F", VNP_E_MALFORMED },
	{ "no counter", "71 05 A2 03 80 01 40", VNP_E_MALFORMED },
	{ "no template", "87 04 00 00 00 01", VNP_E_MALFORMED },
	{ "empty answer", "", VNP_E_MALFORMED },
	{ "counter of 3 bytes", "71 05 87 03 00 00 01", VNP_E_MALFORMED },
	{ "cert without reference", "71 0B 87 04 00 00 00 01 A2 03 83 01 63", VNP_E_MALFORMED },
	{ "ID of 64 bytes", "71 4D 87 04 00 00 00 01 A2 45 80 01 40 82 40 {64:01}",
	  VNP_OK },
	{ "ID of 65 bytes", "71 4E 87 04 00 00 00 01 A2 46 80 01 40 82 41 {65:01}",
	  VNP_E_MALFORMED },
	{ "label of 129 bytes", "71 81 90 87 04 00 00 00 01 A2 81 87 80 01 40 83 81 81 {129:41}",
	  VNP_E_MALFORMED },
	{ "label with NUL", "71 0E 87 04 00 00 00 01 A2 06 80 01 40 83 01 00", VNP_E_MALFORMED },
	{ "EC point too long",
	  "71 81 7C 87 04 00 00 00 01 A0 74 80 01 01 81 01 11 7F 49 6B 86 69 04 {104:00}",
	  VNP_E_MALFORMED },
	{ "EC key without point", "71 0E 87 04 00 00 00 01 A0 06 80 01 01 81 01 11",
	  VNP_E_MALFORMED },
	{ "RSA key without exponent",
	  "71 15 87 04 00 00 00 01 A0 0D 80 01 01 81 01 01 7F 49 04 81 02 C0 01",
	  VNP_E_MALFORMED },
	{ "unknown key algorithm is skipped",
	  "71 0E 87 04 00 00 00 01 A0 06 80 01 01 81 01 77", VNP_OK },
	{ "84 length form in public key",
	  "71 17 87 04 00 00 00 01 A0 0F 80 01 01 81 01 11 7F 49 06 86 84 00 00 00 01",
	  VNP_E_MALFORMED },
	{ "indefinite length", "71 80 87 04 00 00 00 01 00 00", VNP_E_MALFORMED },
	{ "hash of 31 bytes", "71 2C 87 04 00 00 00 01 A2 24 80 01 40 8D 1F {31:00}",
	  VNP_E_MALFORMED },
	{ "P-256 point of 65 bytes",
	  "71 54 87 04 00 00 00 01 A0 4C 80 01 01 81 01 11 7F 49 43 86 41 04 {64:01}", VNP_OK },
	{ "P-256 key with a P-384 point",
	  "71 74 87 04 00 00 00 01 A0 6C 80 01 01 81 01 11 7F 49 63 86 61 04 {96:01}",
	  VNP_E_MALFORMED },
	{ "P-384 key with a P-256 point",
	  "71 54 87 04 00 00 00 01 A0 4C 80 01 01 81 01 12 7F 49 43 86 41 04 {64:01}",
	  VNP_E_MALFORMED },
	{ "EC point not uncompressed",
	  "71 54 87 04 00 00 00 01 A0 4C 80 01 01 81 01 11 7F 49 43 86 41 02 {64:01}",
	  VNP_E_MALFORMED },
	{ "truncated 7F49",
	  "71 14 87 04 00 00 00 01 A0 0C 80 01 01 81 01 11 7F 49 43 86 01 04", VNP_E_MALFORMED },
	{ "RSA-3072 modulus of 384 bytes",
	  "71 82 01 9E 87 04 00 00 00 01 A0 82 01 94 80 01 01 81 01 02 7F 49 82 01 89 "
	  "81 82 01 80 {384:FF} 82 03 01 00 01", VNP_OK },
	{ "RSA-2048 key with a 384-byte modulus",
	  "71 82 01 9E 87 04 00 00 00 01 A0 82 01 94 80 01 01 81 01 01 7F 49 82 01 89 "
	  "81 82 01 80 {384:FF} 82 03 01 00 01", VNP_E_MALFORMED },
	{ "RSA modulus of 385 bytes",
	  "71 82 01 9F 87 04 00 00 00 01 A0 82 01 95 80 01 01 81 01 02 7F 49 82 01 8A "
	  "81 82 01 81 {385:FF} 82 03 01 00 01", VNP_E_MALFORMED },
	{ "duplicate counter", "71 0C 87 04 00 00 00 01 87 04 00 00 00 02", VNP_E_MALFORMED },
	{ "duplicate reference in a cert",
	  "71 0E 87 04 00 00 00 01 A2 06 80 01 40 80 01 41", VNP_E_MALFORMED },
	{ "duplicate public key",
	  "71 81 9A 87 04 00 00 00 01 A0 81 91 80 01 01 81 01 11 7F 49 43 86 41 04 {64:01} "
	  "7F 49 43 86 41 04 {64:01}", VNP_E_MALFORMED },
	{ "duplicate point in a public key",
	  "71 81 97 87 04 00 00 00 01 A0 81 8E 80 01 01 81 01 11 7F 49 81 86 86 41 04 {64:01} "
	  "86 41 04 {64:01}", VNP_E_MALFORMED },
};

/* SELECT answers (capability template) that must be refused. */
static const struct {
	const char *name;
	const char *fci;
	int rv;
} bad_caps[] = {
	{ "version only", "6F 04 80 02 01 00", VNP_OK },
	{ "duplicate version", "6F 08 80 02 01 00 80 02 01 00", VNP_E_MALFORMED },
	{ "duplicate tries", "6F 0C 80 02 01 00 89 02 03 0A 89 02 0F 0A", VNP_E_MALFORMED },
	{ "counter of 2 bytes", "6F 08 80 02 01 00 87 02 00 01", VNP_E_MALFORMED },
	{ "truncated", "6F 08 80 02 01 00 87 04 00", VNP_E_MALFORMED },
};

static void test_malformed_caps(void **state)
{
	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(bad_caps); i++) {
		size_t n;
		uint8_t *buf = th_hex_alloc(bad_caps[i].fci, &n);
		struct vnp_token_info info;
		int rv = vnp_vntoken_parse_caps(buf, n, &info);

		if (rv != bad_caps[i].rv)
			fail_msg("%s: rv %d, expected %d", bad_caps[i].name, rv, bad_caps[i].rv);
		free(buf);
	}
}

static void test_malformed_dirs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VNP_ARRAY_SIZE(bad_dirs); i++) {
		size_t n;
		uint8_t *tmp = th_hex_alloc(bad_dirs[i].dir, &n);
		uint8_t *buf = malloc(n ? n : 1);
		struct vnp_dir *d = NULL;
		int rv;

		assert_non_null(buf);
		memcpy(buf, tmp, n);
		free(tmp);
		rv = vnp_vntoken_parse_dir(buf, n, &d);
		if (rv != bad_dirs[i].rv)
			fail_msg("%s: rv %d, expected %d", bad_dirs[i].name, rv, bad_dirs[i].rv);
		if (rv == VNP_OK)
			assert_non_null(d);
		vnp_dir_free(d);
		free(buf);
	}
}

static void test_malformed_answers(void **state)
{
	static const struct th_step steps[] = {
		{ "80 CA 01 00 00", "71 10 87 04 00 00 00 01 A0 08 80 01 01 90 00" },
		{ "80 CA 01 00 00", "6F 12" },
		{ "80 CA 01 00 00", "90 00" },
		{ SELECT, "6F 10 80 02 01 00 90 00" },
		{ SELECT, "6F 04 81 02 01 00 90 00" },         /* no version */
		{ SELECT, "6F 04 80 02 02 00 90 00" },         /* version 2 */
		{ SELECT, "6F 05 80 02 01 00 87 90 00" },      /* truncated field */
		{ NULL },
	};
	struct vnp_token_info info;
	struct vnp_dir *d = NULL;

	(void)state;
	start(steps, false);
	assert_int_equal(vnp_driver_vntoken.read_dir(&card, &d), VNP_E_MALFORMED);
	assert_int_equal(vnp_driver_vntoken.read_dir(&card, &d), VNP_E_CARD);
	assert_int_equal(vnp_driver_vntoken.read_dir(&card, &d), VNP_E_MALFORMED);
	assert_null(d);
	assert_int_equal(vnp_driver_vntoken.probe(&card, &info), VNP_E_MALFORMED);
	assert_int_equal(vnp_driver_vntoken.probe(&card, &info), VNP_E_MALFORMED);
	assert_int_equal(vnp_driver_vntoken.probe(&card, &info), VNP_E_NOT_SUPPORTED);
	assert_int_equal(vnp_driver_vntoken.probe(&card, &info), VNP_E_MALFORMED);
	finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_probe_recovery_state),
		cmocka_unit_test(test_detect_unknown_card),
		cmocka_unit_test(test_read_dir_extended),
		cmocka_unit_test(test_read_dir_short_chained),
		cmocka_unit_test(test_read_object),
		cmocka_unit_test(test_sign_mse_cached),
		cmocka_unit_test(test_sign_env_lost),
		cmocka_unit_test(test_sign_self),
		cmocka_unit_test(test_sign_batch),
		cmocka_unit_test(test_reset_reselects),
		cmocka_unit_test(test_nested_transactions),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_recovery_commands),
		cmocka_unit_test(test_authority_certs),
		cmocka_unit_test(test_objects_and_random),
		cmocka_unit_test(test_malformed_dirs),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_malformed_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
