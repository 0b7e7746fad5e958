/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual UICC (profile sim, SIMPKI.md) through the real plugin: its ATR, T=0 answers
 * (61xx + GET RESPONSE, 6Cxx, no extended length), the USIM stub, the SIM PKI applet's
 * PUK path and padded CHANGE REFERENCE DATA, RSA-2048 through GET RESPONSE; and a card of
 * profile blank, which carries no applet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "keys.h"
#include "rv.h"
#include "state.h"
#include "vt_helpers.h"

#define SEL_SIM "00A4040009F0564E504B4953494D00"
#define SEL_USIM "00A4040010A0000000871002FF84FFFF89060200FF00"
#define PUK "3132333435363738"   /* "12345678" */
#define NEWPIN "363534333231"    /* "654321" */

/* Turn the fixture's state into profile (and give a "sim" card its PUK), then power the
 * card on again over it. */
static void make_profile(struct vt_fix *f, const char *profile)
{
	struct vnp_vt_state *st = NULL;
	struct vnp_vt_data *d;

	f->p->close(f->card);
	assert_int_equal(vnp_vt_state_load(f->path, &st), VNP_OK);
	assert_int_equal(vnp_vt_state_lock(st), VNP_OK);
	d = &st->d;
	d->profile = strcmp(profile, "sim") == 0 ? VNP_VT_PROFILE_SIM : VNP_VT_PROFILE_BLANK;
	if (strcmp(profile, "sim") == 0) {
		d->device = 2;
		d->t0 = true;
		d->extended = false;
		d->max_nc = 255;
		d->max_ne = 256;
		assert_int_equal(RAND_bytes(d->puk_salt, sizeof(d->puk_salt)), 1);
		assert_int_equal(vnp_vt_pin_hash(st->libctx, d->puk_salt, sizeof(d->puk_salt),
						 (const uint8_t *)"12345678", 8, d->puk_hash),
				 VNP_OK);
		d->has_puk = true;
	}
	assert_int_equal(vnp_vt_state_save_locked(st), VNP_OK);
	vnp_vt_state_free(st);
	assert_int_equal(f->p->open(f->path, &f->card), 0);
}

static int setup_sim(void **state)
{
	vt_setup(state);
	make_profile(*state, "sim");
	return 0;
}

static int setup_blank(void **state)
{
	vt_setup(state);
	make_profile(*state, "blank");
	return 0;
}

/* SELECT the SIM PKI applet: 61xx, then the FCI with GET RESPONSE. */
static void select_sim(struct vt_fix *f)
{
	char gr[16];
	uint16_t sw = vt_tx(f, SEL_SIM);

	assert_int_equal(sw & 0xFF00, 0x6100);
	assert_int_equal(f->resp_len, 0);
	snprintf(gr, sizeof(gr), "00C00000%02X", sw & 0xFF);
	assert_int_equal(vt_tx(f, gr), 0x9000);
	assert_int_equal(f->resp[0], 0x6F);
}

static void test_atr(void **state)
{
	struct vt_fix *f = *state;
	uint8_t atr[33], x = 0;
	size_t n = f->p->atr(f->card, atr);

	assert_int_equal(n, 22);
	assert_int_equal(atr[0], 0x3B);
	assert_int_equal(atr[1], 0x9F);
	assert_int_equal(atr[3], 0x80); /* TD1: T=0 */
	for (size_t i = 1; i < n; i++)
		x ^= atr[i];
	assert_int_equal(x, 0); /* TCK */
}

static void test_select_t0(void **state)
{
	struct vt_fix *f = *state;
	uint16_t sw;

	sw = vt_tx(f, SEL_SIM);
	assert_int_equal(sw & 0xFF00, 0x6100);
	assert_int_equal(f->resp_len, 0);
	/* GET RESPONSE asking for more than is left: 6Cxx, and the bytes stay */
	assert_int_equal(vt_tx(f, "00C0000000"), 0x6C00 | (sw & 0xFF));
	assert_int_equal(vt_tx(f, "00C0000010"), 0x61 << 8 | ((sw & 0xFF) - 0x10));
	assert_int_equal(f->resp_len, 0x10);
	assert_int_equal(f->resp[0], 0x6F);
	/* the USIM answers an FCP */
	sw = vt_tx(f, SEL_USIM);
	assert_int_equal(sw & 0xFF00, 0x6100);
	assert_int_equal(vt_tx(f, "00C0000000") & 0xFF00, 0x6C00);
	assert_int_equal(vt_tx(f, "00C00000" "1F"), 0x9000);
	assert_int_equal(f->resp[0], 0x62);
	assert_int_equal(vt_tx(f, "00B0000000"), 0x6D00); /* a stub */
	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x6A82); /* no vntoken */
	/* SELECT with P2 0C: no data, so 9000 straight away */
	assert_int_equal(vt_tx(f, "00A4040C09F0564E504B4953494D"), 0x9000);
	assert_int_equal(f->resp_len, 0);
}

