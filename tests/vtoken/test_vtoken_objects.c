/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: CREATE / READ / DELETE OBJECT, extended length and 61xx + GET RESPONSE,
 * command chaining, change counter, directory, private objects, two instances. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "rv.h"
#include "tlv.h"
#include "vt_helpers.h"

#define CERT_LEN 2000
static uint8_t cert[CERT_LEN];

/* Build a CREATE OBJECT template for type with value v. */
static size_t template(uint8_t type, bool priv, const uint8_t *v, size_t len, uint8_t *out)
{
	size_t n = 0;

	out[n++] = 0x80; out[n++] = 1; out[n++] = type;
	out[n++] = 0x82; out[n++] = 2; out[n++] = 0xAB; out[n++] = 0x01;
	out[n++] = 0x83; out[n++] = 4; memcpy(out + n, "cert", 4); n += 4;
	if (type == 0xA1) {
		out[n++] = 0x89; out[n++] = 3; memcpy(out + n, "app", 3); n += 3;
	}
	out[n++] = 0x8B; out[n++] = 1; out[n++] = priv;
	out[n++] = 0x8C; out[n++] = 0x82; out[n++] = (uint8_t)(len >> 8); out[n++] = (uint8_t)len;
	memcpy(out + n, v, len);
	return n + len;
}

static uint16_t tx_ext(struct vt_fix *f, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
		       const uint8_t *data, size_t len, bool le)
{
	static uint8_t cmd[70000];
	size_t n = 0;

	cmd[n++] = cla; cmd[n++] = ins; cmd[n++] = p1; cmd[n++] = p2;
	cmd[n++] = 0;
	if (len) {
		cmd[n++] = (uint8_t)(len >> 8);
		cmd[n++] = (uint8_t)len;
		memcpy(cmd + n, data, len);
		n += len;
	}
	if (le) {
		cmd[n++] = 0;
		cmd[n++] = 0;
	}
	return vt_txb(f, f->card, cmd, n);
}

/* Send data with command chaining in short APDUs of at most 255 bytes (case 3 parts). */
static uint16_t tx_chain(struct vt_fix *f, uint8_t cla, uint8_t ins, const uint8_t *data,
			 size_t len)
{
	uint8_t cmd[300];
	size_t off = 0, part;
	uint16_t sw = 0;

	while (off < len) {
		part = len - off > 255 ? 255 : len - off;
		cmd[0] = (uint8_t)(cla | (off + part < len ? 0x10 : 0));
		cmd[1] = ins; cmd[2] = 0; cmd[3] = 0; cmd[4] = (uint8_t)part;
		memcpy(cmd + 5, data + off, part);
		cmd[5 + part] = 0; /* Le 00 */
		sw = vt_txb(f, f->card, cmd, 6 + part);
		off += part;
		if (off < len)
			assert_int_equal(sw, 0x9000);
	}
	return sw;
}

/* Read the answer of a short command through 61xx / GET RESPONSE into out. */
static size_t read_chained(struct vt_fix *f, const char *hex, uint8_t *out, size_t cap)
{
	size_t total = 0;
	uint16_t sw = vt_tx(f, hex);
	char gr[16];

	for (;;) {
		assert_true(total + f->resp_len <= cap);
		memcpy(out + total, f->resp, f->resp_len);
		total += f->resp_len;
		if (sw == 0x9000)
			return total;
		assert_int_equal(sw & 0xFF00, 0x6100);
		assert_true(f->resp_len <= 256);
		snprintf(gr, sizeof(gr), "00C00000%02X", sw & 0xFF);
		sw = vt_tx(f, gr);
	}
}

static uint32_t select_counter(struct vt_fix *f)
{
	struct vnp_tlv t6f, t;
	uint32_t v = 0;

	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x9000);
	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x6F, &t6f), VNP_OK);
	assert_int_equal(vnp_tlv_find(t6f.value, t6f.len, 0x87, &t), VNP_OK);
	assert_int_equal(vnp_tlv_uint(&t, &v), VNP_OK);
	return v;
}

