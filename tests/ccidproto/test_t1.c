/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ccid/t1.c against a fake card that plays scripted block exchanges. Blocks are written
 * without their LRC: the fake appends it to replies and checks it on the blocks it receives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "compiler.h"
#include "hex.h"
#include "rv.h"
#include "t1.h"

enum { R_OK = 0, R_TIMEOUT, R_BAD_EDC, R_RAW, R_REMOVED };

struct step {
	const char *expect; /* block the host must send (no LRC) */
	const char *reply;  /* card's block (no LRC unless R_RAW) */
	int how;
	unsigned bwt; /* expected BWT multiplier; 0 = 1 */
};

#define MAX_STEPS 16
struct t1_case {
	const char *name;
	size_t ifsc, ifsd; /* ifsd != 0: negotiate first (as step 0) */
	const char *cmd;
	size_t rsp_cap; /* 0 = 512 */
	int rv;
	const char *rsp;
	unsigned resynchs;
	struct step steps[MAX_STEPS];
};

struct fake {
	const struct step *steps;
	size_t n, pos;
	char why[160];
};

static int fake_xfer(void *ctx, const uint8_t *blk, size_t blk_len, uint8_t *rsp, size_t rsp_cap,
		     size_t *ret_rsp_len, unsigned bwt)
{
	struct fake *f = ctx;
	const struct step *s;
	uint8_t want[VNP_T1_BLOCK_MAX + 1];
	size_t wl;

	if (f->pos >= f->n || !f->steps[f->pos].expect) {
		snprintf(f->why, sizeof(f->why), "unexpected block at step %zu", f->pos);
		return VNP_E_INTERNAL;
	}
	s = &f->steps[f->pos++];
	wl = hex(s->expect, want, sizeof(want) - 1);
	assert_true(wl != (size_t)-1);
	want[wl] = vnp_t1_lrc(want, wl);
	wl++;
	if (blk_len != wl || memcmp(blk, want, wl) || bwt != (s->bwt ? s->bwt : 1)) {
		snprintf(f->why, sizeof(f->why), "step %zu: block %zu bytes pcb %02X bwt %u differs",
			 f->pos - 1, blk_len, blk_len > 1 ? blk[1] : 0, bwt);
		return VNP_E_INTERNAL;
	}
	if (s->how == R_TIMEOUT)
		return VNP_E_TIMEOUT;
	if (s->how == R_REMOVED)
		return VNP_E_NO_CARD;
	wl = hex(s->reply, rsp, rsp_cap);
	assert_true(wl != (size_t)-1 && wl < rsp_cap);
	if (s->how != R_RAW) {
		rsp[wl] = vnp_t1_lrc(rsp, wl);
		if (s->how == R_BAD_EDC)
			rsp[wl] ^= 0x5A;
		wl++;
	}
	*ret_rsp_len = wl;
	return VNP_OK;
}

