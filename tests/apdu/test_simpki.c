/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SIM PKI card driver and the detection order against scripted transcripts of a T=0
 * card (tools/vtoken/SIMPKI.md): 61xx + GET RESPONSE, 6Cxx, chaining, the PUK path. */
#include <stdlib.h>
#include <string.h>

#include "applet/piv_int.h"
#include "applet/simpki_int.h"
#include "detect.h"
#include "fake.h"
#include "rv.h"

#define SELECT_SIM "00 A4 04 00 09 F0 56 4E 50 4B 49 53 49 4D 00"
#define SELECT_VNT "00 A4 04 00 08 F0 56 4E 50 4B 49 54 4B 00"
#define SELECT_PIV "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00"
#define FCI                                                                                 \
	"6F 4D 84 09 F0 56 4E 50 4B 49 53 49 4D A5 40 80 02 01 00 81 08 56 54 00 00 00 00 00 " \
	"09 82 02 00 FF 83 02 01 00 84 01 06 85 02 01 11 86 08 53 49 4D 20 74 65 73 74 87 04 " \
	"00 00 00 00 88 03 06 10 03 89 02 03 0A 8A 01 02 8B 01 0A 8C 02 08 08"
#define DIGESTINFO "30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20 {32:01+}"

static const uint8_t uicc_atr[] = { 0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31,
				    0xE0, 0x73, 0xFE, 0x21, 0x1B, 0x63, 0x3A, 0x20,
				    0x4E, 0x83, 0x00, 0x90, 0x00, 0x31 };
static const uint8_t vnt_atr[] = { 0x3B, 0x88, 0x80, 0x01, 0x56, 0x4E, 0x50,
				   0x4B, 0x49, 0x2D, 0x56, 0x54, 0x6C };

static struct vnp_card card;
static struct th_reader rd;
static struct vnp_reader_ops ops_atr;
static const uint8_t *cur_atr;
static size_t cur_atr_len;

static int fake_atr(struct vnp_reader *r, uint8_t *atr, size_t *len)
{
	(void)r;
	if (*len < cur_atr_len)
		return VNP_E_BUFFER_TOO_SMALL;
	memcpy(atr, cur_atr, cur_atr_len);
	*len = cur_atr_len;
	return VNP_OK;
}

/* A short-APDU reader over steps; with an ATR when atr is not NULL. */
static void start(const struct th_step *steps, const uint8_t *atr, size_t atr_len)
{
	th_card_init(&card, &rd, steps, false);
	card.io.caps.t0 = true;
	if (atr) {
		ops_atr = th_reader_ops;
		ops_atr.atr = fake_atr;
		cur_atr = atr;
		cur_atr_len = atr_len;
		card.io.ops = &ops_atr;
	}
}

static void finish(void)
{
	th_assert_done(&rd);
	if (card.drv && card.drv->release)
		card.drv->release(&card);
	else
		vnp_driver_simpki.release(&card);
}

/* The probe's two APDUs: the FCI waits for GET RESPONSE. */
#define PROBE { SELECT_SIM, "61 4F" }, { "00 C0 00 00 4F", FCI " 90 00" }

static void probe(void)
{
	struct vnp_token_info info;

	assert_int_equal(vnp_driver_simpki.probe(&card, &info), VNP_OK);
	card.drv = &vnp_driver_simpki;
}