static void test_short_only(void **state)
{
	struct vt_fix *f = *state;

	select_sim(f);
	assert_int_equal(vt_tx(f, "00CA01000000FF"), 0x6700);  /* extended case 2 */
	assert_int_equal(vt_tx(f, "00200081000006313233343536"), 0x6700); /* extended case 3 */
	/* case 2 with the right Le: the data at once; wrong Le: 6Cxx and nothing */
	assert_int_equal(vt_tx(f, "00CA010000"), 0x6C08);
	assert_int_equal(f->resp_len, 0);
	assert_int_equal(vt_tx(f, "00CA010004"), 0x6C08);
	assert_int_equal(vt_tx(f, "00CA010008"), 0x9000);
	assert_int_equal(f->resp_len, 8);
	assert_int_equal(f->resp[0], 0x71);
	assert_int_equal(vt_tx(f, "0084000010"), 0x9000);
	assert_int_equal(f->resp_len, 16);
	/* errors carry no data; the proprietary class is refused */
	assert_int_equal(vt_tx(f, "00CA014000"), 0x6A82);
	assert_int_equal(vt_tx(f, "80CA010000"), 0x6E00);
}

static void test_puk_path(void **state)
{
	struct vt_fix *f = *state;
	int i;

	select_sim(f);
	assert_int_equal(vt_tx(f, "00200082"), 0x63CA);
	/* wrong PUK: one try spent and saved */
	assert_int_equal(vt_tx(f, "002C00810E3837363534333231" NEWPIN), 0x63C9);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "9");
	/* new PIN outside the policy, PUK not digits, short data: nothing spent */
	assert_int_equal(vt_tx(f, "002C00810B" PUK "313233"), 0x6A80);
	assert_int_equal(vt_tx(f, "002C00810E3132333435363741313233343536"), 0x6A80);
	assert_int_equal(vt_tx(f, "002C008104" "31323334"), 0x6700);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "9");
	/* lock the PIN, then the right PUK sets the new one and restores both counters */
	for (i = 0; i < 3; i++)
		vt_tx(f, "0020008106303030303030");
	assert_int_equal(vt_tx(f, "00200081"), 0x6983);
	assert_int_equal(vt_tx(f, "002C00810E" PUK NEWPIN), 0x9000);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	assert_int_equal(vt_tx(f, "00200081"), 0x63C3); /* not verified by the unblock */
	assert_int_equal(vt_tx(f, "0020008106" NEWPIN), 0x9000);
	/* P1 01: PUK alone resets the counter and keeps the PIN */
	assert_int_equal(vt_tx(f, "002C018108" PUK), 0x9000);
	assert_int_equal(vt_tx(f, "0020008106" NEWPIN), 0x9000);
	/* ten wrong PUKs block the PUK for good; the PIN keeps working */
	for (i = 9; i >= 0; i--)
		assert_int_equal(vt_tx(f, "002C00810E3837363534333231" NEWPIN), 0x63C0 | i);
	assert_int_equal(vt_tx(f, "002C00810E" PUK NEWPIN), 0x6983);
	assert_int_equal(vt_tx(f, "00200082"), 0x6983);
	assert_int_equal(vt_tx(f, "0020008106" NEWPIN), 0x9000);
	assert_int_equal(vt_tx(f, "00CA010000") & 0xFF00, 0x6C00);
}

static void test_change_padded(void **state)
{
	struct vt_fix *f = *state;

	select_sim(f);
	assert_int_equal(vt_tx(f, "0024008120313233343536FFFFFFFFFFFFFFFFFFFF" NEWPIN
				  "FFFFFFFFFFFFFFFFFFFF"),
			 0x9000);
	assert_int_equal(vt_tx(f, "0020008106313233343536"), 0x63C2);
	assert_int_equal(vt_tx(f, "0020008106" NEWPIN), 0x9000);
	assert_int_equal(vt_tx(f, "0024008106" NEWPIN), 0x6700); /* not the padded form */
}

