/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ccid/usb_desc.c: finding the CCID interface in configuration descriptors, well-formed,
 * odd and lying. Each fixture is copied into a heap buffer of exactly its length so that
 * ASan catches any read past it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "../ccidproto/hex.h"
#include "compiler.h"
#include "rv.h"
#include "usb_desc.h"

#define CLASS_DESC                                                                         \
	"36 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 FE000000 " \
	"00000000 00000000 FE000400 0A0C0000 FF FF 0000 00 01"
#define EP_OUT "07 05 01 02 4000 00"
#define EP_IN "07 05 82 02 4000 00"
#define EP_INT "07 05 83 03 0800 10"
/* wTotalLength is filled in by fixture() unless the test string sets it (TOTAL_ASIS). */
#define CFG_HDR "09 02 0000 01 01 00 80 32"
#define IF_CCID "09 04 00 00 03 0B 00 00 00"

struct fixture {
	uint8_t *buf;
	size_t len;
};

/* Bytes of s in a heap buffer of exactly their length; wTotalLength set to the length unless
 * keep_total. */
static struct fixture fixture(const char *s, bool keep_total)
{
	uint8_t tmp[1024];
	struct fixture f;
	size_t n = hex(s, tmp, sizeof(tmp));

	assert_true(n != (size_t)-1);
	if (!keep_total && n >= 4) {
		tmp[2] = (uint8_t)(n & 0xFF);
		tmp[3] = (uint8_t)(n >> 8);
	}
	f.buf = malloc(n ? n : 1);
	assert_non_null(f.buf);
	memcpy(f.buf, tmp, n);
	f.len = n;
	return f;
}

static int find(const char *s, bool keep_total, unsigned flags, unsigned index,
		struct vnp_usb_ccid_if *ifc)
{
	struct fixture f = fixture(s, keep_total);
	int rv = vnp_usb_desc_find_ccid(f.buf, f.len, flags, index, ifc);

	free(f.buf);
	return rv;
}

static void test_standard(void **state)
{
	struct vnp_usb_ccid_if ifc;
	uint8_t cd[VNP_CCID_DESC_LEN];

	(void)state;
	assert_int_equal(find(CFG_HDR IF_CCID CLASS_DESC EP_OUT EP_IN EP_INT, false, 0, 0, &ifc),
			 VNP_OK);
	assert_int_equal(ifc.bInterfaceNumber, 0);
	assert_int_equal(ifc.bInterfaceClass, 0x0B);
	assert_int_equal(ifc.ep_bulk_out, 0x01);
	assert_int_equal(ifc.ep_bulk_in, 0x82);
	assert_int_equal(ifc.ep_intr_in, 0x83);
	assert_int_equal(ifc.bulk_in_max_packet, 64);
	hex(CLASS_DESC, cd, sizeof(cd));
	assert_memory_equal(ifc.class_desc, cd, sizeof(cd));
}

/* The class descriptor after the endpoints (some readers), no interrupt endpoint. */
static void test_desc_last_no_interrupt(void **state)
{
	struct vnp_usb_ccid_if ifc;

	(void)state;
	assert_int_equal(find(CFG_HDR "09 04 00 00 02 0B 00 00 00" EP_IN EP_OUT CLASS_DESC, false,
			      0, 0, &ifc),
			 VNP_OK);
	assert_int_equal(ifc.ep_bulk_in, 0x82);
	assert_int_equal(ifc.ep_bulk_out, 0x01);
	assert_int_equal(ifc.ep_intr_in, 0);
}

/* A composite device: HID interface first, then CCID as interface 1 (a FIDO+PIV token). */
static void test_composite(void **state)
{
	struct vnp_usb_ccid_if ifc;

	(void)state;
	assert_int_equal(find("09 02 0000 02 01 00 80 32"
			      "09 04 00 00 02 03 00 00 00 09 21 1101 00 01 22 2200"
			      "07 05 84 03 4000 05 07 05 04 03 4000 05"
			      "09 04 01 00 03 0B 00 00 00" CLASS_DESC EP_OUT EP_IN EP_INT,
			      false, 0, 0, &ifc),
			 VNP_OK);
	assert_int_equal(ifc.bInterfaceNumber, 1);
	assert_int_equal(ifc.ep_intr_in, 0x83);
	/* there is no second CCID interface */
	assert_int_equal(find("09 02 0000 02 01 00 80 32"
			      "09 04 00 00 02 03 00 00 00 09 21 1101 00 01 22 2200"
			      "09 04 01 00 03 0B 00 00 00" CLASS_DESC EP_OUT EP_IN EP_INT,
			      false, 0, 1, &ifc),
			 VNP_E_NOT_FOUND);
}

/* The vendor class is used only when the quirks say so. */
static void test_vendor_class(void **state)
{
	const char *cfg = CFG_HDR "09 04 00 00 03 FF 00 00 00" CLASS_DESC EP_OUT EP_IN EP_INT;
	struct vnp_usb_ccid_if ifc;

	(void)state;
	assert_int_equal(find(cfg, false, 0, 0, &ifc), VNP_E_NOT_FOUND);
	assert_int_equal(find(cfg, false, VNP_USB_FIND_VENDOR_CLASS, 0, &ifc), VNP_OK);
	assert_int_equal(ifc.bInterfaceClass, 0xFF);
}