static void test_create_read(void **state)
{
	struct vt_fix *f = *state;
	static uint8_t tmpl[CERT_LEN + 64], back[CERT_LEN + 10];
	uint8_t md[32];
	struct vnp_tlv t71, a2, t;
	size_t n;

	assert_int_equal(select_counter(f), 0);
	n = template(0xA2, false, cert, CERT_LEN, tmpl);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x6982);
	vt_select_login(f, f->card);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x9000);
	assert_int_equal(f->resp_len, 3);
	assert_memory_equal(f->resp, "\x80\x01\x40", 3);
	assert_int_equal(select_counter(f), 1);
	assert_string_equal(vt_state_value(f, "counter"), "1");
	/* one extended APDU, Le = 0000 */
	assert_int_equal(tx_ext(f, 0x80, 0xB0, 0x40, 0, NULL, 0, true), 0x9000);
	assert_int_equal(f->resp_len, CERT_LEN);
	assert_memory_equal(f->resp, cert, CERT_LEN);
	/* short APDUs: 6100 and GET RESPONSE */
	assert_int_equal(vt_tx(f, "80B0400000"), 0x6100);
	assert_int_equal(f->resp_len, 256);
	n = read_chained(f, "80B0400000", back, sizeof(back));
	assert_int_equal(n, CERT_LEN);
	assert_memory_equal(back, cert, CERT_LEN);
	/* a short Le smaller than the answer */
	assert_int_equal(vt_tx(f, "80B0400010"), 0x6100);
	assert_int_equal(f->resp_len, 16);
	/* GET RESPONSE is dropped by any other command */
	assert_int_equal(vt_tx(f, "0020008100"), 0x9000);
	assert_int_equal(vt_tx(f, "00C0000000"), 0x6985);
	/* directory entry */
	assert_int_equal(vt_tx(f, "80CA010000"), 0x9000);
	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x71, &t71), VNP_OK);
	assert_int_equal(vnp_tlv_find(t71.value, t71.len, 0xA2, &a2), VNP_OK);
	assert_int_equal(vnp_tlv_find(a2.value, a2.len, 0x8A, &t), VNP_OK);
	assert_memory_equal(t.value, "\x07\xD0", 2);
	assert_int_equal(vnp_tlv_find(a2.value, a2.len, 0x8D, &t), VNP_OK);
	SHA256(cert, CERT_LEN, md);
	assert_memory_equal(t.value, md, 32);
	assert_int_equal(vnp_tlv_find(a2.value, a2.len, 0x82, &t), VNP_OK);
	assert_memory_equal(t.value, "\xAB\x01", 2);
	/* a second certificate takes the next reference */
	n = template(0xA2, false, cert, 100, tmpl);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x9000);
	assert_memory_equal(f->resp, "\x80\x01\x41", 3);
	/* DELETE */
	assert_int_equal(vt_tx(f, "80E4400000"), 0x9000);
	assert_string_equal(vt_state_value(f, "counter"), "3");
	assert_int_equal(vt_tx(f, "80B0400000"), 0x6A82);
	assert_int_equal(vt_tx(f, "80E4400000"), 0x6A82);
	assert_int_equal(vt_tx(f, "80E4300000"), 0x6A82);
	assert_string_equal(vt_state_value(f, "counter"), "3");
	assert_null(vt_state_value(f, "obj.40.type"));
	assert_non_null(vt_state_value(f, "obj.41.type"));
	/* bad templates */
	assert_int_equal(vt_tx(f, "80E0000003800199"), 0x6A80);
	assert_int_equal(vt_tx(f, "80E00000038001A2"), 0x6A80); /* no value */
	assert_int_equal(vt_tx(f, "80E00000098001A28C0101FE0100"), 0x6A80);
	assert_int_equal(vt_tx(f, "80E00000058001A28C05"), 0x6A80); /* lying length */
}

