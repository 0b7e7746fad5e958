/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: SELECT answer, VERIFY (counter persisted before the answer), lock, CHANGE
 * REFERENCE DATA, save failure (6581), reset, two card instances on one state. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv.h"
#include "tlv.h"
#include "vt_helpers.h"

#define SELECT "00A4040008F0564E504B49544B00"
#define VERIFY_OK "0020008106313233343536"
#define VERIFY_BAD "0020008106303030303030"
#define STATUS "0020008100"

static void expect_tag(struct vt_fix *f, uint32_t tag, const char *hex)
{
	struct vnp_tlv t6f, t;
	uint8_t want[64];
	size_t n = vt_hex(hex, want, sizeof(want));

	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x6F, &t6f), VNP_OK);
	assert_int_equal(vnp_tlv_find(t6f.value, t6f.len, tag, &t), VNP_OK);
	assert_int_equal(t.len, n);
	assert_memory_equal(t.value, want, n);
}

static void test_select_answer(void **state)
{
	struct vt_fix *f = *state;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	expect_tag(f, 0x80, "0100");
	expect_tag(f, 0x81, "5654000000000001");
	expect_tag(f, 0x82, "FFFF");
	expect_tag(f, 0x83, "FFFF");
	expect_tag(f, 0x84, "27");
	expect_tag(f, 0x85, "01021112");
	expect_tag(f, 0x86, "5465737420746F6B656E");
	expect_tag(f, 0x87, "00000000");
	expect_tag(f, 0x88, "061003");
	expect_tag(f, 0x89, "030A");
	expect_tag(f, 0x8A, "01");
}

static void test_select_short(void **state)
{
	struct vt_fix *f = *state;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	expect_tag(f, 0x82, "00FF");
	expect_tag(f, 0x83, "0100");
	expect_tag(f, 0x84, "26");
	assert_int_equal(vt_tx(f, "80CA0100000000"), 0x6700); /* extended refused */
}

static void test_verify_counter(void **state)
{
	struct vt_fix *f = *state;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, STATUS), 0x63C3);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C2);
	assert_string_equal(vt_state_value(f, "pin_tries"), "2");
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C1);
	assert_string_equal(vt_state_value(f, "pin_tries"), "1");
	/* status spends nothing */
	assert_int_equal(vt_tx(f, STATUS), 0x63C1);
	assert_int_equal(vt_tx(f, STATUS), 0x63C1);
	assert_string_equal(vt_state_value(f, "pin_tries"), "1");
	/* a PIN outside the policy spends nothing */
	assert_int_equal(vt_tx(f, "002000810331323300"), 0x6A80);
	assert_int_equal(vt_tx(f, "00200081113131313131313131313131313131313131"), 0x6A80);
	assert_string_equal(vt_state_value(f, "pin_tries"), "1");
	/* wrong P1/P2 */
	assert_int_equal(vt_tx(f, "0020008206313233343536"), 0x6A88);
	assert_int_equal(vt_tx(f, "0020018106313233343536"), 0x6A86);
	/* correct PIN restores the counter */
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x9000);
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	assert_int_equal(vt_tx(f, STATUS), 0x9000);
	/* VERIFY reset drops the verified state */
	assert_int_equal(vt_tx(f, "0020FF81"), 0x9000);
	assert_int_equal(vt_tx(f, STATUS), 0x63C3);
	/* a warm reset too */
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x9000);
	f->p->reset(f->card);
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, STATUS), 0x63C3);
	/* a wrong PIN drops the verified state */
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x9000);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C2);
	assert_int_equal(vt_tx(f, STATUS), 0x63C2);
}

static void test_lock(void **state)
{
	struct vt_fix *f = *state;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C2);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C1);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C0);
	assert_string_equal(vt_state_value(f, "pin_tries"), "0");
	assert_int_equal(vt_tx(f, STATUS), 0x6983);
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x6983);
	assert_int_equal(vt_tx(f, "0024008100"), 0x6700);
	assert_int_equal(vt_tx(f, "002400810D06313233343536363534333231"), 0x6983);
	assert_string_equal(vt_state_value(f, "pin_tries"), "0");
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	expect_tag(f, 0x89, "000A");
}

static void test_change(void **state)
{
	struct vt_fix *f = *state;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	/* wrong old PIN spends a try */
	assert_int_equal(vt_tx(f, "002400810D06303030303030363534333231"), 0x63C2);
	assert_string_equal(vt_state_value(f, "pin_tries"), "2");
	/* new PIN outside the policy */
	assert_int_equal(vt_tx(f, "002400810A06313233343536363534"), 0x6A80);
	/* old length byte lying */
	assert_int_equal(vt_tx(f, "00240081030931323334"), 0x6700);
	assert_int_equal(vt_tx(f, "002400810D06313233343536363534333231"), 0x9000);
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	assert_string_equal(vt_state_value(f, "pin_initial"), "0");
	assert_string_equal(vt_state_value(f, "counter"), "1");
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	expect_tag(f, 0x84, "23");
	expect_tag(f, 0x87, "00000001");
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x63C2);
	assert_int_equal(vt_tx(f, "0020008106363534333231"), 0x9000);
}

static void test_save_failure(void **state)
{
	struct vt_fix *f = *state;
	char tmp[160];

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(mkdir(tmp, 0700), 0); /* the temp file cannot be written */
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x6581);
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x6581);
	assert_int_equal(vt_tx(f, STATUS), 0x63C3);
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	assert_int_equal(vt_tx(f, "002400810D06313233343536363534333231"), 0x6581);
	assert_string_equal(vt_state_value(f, "pin_initial"), "1");
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C2);
}

static void test_two_instances(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_vcard *b = NULL;

	assert_int_equal(f->p->open(f->path, &b), 0);
	assert_int_equal(vt_tx_card(f, f->card, SELECT), 0x9000);
	assert_int_equal(vt_tx_card(f, b, SELECT), 0x9000);
	assert_int_equal(vt_tx_card(f, b, VERIFY_BAD), 0x63C2);
	assert_int_equal(vt_tx_card(f, f->card, STATUS), 0x63C2);
	assert_int_equal(vt_tx_card(f, f->card, VERIFY_BAD), 0x63C1);
	assert_int_equal(vt_tx_card(f, b, STATUS), 0x63C1);
	/* the verified state is per card instance */
	assert_int_equal(vt_tx_card(f, b, VERIFY_OK), 0x9000);
	assert_int_equal(vt_tx_card(f, f->card, STATUS), 0x63C3);
	assert_int_equal(vt_tx_card(f, b, STATUS), 0x9000);
	f->p->close(b);
	assert_int_equal(f->p->open("/nonexistent/vtoken.state", &b), VNP_E_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_select_answer, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_select_short, vt_setup_short, vt_teardown),
		cmocka_unit_test_setup_teardown(test_verify_counter, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_lock, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_change, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_save_failure, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_two_instances, vt_setup, vt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