/* Well formed but unusable: these are "not a CCID interface", not errors. */
static const struct {
	const char *what, *cfg;
} not_found[] = {
	{"no class descriptor", CFG_HDR IF_CCID EP_OUT EP_IN EP_INT},
	{"class descriptor of the wrong length",
	 CFG_HDR IF_CCID "35 21 1001 00 07 02000000 A00F0000 A00F0000 00 80250000 80250000 00 "
			 "FE000000 00000000 00000000 FE000400 0A0C0000 FF FF 0000 00" EP_OUT EP_IN},
	{"no bulk-IN", CFG_HDR IF_CCID CLASS_DESC EP_OUT EP_INT},
	{"no bulk-OUT", CFG_HDR IF_CCID CLASS_DESC EP_IN EP_INT},
	{"only an alternate setting 1",
	 CFG_HDR "09 04 00 01 03 0B 00 00 00" CLASS_DESC EP_OUT EP_IN EP_INT},
	{"class descriptor in the next interface's block",
	 "09 02 0000 02 01 00 80 32" IF_CCID EP_OUT EP_IN "09 04 01 00 00 03 00 00 00" CLASS_DESC},
	{"a mass storage interface", CFG_HDR "09 04 00 00 02 08 06 50 00" EP_OUT EP_IN},
	{"no interface at all", CFG_HDR},
};

static void test_not_found(void **state)
{
	struct vnp_usb_ccid_if ifc;

	(void)state;
	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
		int rv = find(not_found[i].cfg, false, VNP_USB_FIND_VENDOR_CLASS, 0, &ifc);

		if (rv != VNP_E_NOT_FOUND)
			fail_msg("%s: %d", not_found[i].what, rv);
	}
}

/* Lying or broken descriptors: an error, and (under ASan) no read past the buffer. The
 * wTotalLength of these is kept as written. */
static const struct {
	const char *what, *cfg;
} malformed[] = {
	{"empty", ""},
	{"short header", "09 02 0900 01 01 00 80"},
	{"not a configuration", "09 04 0900 01 01 00 80 32"},
	{"header bLength 8", "08 02 0800 01 01 00 80"},
	{"wTotalLength past the buffer", "09 02 1000 01 01 00 80 32" IF_CCID},
	{"wTotalLength below 9", "09 02 0500 01 01 00 80 32"},
	{"header bLength past wTotalLength", "0C 02 0900 01 01 00 80 32 00 00 00"},
	{"a descriptor with bLength 0", "09 02 0B00 01 01 00 80 32 00 04"},
	{"a descriptor with bLength 1", "09 02 0B00 01 01 00 80 32 01 04"},
	{"one byte left", "09 02 0A00 01 01 00 80 32 09"},
	{"interface running past the end", "09 02 1000 01 01 00 80 32 09 04 00 00 03 0B 00"},
	{"short interface descriptor", "09 02 1000 01 01 00 80 32 07 04 00 00 03 0B 00"},
	{"short endpoint descriptor",
	 "09 02 1800 01 01 00 80 32 09 04 00 00 03 0B 00 00 00 06 05 82 02 4000"},
	{"class descriptor claiming 0x36 bytes with 10 left",
	 "09 02 1C00 01 01 00 80 32 09 04 00 00 03 0B 00 00 00 36 21 1001 00 07 02000000"},
	{"class descriptor claiming 0xFF bytes",
	 "09 02 1C00 01 01 00 80 32 09 04 00 00 03 0B 00 00 00 FF 21 1001 00 07 02000000"},
};

static void test_malformed(void **state)
{
	struct vnp_usb_ccid_if ifc;

	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		int rv = find(malformed[i].cfg, true, VNP_USB_FIND_VENDOR_CLASS, 0, &ifc);

		if (rv != VNP_E_MALFORMED)
			fail_msg("%s: %d", malformed[i].what, rv);
	}
}

/* A buffer longer than wTotalLength: the rest is not looked at (the class descriptor after
 * wTotalLength is not found). */
static void test_total_bounds_walk(void **state)
{
	struct fixture f = fixture(CFG_HDR IF_CCID EP_OUT EP_IN CLASS_DESC, false);
	struct vnp_usb_ccid_if ifc;

	(void)state;
	f.buf[2] = 9 + 9 + 7 + 7; /* wTotalLength stops before the class descriptor */
	f.buf[3] = 0;
	assert_int_equal(vnp_usb_desc_find_ccid(f.buf, f.len, 0, 0, &ifc), VNP_E_NOT_FOUND);
	assert_int_equal(vnp_usb_desc_find_ccid(NULL, f.len, 0, 0, &ifc), VNP_E_ARGS);
	assert_int_equal(vnp_usb_desc_find_ccid(f.buf, f.len, 0, 0, NULL), VNP_E_ARGS);
	free(f.buf);
}

/* Every truncation of a good configuration (with wTotalLength kept at the full length) is
 * an error, and never an over-read. */
static void test_every_truncation(void **state)
{
	struct fixture f = fixture(CFG_HDR IF_CCID CLASS_DESC EP_OUT EP_IN EP_INT, false);
	struct vnp_usb_ccid_if ifc;

	(void)state;
	for (size_t n = 0; n < f.len; n++) {
		uint8_t *b = malloc(n ? n : 1);

		assert_non_null(b);
		memcpy(b, f.buf, n);
		assert_int_equal(vnp_usb_desc_find_ccid(b, n, 0, 0, &ifc), VNP_E_MALFORMED);
		free(b);
	}
	free(f.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard),
		cmocka_unit_test(test_desc_last_no_interrupt),
		cmocka_unit_test(test_composite),
		cmocka_unit_test(test_vendor_class),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_total_bounds_walk),
		cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
