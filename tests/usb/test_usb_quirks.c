/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ccid/usb_quirks.c: the VID:PID quirks table, `usb.quirks` entries and the `usb.only`
 * filter; and the configuration keys that carry them (ccid/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "config.h"
#include "rv.h"
#include "usb_quirks.h"

static void test_table(void **state)
{
	(void)state;
	/* the built-in entry of the synthetic vendor-class token (tests/usb) */
	assert_int_equal(vnp_usb_quirks_lookup(0x1209, 0x0001, NULL), VNP_USB_Q_VENDOR_CLASS);
	assert_int_equal(vnp_usb_quirks_lookup(0x1209, 0x0002, NULL), 0);
	assert_int_equal(vnp_usb_quirks_lookup(0x0000, 0x0000, NULL), 0);
}

static void test_config_entries(void **state)
{
	const char *q = "1209:0002 vendor-class no-interrupt, 096E:0807 ignore ,"
			"abcd:EF01 no-interrupt";

	(void)state;
	assert_int_equal(vnp_usb_quirks_check(q), VNP_OK);
	assert_int_equal(vnp_usb_quirks_lookup(0x1209, 0x0002, q),
			 VNP_USB_Q_VENDOR_CLASS | VNP_USB_Q_NO_INTERRUPT);
	assert_int_equal(vnp_usb_quirks_lookup(0x096e, 0x0807, q), VNP_USB_Q_IGNORE);
	assert_int_equal(vnp_usb_quirks_lookup(0xabcd, 0xef01, q), VNP_USB_Q_NO_INTERRUPT);
	/* table and configuration add up */
	assert_int_equal(vnp_usb_quirks_lookup(0x1209, 0x0001, "1209:0001 no-interrupt"),
			 VNP_USB_Q_VENDOR_CLASS | VNP_USB_Q_NO_INTERRUPT);
	assert_int_equal(vnp_usb_quirks_lookup(0x1234, 0x5678, q), 0);
	assert_int_equal(vnp_usb_quirks_check(""), VNP_OK);
	assert_int_equal(vnp_usb_quirks_check(NULL), VNP_OK);
}

static void test_config_malformed(void **state)
{
	static const char *const bad[] = {
		"1209:0002",                 /* no flag */
		"1209:0002 sideways",        /* unknown flag */
		"1209-0002 ignore",          /* separator */
		"12090002 ignore",           /* separator */
		"1209:002 ignore",           /* short PID */
		"g209:0002 ignore",          /* not hex */
		"1209:0002 ignore, 1209",    /* truncated second entry */
		"1209:0002 ignore,, junk",   /* junk entry */
	};
	const char *half_bad = "1209:0003 ignore, xx, 1209:0004 ignore";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vnp_usb_quirks_check(bad[i]) != VNP_E_CONFIG)
			fail_msg("accepted: '%s'", bad[i]);
	/* entries before a malformed one still count; nothing after it */
	assert_int_equal(vnp_usb_quirks_lookup(0x1209, 0x0003, half_bad), VNP_USB_Q_IGNORE);
	assert_int_equal(vnp_usb_quirks_lookup(0x1209, 0x0004, half_bad), 0);
}

static void test_only(void **state)
{
	(void)state;
	assert_true(vnp_usb_id_allowed(NULL, 1, 2));
	assert_true(vnp_usb_id_allowed("", 1, 2));
	assert_true(vnp_usb_id_allowed("1209:0001", 0x1209, 0x0001));
	assert_true(vnp_usb_id_allowed("1111:2222, 1209:0001", 0x1209, 0x0001));
	assert_false(vnp_usb_id_allowed("1111:2222, 1209:0001", 0x1209, 0x0002));
	assert_false(vnp_usb_id_allowed("1209", 0x1209, 0x0001)); /* malformed: nothing */
}

static void test_config_keys(void **state)
{
	struct vnp_config *c = malloc(sizeof(*c));

	(void)state;
	assert_non_null(c);
	vnp_config_defaults(c);
	assert_false(c->use_usb);
	assert_int_equal(vnp_config_parse_string(c,
						 "readers = pcsc, usb\n"
						 "usb.only = 1209:0001\n"
						 "usb.quirks = 1209:0001 no-interrupt\n",
						 "t"),
			 VNP_OK);
	assert_true(c->use_usb);
	assert_true(c->use_pcsc);
	assert_string_equal(c->usb_only, "1209:0001");
	assert_string_equal(c->usb_quirks, "1209:0001 no-interrupt");
	assert_int_equal(vnp_config_parse_string(c, "readers = usb\n", "t"), VNP_OK);
	assert_true(c->use_usb);
	assert_false(c->use_pcsc);
	assert_int_equal(vnp_config_parse_string(c, "usb.quirks = 1209:0001 fast\n", "t"),
			 VNP_E_CONFIG);
	assert_string_equal(c->usb_quirks, "1209:0001 no-interrupt"); /* unchanged */
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_config_entries),
		cmocka_unit_test(test_config_malformed),
		cmocka_unit_test(test_only),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
