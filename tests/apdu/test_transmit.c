/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnp_apdu_transmit against scripted transcripts: chaining, 61xx, 6Cxx, extended length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "fake.h"
#include "log.h"
#include "rv.h"

#define MAX_STEPS 8

struct tx_case {
	const char *name;
	bool extended;         /* reader and card take extended length */
	size_t card_max_cmd;
	unsigned flags;
	uint8_t cla, ins;
	size_t lc, le;         /* data is 00 01 02 ... */
	size_t resp_cap;
	struct th_step steps[MAX_STEPS];
	int rv;
	uint16_t sw;
	const char *resp;      /* expected response data (NULL: not checked) */
	size_t resp_len;
};

static const struct tx_case cases[] = {
	{ "case 1", false, 0, 0, 0x00, 0x20, 0, 0, 0,
	  { { "00 20 00 00", "90 00" } }, VNP_OK, 0x9000, "", 0 },
	{ "case 2 short", false, 0, 0, 0x00, 0x84, 0, 8, 8,
	  { { "00 84 00 00 08", "01 02 03 04 05 06 07 08 90 00" } }, VNP_OK, 0x9000,
	  "01 02 03 04 05 06 07 08", 8 },
	{ "error SW is not an error of transmit", false, 0, 0, 0x00, 0x20, 0, 0, 0,
	  { { "00 20 00 00", "63 C2" } }, VNP_OK, 0x63C2, "", 0 },
	{ "command chaining 300 bytes", false, 0, 0, 0x00, 0x2A, 300, 0, 0,
	  { { "10 2A 00 00 FF {255:00+}", "90 00" }, { "00 2A 00 00 2D {45:FF+}", "90 00" } },
	  VNP_OK, 0x9000, "", 0 },
	{ "chaining with card max Nc 100", false, 100, 0, 0x80, 0xE0, 250, 0, 0,
	  { { "90 E0 00 00 64 {100:00+}", "90 00" },
	    { "90 E0 00 00 64 {100:64+}", "90 00" },
	    { "80 E0 00 00 32 {50:C8+}", "90 00" } },
	  VNP_OK, 0x9000, "", 0 },
	{ "chaining stops at an error", false, 0, 0, 0x00, 0x2A, 300, 0, 0,
	  { { "10 2A 00 00 FF {255:00+}", "68 84" } }, VNP_OK, 0x6884, "", 0 },
	{ "no chain flag", false, 0, VNP_APDU_NO_CHAIN, 0x00, 0x2A, 300, 0, 0,
	  { { NULL } }, VNP_E_RANGE, 0, NULL, 0 },
	{ "extended case 3", true, 0, 0, 0x00, 0x2A, 300, 0, 0,
	  { { "00 2A 00 00 00 01 2C {300:00+}", "90 00" } }, VNP_OK, 0x9000, "", 0 },
	{ "extended case 2 Le 65536", true, 0, 0, 0x80, 0xB0, 0, 65536, 65536,
	  { { "80 B0 00 00 00 00 00", "{1000:00+} 90 00" } }, VNP_OK, 0x9000, "{1000:00+}",
	  1000 },
	{ "extended case 4", true, 0, 0, 0x00, 0x2A, 2, 65536, 512,
	  { { "00 2A 00 00 00 00 02 00 01 00 00", "{384:11} 90 00" } }, VNP_OK, 0x9000,
	  "{384:11}", 384 },
	{ "short case 2 when Le fits", true, 0, 0, 0x00, 0x84, 0, 256, 256,
	  { { "00 84 00 00 00", "{256:00+} 90 00" } }, VNP_OK, 0x9000, NULL, 256 },
	{ "61xx sequence up to Ne 65536", false, 0, 0, 0x80, 0xB0, 0, 65536, 65536,
	  { { "80 B0 00 00 00", "{256:00+} 61 00" },
	    { "00 C0 00 00 00", "{256:00+} 61 2C" },
	    { "00 C0 00 00 2C", "{44:00+} 90 00" } },
	  VNP_OK, 0x9000, "{256:00+} {256:00+} {44:00+}", 556 },
	{ "61xx capped at Ne", false, 0, 0, 0x00, 0x84, 0, 10, 10,
	  { { "00 84 00 00 0A", "{4:AA} 61 20" }, { "00 C0 00 00 06", "{6:BB} 61 1A" } },
	  VNP_OK, 0x611A, "{4:AA} {6:BB}", 10 },
	{ "61xx with Ne 0 is left to the caller", false, 0, 0, 0x00, 0x20, 0, 0, 0,
	  { { "00 20 00 00", "61 05" } }, VNP_OK, 0x6105, "", 0 },
	{ "61xx after chaining", false, 0, 0, 0x00, 0x2A, 256, 256, 512,
	  { { "10 2A 00 00 FF {255:00+}", "90 00" },
	    { "00 2A 00 00 01 FF 00", "{200:01} 61 38" },
	    { "00 C0 00 00 38", "{56:02} 90 00" } },
	  VNP_OK, 0x9000, "{200:01} {56:02}", 256 },
	{ "empty GET RESPONSE loop", false, 0, 0, 0x00, 0x84, 0, 100, 100,
	  { { "00 84 00 00 64", "61 10" }, { "00 C0 00 00 10", "61 10" } },
	  VNP_E_MALFORMED, 0, NULL, 0 },
	{ "6Cxx re-sent with Le=xx", false, 0, 0, 0x00, 0xCA, 0, 8, 8,
	  { { "00 CA 00 00 08", "6C 04" }, { "00 CA 00 00 04", "0A 0B 0C 0D 90 00" } },
	  VNP_OK, 0x9000, "0A 0B 0C 0D", 4 },
	{ "6C00 means 256", false, 0, 0, 0x00, 0xCA, 0, 8, 300,
	  { { "00 CA 00 00 08", "6C 00" }, { "00 CA 00 00 00", "{256:07} 90 00" } },
	  VNP_OK, 0x9000, NULL, 256 },
	{ "6Cxx only once", false, 0, 0, 0x00, 0xCA, 0, 8, 8,
	  { { "00 CA 00 00 08", "6C 04" }, { "00 CA 00 00 04", "6C 02" } },
	  VNP_OK, 0x6C02, "", 0 },
	{ "6Cxx then 61xx", false, 0, 0, 0x00, 0xCA, 0, 40, 40,
	  { { "00 CA 00 00 28", "6C 20" },
	    { "00 CA 00 00 20", "{16:01} 61 10" },
	    { "00 C0 00 00 10", "{16:02} 90 00" } },
	  VNP_OK, 0x9000, "{16:01} {16:02}", 32 },
	{ "answer beyond resp_cap", false, 0, 0, 0x00, 0x84, 0, 256, 4,
	  { { "00 84 00 00 00", "01 02 03 04 05 06 07 08 90 00" } },
	  VNP_E_BUFFER_TOO_SMALL, 0x9000, "01 02 03 04", 8 },
	{ "overflow still drains 61xx", false, 0, 0, 0x00, 0x84, 0, 512, 4,
	  { { "00 84 00 00 00", "{256:01} 61 08" }, { "00 C0 00 00 08", "{8:02} 90 00" } },
	  VNP_E_BUFFER_TOO_SMALL, 0x9000, "01 01 01 01", 264 },
	{ "transport error", false, 0, 0, 0x00, 0x20, 0, 0, 0,
	  { { "00 20 00 00", NULL, VNP_E_NO_CARD } }, VNP_E_NO_CARD, 0, NULL, 0 },
	{ "reset in the middle of 61xx", false, 0, 0, 0x00, 0x84, 0, 300, 300,
	  { { "00 84 00 00 00", "{256:01} 61 2C" },
	    { "00 C0 00 00 2C", NULL, VNP_E_CARD_RESET } },
	  VNP_E_CARD_RESET, 0, NULL, 0 },
	{ "answer without SW", false, 0, 0, 0x00, 0x20, 0, 0, 0,
	  { { "00 20 00 00", "90" } }, VNP_E_TRANSPORT, 0, NULL, 0 },
};

