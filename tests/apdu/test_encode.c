/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* C-APDU encoding, ISO/IEC 7816-4 §5.1 cases 1-4, short and extended. */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "fake.h"
#include "rv.h"

struct enc_case {
	const char *name;
	size_t lc, le;
	bool extended;
	int rv;
	const char *out; /* data bytes are 00 01 02 ... */
};

static const struct enc_case cases[] = {
	{ "case 1", 0, 0, false, VNP_OK, "00 A4 04 0C" },
	{ "case 1 ext allowed", 0, 0, true, VNP_OK, "00 A4 04 0C" },
	{ "case 2S", 0, 16, false, VNP_OK, "00 A4 04 0C 10" },
	{ "case 2S Le=256", 0, 256, false, VNP_OK, "00 A4 04 0C 00" },
	{ "case 2S Le=256 ext allowed", 0, 256, true, VNP_OK, "00 A4 04 0C 00" },
	{ "case 2E Le=257", 0, 257, true, VNP_OK, "00 A4 04 0C 00 01 01" },
	{ "case 2E Le=65536", 0, 65536, true, VNP_OK, "00 A4 04 0C 00 00 00" },
	{ "case 3S", 3, 0, false, VNP_OK, "00 A4 04 0C 03 00 01 02" },
	{ "case 3S Lc=255", 255, 0, false, VNP_OK, "00 A4 04 0C FF {255:00+}" },
	{ "case 3E Lc=256", 256, 0, true, VNP_OK, "00 A4 04 0C 00 01 00 {256:00+}" },
	{ "case 4S", 2, 256, false, VNP_OK, "00 A4 04 0C 02 00 01 00" },
	{ "case 4S Le=1", 2, 1, false, VNP_OK, "00 A4 04 0C 02 00 01 01" },
	{ "case 4E by Le", 2, 65536, true, VNP_OK, "00 A4 04 0C 00 00 02 00 01 00 00" },
	{ "case 4E by Lc", 300, 16, true, VNP_OK, "00 A4 04 0C 00 01 2C {300:00+} 00 10" },
	{ "case 4E both", 65535, 65536, true, VNP_OK,
	  "00 A4 04 0C 00 FF FF {65535:00+} 00 00" },
	{ "Lc 256 short", 256, 0, false, VNP_E_RANGE, NULL },
	{ "Le 257 short", 0, 257, false, VNP_E_RANGE, NULL },
	{ "Lc 65536", 65536, 0, true, VNP_E_RANGE, NULL },
	{ "Le 65537", 0, 65537, true, VNP_E_RANGE, NULL },
};

static void test_encode_table(void **state)
{
	uint8_t *data = malloc(70000), *out = malloc(VNP_APDU_BUF_MAX);
	size_t i, j;

	(void)state;
	assert_non_null(data);
	assert_non_null(out);
	for (j = 0; j < 70000; j++)
		data[j] = (uint8_t)j;
	for (i = 0; i < VNP_ARRAY_SIZE(cases); i++) {
		const struct enc_case *c = &cases[i];
		struct vnp_apdu a = { .cla = 0x00, .ins = 0xA4, .p1 = 0x04, .p2 = 0x0C };
		size_t len = 0, wlen;
		int rv;

		a.data = c->lc ? data : NULL;
		a.lc = c->lc;
		a.le = c->le;
		rv = vnp_apdu_encode(&a, c->extended, out, VNP_APDU_BUF_MAX, &len);
		if (rv != c->rv)
			fail_msg("%s: rv %d, expected %d", c->name, rv, c->rv);
		if (c->out) {
			uint8_t *want = th_hex_alloc(c->out, &wlen);

			if (len != wlen || memcmp(out, want, wlen))
				fail_msg("%s: wrong encoding (%zu bytes, expected %zu)", c->name,
					 len, wlen);
			/* exactly the needed capacity is enough, one less is not */
			assert_int_equal(vnp_apdu_encode(&a, c->extended, out, wlen, &len),
					 VNP_OK);
			assert_int_equal(vnp_apdu_encode(&a, c->extended, out, wlen - 1, &len),
					 VNP_E_BUFFER_TOO_SMALL);
			free(want);
		}
	}
	free(data);
	free(out);
}

static void test_encode_args(void **state)
{
	struct vnp_apdu a = { .ins = 0x20, .lc = 4, .data = NULL };
	uint8_t out[16];
	size_t len;

	(void)state;
	assert_int_equal(vnp_apdu_encode(&a, false, out, sizeof(out), &len), VNP_E_ARGS);
	assert_int_equal(vnp_apdu_encode(NULL, false, out, sizeof(out), &len), VNP_E_ARGS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