#define SELECT "00 A4 04 00 02 3F 00"
static const struct t1_case cases[] = {
	{ "simple", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "00 00 02 9000", R_OK, 0 } } },
	{ "chained command, IFSC 32, 100 bytes", 32, 0, "seq:00:100", 0, VNP_OK, "9000", 0,
	  { { "00 20 20 seq:00:32", "00 90 00", R_OK, 0 },
	    { "00 60 20 seq:20:32", "00 80 00", R_OK, 0 },
	    { "00 20 20 seq:40:32", "00 90 00", R_OK, 0 },
	    { "00 40 04 seq:60:4", "00 00 02 9000", R_OK, 0 } } },
	{ "chained response", 32, 0, SELECT, 0, VNP_OK, "seq:00:64 seq:40:4 9000", 0,
	  { { "00 00 07 " SELECT, "00 20 20 seq:00:32", R_OK, 0 },
	    { "00 90 00", "00 60 20 seq:20:32", R_OK, 0 },
	    { "00 80 00", "00 00 06 seq:40:4 9000", R_OK, 0 } } },
	{ "IFSD negotiation then 254-byte block", 254, 254, SELECT, 0, VNP_OK,
	  "seq:00:252 9000", 0,
	  { { "00 C1 01 FE", "00 E1 01 FE", R_OK, 0 },
	    { "00 00 07 " SELECT, "00 00 FE seq:00:252 9000", R_OK, 0 } } },
	{ "block over IFSD refused", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "00 00 21 seq:00:33", R_OK, 0 },
	    { "00 82 00", "00 00 02 9000", R_OK, 0 } } },
	{ "WTX", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "00 C3 01 05", R_OK, 0 },
	    { "00 E3 01 05", "00 00 02 9000", R_OK, 5 } } },
	{ "card IFS request", 32, 0, "seq:00:40", 0, VNP_OK, "9000", 0,
	  { { "00 20 20 seq:00:32", "00 C1 01 40", R_OK, 0 },
	    { "00 E1 01 40", "00 90 00", R_OK, 0 },
	    { "00 40 08 seq:20:8", "00 00 02 9000", R_OK, 0 } } },
	{ "corrupted EDC, R-block", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "00 00 02 9000", R_BAD_EDC, 0 },
	    { "00 81 00", "00 00 02 9000", R_OK, 0 } } },
	{ "lost block (timeout), R-block", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "", R_TIMEOUT, 0 },
	    { "00 82 00", "00 00 02 9000", R_OK, 0 } } },
	{ "card asks for our I-block again", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "00 81 00", R_OK, 0 },
	    { "00 00 07 " SELECT, "00 00 02 9000", R_OK, 0 } } },
	{ "lost ack in response chain", 32, 0, SELECT, 0, VNP_OK, "seq:00:32 9000", 0,
	  { { "00 00 07 " SELECT, "00 20 20 seq:00:32", R_OK, 0 },
	    { "00 90 00", "", R_TIMEOUT, 0 },
	    { "00 92 00", "00 40 02 9000", R_OK, 0 } } },
	{ "wrong N(S) from card", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "00 40 02 9000", R_OK, 0 },
	    { "00 82 00", "00 00 02 9000", R_OK, 0 } } },
	{ "repeated errors, RESYNCH", 32, 0, SELECT, 0, VNP_E_TRANSPORT, NULL, 1,
	  { { "00 00 07 " SELECT, "00 00 02 9000", R_BAD_EDC, 0 },
	    { "00 81 00", "00 00 02 9000", R_BAD_EDC, 0 },
	    { "00 81 00", "", R_TIMEOUT, 0 },
	    { "00 82 00", "00 00 02 9000", R_BAD_EDC, 0 },
	    { "00 C0 00", "00 E0 00", R_OK, 0 } } },
	{ "garbage", 32, 0, SELECT, 0, VNP_E_TRANSPORT, NULL, 1,
	  { { "00 00 07 " SELECT, "FF", R_RAW, 0 },
	    { "00 82 00", "", R_RAW, 0 },
	    { "00 82 00", "00 00 FF 12 34", R_RAW, 0 },
	    { "00 82 00", "00 00 05 12", R_RAW, 0 },
	    { "00 C0 00", "DE AD BE EF", R_RAW, 0 },
	    { "00 C0 00", "00 E0 01 00", R_OK, 0 },
	    { "00 C0 00", "", R_TIMEOUT, 0 } } },
	{ "wrong NAD", 32, 0, SELECT, 0, VNP_OK, "9000", 0,
	  { { "00 00 07 " SELECT, "12 00 02 9000", R_OK, 0 },
	    { "00 82 00", "00 00 02 9000", R_OK, 0 } } },
	{ "card ABORT", 32, 0, SELECT, 0, VNP_E_TRANSPORT, NULL, 0,
	  { { "00 00 07 " SELECT, "00 C2 00", R_OK, 0 } } },
	{ "card removed", 32, 0, SELECT, 0, VNP_E_NO_CARD, NULL, 0,
	  { { "00 00 07 " SELECT, "", R_REMOVED, 0 } } },
	{ "answer larger than buffer", 32, 0, SELECT, 1, VNP_E_BUFFER_TOO_SMALL, NULL, 1,
	  { { "00 00 07 " SELECT, "00 00 02 9000", R_OK, 0 },
	    { "00 C0 00", "00 E0 00", R_OK, 0 } } },
	{ "IFSD negotiation fails", 32, 254, SELECT, 0, VNP_E_TRANSPORT, NULL, 1,
	  { { "00 C1 01 FE", "00 E1 01 20", R_OK, 0 },
	    { "00 C1 01 FE", "", R_TIMEOUT, 0 },
	    { "00 C1 01 FE", "00 E1 01 FE", R_BAD_EDC, 0 },
	    { "00 C1 01 FE", "00 00 02 9000", R_OK, 0 },
	    { "00 C0 00", "00 E0 00", R_OK, 0 } } },
};