/* GENERATE and PSO answer through GET RESPONSE: an RSA-2048 signature is 61 00, then 256
 * bytes. P-384 is not on this applet. */
static void test_rsa_sign(void **state)
{
	struct vt_fix *f = *state;
	uint16_t sw;
	size_t total = 0;

	select_sim(f);
	assert_int_equal(vt_tx(f, "0020008106313233343536"), 0x9000);
	assert_int_equal(vt_tx(f, "0047000008A006810112820101" "00"), 0x6A80); /* P-384 */
	sw = vt_tx(f, "0047000008A0068101018201010" "0");
	assert_int_equal(sw, 0x6100);
	while ((sw & 0xFF00) == 0x6100) {
		char gr[16];

		snprintf(gr, sizeof(gr), "00C00000%02X", sw & 0xFF);
		sw = vt_tx(f, gr);
		total += f->resp_len;
	}
	assert_int_equal(sw, 0x9000);
	assert_true(total > 256);
	assert_int_equal(vt_tx(f, "002241B606840101800101"), 0x9000);
	assert_int_equal(vt_tx(f, "002A9E9A20" "000102030405060708090A0B0C0D0E0F"
				  "101112131415161718191A1B1C1D1E1F" "00"),
			 0x6100);
	assert_int_equal(f->resp_len, 0);
	assert_int_equal(vt_tx(f, "00C0000000"), 0x9000);
	assert_int_equal(f->resp_len, 256);
}

static void test_blank(void **state)
{
	struct vt_fix *f = *state;
	uint8_t atr[33];
	size_t n = f->p->atr(f->card, atr);

	assert_int_equal(n, 16);
	assert_memory_equal(atr + 4, "VNPKI-BLANK", 11);
	assert_int_equal(vt_tx(f, SEL_SIM), 0x6A82);
	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x6A82);
	assert_int_equal(vt_tx(f, "00CA010000"), 0x6D00);
	assert_int_equal(vt_tx(f, "0084000008"), 0x9000); /* the card OS still answers */
}

/* A caller's response buffer smaller than 256 + SW (34 bytes: room for 32 and the SW):
 * T=0 answers never go past it. */
static bool untouched(const uint8_t *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != 0xA5)
			return false;
	return true;
}

static void test_small_buffer(void **state)
{
	struct vt_fix *f = *state;
	uint8_t cmd[64], buf[300];
	size_t n, len;

	select_sim(f);
	/* 64 bytes of random in one case-2 command */
	len = vt_hex("0084000040", cmd, sizeof(cmd));
	memset(buf, 0xA5, sizeof(buf));
	n = 34;
	assert_int_equal(f->p->transmit(f->card, cmd, len, buf, &n), 0);
	assert_true(n <= 34);
	assert_true(untouched(buf, 34, sizeof(buf)));
	/* the SELECT answer, then GET RESPONSE without Le */
	len = vt_hex(SEL_SIM, cmd, sizeof(cmd));
	n = 34;
	assert_int_equal(f->p->transmit(f->card, cmd, len, buf, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(buf[0], 0x61);
	len = vt_hex("00C00000", cmd, sizeof(cmd));
	memset(buf, 0xA5, sizeof(buf));
	n = 34;
	assert_int_equal(f->p->transmit(f->card, cmd, len, buf, &n), 0);
	assert_int_equal(n, 34);
	assert_int_equal(buf[0], 0x6F);
	assert_int_equal(buf[32], 0x61);
	assert_true(untouched(buf, 34, sizeof(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atr, setup_sim, vt_teardown),
		cmocka_unit_test_setup_teardown(test_select_t0, setup_sim, vt_teardown),
		cmocka_unit_test_setup_teardown(test_short_only, setup_sim, vt_teardown),
		cmocka_unit_test_setup_teardown(test_puk_path, setup_sim, vt_teardown),
		cmocka_unit_test_setup_teardown(test_change_padded, setup_sim, vt_teardown),
		cmocka_unit_test_setup_teardown(test_rsa_sign, setup_sim, vt_teardown),
		cmocka_unit_test_setup_teardown(test_blank, setup_blank, vt_teardown),
		cmocka_unit_test_setup_teardown(test_small_buffer, setup_sim, vt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
