/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for ccid/recovery.c: the RECOVERY.md worked example, code reading rules and
 * how many typos the check character catches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "recovery.h"
#include "rv.h"

static const uint8_t master[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t serial[8] = { 0x56, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t challenge[7] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd };
static const uint8_t token_key[32] = {
	0xa9, 0xe0, 0xe8, 0xe8, 0x6c, 0xa7, 0x10, 0x1f, 0x46, 0x58, 0xd1, 0x1f, 0x20, 0xf1, 0x6f, 0x42,
	0x8b, 0x5a, 0xbe, 0xa7, 0x77, 0xe4, 0xcc, 0x49, 0x57, 0x4a, 0xa5, 0xe2, 0x41, 0x8b, 0x80, 0x02,
};
static const char request_code[] = "ASA0-0000-0000-2093-8NKR-KAYD-T";
static const char response_code[] = "BE78-QKEW-WV2A-14HP-T";
static const char symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

static void request_bytes(uint8_t out[VNP_RECOVERY_REQUEST_LEN])
{
	memcpy(out, serial, sizeof(serial));
	memcpy(out + sizeof(serial), challenge, sizeof(challenge));
}

static void test_token_key(void **state)
{
	uint8_t k[32];

	(void)state;
	assert_int_equal(vnp_recovery_token_key(master, serial, k), VNP_OK);
	assert_memory_equal(k, token_key, sizeof(k));
	assert_int_equal(vnp_recovery_token_key(NULL, serial, k), VNP_E_ARGS);
}

static void test_response(void **state)
{
	uint8_t r[VNP_RECOVERY_RESPONSE_LEN], back[VNP_RECOVERY_RESPONSE_LEN];
	char code[VNP_CODE_MAX];

	(void)state;
	assert_int_equal(vnp_recovery_response(token_key, serial, challenge, r), VNP_OK);
	assert_int_equal(vnp_code_encode(r, sizeof(r), code, sizeof(code)), VNP_OK);
	assert_string_equal(code, response_code);
	assert_int_equal(vnp_code_decode(response_code, back, sizeof(back)), VNP_OK);
	assert_memory_equal(back, r, sizeof(r));
}

static void test_request_encode(void **state)
{
	uint8_t req[VNP_RECOVERY_REQUEST_LEN], back[VNP_RECOVERY_REQUEST_LEN];
	char code[VNP_CODE_MAX];

	(void)state;
	request_bytes(req);
	assert_int_equal(vnp_code_encode(req, sizeof(req), code, sizeof(code)), VNP_OK);
	assert_string_equal(code, request_code);
	assert_int_equal(vnp_code_decode(request_code, back, sizeof(back)), VNP_OK);
	assert_memory_equal(back, req, sizeof(req));
}

static void test_encode_buffer(void **state)
{
	uint8_t req[VNP_RECOVERY_REQUEST_LEN];
	char code[VNP_CODE_MAX];
	size_t need = sizeof(request_code);

	(void)state;
	request_bytes(req);
	memset(code, 'x', sizeof(code));
	assert_int_equal(vnp_code_encode(req, sizeof(req), code, need - 1), VNP_E_BUFFER_TOO_SMALL);
	assert_int_equal(vnp_code_encode(req, sizeof(req), code, need), VNP_OK);
	assert_string_equal(code, request_code);
	assert_int_equal(vnp_code_encode(req, 10, code, sizeof(response_code) - 1),
			 VNP_E_BUFFER_TOO_SMALL);
	assert_int_equal(vnp_code_encode(req, 10, code, sizeof(response_code)), VNP_OK);
	assert_int_equal(vnp_code_encode(NULL, 10, code, sizeof(code)), VNP_E_ARGS);
	assert_int_equal(vnp_code_encode(req, 10, NULL, sizeof(code)), VNP_E_ARGS);
	assert_int_equal(vnp_code_encode(req, 0, code, sizeof(code)), VNP_E_ARGS);
}

/* Short codes with padding bits: 1..15 bytes round-trip. */
static void test_roundtrip_lengths(void **state)
{
	uint8_t in[15], back[15];
	char code[VNP_CODE_MAX];

	(void)state;
	for (size_t n = 1; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(0xA5 ^ (i * 37 + n));
		assert_int_equal(vnp_code_encode(in, n, code, sizeof(code)), VNP_OK);
		memset(back, 0, sizeof(back));
		assert_int_equal(vnp_code_decode(code, back, n), VNP_OK);
		assert_memory_equal(back, in, n);
	}
	/* one byte: two characters, the last two bits are padding and must be zero */
	in[0] = 0xFF;
	assert_int_equal(vnp_code_encode(in, 1, code, sizeof(code)), VNP_OK);
	assert_string_equal(code, "ZW-~"); /* 11111 111(00); 255 mod 37 = 33 */
	assert_int_equal(vnp_code_decode("ZW-~", back, 1), VNP_OK);
	assert_int_equal(back[0], 0xFF);
	assert_int_equal(vnp_code_decode("ZX-~", back, 1), VNP_E_INVALID_DATA); /* padding 01 */
}

static const struct {
	const char *code;
	int rv;
} response_inputs[] = {
	{ "BE78-QKEW-WV2A-14HP-T", VNP_OK },
	{ "be78-qkew-wv2a-14hp-t", VNP_OK },
	{ "BE78QKEWWV2A14HPT", VNP_OK },
	{ "be78qkewwv2a14hpt", VNP_OK },
	{ "BE78 QKEW WV2A 14HP T", VNP_OK },
	{ " BE78 - QKEW - WV2A - 14HP - T ", VNP_OK },
	{ "BE78-QKEW-WV2A-I4HP-T", VNP_OK },     /* I reads as 1 */
	{ "BE78-QKEW-WV2A-l4HP-T", VNP_OK },     /* l reads as 1 */
	{ "BE78-QKEW-WV2A-L4HP-T", VNP_OK },
	{ "BE78-QKEW-WV2A-14HP-U", VNP_E_CODE_CHECK },
	{ "BE78-QKEW-WV2A-14HQ-T", VNP_E_CODE_CHECK },
	{ "BE78-QKEW-WV2A-14HP", VNP_E_INVALID_DATA },  /* no check character */
	{ "BE78-QKEW-WV2A-14H-T", VNP_E_INVALID_DATA },     /* one character short */
	{ "BE78-QKEW-WV2A-14HPP-T", VNP_E_INVALID_DATA },   /* one too many */
	{ "BE78-QKEW-WV2A-14HP-TT", VNP_E_INVALID_DATA },
	{ "", VNP_E_INVALID_DATA },
	{ "----", VNP_E_INVALID_DATA },
	{ "BE78-QKEW-WV2A-14HU-T", VNP_E_INVALID_DATA },    /* U only as a check character */
	{ "BE78-QKEW-WV2A-14H*-T", VNP_E_INVALID_DATA },
	{ "BE78-QKEW-WV2A-14H!-T", VNP_E_INVALID_DATA },
	{ "BE78_QKEW-WV2A-14HP-T", VNP_E_INVALID_DATA },
	{ "BE78-QKEW-WV2A-14HP-\xc3\x9d", VNP_E_INVALID_DATA },
	{ "ASA0-0000-0000-2093-8NKR-KAYD-T", VNP_E_INVALID_DATA }, /* request, not response */
};

static void test_decode_table(void **state)
{
	uint8_t expect[VNP_RECOVERY_RESPONSE_LEN], got[VNP_RECOVERY_RESPONSE_LEN];

	(void)state;
	assert_int_equal(vnp_recovery_response(token_key, serial, challenge, expect), VNP_OK);
	for (size_t i = 0; i < sizeof(response_inputs) / sizeof(response_inputs[0]); i++) {
		int rv;

		memset(got, 0xEE, sizeof(got));
		rv = vnp_code_decode(response_inputs[i].code, got, sizeof(got));
		if (rv != response_inputs[i].rv)
			fail_msg("\"%s\": got %d, want %d", response_inputs[i].code, rv,
				 response_inputs[i].rv);
		if (rv == VNP_OK)
			assert_memory_equal(got, expect, sizeof(got));
		else
			for (size_t j = 0; j < sizeof(got); j++)
				assert_int_equal(got[j], 0xEE); /* written only on success */
	}
}

static void test_decode_request_aliases(void **state)
{
	uint8_t req[VNP_RECOVERY_REQUEST_LEN], got[VNP_RECOVERY_REQUEST_LEN];

	(void)state;
	request_bytes(req);
	assert_int_equal(vnp_code_decode("asao-oooo-oooo-2o93-8nkr-kayd-t", got, sizeof(got)),
			 VNP_OK);
	assert_memory_equal(got, req, sizeof(req));
	assert_int_equal(vnp_code_decode("ASA0000000002093 8NKRKAYDT", got, sizeof(got)), VNP_OK);
	assert_memory_equal(got, req, sizeof(req));
	assert_int_equal(vnp_code_decode("ASA0-0000-0000-2093-8NKR-KAYD-V", got, sizeof(got)),
			 VNP_E_CODE_CHECK);
	assert_int_equal(vnp_code_decode(NULL, got, sizeof(got)), VNP_E_ARGS);
	assert_int_equal(vnp_code_decode(request_code, NULL, sizeof(got)), VNP_E_ARGS);
	assert_int_equal(vnp_code_decode(request_code, got, 0), VNP_E_ARGS);
	assert_int_equal(vnp_code_decode(request_code, got, 16), VNP_E_ARGS);
}

/* Every single-character substitution of a code (by each other symbol of the 37) must be
 * refused: by the check (VNP_E_CODE_CHECK) or as an invalid symbol (VNP_E_INVALID_DATA). */
static void substitutions(const char *code, size_t n, unsigned *ret_check, unsigned *ret_invalid)
{
	char typo[VNP_CODE_MAX];
	uint8_t got[VNP_RECOVERY_REQUEST_LEN];
	unsigned by_check = 0, by_invalid = 0;

	for (size_t pos = 0; code[pos]; pos++) {
		if (code[pos] == '-')
			continue;
		for (const char *s = symbols; *s; s++) {
			int rv;

			if (*s == code[pos])
				continue;
			strcpy(typo, code);
			typo[pos] = *s;
			rv = vnp_code_decode(typo, got, n);
			if (rv == VNP_E_CODE_CHECK)
				by_check++;
			else if (rv == VNP_E_INVALID_DATA)
				by_invalid++;
			else
				fail_msg("substitution \"%s\" not caught: %d", typo, rv);
		}
	}
	*ret_check = by_check;
	*ret_invalid = by_invalid;
}

/* Every transposition of two adjacent, different characters (dashes skipped) is refused. */
static unsigned transpositions(const char *code, size_t n, unsigned *ret_total)
{
	char flat[VNP_CODE_MAX], typo[VNP_CODE_MAX];
	uint8_t got[VNP_RECOVERY_REQUEST_LEN];
	size_t len = 0;
	unsigned caught = 0, total = 0;

	for (const char *p = code; *p; p++)
		if (*p != '-')
			flat[len++] = *p;
	flat[len] = '\0';
	for (size_t i = 0; i + 1 < len; i++) {
		int rv;

		if (flat[i] == flat[i + 1])
			continue;
		strcpy(typo, flat);
		typo[i] = flat[i + 1];
		typo[i + 1] = flat[i];
		total++;
		rv = vnp_code_decode(typo, got, n);
		if (rv == VNP_E_CODE_CHECK || rv == VNP_E_INVALID_DATA)
			caught++;
		else
			print_message("# transposition %s not caught\n", typo);
	}
	*ret_total = total;
	return caught;
}

static void test_typos(void **state)
{
	unsigned by_check, by_invalid, caught, total;

	(void)state;
	substitutions(response_code, VNP_RECOVERY_RESPONSE_LEN, &by_check, &by_invalid);
	print_message("# response code substitutions: %u by the check, %u invalid symbol\n",
		      by_check, by_invalid);
	/* 16 data characters x 31 other data symbols + 36 other check symbols */
	assert_int_equal(by_check, 16 * 31 + 36);
	assert_int_equal(by_invalid, 16 * 5);
	substitutions(request_code, VNP_RECOVERY_REQUEST_LEN, &by_check, &by_invalid);
	print_message("# request code substitutions: %u by the check, %u invalid symbol\n",
		      by_check, by_invalid);
	assert_int_equal(by_check, 24 * 31 + 36);
	assert_int_equal(by_invalid, 24 * 5);

	caught = transpositions(response_code, VNP_RECOVERY_RESPONSE_LEN, &total);
	print_message("# response code adjacent transpositions: %u of %u caught\n", caught, total);
	assert_int_equal(caught, total);
	caught = transpositions(request_code, VNP_RECOVERY_REQUEST_LEN, &total);
	print_message("# request code adjacent transpositions: %u of %u caught\n", caught, total);
	/* swaps inside the data are always caught (31 * 32^k is never 0 mod 37) */
	assert_true(caught + 1 >= total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_key),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_request_encode),
		cmocka_unit_test(test_encode_buffer),
		cmocka_unit_test(test_roundtrip_lengths),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_request_aliases),
		cmocka_unit_test(test_typos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
