/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ccid/ccid_desc.c: CCID class descriptor fixtures, well-formed and hostile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ccid_desc.h"
#include "compiler.h"
#include "hex.h"
#include "rv.h"

/* A typical USB token (written by hand, shaped like a PIV/OpenPGP token's descriptor):
 * CCID 1.10, one slot, 5/3/1.8 V, T=1 only, 4 MHz, 9600 bps, IFSD 254, extended APDU level
 * with automatic parameters/clock/baud (dwFeatures 0x000400FE), 3082-byte messages. */
#define TOKEN_DESC                                                                         \
	"36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 FE000000 " \
	"00000000 00000000 FE000400 0A0C0000 FF FF 0000 00 01"

static void test_token_fields(void **state)
{
	uint8_t tmp[128], *buf;
	size_t n = hex(TOKEN_DESC, tmp, sizeof(tmp));
	struct vnp_ccid_desc d;

	(void)state;
	assert_int_equal(n, VNP_CCID_DESC_LEN);
	buf = malloc(n);
	assert_non_null(buf);
	memcpy(buf, tmp, n);
	assert_int_equal(vnp_ccid_desc_parse(buf, n, &d), VNP_OK);
	assert_int_equal(d.bLength, 0x36);
	assert_int_equal(d.bDescriptorType, 0x21);
	assert_int_equal(d.bcdCCID, 0x0110);
	assert_int_equal(d.bMaxSlotIndex, 0);
	assert_int_equal(d.bVoltageSupport, 7);
	assert_int_equal(d.dwProtocols, VNP_CCID_PROTO_T1);
	assert_int_equal(d.dwDefaultClock, 4000);
	assert_int_equal(d.dwMaximumClock, 4000);
	assert_int_equal(d.bNumClockSupported, 0);
	assert_int_equal(d.dwDataRate, 9600);
	assert_int_equal(d.dwMaxDataRate, 9600);
	assert_int_equal(d.bNumDataRatesSupported, 0);
	assert_int_equal(d.dwMaxIFSD, 254);
	assert_int_equal(d.dwSynchProtocols, 0);
	assert_int_equal(d.dwMechanical, 0);
	assert_int_equal(d.dwFeatures, 0x000400FE);
	assert_int_equal(d.dwMaxCCIDMessageLength, 3082);
	assert_int_equal(d.bClassGetResponse, 0xFF);
	assert_int_equal(d.bClassEnvelope, 0xFF);
	assert_int_equal(d.wLcdLayout, 0);
	assert_int_equal(d.bPINSupport, 0);
	assert_int_equal(d.bMaxCCIDBusySlots, 1);
	assert_int_equal(d.level, VNP_CCID_LEVEL_EXTENDED_APDU);
	free(buf);
}