static void run_case(const struct tx_case *c)
{
	struct vnp_card card;
	struct th_reader r;
	uint8_t *data = malloc(70000), *resp = NULL;
	struct vnp_apdu a;
	size_t i, n_steps = 0;
	int rv;

	assert_non_null(data);
	for (i = 0; i < 70000; i++)
		data[i] = (uint8_t)i;
	while (n_steps < MAX_STEPS && c->steps[n_steps].cmd)
		n_steps++;
	th_card_init(&card, &r, c->steps, c->extended);
	card.io.card_max_cmd_data = c->card_max_cmd;
	memset(&a, 0, sizeof(a));
	a.cla = c->cla;
	a.ins = c->ins;
	a.data = c->lc ? data : NULL;
	a.lc = c->lc;
	a.le = c->le;
	a.flags = c->flags;
	if (c->resp_cap) {
		resp = malloc(c->resp_cap); /* exact size: ASan catches over-writes */
		assert_non_null(resp);
	}
	a.resp = resp;
	a.resp_cap = c->resp_cap;

	rv = vnp_apdu_transmit(&card.io, &a);
	if (rv != c->rv)
		fail_msg("%s: rv %d (%s), expected %d", c->name, rv, vnp_rv_text(rv), c->rv);
	if (r.pos != n_steps)
		fail_msg("%s: %zu of %zu steps played", c->name, r.pos, n_steps);
	assert_int_equal(card.io.stats.apdus, n_steps);
	if (c->sw && a.sw != c->sw)
		fail_msg("%s: SW %04X, expected %04X", c->name, a.sw, c->sw);
	if (c->resp) {
		size_t wlen;
		uint8_t *want = th_hex_alloc(c->resp, &wlen);

		if (a.resp_len != c->resp_len)
			fail_msg("%s: resp_len %zu, expected %zu", c->name, a.resp_len,
				 c->resp_len);
		if (wlen && memcmp(resp, want, wlen))
			fail_msg("%s: wrong response data", c->name);
		free(want);
	} else if (c->rv == VNP_OK) {
		assert_int_equal(a.resp_len, c->resp_len);
	}
	free(resp);
	free(data);
}