static void run_case(const struct t1_case *c)
{
	struct fake f = { .steps = c->steps };
	struct vnp_t1 t;
	uint8_t cmd[512], want[512], rsp[512];
	size_t cl = hex(c->cmd, cmd, sizeof(cmd)), wl = 0, rl = 0;
	size_t cap = c->rsp_cap ? c->rsp_cap : sizeof(rsp);
	int rv = VNP_OK;

	while (f.n < MAX_STEPS && c->steps[f.n].expect)
		f.n++;
	assert_true(cl != (size_t)-1);
	if (c->rsp) {
		wl = hex(c->rsp, want, sizeof(want));
		assert_true(wl != (size_t)-1);
	}
	vnp_t1_init(&t, c->ifsc, fake_xfer, &f);
	if (c->ifsd)
		rv = vnp_t1_negotiate_ifsd(&t, c->ifsd);
	if (rv == VNP_OK)
		rv = vnp_t1_transceive(&t, cmd, cl, rsp, cap, &rl);
	if (f.why[0])
		fail_msg("%s: %s", c->name, f.why);
	if (rv != c->rv)
		fail_msg("%s: rv %d want %d", c->name, rv, c->rv);
	if (f.pos != f.n)
		fail_msg("%s: %zu of %zu steps played", c->name, f.pos, f.n);
	if (t.resynchs != c->resynchs)
		fail_msg("%s: %u RESYNCH, want %u", c->name, t.resynchs, c->resynchs);
	if (c->rsp && (rl != wl || memcmp(rsp, want, wl)))
		fail_msg("%s: response %zu bytes, want %zu", c->name, rl, wl);
}

static void test_t1_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < VNP_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* N(S) and N(R) toggle across exchanges, and RESYNCH brings them back to 0. */
static void test_sequence_numbers(void **state)
{
	static const struct step steps[] = {
		{ "00 00 07 " SELECT, "00 00 02 9000", R_OK, 0 },
		{ "00 40 07 " SELECT, "00 40 02 6A82", R_OK, 0 },
		{ "00 00 07 " SELECT, "00 00 02 9000", R_OK, 0 },
		{ "00 C0 00", "00 E0 00", R_OK, 0 },
		{ "00 00 07 " SELECT, "00 00 02 9000", R_OK, 0 },
	};
	struct fake f = { .steps = steps, .n = VNP_ARRAY_SIZE(steps) };
	struct vnp_t1 t;
	uint8_t cmd[16], rsp[16];
	size_t cl = hex(SELECT, cmd, sizeof(cmd)), rl;

	(void)state;
	vnp_t1_init(&t, 0, fake_xfer, &f); /* IFSC 0 from the ATR: default 32 */
	assert_int_equal(t.ifsc, VNP_T1_IFS_DEFAULT);
	assert_int_equal(vnp_t1_transceive(&t, cmd, cl, rsp, sizeof(rsp), &rl), VNP_OK);
	assert_int_equal(vnp_t1_transceive(&t, cmd, cl, rsp, sizeof(rsp), &rl), VNP_OK);
	assert_int_equal(rl, 2);
	assert_int_equal(rsp[0], 0x6A);
	assert_int_equal(vnp_t1_transceive(&t, cmd, cl, rsp, sizeof(rsp), &rl), VNP_OK);
	assert_int_equal(vnp_t1_resynch(&t), VNP_OK);
	assert_int_equal(vnp_t1_transceive(&t, cmd, cl, rsp, sizeof(rsp), &rl), VNP_OK);
	assert_string_equal(f.why, "");
	assert_int_equal(f.pos, f.n);
}

/* A card's S(IFS request) above what the transport carries (ifsc_max) is answered as asked,
 * and our next blocks stay within ifsc_max. */