/* Variations on the token descriptor: prefix replaces the first bytes. */
static const struct {
	const char *name, *desc;
	size_t len; /* bytes handed to the parser; 0 = all */
	int rv;
	enum vnp_ccid_level level;
} cases[] = {
	{ "token", TOKEN_DESC, 0, VNP_OK, VNP_CCID_LEVEL_EXTENDED_APDU },
	{ "trailing bytes", TOKEN_DESC " 0904", 0, VNP_OK, VNP_CCID_LEVEL_EXTENDED_APDU },
	{ "truncated by one", TOKEN_DESC, 53, VNP_E_MALFORMED, 0 },
	{ "header only", TOKEN_DESC, 2, VNP_E_MALFORMED, 0 },
	{ "empty", "", 0, VNP_E_MALFORMED, 0 },
	/* TPDU reader (GemPC-like): T=0 and T=1, dwFeatures 0x00010230, 271-byte messages */
	{ "tpdu", "36 21 0001 00 07 03000000 C0120000 C0120000 00 80250000 B0E90100 00 FE000000 "
		  "00000000 00000000 30020100 0F010000 00 00 0000 00 01", 0, VNP_OK,
	  VNP_CCID_LEVEL_TPDU },
	{ "short apdu", "36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 "
			"FE000000 00000000 00000000 FE000200 0F010000 FF FF 0000 00 01", 0, VNP_OK,
	  VNP_CCID_LEVEL_SHORT_APDU },
	{ "character", "36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 "
		       "FE000000 00000000 00000000 FE000000 0F010000 FF FF 0000 00 01", 0, VNP_OK,
	  VNP_CCID_LEVEL_CHARACTER },
	{ "bLength 0x35", "35 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 "
			  "FE000000 00000000 00000000 FE000400 0A0C0000 FF FF 0000 00 01", 0,
	  VNP_E_MALFORMED, 0 },
	{ "bLength 0x37", "37 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 "
			  "FE000000 00000000 00000000 FE000400 0A0C0000 FF FF 0000 00 01 00", 0,
	  VNP_E_MALFORMED, 0 },
	{ "type 0x22", "36 22 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 "
		       "FE000000 00000000 00000000 FE000400 0A0C0000 FF FF 0000 00 01", 0,
	  VNP_E_MALFORMED, 0 },
	{ "no protocol", "36 21 1001 00 07 00000000 A00F0000 A00F0000 00 80250000 80250000 00 "
			 "FE000000 00000000 00000000 FE000400 0A0C0000 FF FF 0000 00 01", 0,
	  VNP_E_MALFORMED, 0 },
	{ "message length 10", "36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 "
			       "00 FE000000 00000000 00000000 FE000400 0A000000 FF FF 0000 00 01",
	  0, VNP_E_MALFORMED, 0 },
	{ "message length 2 MiB", "36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 "
				  "80250000 00 FE000000 00000000 00000000 FE000400 00002000 FF FF "
				  "0000 00 01", 0, VNP_E_MALFORMED, 0 },
	{ "message length 0xFFFFFFFF", "36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 "
				       "80250000 00 FE000000 00000000 00000000 FE000400 FFFFFFFF "
				       "FF FF 0000 00 01", 0, VNP_E_MALFORMED, 0 },
};

static void test_desc_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		uint8_t tmp[128], *buf;
		size_t n = hex(cases[i].desc, tmp, sizeof(tmp));
		struct vnp_ccid_desc d;
		int rv;

		assert_true(n != (size_t)-1);
		if (cases[i].len)
			n = cases[i].len;
		buf = malloc(n ? n : 1); /* exact size: over-reads show under ASan */
		assert_non_null(buf);
		memcpy(buf, tmp, n);
		memset(&d, 0x5A, sizeof(d));
		rv = vnp_ccid_desc_parse(buf, n, &d);
		if (rv != cases[i].rv)
			fail_msg("%s: rv %d want %d", cases[i].name, rv, cases[i].rv);
		if (rv == VNP_OK && d.level != cases[i].level)
			fail_msg("%s: level %d want %d", cases[i].name, d.level, cases[i].level);
		if (rv != VNP_OK && d.bLength != 0x5A)
			fail_msg("%s: output written on error", cases[i].name);
		free(buf);
	}
}

static void test_level_bits(void **state)
{
	(void)state;
	assert_int_equal(vnp_ccid_desc_level(0), VNP_CCID_LEVEL_CHARACTER);
	assert_int_equal(vnp_ccid_desc_level(0x00010000), VNP_CCID_LEVEL_TPDU);
	assert_int_equal(vnp_ccid_desc_level(0x00020000), VNP_CCID_LEVEL_SHORT_APDU);
	assert_int_equal(vnp_ccid_desc_level(0x00040000), VNP_CCID_LEVEL_EXTENDED_APDU);
	assert_int_equal(vnp_ccid_desc_level(0x00060000), VNP_CCID_LEVEL_EXTENDED_APDU);
	assert_int_equal(vnp_ccid_desc_level(0xFFF8FFFF), VNP_CCID_LEVEL_CHARACTER);
	assert_int_equal(vnp_ccid_desc_parse(NULL, 54, NULL), VNP_E_ARGS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_fields),
		cmocka_unit_test(test_desc_table),
		cmocka_unit_test(test_level_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