static void test_atr_classes(void **state)
{
	static const struct {
		const char *atr;
		enum vnp_atr_class want;
	} cases[] = {
		{ "3B 88 80 01 56 4E 50 4B 49 2D 56 54 6C", VNP_ATR_VNTOKEN },
		{ "3B 9F 96 80 1F C7 80 31 E0 73 FE 21 1B 63 3A 20 4E 83 00 90 00 31",
		  VNP_ATR_T0_ONLY },
		{ "3B 02 14 50", VNP_ATR_T0_ONLY },                   /* no TD1: T=0 */
		{ "3B 8B 80 01 56 4E 50 4B 49 2D 42 4C 41 4E 4B 00", VNP_ATR_OTHER }, /* T=1 */
		{ "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4", VNP_ATR_PIV }, /* YubiKey 4 */
		{ "3B 8B 80 01 80 73 00 00 C0 55 56 4E 50 49 56 00", VNP_ATR_PIV }, /* virtual PIV */
		{ "3B 8A 80 01 80 73 00 00 C0 55 56 4E 50 49 00", VNP_ATR_OTHER }, /* "VNPI": no */
		{ "3B 9F 96", VNP_ATR_OTHER },                        /* truncated */
		{ "3B 02 14", VNP_ATR_OTHER },                        /* historical bytes cut */
		{ "00 00 00", VNP_ATR_OTHER },                        /* not TS */
		{ "3B 81 1F", VNP_ATR_OTHER },                        /* TD1 naming T=15 */
	};

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		size_t n;
		uint8_t *b = th_hex_alloc(cases[i].atr, &n);

		if (vnp_atr_classify(b, n) != cases[i].want)
			fail_msg("ATR %s: class %d, expected %d", cases[i].atr,
				 vnp_atr_classify(b, n), cases[i].want);
		free(b);
	}
	assert_int_equal(vnp_atr_classify(NULL, 0), VNP_ATR_OTHER);
}

static void test_detect_order(void **state)
{
	const struct vnp_card_driver *d[VNP_DRIVERS_MAX];

	(void)state;
	assert_int_equal(vnp_card_detect_order(uicc_atr, sizeof(uicc_atr), d, 8), 3);
	assert_ptr_equal(d[0], &vnp_driver_simpki);
	assert_ptr_equal(d[1], &vnp_driver_vntoken);
	assert_ptr_equal(d[2], &vnp_driver_piv);
	assert_int_equal(vnp_card_detect_order(vnt_atr, sizeof(vnt_atr), d, 8), 3);
	assert_ptr_equal(d[0], &vnp_driver_vntoken);
	assert_int_equal(vnp_card_detect_order(NULL, 0, d, 8), 3);
	assert_ptr_equal(d[0], &vnp_driver_vntoken);
	assert_ptr_equal(d[1], &vnp_driver_piv);
	assert_ptr_equal(d[2], &vnp_driver_simpki);
	assert_int_equal(vnp_card_detect_order(NULL, 0, d, 1), 1); /* cap respected */
	{
		size_t n;
		uint8_t *piv_atr = th_hex_alloc("3B 8B 80 01 80 73 00 00 C0 55 56 4E 50 49 56 00", &n);

		assert_int_equal(vnp_card_detect_order(piv_atr, n, d, 8), 3);
		assert_ptr_equal(d[0], &vnp_driver_piv);
		assert_ptr_equal(d[1], &vnp_driver_vntoken);
		assert_ptr_equal(d[2], &vnp_driver_simpki);
		free(piv_atr);
	}
}

/* A UICC ATR: SIM PKI is tried first and found with two APDUs; nothing else is sent. */
static void test_detect_uicc(void **state)
{
	static const struct th_step steps[] = { PROBE, { NULL } };
	struct vnp_token_info info;

	(void)state;
	start(steps, uicc_atr, sizeof(uicc_atr));
	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_ptr_equal(card.drv, &vnp_driver_simpki);
	assert_int_equal(info.type, VNP_DEVICE_SIM_PKI);
	assert_int_equal(info.so_kind, VNP_SO_PUK);
	assert_int_equal(info.puk_min, 8);
	assert_int_equal(info.puk_max, 8);
	assert_int_equal(info.user_pin.tries_left, 3);
	assert_int_equal(info.so_pin.tries_left, 10);
	assert_int_equal(info.so_pin.max_tries, 10);
	assert_false(info.extended);
	assert_true(info.user_pin.initial);
	assert_string_equal(info.label, "SIM test");
	assert_true(info.algs & vnp_alg_bit(VNP_ALG_RSA2048));
	assert_true(info.algs & vnp_alg_bit(VNP_ALG_EC_P256));
	assert_false(info.algs & vnp_alg_bit(VNP_ALG_RSA3072));
	finish();
}

