/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Status word mapping. */
#include <string.h>

#include "compiler.h"
#include "fake.h"
#include "rv.h"
#include "sw.h"

static const struct {
	uint16_t sw;
	int rv;
	int tries;
} cases[] = {
	{ 0x9000, VNP_OK, -1 },
	{ 0x6110, VNP_OK, -1 },
	{ 0x63C3, VNP_E_PIN_INCORRECT, 3 },
	{ 0x63C1, VNP_E_PIN_INCORRECT, 1 },
	{ 0x63C0, VNP_E_PIN_LOCKED, 0 },
	{ 0x6983, VNP_E_PIN_LOCKED, -1 },
	{ 0x6982, VNP_E_SECURITY_STATUS, -1 },
	{ 0x6985, VNP_E_CONDITIONS, -1 },
	{ 0x6700, VNP_E_WRONG_LENGTH, -1 },
	{ 0x6C10, VNP_E_WRONG_LENGTH, -1 },
	{ 0x6A80, VNP_E_INVALID_DATA, -1 },
	{ 0x6A82, VNP_E_NOT_FOUND, -1 },
	{ 0x6A88, VNP_E_NOT_FOUND, -1 },
	{ 0x6A84, VNP_E_CARD_FULL, -1 },
	{ 0x6A81, VNP_E_NOT_SUPPORTED, -1 },
	{ 0x6A86, VNP_E_NOT_SUPPORTED, -1 },
	{ 0x6D00, VNP_E_NOT_SUPPORTED, -1 },
	{ 0x6E00, VNP_E_NOT_SUPPORTED, -1 },
	{ 0x6283, VNP_E_TERMINATED, -1 },
	{ 0x6285, VNP_E_TERMINATED, -1 },
	{ 0x6581, VNP_E_MEMORY_FAILURE, -1 },
	{ 0x6F00, VNP_E_CARD, -1 },
	{ 0x6F12, VNP_E_CARD, -1 },
	{ 0x1234, VNP_E_CARD, -1 },
	{ 0x0000, VNP_E_CARD, -1 },
};

static void test_iso_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		int rv = vnp_sw_to_rv(cases[i].sw, NULL);

		if (rv != cases[i].rv)
			fail_msg("SW %04X: rv %d, expected %d", cases[i].sw, rv, cases[i].rv);
		assert_int_equal(vnp_sw_tries_left(cases[i].sw), cases[i].tries);
		assert_non_null(vnp_sw_text(cases[i].sw));
		assert_true(strlen(vnp_sw_text(cases[i].sw)) > 0);
	}
}

static void test_applet_first(void **state)
{
	static const struct vnp_sw_entry applet[] = {
		{ 0x6A80, 0xFFFF, VNP_E_PIN_INVALID, "PIN outside the policy" },
		{ 0x6F00, 0xFF00, VNP_E_INTERNAL, "applet error" },
		{ 0, 0, 0, NULL },
	};

	(void)state;
	assert_int_equal(vnp_sw_to_rv(0x6A80, applet), VNP_E_PIN_INVALID);
	assert_int_equal(vnp_sw_to_rv(0x6F42, applet), VNP_E_INTERNAL);
	assert_int_equal(vnp_sw_to_rv(0x6A82, applet), VNP_E_NOT_FOUND); /* falls back */
	assert_int_equal(vnp_sw_to_rv(0x63C2, applet), VNP_E_PIN_INCORRECT);
	assert_int_equal(vnp_sw_to_rv(0x9000, applet), VNP_OK);
	assert_string_equal(vnp_sw_text(0x6A82), "file or application not found");
	assert_string_equal(vnp_sw_text(0x4242), "unknown status word");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_table),
		cmocka_unit_test(test_applet_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