static void test_transmit_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VNP_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

static void test_stats_and_run(void **state)
{
	static const struct th_step steps[] = {
		{ "80 B0 40 00 00", "{256:00} 61 10" },
		{ "00 C0 00 00 10", "{16:00} 90 00" },
		{ "00 20 00 81", "63 C1" },
		{ NULL },
	};
	struct vnp_card card;
	struct th_reader r;
	uint8_t buf[512];
	struct vnp_apdu a = { .cla = 0x80, .ins = 0xB0, .p1 = 0x40, .le = 512, .resp = buf,
			      .resp_cap = sizeof(buf) };
	struct vnp_apdu v = { .cla = 0x00, .ins = 0x20, .p2 = 0x81 };

	(void)state;
	th_card_init(&card, &r, steps, false);
	assert_int_equal(vnp_apdu_run(&card.io, &a, NULL), VNP_OK);
	assert_int_equal(a.resp_len, 272);
	assert_int_equal(vnp_apdu_run(&card.io, &v, NULL), VNP_E_PIN_INCORRECT);
	assert_int_equal(v.sw, 0x63C1);
	th_assert_done(&r);
	assert_int_equal(card.io.stats.apdus, 3);
	assert_int_equal(card.io.stats.by_ins[0xB0], 1);
	assert_int_equal(card.io.stats.by_ins[0xC0], 1);
	assert_int_equal(card.io.stats.by_ins[0x20], 1);
	assert_int_equal(card.io.stats.bytes_out, 5 + 5 + 4);
	assert_int_equal(card.io.stats.bytes_in, 258 + 18 + 2);
}

/* The APDU trace must not show the data of a sensitive command. */
static void test_sensitive_redacted(void **state)
{
	static const struct th_step steps[] = {
		{ "00 20 00 81 06 31 32 33 34 35 36", "90 00" },
		{ NULL },
	};
	static const uint8_t pin[] = "123456";
	char path[] = "/tmp/vnp-apdu-trace-XXXXXX";
	char text[4096];
	struct vnp_card card;
	struct th_reader r;
	struct vnp_apdu a = { .cla = 0x00, .ins = 0x20, .p2 = 0x81, .data = pin, .lc = 6,
			      .flags = VNP_APDU_SENSITIVE };
	size_t n;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	vnp_log_setup("apdu", path);
	th_card_init(&card, &r, steps, false);
	assert_int_equal(vnp_apdu_transmit(&card.io, &a), VNP_OK);
	vnp_log_close();
	vnp_log_setup("", NULL);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	unlink(path);
	text[n] = '\0';
	if (!strstr(text, "redacted"))
		fail_msg("trace has no redaction marker: %s", text);
	if (strstr(text, "31 32 33") || strstr(text, "313233"))
		fail_msg("trace shows the PIN: %s", text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transmit_table),
		cmocka_unit_test(test_stats_and_run),
		cmocka_unit_test(test_sensitive_redacted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