/* A UICC ATR without any applet we know: three SELECTs, SIM PKI first, then unsupported. */
static void test_detect_unknown_uicc(void **state)
{
	static const struct th_step steps[] = { { SELECT_SIM, "6A 82" },
						{ SELECT_VNT, "6A 82" },
						{ SELECT_PIV, "6A 82" },
						{ NULL } };
	struct vnp_token_info info;

	(void)state;
	start(steps, uicc_atr, sizeof(uicc_atr));
	assert_int_equal(vnp_card_detect(&card, &info), VNP_E_NOT_SUPPORTED);
	assert_null(card.drv);
	finish();
}

/* The vntoken ATR on a card that turns out to be a SIM PKI: the order is a guess only. */
static void test_detect_vntoken_atr_sim_card(void **state)
{
	static const struct th_step steps[] = { { SELECT_VNT, "6A 82" },
						{ SELECT_PIV, "6A 82" },
						PROBE,
						{ NULL } };
	struct vnp_token_info info;

	(void)state;
	start(steps, vnt_atr, sizeof(vnt_atr));
	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_ptr_equal(card.drv, &vnp_driver_simpki);
	finish();
}

/* RSA-2048 on T=0: PSO is case 4, the card answers 61 00 and the 256 bytes come with
 * GET RESPONSE; the second signature reuses the security environment (2 APDUs). */
static void test_sign_rsa_get_response(void **state)
{
	static const struct th_step steps[] = {
		PROBE,
		{ "00 22 41 B6 06 84 01 01 80 01 01", "90 00" },
		{ "00 2A 9E 9A 33 " DIGESTINFO " 00", "61 00" },
		{ "00 C0 00 00 00", "{256:A5} 90 00" },
		{ "00 2A 9E 9A 33 " DIGESTINFO " 00", "61 00" },
		{ "00 C0 00 00 00", "{256:5A} 90 00" },
		{ NULL },
	};
	struct vnp_sign_params p = { .scheme = VNP_SIG_RSA_PKCS1 };
	struct vnp_obj key = { .kind = VNP_OBJ_KEY, .ref = 1 };
	uint8_t in[51], out[512];
	size_t n, len;

	(void)state;
	n = th_hex(DIGESTINFO, in, sizeof(in));
	start(steps, NULL, 0);
	probe();
	len = sizeof(out);
	assert_int_equal(vnp_driver_simpki.sign(&card, &key, &p, in, n, out, &len), VNP_OK);
	assert_int_equal(len, 256);
	th_assert_hex(out, len, "{256:A5}");
	len = sizeof(out);
	assert_int_equal(vnp_driver_simpki.sign(&card, &key, &p, in, n, out, &len), VNP_OK);
	assert_int_equal(len, 256);
	th_assert_hex(out, len, "{256:5A}");
	assert_int_equal(card.io.stats.by_ins[0xC0], 3);
	finish();
}

