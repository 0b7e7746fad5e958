/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BER-TLV parser and builder. */
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "rv.h"
#include "tlv.h"

struct parse_case {
	const char *name;
	const char *in;
	int rv;            /* of the first vnp_tlv_next */
	uint32_t tag;
	bool constructed;
	size_t len;
	size_t consumed;   /* bytes *p moved */
};

static const struct parse_case parse_cases[] = {
	{ "short", "80 02 01 00", VNP_OK, 0x80, false, 2, 4 },
	{ "empty value", "53 00", VNP_OK, 0x53, false, 0, 2 },
	{ "5F alone is a two-byte tag", "5F 00", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "constructed", "A0 03 80 01 05", VNP_OK, 0xA0, true, 3, 5 },
	{ "two-byte tag", "7F 49 02 86 00", VNP_OK, 0x7F49, true, 2, 5 },
	{ "three-byte tag", "5F 81 01 01 AA", VNP_OK, 0x5F8101, false, 1, 5 },
	{ "81 length", "53 81 80 {128:00}", VNP_OK, 0x53, false, 128, 131 },
	{ "82 length", "53 82 01 00 {256:11}", VNP_OK, 0x53, false, 256, 260 },
	{ "83 length", "53 83 00 01 00 {256:11}", VNP_OK, 0x53, false, 256, 261 },
	{ "81 with small length", "04 81 01 AA", VNP_OK, 0x04, false, 1, 4 },
	{ "padding skipped", "00 FF 00 80 01 07", VNP_OK, 0x80, false, 1, 6 },
	{ "only padding", "00 00 FF", VNP_E_NOT_FOUND, 0, false, 0, 0 },
	{ "empty input", "", VNP_E_NOT_FOUND, 0, false, 0, 0 },
	{ "truncated tag", "7F", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "truncated 3-byte tag", "5F 81", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "tag too long", "5F 81 81 01 00", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "missing length", "80", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "truncated 81 length", "80 81", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "truncated 82 length", "80 82 01", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "truncated 83 length", "80 83 00 01", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "length beyond buffer", "80 05 01 02 03", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "long length beyond buffer", "80 82 FF FF 00", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "84 length form", "80 84 00 00 00 01 00", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "indefinite length", "A0 80 80 01 00 00 00", VNP_E_MALFORMED, 0, false, 0, 0 },
	{ "FF length form", "80 FF", VNP_E_MALFORMED, 0, false, 0, 0 },
};

static void test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VNP_ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t n;
		/* exact-size heap copy so ASan catches any over-read */
		uint8_t *tmp = th_hex_alloc(c->in, &n);
		uint8_t *buf = malloc(n ? n : 1);
		const uint8_t *p = buf;
		struct vnp_tlv t;
		int rv;

		assert_non_null(buf);
		memcpy(buf, tmp, n);
		free(tmp);
		rv = vnp_tlv_next(&p, buf + n, &t);
		if (rv != c->rv)
			fail_msg("%s: rv %d, expected %d", c->name, rv, c->rv);
		if (rv == VNP_OK) {
			assert_int_equal(t.tag, c->tag);
			assert_int_equal(t.constructed, c->constructed);
			assert_int_equal(t.len, c->len);
			assert_int_equal((size_t)(p - buf), c->consumed);
			assert_ptr_equal(t.value + t.len, p);
		} else if (rv == VNP_E_MALFORMED) {
			assert_ptr_equal(p, buf); /* not advanced on error */
		}
		free(buf);
	}
}

static void test_find_and_uint(void **state)
{
	uint8_t b[64];
	size_t n = th_hex("80 01 05 00 87 04 00 00 01 02 A0 00 8A 05 01 02 03 04 05", b, sizeof(b));
	struct vnp_tlv t;
	uint32_t v;

	(void)state;
	assert_int_equal(vnp_tlv_find(b, n, 0x87, &t), VNP_OK);
	assert_int_equal(vnp_tlv_uint(&t, &v), VNP_OK);
	assert_int_equal(v, 0x102);
	assert_int_equal(vnp_tlv_find(b, n, 0xA0, &t), VNP_OK);
	assert_int_equal(vnp_tlv_uint(&t, &v), VNP_E_MALFORMED); /* empty, constructed */
	assert_int_equal(vnp_tlv_find(b, n, 0x8A, &t), VNP_OK);
	assert_int_equal(vnp_tlv_uint(&t, &v), VNP_E_MALFORMED); /* 5 bytes */
	assert_int_equal(vnp_tlv_find(b, n, 0x99, &t), VNP_E_NOT_FOUND);
	/* a malformed object before the wanted one stops the search */
	n = th_hex("80 09 01 87 01 00", b, sizeof(b));
	assert_int_equal(vnp_tlv_find(b, n, 0x87, &t), VNP_E_MALFORMED);
	assert_int_equal(vnp_tlv_find(NULL, 0, 0x87, &t), VNP_E_NOT_FOUND);
}

