/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card OS: APDU parsing table, malformed APDUs, CLA/INS errors, ATR, GET CHALLENGE,
 * trace redaction, the KBKDF unblock-key vector, random APDUs (never a crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capdu.h"
#include "keys.h"
#include "recovery.h"
#include "rv.h"
#include "trace.h"
#include "vt_helpers.h"

static void test_capdu_table(void **state)
{
	static const struct {
		const char *hex;
		int rv;
		size_t lc, ne;
		bool ext;
	} t[] = {
		{ "00A40400", VNP_OK, 0, 0, false },                   /* case 1 */
		{ "0084000008", VNP_OK, 0, 8, false },                 /* case 2S */
		{ "0084000000", VNP_OK, 0, 256, false },               /* Le 00 = 256 */
		{ "00A4040002F056", VNP_OK, 2, 0, false },             /* case 3S */
		{ "00A4040002F05600", VNP_OK, 2, 256, false },         /* case 4S */
		{ "80B0400000000A", VNP_OK, 0, 10, true },             /* case 2E */
		{ "80B0400000000000", VNP_E_WRONG_LENGTH, 0, 0, false }, /* 2E with extra byte */
		{ "80B04000000000", VNP_OK, 0, 65536, true },          /* Le 0000 = 65536 */
		{ "00A404000000020102", VNP_OK, 2, 0, true },          /* case 3E */
		{ "00A4040000000201020000", VNP_OK, 2, 65536, true },  /* case 4E */
		{ "00A4040000000201020001", VNP_OK, 2, 1, true },
		{ "", VNP_E_WRONG_LENGTH, 0, 0, false },
		{ "00", VNP_E_WRONG_LENGTH, 0, 0, false },
		{ "00A404", VNP_E_WRONG_LENGTH, 0, 0, false },
		{ "00A4040003F056", VNP_E_WRONG_LENGTH, 0, 0, false },  /* Lc lies (short) */
		{ "00A4040001F05600AA", VNP_E_WRONG_LENGTH, 0, 0, false },
		{ "00A404000000", VNP_E_WRONG_LENGTH, 0, 0, false },    /* lone 00 + 1 byte */
		{ "00A40400000005F0", VNP_E_WRONG_LENGTH, 0, 0, false }, /* Lc lies (ext) */
		{ "00A4040000000000", VNP_E_WRONG_LENGTH, 0, 0, false }, /* ext Lc = 0 + 1 */
		{ "00A404000000000000", VNP_E_WRONG_LENGTH, 0, 0, false },
	};
	uint8_t buf[64];
	size_t i, n;
	struct vnp_vt_capdu a;
	(void)state;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = vt_hex(t[i].hex, buf, sizeof(buf));
		int rv = vnp_vt_capdu_parse(buf, n, &a);
		if (rv != t[i].rv)
			fail_msg("%s: rv %d, want %d", t[i].hex, rv, t[i].rv);
		if (rv != VNP_OK)
			continue;
		assert_int_equal(a.lc, t[i].lc);
		assert_int_equal(a.ne, t[i].ne);
		assert_int_equal(a.extended, t[i].ext);
	}
}

static void test_malformed(void **state)
{
	struct vt_fix *f = *state;
	static const struct {
		const char *hex;
		uint16_t sw;
	} t[] = {
		{ "00A4040008F0564E504B49544B00", 0x9000 },
		{ "00", 0x6700 },
		{ "00A404", 0x6700 },
		{ "00A4040009F0564E504B49544B", 0x6700 },  /* Lc lies */
		{ "0020008106313233", 0x6700 },             /* truncated VERIFY */
		{ "00200081000007313233343536", 0x6700 },   /* ext Lc lies */
		{ "80CA01000000", 0x6700 },
		{ "80CA01000100", 0x6700 },                 /* data where none belongs */
		{ "80CA0200", 0x6A86 },
		{ "00FF000000", 0x6D00 },
		{ "FFCA010000", 0x6E00 },
		{ "0CCA010000", 0x6E00 },
		{ "00C0000000", 0x6985 },                   /* nothing pending */
		{ "0084000000", 0x9000 },                   /* 256 random bytes */
		{ "0084000100", 0x6A86 },
		{ "00840000", 0x6700 },
		{ "0022FFFF00", 0x6A86 },
		{ "002A9E9A00", 0x6700 },
		{ "0020008100", 0x63C3 },                   /* nothing spent by all this */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint16_t sw = vt_tx(f, t[i].hex);
		if (sw != t[i].sw)
			fail_msg("%s: SW %04X, want %04X", t[i].hex, sw, t[i].sw);
	}
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
}