/* ECDSA P-256: 64 bytes through 61 40; PSS names its hash and salt in MSE SET. */
static void test_sign_ecdsa_pss(void **state)
{
	static const struct th_step steps[] = {
		PROBE,
		{ "00 22 41 B6 06 84 01 02 80 01 03", "90 00" },
		{ "00 2A 9E 9A 20 {32:01+} 00", "61 40" },
		{ "00 C0 00 00 40", "{64:33} 90 00" },
		{ "00 22 41 B6 0D 84 01 01 80 01 02 81 01 03 85 02 00 20", "90 00" },
		{ "00 2A 9E 9A 20 {32:01+} 00", "61 00" },
		{ "00 C0 00 00 00", "{256:44} 90 00" },
		{ NULL },
	};
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	struct vnp_sign_params pss = { .scheme = VNP_SIG_RSA_PSS,
				       .pss_hash = VNP_HASH_SHA256,
				       .pss_mgf1_hash = VNP_HASH_SHA256,
				       .pss_salt_len = 32 };
	struct vnp_obj eckey = { .kind = VNP_OBJ_KEY, .ref = 2 };
	struct vnp_obj rsakey = { .kind = VNP_OBJ_KEY, .ref = 1 };
	uint8_t in[32], out[512];
	size_t n, len;

	(void)state;
	n = th_hex("{32:01+}", in, sizeof(in));
	start(steps, NULL, 0);
	probe();
	len = sizeof(out);
	assert_int_equal(vnp_driver_simpki.sign(&card, &eckey, &ec, in, n, out, &len), VNP_OK);
	assert_int_equal(len, 64);
	len = sizeof(out);
	assert_int_equal(vnp_driver_simpki.sign(&card, &rsakey, &pss, in, n, out, &len), VNP_OK);
	assert_int_equal(len, 256);
	finish();
}

/* GET DATA is case 2: Le 00 on a shorter answer gets 6Cxx and the host asks again with
 * Le = xx; a longer one comes 256 bytes, then 61xx. */
static void test_get_data_6c_and_61(void **state)
{
	static const struct th_step steps[] = {
		PROBE,
		{ "00 CA 01 00 00", "6C 08" },
		{ "00 CA 01 00 08", "71 06 87 04 00 00 00 2A 90 00" },
		{ "00 CA 01 40 00", "{256:11} 61 2C" },
		{ "00 C0 00 00 2C", "{44:22} 90 00" },
		{ NULL },
	};
	struct vnp_obj cert = { .kind = VNP_OBJ_CERT, .ref = 0x40 };
	struct vnp_dir *dir = NULL;
	uint8_t *val = NULL;
	size_t len = 0;

	(void)state;
	start(steps, NULL, 0);
	probe();
	assert_int_equal(vnp_driver_simpki.read_dir(&card, &dir), VNP_OK);
	assert_int_equal(dir->counter, 42);
	assert_int_equal(dir->count, 0);
	vnp_dir_free(dir);
	assert_int_equal(vnp_driver_simpki.read_object(&card, &cert, &val, &len), VNP_OK);
	assert_int_equal(len, 300);
	th_assert_hex(val, len, "{256:11} {44:22}");
	free(val);
	assert_int_equal(card.io.stats.by_ins[0xCA], 3);
	finish();
}

/* PUT DATA with a 300-byte certificate: command chaining in short APDUs, the reference
 * through 61 03; delete is PUT DATA without data. */
static void test_put_data_chained(void **state)
{
	static const struct th_step steps[] = {
		PROBE,
		{ "10 DA 01 00 FF 80 01 A2 83 00 8B 01 00 8C 82 01 2C {243:11}", "90 00" },
		{ "00 DA 01 00 39 {57:11} 00", "61 03" },
		{ "00 C0 00 00 03", "80 01 40 90 00" },
		{ "00 DA 01 40", "90 00" },
		{ NULL },
	};
	struct vnp_obj meta = { .kind = VNP_OBJ_CERT };
	uint8_t value[300], ref = 0;

	(void)state;
	memset(value, 0x11, sizeof(value));
	start(steps, NULL, 0);
	probe();
	assert_int_equal(vnp_driver_simpki.write_object(&card, &meta, value, sizeof(value), &ref),
			 VNP_OK);
	assert_int_equal(ref, 0x40);
	meta.ref = ref;
	assert_int_equal(vnp_driver_simpki.delete_object(&card, &meta), VNP_OK);
	finish();
}

/* The PUK path: RESET RETRY COUNTER with PUK || new PIN; counters from 63Cx / 6983; a PUK
 * of the wrong shape never reaches the card. CHANGE REFERENCE DATA pads both PINs. */