static void test_private_data(void **state)
{
	struct vt_fix *f = *state;
	uint8_t tmpl[128];
	size_t n = template(0xA1, true, (const uint8_t *)"secret", 6, tmpl);

	vt_select_login(f, f->card);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x9000);
	assert_memory_equal(f->resp, "\x80\x01\x80", 3);
	assert_int_equal(vt_tx(f, "80B0800000"), 0x9000);
	assert_memory_equal(f->resp, "secret", 6);
	f->p->reset(f->card);
	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x9000);
	assert_int_equal(vt_tx(f, "80B0800000"), 0x6982);
	assert_int_equal(vt_tx(f, "80E4800000"), 0x6982);
}

static void test_chaining(void **state)
{
	struct vt_fix *f = *state;
	static uint8_t tmpl[CERT_LEN + 64], back[CERT_LEN + 10];
	size_t n = template(0xA2, false, cert, CERT_LEN, tmpl);

	vt_select_login(f, f->card);
	assert_int_equal(tx_chain(f, 0x80, 0xE0, tmpl, n), 0x9000);
	assert_memory_equal(f->resp, "\x80\x01\x40", 3);
	n = read_chained(f, "80B0400000", back, sizeof(back));
	assert_int_equal(n, CERT_LEN);
	assert_memory_equal(back, cert, CERT_LEN);
	/* a chain broken by another command */
	assert_int_equal(vt_tx(f, "90E00000038001A2"), 0x9000);
	assert_int_equal(vt_tx(f, "80CA010000"), 0x6883);
	assert_int_equal(vt_tx(f, "80CA010000"), 0x9000);
	/* VERIFY in two chained parts */
	assert_int_equal(vt_tx(f, "1020008103313233"), 0x9000);
	assert_int_equal(vt_tx(f, "0020008103343536"), 0x9000);
	assert_int_equal(vt_tx(f, "1020008103313233"), 0x9000);
	assert_int_equal(vt_tx(f, "0020008103343537"), 0x63C2);
}

static void test_short_token(void **state)
{
	struct vt_fix *f = *state;
	static uint8_t tmpl[CERT_LEN + 64], back[CERT_LEN + 10];
	size_t n = template(0xA2, false, cert, CERT_LEN, tmpl);

	vt_select_login(f, f->card);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x6700);
	assert_int_equal(tx_chain(f, 0x80, 0xE0, tmpl, n), 0x9000);
	n = read_chained(f, "80B0400000", back, sizeof(back));
	assert_int_equal(n, CERT_LEN);
	assert_memory_equal(back, cert, CERT_LEN);
}

static void test_two_instances(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_vcard *b = NULL;
	uint8_t tmpl[200];
	size_t n = template(0xA2, false, cert, 100, tmpl);
	char tmp[160];

	assert_int_equal(f->p->open(f->path, &b), 0);
	assert_int_equal(vt_tx_card(f, b, "00A4040008F0564E504B49544B00"), 0x9000);
	vt_select_login(f, f->card);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x9000);
	assert_int_equal(vt_tx_card(f, b, "80B0400000"), 0x9000);
	assert_int_equal(f->resp_len, 100);
	assert_int_equal(vt_tx_card(f, b, "0020008106313233343536"), 0x9000);
	assert_int_equal(vt_tx_card(f, b, "80E4400000"), 0x9000);
	assert_int_equal(vt_tx_card(f, f->card, "80B0400000"), 0x6A82);
	assert_int_equal(select_counter(f), 2);
	/* a write that cannot be saved changes nothing */
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(tx_ext(f, 0x80, 0xE0, 0, 0, tmpl, n, true), 0x6581);
	assert_int_equal(vt_tx(f, "80B0400000"), 0x6A82);
	assert_int_equal(select_counter(f), 2);
	assert_int_equal(rmdir(tmp), 0);
	f->p->close(b);
}

int main(void)
{
	for (size_t i = 0; i < CERT_LEN; i++)
		cert[i] = (uint8_t)(i * 7 + 3);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_read, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_private_data, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_chaining, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_short_token, vt_setup_short, vt_teardown),
		cmocka_unit_test_setup_teardown(test_two_instances, vt_setup, vt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
