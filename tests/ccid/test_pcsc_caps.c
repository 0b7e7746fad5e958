/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnp_pcsc_caps(): reader name, MAXINPUT and protocol -> what the reader moves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pcsc_caps.h"

static const struct {
	const char *name;
	bool t0, have_maxin;
	unsigned long maxin;
	bool ext;
	size_t max_cmd, max_resp;
} cases[] = {
	/* pcscd's names for vpcd slots: extended whatever MAXINPUT says, 16-bit framing */
	{ "Virtual PCD 00 00", false, false, 0, true, 65535, 65535 },
	{ "Virtual PCD 00 01", false, true, 261, true, 65535, 65535 },
	{ "vsmartcard Virtual PCD 01 00", false, false, 0, true, 65535, 65535 },
	/* case matters, and T=0 is never extended, even on vpcd */
	{ "virtual pcd 00 00", false, false, 0, false, 261, 258 },
	{ "Virtual PCD 00 00", true, false, 0, false, 261, 258 },
	/* CCID readers: MAXINPUT = dwMaxCCIDMessageLength - 10 */
	{ "Gemalto PC Twin Reader 00 00", false, true, 261, false, 261, 258 },
	{ "Gemalto PC Twin Reader 00 00", false, true, 262, true, 262, 65538 },
	{ "Identiv uTrust 3700 F 00 00", false, true, 65544, true, 65544, 65538 },
	{ "Big 00 00", false, true, 1000000, true, 65544, 65538 },
	{ "Token 00 00", false, false, 70000, false, 261, 258 }, /* MAXINPUT unavailable */
	{ "T=0 card 00 00", true, true, 65544, false, 261, 258 },
	{ NULL, false, true, 5000, true, 5000, 65538 },
	{ "", false, false, 0, false, 261, 258 },
};

static void test_caps_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vnp_reader_caps c;

		vnp_pcsc_caps(cases[i].name, cases[i].t0, cases[i].have_maxin, cases[i].maxin, &c);
		if (c.extended != cases[i].ext || c.max_cmd != cases[i].max_cmd ||
		    c.max_resp != cases[i].max_resp || c.t0 != cases[i].t0)
			fail_msg("case %zu (%s): ext %d %zu/%zu", i,
				 cases[i].name ? cases[i].name : "NULL", c.extended, c.max_cmd,
				 c.max_resp);
	}
}

static void test_is_vpcd(void **state)
{
	(void)state;
	assert_true(vnp_pcsc_is_vpcd("Virtual PCD 00 00"));
	assert_false(vnp_pcsc_is_vpcd("Virtual PC 00 00"));
	assert_false(vnp_pcsc_is_vpcd(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_table),
		cmocka_unit_test(test_is_vpcd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
