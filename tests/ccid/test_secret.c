/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for ccid/secret.c and ccid/rv_text.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rv.h"
#include "secret.h"

static void test_new_free(void **state)
{
	struct vnp_secret s = { 0 };

	(void)state;
	assert_int_equal(vnp_secret_new(64, &s), VNP_OK);
	assert_non_null(s.p);
	assert_int_equal(s.len, 0);
	assert_true(s.cap >= 64);
	memset(s.p, 0xA5, 64);
	vnp_secret_free(&s);
	assert_null(s.p);
	assert_int_equal(s.cap, 0);
	vnp_secret_free(&s);   /* empty: no-op */
	vnp_secret_free(NULL); /* no-op */
	assert_int_equal(vnp_secret_new(0, &s), VNP_OK);
	vnp_secret_free(&s);
	assert_int_equal(vnp_secret_new(8, NULL), VNP_E_ARGS);
}

static void test_dup(void **state)
{
	static const uint8_t pin[] = { '1', '2', '3', '4', '5', '6' };
	struct vnp_secret s = { 0 };

	(void)state;
	assert_int_equal(vnp_secret_dup(pin, sizeof(pin), &s), VNP_OK);
	assert_int_equal(s.len, sizeof(pin));
	assert_memory_equal(s.p, pin, sizeof(pin));
	vnp_secret_free(&s);
	assert_int_equal(vnp_secret_dup(NULL, 0, &s), VNP_OK);
	assert_int_equal(s.len, 0);
	vnp_secret_free(&s);
	assert_int_equal(vnp_secret_dup(NULL, 3, &s), VNP_E_ARGS);
}

static void test_wipe(void **state)
{
	uint8_t buf[16];
	static const uint8_t zero[16];

	(void)state;
	memset(buf, 0x5A, sizeof(buf));
	vnp_wipe(buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	vnp_wipe(NULL, 4);
}

static const struct {
	const char *a, *b;
	size_t len;
	int equal;
} cmp_cases[] = {
	{ "123456", "123456", 6, 1 },
	{ "123456", "123457", 6, 0 },
	{ "023456", "123456", 6, 0 },
	{ "abc", "xyz", 0, 1 },
	{ "12345678", "12345678", 8, 1 },
};

static void test_memcmp_ct(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cmp_cases) / sizeof(cmp_cases[0]); i++) {
		int r = vnp_memcmp_ct(cmp_cases[i].a, cmp_cases[i].b, cmp_cases[i].len);

		assert_int_equal(r == 0, cmp_cases[i].equal);
	}
}

static void test_rv_text(void **state)
{
	static const int rvs[] = { VNP_OK, VNP_E_TRANSPORT, VNP_E_NO_DEVICE, VNP_E_NO_CARD,
		VNP_E_CARD_RESET, VNP_E_NO_SERVICE, VNP_E_CARD, VNP_E_PIN_INCORRECT, VNP_E_ARGS,
		VNP_E_NOMEM, VNP_E_CONFIG, VNP_E_IO };

	(void)state;
	for (size_t i = 0; i < sizeof(rvs) / sizeof(rvs[0]); i++) {
		assert_non_null(vnp_rv_text(rvs[i]));
		assert_string_not_equal(vnp_rv_text(rvs[i]), "unknown error");
	}
	assert_string_equal(vnp_rv_text(-12345), "unknown error");
	assert_string_equal(vnp_rv_text(VNP_E_NO_CARD), "no card in the reader");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_memcmp_ct),
		cmocka_unit_test(test_rv_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