static void test_before_select(void **state)
{
	struct vt_fix *f = *state;
	uint8_t atr[33];

	assert_int_equal(vt_tx(f, "80CA010000"), 0x6D00);
	assert_int_equal(vt_tx(f, "00A4040002F05600"), 0x6A82);
	assert_int_equal(vt_tx(f, "0084000008"), 0x9000);
	assert_int_equal(f->resp_len, 8);
	assert_int_equal(f->p->atr(f->card, atr), 13);
	assert_memory_equal(atr, "\x3B\x88\x80\x01VNPKI-VT\x6C", 13);
	/* TCK: XOR of T0..last historical byte and TCK is 0 */
	uint8_t x = 0;
	for (int i = 1; i < 13; i++)
		x ^= atr[i];
	assert_int_equal(x, 0);
	/* SELECT without Le: the answer comes through GET RESPONSE */
	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B") & 0xFF00, 0x6100);
	assert_int_equal(f->resp_len, 0);
	assert_int_equal(vt_tx(f, "00C0000000"), 0x9000);
	assert_int_equal(f->resp[0], 0x6F);
	/* P2 0C: no answer data */
	assert_int_equal(vt_tx(f, "00A4040C08F0564E504B49544B"), 0x9000);
	assert_int_equal(f->resp_len, 0);
}

static void test_random_apdus(void **state)
{
	struct vt_fix *f = *state;
	uint8_t cmd[300];
	unsigned seed = 12345, i, n, j;
	static const uint8_t ins[] = { 0xA4, 0xCA, 0xB0, 0x20, 0x24, 0x47, 0x22,
				       0x2A, 0xE0, 0xE4, 0x84, 0xC0, 0x00 };

	vt_select_login(f, f->card);
	for (i = 0; i < 20000; i++) {
		n = (unsigned)rand_r(&seed) % 40;
		for (j = 0; j < n; j++)
			cmd[j] = (uint8_t)rand_r(&seed);
		if (n >= 2) {
			cmd[0] &= 0x90;
			cmd[1] = ins[(unsigned)rand_r(&seed) % sizeof(ins)];
		}
		if (n > 5 && (i & 1))
			cmd[4] = (uint8_t)(n - 5 - (i & 2 ? 1 : 0)); /* well-formed case 3/4 */
		if (n >= 2 && cmd[1] == 0x47)
			cmd[1] = 0x00; /* key generation is slow */
		if (n >= 2 && (cmd[1] == 0x20 || cmd[1] == 0x24))
			cmd[1] = 0xCA; /* keep the PIN counter */
		(void)vt_txb(f, f->card, cmd, n);
	}
	assert_int_equal(vt_tx(f, "0020008100"), 0x9000);
}

static void test_kbkdf_vector(void **state)
{
	uint8_t master[32], serial[8], out[32], want[32];
	(void)state;

	for (int i = 0; i < 32; i++)
		master[i] = (uint8_t)i;
	vt_hex("5654000000000001", serial, sizeof(serial));
	vt_hex("a9e0e8e86ca7101f4658d11f20f16f428b5abea777e4cc49574aa5e2418b8002", want,
	       sizeof(want));
	assert_int_equal(vnp_recovery_token_key(master, serial, out), VNP_OK);
	assert_memory_equal(out, want, 32);
}

static void test_trace_redaction(void **state)
{
	static const struct {
		const char *hex, *want;
	} t[] = {
		{ "0020008106313233343536", "00 20 00 81 06 <redacted 6 bytes>" },
		{ "0020008100", "00 20 00 81 00" },
		{ "002400810D06313233343536363534333231",
		  "00 24 00 81 0D <redacted 13 bytes>" },
		{ "002C008100000231320000", "00 2C 00 81 00 00 02 <redacted 2 bytes> 00 00" },
		{ "10200081023132", "10 20 00 81 02 <redacted 2 bytes>" },
		{ "0020008106313233", "00 20 00 81 <redacted 4 bytes>" },
		{ "80CA010000", "80 CA 01 00 00" },
	};
	uint8_t cmd[64];
	char *text = NULL;
	size_t len = 0, n, i;
	(void)state;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		FILE *f = open_memstream(&text, &len);
		n = vt_hex(t[i].hex, cmd, sizeof(cmd));
		vnp_vt_trace_format_cmd(f, cmd, n);
		fclose(f);
		assert_string_equal(text, t[i].want);
		assert_null(strstr(text, "31 32"));
		free(text);
		text = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capdu_table),
		cmocka_unit_test(test_kbkdf_vector),
		cmocka_unit_test(test_trace_redaction),
		cmocka_unit_test_setup_teardown(test_malformed, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_before_select, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_random_apdus, vt_setup, vt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