static void expect_buf(const struct vnp_buf *b, const char *hex)
{
	size_t n;
	uint8_t *want = th_hex_alloc(hex, &n);

	assert_false(b->failed);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
	free(want);
}

static void test_builder(void **state)
{
	struct vnp_buf b;
	uint8_t val[300];
	size_t outer, inner;

	(void)state;
	memset(val, 0xAB, sizeof(val));
	vnp_buf_init(&b);
	vnp_tlv_put_uint(&b, 0x80, 0x0100, 2);
	vnp_tlv_put(&b, 0x7F49, val, 3);
	vnp_tlv_put(&b, 0x5F8101, NULL, 0);
	vnp_buf_u8(&b, 0x00);
	expect_buf(&b, "80 02 01 00 7F 49 03 AB AB AB 5F 81 01 00 00");
	vnp_buf_free(&b);
	assert_null(b.p);
	vnp_buf_free(&b); /* twice is fine */

	/* length forms chosen by size */
	vnp_buf_init(&b);
	vnp_tlv_put(&b, 0x04, val, 127);
	vnp_tlv_put(&b, 0x04, val, 128);
	vnp_tlv_put(&b, 0x04, val, 256);
	assert_int_equal(b.len, 2 + 127 + 3 + 128 + 4 + 256);
	th_assert_hex(b.p + 2 + 127, 3, "04 81 80");
	th_assert_hex(b.p + 2 + 127 + 3 + 128, 4, "04 82 01 00");
	vnp_buf_free(&b);

	/* nested open/close, with the outer length needing the 82 form */
	vnp_buf_init(&b);
	outer = vnp_tlv_open(&b, 0x71);
	vnp_tlv_put_uint(&b, 0x87, 7, 4);
	inner = vnp_tlv_open(&b, 0xA2);
	vnp_tlv_put_uint(&b, 0x80, 0x40, 1);
	vnp_tlv_close(&b, inner);
	vnp_tlv_put(&b, 0x8C, val, 300);
	vnp_tlv_close(&b, outer);
	assert_false(b.failed);
	{
		const uint8_t *p = b.p, *end = b.p + b.len, *q, *qe;
		struct vnp_tlv t, u;

		assert_int_equal(vnp_tlv_next(&p, end, &t), VNP_OK);
		assert_ptr_equal(p, end);
		assert_int_equal(t.tag, 0x71);
		assert_int_equal(t.len, 6 + 5 + 4 + 300);
		th_assert_hex(b.p, b.len, "71 82 01 3B");
		q = t.value;
		qe = t.value + t.len;
		assert_int_equal(vnp_tlv_next(&q, qe, &u), VNP_OK);
		assert_int_equal(u.tag, 0x87);
		assert_int_equal(vnp_tlv_next(&q, qe, &u), VNP_OK);
		assert_int_equal(u.tag, 0xA2);
		assert_int_equal(u.len, 3);
		assert_int_equal(vnp_tlv_next(&q, qe, &u), VNP_OK);
		assert_int_equal(u.tag, 0x8C);
		assert_int_equal(u.len, 300);
		assert_memory_equal(u.value, val, 300);
		assert_int_equal(vnp_tlv_next(&q, qe, &u), VNP_E_NOT_FOUND);
	}
	vnp_buf_free(&b);

	/* 83 form from close */
	{
		uint8_t *big = calloc(1, 70000);

		assert_non_null(big);
		vnp_buf_init(&b);
		outer = vnp_tlv_open(&b, 0x53);
		vnp_buf_put(&b, big, 70000);
		vnp_tlv_close(&b, outer);
		assert_false(b.failed);
		assert_int_equal(b.len, 5 + 70000);
		th_assert_hex(b.p, b.len, "53 83 01 11 70");
		vnp_buf_free(&b);
		free(big);
	}

	/* bad uint width marks the buffer failed */
	vnp_buf_init(&b);
	vnp_tlv_put_uint(&b, 0x80, 1, 5);
	assert_true(b.failed);
	vnp_tlv_put(&b, 0x80, val, 1);
	assert_int_equal(b.len, 0);
	vnp_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_find_and_uint),
		cmocka_unit_test(test_builder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