static void test_puk_and_pins(void **state)
{
	static const struct th_step steps[] = {
		PROBE,
		{ "00 20 00 82", "63 CA" },
		{ "00 2C 00 81 0E 31 32 33 34 35 36 37 38 36 35 34 33 32 31", "63 C9" },
		{ "00 2C 00 81 0E 31 32 33 34 35 36 37 38 36 35 34 33 32 31", "63 C0" },
		{ "00 2C 00 81 0E 31 32 33 34 35 36 37 38 36 35 34 33 32 31", "69 83" },
		{ "00 2C 00 81 0D 31 32 33 34 35 36 37 38 31 32 33 34 35", "6A 80" },
		{ "00 2C 00 81 0E 31 32 33 34 35 36 37 38 36 35 34 33 32 31", "90 00" },
		{ "00 20 00 82", "69 83" },
		{ "00 24 00 81 20 31 32 33 34 35 36 {10:FF} 36 35 34 33 32 31 {10:FF}", "90 00" },
		{ "00 20 00 81", "63 C2" },
		{ NULL },
	};
	const uint8_t *puk = (const uint8_t *)"12345678", *pin = (const uint8_t *)"654321";
	struct vnp_pin_info pi;
	int tries = 99;

	(void)state;
	start(steps, NULL, 0);
	probe();
	assert_int_equal(vnp_driver_simpki.pin_status(&card, VNP_PIN_SO, &pi), VNP_OK);
	assert_int_equal(pi.tries_left, 10);
	assert_int_equal(pi.max_tries, 10);
	assert_int_equal(vnp_driver_simpki.unblock(&card, puk, 8, pin, 6, &tries),
			 VNP_E_PIN_INCORRECT);
	assert_int_equal(tries, 9);
	assert_int_equal(vnp_driver_simpki.unblock(&card, puk, 8, pin, 6, &tries),
			 VNP_E_PIN_LOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(vnp_driver_simpki.unblock(&card, puk, 8, pin, 6, &tries),
			 VNP_E_PIN_LOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(vnp_driver_simpki.unblock(&card, puk, 8, (const uint8_t *)"12345", 5,
						   &tries),
			 VNP_E_PIN_LEN);
	assert_int_equal(vnp_driver_simpki.unblock(&card, puk, 8, pin, 6, &tries), VNP_OK);
	/* not sent: 7 digits, a letter */
	assert_int_equal(vnp_driver_simpki.unblock(&card, puk, 7, pin, 6, &tries), VNP_E_PIN_LEN);
	assert_int_equal(vnp_driver_simpki.unblock(&card, (const uint8_t *)"1234567A", 8, pin, 6,
						   &tries),
			 VNP_E_PIN_INVALID);
	assert_int_equal(vnp_driver_simpki.pin_status(&card, VNP_PIN_SO, &pi), VNP_OK);
	assert_int_equal(pi.tries_left, 0);
	assert_int_equal(vnp_driver_simpki.change_pin(&card, VNP_PIN_USER,
						      (const uint8_t *)"123456", 6, pin, 6, &tries),
			 VNP_OK);
	assert_int_equal(vnp_driver_simpki.change_pin(&card, VNP_PIN_USER,
						      (const uint8_t *)"12345678901234567", 17,
						      pin, 6, &tries),
			 VNP_E_PIN_LEN);
	assert_int_equal(vnp_driver_simpki.pin_status(&card, VNP_PIN_USER, &pi), VNP_OK);
	assert_int_equal(pi.tries_left, 2);
	assert_false(pi.verified);
	assert_null(vnp_driver_simpki.unblock_challenge);
	finish();
}

static void test_bad_fci(void **state)
{
	static const char *const bad[] = {
		"6F 03 84 01 00",                                  /* wrong AID, no A5 */
		"6F 0D 84 09 F0 56 4E 50 4B 49 53 49 4D 80 00",     /* no A5 */
		"6F 0F 84 09 F0 56 4E 50 4B 49 53 49 4D A5 02 81 00", /* no version */
		"6F 13 A5 11 80 02 01 00 88 03 06 10 03 8C 02 09 08 8B 01 0A", /* PUK min>max */
		"62 03 82 01 38",                                  /* an FCP, not an FCI */
	};
	struct vnp_token_info info;

	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(bad); i++) {
		size_t n;
		uint8_t *b = th_hex_alloc(bad[i], &n);

		if (vnp_simpki_parse_fci(b, n, &info) == VNP_OK)
			fail_msg("FCI %s parsed", bad[i]);
		free(b);
	}
}

/* The APDU core on a T=0 card, without a driver: a case-4 answer of 300 bytes comes as
 * 61 00, 256 bytes + 61 2C, 44 bytes; GET RESPONSE answered 6Cxx is asked again with
 * Le = xx; a case-2 6Cxx is followed once (a second 6Cxx is the final SW). */
static void test_transmit_t0(void **state)
{
	static const struct th_step steps[] = {
		{ "00 47 00 00 02 A0 00 00", "61 00" },
		{ "00 C0 00 00 00", "{256:01} 61 2C" },
		{ "00 C0 00 00 2C", "{44:02} 90 00" },
		{ "00 2A 9E 9A 01 AA 00", "61 40" },
		{ "00 C0 00 00 40", "6C 20" },
		{ "00 C0 00 00 20", "{32:03} 90 00" },
		{ "00 CA 01 00 00", "6C 10" },
		{ "00 CA 01 00 10", "6C 11" },
		{ NULL },
	};
	static const uint8_t tmpl[] = { 0xA0, 0x00 }, one[] = { 0xAA };
	struct vnp_apdu a;
	uint8_t buf[1024];

	(void)state;
	start(steps, NULL, 0);
	memset(&a, 0, sizeof(a));
	a.ins = 0x47;
	a.data = tmpl;
	a.lc = sizeof(tmpl);
	a.le = VNP_LE_MAX;
	a.resp = buf;
	a.resp_cap = sizeof(buf);
	assert_int_equal(vnp_apdu_transmit(&card.io, &a), VNP_OK);
	assert_int_equal(a.sw, 0x9000);
	assert_int_equal(a.resp_len, 300);
	th_assert_hex(buf, a.resp_len, "{256:01} {44:02}");
	memset(&a, 0, sizeof(a));
	a.ins = 0x2A;
	a.p1 = 0x9E;
	a.p2 = 0x9A;
	a.data = one;
	a.lc = 1;
	a.le = 256;
	a.resp = buf;
	a.resp_cap = sizeof(buf);
	assert_int_equal(vnp_apdu_transmit(&card.io, &a), VNP_OK);
	assert_int_equal(a.sw, 0x9000);
	assert_int_equal(a.resp_len, 32);
	memset(&a, 0, sizeof(a));
	a.ins = 0xCA;
	a.p1 = 0x01;
	a.le = VNP_LE_MAX;
	a.resp = buf;
	a.resp_cap = sizeof(buf);
	assert_int_equal(vnp_apdu_transmit(&card.io, &a), VNP_OK);
	assert_int_equal(a.sw, 0x6C11);
	assert_int_equal(a.resp_len, 0);
	assert_int_equal(card.io.stats.apdus, 8);
	assert_int_equal(card.io.stats.by_ins[0xC0], 4);
	finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atr_classes),
		cmocka_unit_test(test_detect_order),
		cmocka_unit_test(test_detect_uicc),
		cmocka_unit_test(test_detect_unknown_uicc),
		cmocka_unit_test(test_detect_vntoken_atr_sim_card),
		cmocka_unit_test(test_sign_rsa_get_response),
		cmocka_unit_test(test_sign_ecdsa_pss),
		cmocka_unit_test(test_get_data_6c_and_61),
		cmocka_unit_test(test_put_data_chained),
		cmocka_unit_test(test_puk_and_pins),
		cmocka_unit_test(test_bad_fci),
		cmocka_unit_test(test_transmit_t0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