static void test_ifs_request_clamped(void **state)
{
	static const struct step steps[] = {
		{ "00 20 10 seq:00:16", "00 C1 01 40", R_OK, 0 },
		{ "00 E1 01 40", "00 90 00", R_OK, 0 },
		{ "00 60 10 seq:10:16", "00 80 00", R_OK, 0 },
		{ "00 00 08 seq:20:8", "00 00 02 9000", R_OK, 0 },
	};
	struct fake f = { .steps = steps, .n = VNP_ARRAY_SIZE(steps) };
	struct vnp_t1 t;
	uint8_t cmd[64], rsp[16];
	size_t cl = hex("seq:00:40", cmd, sizeof(cmd)), rl = 0;

	(void)state;
	vnp_t1_init(&t, 16, fake_xfer, &f);
	t.ifsc_max = 16;
	assert_int_equal(vnp_t1_transceive(&t, cmd, cl, rsp, sizeof(rsp), &rl), VNP_OK);
	assert_string_equal(f.why, "");
	assert_int_equal(f.pos, f.n);
	assert_int_equal(t.ifsc, 16);
	assert_int_equal(rl, 2);
}

/* A card that asks for more time forever is given up on, without looping for ever. */
static int wtx_forever(void *ctx, const uint8_t *blk, size_t blk_len, uint8_t *rsp,
		       size_t rsp_cap, size_t *ret_rsp_len, unsigned bwt)
{
	unsigned *calls = ctx;

	(void)blk;
	(void)blk_len;
	(void)bwt;
	assert_true(rsp_cap >= 5);
	(*calls)++;
	rsp[0] = 0x00;
	rsp[1] = 0xC3;
	rsp[2] = 0x01;
	rsp[3] = 0x02;
	rsp[4] = vnp_t1_lrc(rsp, 4);
	*ret_rsp_len = 5;
	return VNP_OK;
}

static void test_wtx_forever(void **state)
{
	unsigned calls = 0;
	struct vnp_t1 t;
	uint8_t cmd[4] = { 0 }, rsp[8];
	size_t rl;

	(void)state;
	vnp_t1_init(&t, 32, wtx_forever, &calls);
	assert_int_equal(vnp_t1_transceive(&t, cmd, sizeof(cmd), rsp, sizeof(rsp), &rl),
			 VNP_E_TRANSPORT);
	assert_int_equal(calls, VNP_T1_MAX_STALLS + 1);
	assert_int_equal(vnp_t1_negotiate_ifsd(&t, 0), VNP_E_ARGS);
	assert_int_equal(vnp_t1_negotiate_ifsd(&t, 255), VNP_E_ARGS);
	assert_int_equal(vnp_t1_transceive(&t, NULL, 4, rsp, sizeof(rsp), &rl), VNP_E_ARGS);
}

/* A card that chains empty I-blocks forever (no data, M set) is given up on too, with
 * RESYNCH; the fake stops it after 10000 blocks so that the test ends either way. */
static int empty_chain_forever(void *ctx, const uint8_t *blk, size_t blk_len, uint8_t *rsp,
			       size_t rsp_cap, size_t *ret_rsp_len, unsigned bwt)
{
	unsigned *calls = ctx;

	(void)blk_len;
	(void)bwt;
	assert_true(rsp_cap >= 4);
	if (++*calls > 10000)
		return VNP_E_INTERNAL;
	rsp[0] = 0x00;
	if (blk[1] == 0xC0) {
		rsp[1] = 0xE0; /* S(RESYNCH response) */
	} else {
		/* I-block with M, N(S) alternating from 0: blocks 1, 3, 5... carry N(S) 0 */
		rsp[1] = (uint8_t)(0x20 | (*calls % 2 ? 0x00 : 0x40));
	}
	rsp[2] = 0x00;
	rsp[3] = vnp_t1_lrc(rsp, 3);
	*ret_rsp_len = 4;
	return VNP_OK;
}

static void test_empty_chain_forever(void **state)
{
	unsigned calls = 0;
	struct vnp_t1 t;
	uint8_t cmd[4] = { 0 }, rsp[8];
	size_t rl;

	(void)state;
	vnp_t1_init(&t, 32, empty_chain_forever, &calls);
	assert_int_equal(vnp_t1_transceive(&t, cmd, sizeof(cmd), rsp, sizeof(rsp), &rl),
			 VNP_E_TRANSPORT);
	/* the first answer, VNP_T1_MAX_STALLS more, then one RESYNCH exchange */
	assert_int_equal(calls, VNP_T1_MAX_STALLS + 2);
	assert_int_equal(t.resynchs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_t1_table),
		cmocka_unit_test(test_sequence_numbers),
		cmocka_unit_test(test_wtx_forever),
		cmocka_unit_test(test_ifs_request_clamped),
		cmocka_unit_test(test_empty_chain_forever),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
