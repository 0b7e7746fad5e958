/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken recovery (APPLET.md "Recovery", RECOVERY.md): GET UNBLOCK CHALLENGE (persisted,
 * seen by a second card instance), RESET RETRY COUNTER (wrong response, new PIN policy,
 * one use, a newer challenge voids the older one), termination after the unblock counter
 * is spent, no recovery key, the unblock status VERIFY, certificate category 8E. The
 * token uses the RECOVERY.md vector: K_master 000102..1f, serial 5654000000000001. */
#include <stdio.h>
#include <string.h>

#include "recovery.h"
#include "rv.h"
#include "state.h"
#include "tlv.h"
#include "vt_helpers.h"

#define SELECT "00A4040008F0564E504B49544B00"
#define VERIFY_OK "0020008106313233343536"
#define VERIFY_BAD "0020008106303030303030"
#define STATUS "0020008100"
#define UNBLOCK_STATUS "0020008200"
#define GET_UNBLOCK_CHALLENGE "8050000007"
#define NEW_PIN "654321"
#define VERIFY_NEW "0020008106363534333231"

static const uint8_t serial[8] = { 0x56, 0x54, 0, 0, 0, 0, 0, 0x01 };

static void master_key(uint8_t m[VNP_RECOVERY_KEY_LEN])
{
	for (int i = 0; i < VNP_RECOVERY_KEY_LEN; i++)
		m[i] = (uint8_t)i;
}

/* Personalise the fixture's token with K_token (as `init --recovery-key` does). */
static void add_unblock_key(struct vt_fix *f)
{
	struct vnp_vt_state *st = NULL;
	uint8_t m[VNP_RECOVERY_KEY_LEN];

	master_key(m);
	assert_int_equal(vnp_vt_state_load(f->path, &st), VNP_OK);
	assert_int_equal(vnp_vt_state_lock(st), VNP_OK);
	assert_int_equal(vnp_recovery_token_key(m, serial, st->d.unblock_key), VNP_OK);
	st->d.has_unblock_key = true;
	assert_int_equal(vnp_vt_state_save_locked(st), VNP_OK);
	vnp_vt_state_free(st);
}

static int setup_key(void **state)
{
	vt_setup(state);
	add_unblock_key(*state);
	return 0;
}

/* The response the agency computes for challenge. */
static void agency_response(const uint8_t *challenge, uint8_t resp[VNP_RECOVERY_RESPONSE_LEN])
{
	uint8_t m[VNP_RECOVERY_KEY_LEN], k[VNP_RECOVERY_KEY_LEN];

	master_key(m);
	assert_int_equal(vnp_recovery_token_key(m, serial, k), VNP_OK);
	assert_int_equal(vnp_recovery_response(k, serial, challenge, resp), VNP_OK);
}

/* GET UNBLOCK CHALLENGE on card; asserts 9000 and 7 bytes. */
static void get_challenge(struct vt_fix *f, struct vnp_vcard *card, uint8_t *challenge)
{
	assert_int_equal(vt_tx_card(f, card, GET_UNBLOCK_CHALLENGE), 0x9000);
	assert_int_equal(f->resp_len, VNP_RECOVERY_CHALLENGE_LEN);
	memcpy(challenge, f->resp, VNP_RECOVERY_CHALLENGE_LEN);
}

/* RESET RETRY COUNTER with response || new PIN. */
static uint16_t rrc(struct vt_fix *f, struct vnp_vcard *card, const uint8_t *resp,
		    const char *pin)
{
	uint8_t cmd[5 + VNP_RECOVERY_RESPONSE_LEN + 64];
	size_t n = strlen(pin);

	cmd[0] = 0x00; cmd[1] = 0x2C; cmd[2] = 0x00; cmd[3] = 0x81;
	cmd[4] = (uint8_t)(VNP_RECOVERY_RESPONSE_LEN + n);
	memcpy(cmd + 5, resp, VNP_RECOVERY_RESPONSE_LEN);
	memcpy(cmd + 5 + VNP_RECOVERY_RESPONSE_LEN, pin, n);
	return vt_txb(f, card, cmd, 5 + VNP_RECOVERY_RESPONSE_LEN + n);
}

/* SELECT on card and return the flags byte (tag 84). */
static uint8_t select_flags(struct vt_fix *f, struct vnp_vcard *card)
{
	struct vnp_tlv t6f, t;

	assert_int_equal(vt_tx_card(f, card, SELECT), 0x9000);
	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x6F, &t6f), VNP_OK);
	assert_int_equal(vnp_tlv_find(t6f.value, t6f.len, 0x84, &t), VNP_OK);
	assert_int_equal(t.len, 1);
	return t.value[0];
}

static void lock_pin(struct vt_fix *f)
{
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C2);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C1);
	assert_int_equal(vt_tx(f, VERIFY_BAD), 0x63C0);
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x6983);
}

static void expect_hex(const char *got, const uint8_t *want, size_t n)
{
	char hex[2 * 16 + 1];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", want[i]);
	assert_non_null(got);
	assert_string_equal(got, hex);
}

/* RECOVERY.md worked example, end to end through the card: a challenge put in the state
 * file is answered by the response code of the document. */
static void test_vector(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_vt_state *st = NULL;
	uint8_t resp[VNP_RECOVERY_RESPONSE_LEN], mine[VNP_RECOVERY_RESPONSE_LEN];
	uint8_t challenge[VNP_RECOVERY_CHALLENGE_LEN];

	vt_hex("0123456789abcd", challenge, sizeof(challenge));
	assert_int_equal(vnp_code_decode("BE78-QKEW-WV2A-14HP-T", resp, sizeof(resp)), VNP_OK);
	agency_response(challenge, mine);
	assert_memory_equal(mine, resp, sizeof(resp));
	assert_int_equal(vnp_vt_state_load(f->path, &st), VNP_OK);
	assert_int_equal(vnp_vt_state_lock(st), VNP_OK);
	memcpy(st->d.challenge, challenge, sizeof(challenge));
	st->d.has_challenge = true;
	assert_int_equal(vnp_vt_state_save_locked(st), VNP_OK);
	vnp_vt_state_free(st);
	assert_int_equal(select_flags(f, f->card), 0x37); /* ext, chaining, initial, pending */
	assert_int_equal(rrc(f, f->card, resp, NEW_PIN), 0x9000);
	assert_int_equal(vt_tx(f, VERIFY_NEW), 0x9000);
}

static void test_unblock(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_vcard *b = NULL;
	uint8_t challenge[VNP_RECOVERY_CHALLENGE_LEN], resp[VNP_RECOVERY_RESPONSE_LEN];
	uint8_t bad[VNP_RECOVERY_RESPONSE_LEN];

	lock_pin(f);
	assert_null(vt_state_value(f, "unblock_challenge"));
	assert_int_equal(select_flags(f, f->card) & 0x18, 0x00);
	/* works while locked, saved before it is answered */
	get_challenge(f, f->card, challenge);
	expect_hex(vt_state_value(f, "unblock_challenge"), challenge, sizeof(challenge));
	assert_int_equal(vt_tx(f, STATUS), 0x6983);
	/* pulled plug: a new card instance on the same state sees the pending request */
	f->p->close(f->card);
	f->card = NULL;
	assert_int_equal(f->p->open(f->path, &b), 0);
	assert_int_equal(select_flags(f, b), 0x37);
	agency_response(challenge, resp);
	/* a wrong response spends a try and keeps the challenge */
	memcpy(bad, resp, sizeof(bad));
	bad[9] ^= 0x01;
	assert_int_equal(rrc(f, b, bad, NEW_PIN), 0x63C9);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "9");
	expect_hex(vt_state_value(f, "unblock_challenge"), challenge, sizeof(challenge));
	assert_int_equal(vt_tx_card(f, b, UNBLOCK_STATUS), 0x63C9);
	/* a new PIN outside the policy spends nothing (checked before the response) */
	assert_int_equal(rrc(f, b, resp, "12345"), 0x6A80);
	assert_int_equal(rrc(f, b, bad, "12345678901234567"), 0x6A80);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "9");
	/* short data */
	assert_int_equal(vt_tx_card(f, b, "002C008109010203040506070809"), 0x6700);
	assert_int_equal(vt_tx_card(f, b, "002C0181100102030405060708090A313233343536"), 0x6A86);
	assert_int_equal(vt_tx_card(f, b, "002C0082100102030405060708090A313233343536"), 0x6A88);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "9");
	/* the right response */
	assert_int_equal(rrc(f, b, resp, NEW_PIN), 0x9000);
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	assert_string_equal(vt_state_value(f, "pin_initial"), "0");
	assert_null(vt_state_value(f, "unblock_challenge"));
	assert_int_equal(vt_tx_card(f, b, UNBLOCK_STATUS), 0x63CA);
	assert_int_equal(vt_tx_card(f, b, STATUS), 0x63C3); /* not verified by the reset */
	assert_int_equal(select_flags(f, b), 0x23);
	/* one use */
	assert_int_equal(rrc(f, b, resp, NEW_PIN), 0x6985);
	assert_int_equal(vt_tx_card(f, b, VERIFY_OK), 0x63C2);
	assert_int_equal(vt_tx_card(f, b, VERIFY_NEW), 0x9000);
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	f->card = b;
}

static void test_new_challenge_voids_old(void **state)
{
	struct vt_fix *f = *state;
	uint8_t c1[VNP_RECOVERY_CHALLENGE_LEN], c2[VNP_RECOVERY_CHALLENGE_LEN];
	uint8_t r1[VNP_RECOVERY_RESPONSE_LEN], r2[VNP_RECOVERY_RESPONSE_LEN];

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	get_challenge(f, f->card, c1);
	get_challenge(f, f->card, c2);
	assert_memory_not_equal(c1, c2, sizeof(c1));
	expect_hex(vt_state_value(f, "unblock_challenge"), c2, sizeof(c2));
	agency_response(c1, r1);
	agency_response(c2, r2);
	assert_int_equal(rrc(f, f->card, r1, NEW_PIN), 0x63C9);
	assert_int_equal(rrc(f, f->card, r2, NEW_PIN), 0x9000);
	assert_int_equal(vt_tx(f, VERIFY_NEW), 0x9000);
}

/* Without Le the challenge comes through 61 07 and GET RESPONSE; saved all the same. */
static void test_challenge_get_response(void **state)
{
	struct vt_fix *f = *state;
	uint8_t c[VNP_RECOVERY_CHALLENGE_LEN];

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, "80500000"), 0x6107);
	assert_int_equal(vt_tx(f, "00C0000007"), 0x9000);
	assert_int_equal(f->resp_len, sizeof(c));
	memcpy(c, f->resp, sizeof(c));
	expect_hex(vt_state_value(f, "unblock_challenge"), c, sizeof(c));
	assert_int_equal(vt_tx(f, "8050010007"), 0x6A86);
	assert_int_equal(vt_tx(f, "805000000100"), 0x6700);
	expect_hex(vt_state_value(f, "unblock_challenge"), c, sizeof(c));
}

static void test_no_pending(void **state)
{
	struct vt_fix *f = *state;
	uint8_t resp[VNP_RECOVERY_RESPONSE_LEN] = { 0 };

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(rrc(f, f->card, resp, NEW_PIN), 0x6985);
	assert_int_equal(vt_tx(f, "002C0081020102"), 0x6985);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
}

/* A certificate, a public and a private data object, made before the end. */
static void make_objects(struct vt_fix *f)
{
	vt_select_login(f, f->card);
	assert_int_equal(vt_tx(f, "80E000000F" "8001A2" "8201AA" "8E0102" "8C0430820001" "00"),
			 0x9000);
	assert_int_equal(f->resp[2], 0x40);
	assert_int_equal(vt_tx(f, "80E000000B" "8001A1" "8B0101" "8C03505249" "00"), 0x9000);
	assert_int_equal(f->resp[2], 0x80);
	assert_int_equal(vt_tx(f, "0020FF81"), 0x9000);
}

static void test_terminate(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_vcard *b = NULL;
	uint8_t c[VNP_RECOVERY_CHALLENGE_LEN], resp[VNP_RECOVERY_RESPONSE_LEN];
	uint8_t bad[VNP_RECOVERY_RESPONSE_LEN] = { 0 };
	int i;

	make_objects(f);
	get_challenge(f, f->card, c);
	agency_response(c, resp);
	if (memcmp(bad, resp, sizeof(bad)) == 0)
		bad[0] = 1;
	for (i = 9; i >= 0; i--)
		assert_int_equal(rrc(f, f->card, bad, NEW_PIN), 0x63C0 | i);
	assert_string_equal(vt_state_value(f, "terminated"), "1");
	assert_string_equal(vt_state_value(f, "unblock_tries"), "0");
	/* dead for good: even the right response */
	assert_int_equal(rrc(f, f->card, resp, NEW_PIN), 0x6283);
	assert_int_equal(vt_tx(f, GET_UNBLOCK_CHALLENGE), 0x6283);
	assert_int_equal(vt_tx(f, VERIFY_OK), 0x6283);
	assert_int_equal(vt_tx(f, "0020FF81"), 0x6283);
	assert_int_equal(vt_tx(f, "002400810D06313233343536363534333231"), 0x6283);
	assert_int_equal(vt_tx(f, "002241B606840101800103"), 0x6283);
	assert_int_equal(vt_tx(f, "002A9E9A20" "000102030405060708090A0B0C0D0E0F"
				  "101112131415161718191A1B1C1D1E1F00"), 0x6283);
	assert_int_equal(vt_tx(f, "80E4400000"), 0x6283);
	assert_int_equal(vt_tx(f, "80B0800000"), 0x6283); /* private data object */
	/* what still answers */
	/* ext, chaining, initial PIN, terminated, (still) pending */
	assert_int_equal(select_flags(f, f->card), 0x3F);
	assert_int_equal(vt_tx(f, "80CA010000"), 0x9000);
	assert_int_equal(vt_tx(f, "80B0400000"), 0x9000);
	assert_int_equal(f->resp_len, 4);
	assert_int_equal(vt_tx(f, STATUS), 0x63C3);
	assert_int_equal(vt_tx(f, UNBLOCK_STATUS), 0x6283);
	assert_int_equal(vt_tx(f, "80CA010002") & 0xFF00, 0x6100); /* GET RESPONSE too */
	assert_int_equal(vt_tx(f, "00C0000000"), 0x9000);
	/* persisted: a new card instance is terminated too */
	assert_int_equal(f->p->open(f->path, &b), 0);
	assert_int_equal(select_flags(f, b), 0x3F);
	assert_int_equal(vt_tx_card(f, b, VERIFY_OK), 0x6283);
	f->p->close(b);
}

static void test_terminate_token_not_locked_by_pin(void **state)
{
	/* the last try spent on the right answer still unblocks */
	struct vt_fix *f = *state;
	uint8_t c[VNP_RECOVERY_CHALLENGE_LEN], resp[VNP_RECOVERY_RESPONSE_LEN];
	uint8_t bad[VNP_RECOVERY_RESPONSE_LEN] = { 0 };
	int i;

	lock_pin(f);
	get_challenge(f, f->card, c);
	agency_response(c, resp);
	if (memcmp(bad, resp, sizeof(bad)) == 0)
		bad[0] = 1;
	for (i = 9; i >= 1; i--)
		assert_int_equal(rrc(f, f->card, bad, NEW_PIN), 0x63C0 | i);
	assert_int_equal(vt_tx(f, UNBLOCK_STATUS), 0x63C1);
	assert_int_equal(rrc(f, f->card, resp, NEW_PIN), 0x9000);
	assert_string_equal(vt_state_value(f, "terminated"), "0");
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	assert_int_equal(vt_tx(f, VERIFY_NEW), 0x9000);
}

static void test_no_recovery_key(void **state)
{
	struct vt_fix *f = *state;
	uint8_t resp[VNP_RECOVERY_RESPONSE_LEN] = { 0 };

	assert_int_equal(select_flags(f, f->card), 0x27);
	assert_int_equal(vt_tx(f, GET_UNBLOCK_CHALLENGE), 0x6985);
	assert_int_equal(rrc(f, f->card, resp, NEW_PIN), 0x6985);
	assert_null(vt_state_value(f, "unblock_challenge"));
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	assert_int_equal(vt_tx(f, UNBLOCK_STATUS), 0x63CA);
}

/* VERIFY 00 20 00 82 answers and never changes anything (not even the generation). */
static void test_unblock_status_readonly(void **state)
{
	struct vt_fix *f = *state;
	uint8_t c[VNP_RECOVERY_CHALLENGE_LEN];
	char gen[32];
	int i;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	get_challenge(f, f->card, c);
	snprintf(gen, sizeof(gen), "%s", vt_state_value(f, "generation"));
	for (i = 0; i < 5; i++)
		assert_int_equal(vt_tx(f, UNBLOCK_STATUS), 0x63CA);
	assert_int_equal(vt_tx(f, "002000820A0102030405060708090A"), 0x6A88);
	assert_int_equal(vt_tx(f, "0020FF82"), 0x6A88);
	assert_int_equal(vt_tx(f, "0020018200"), 0x6A86);
	assert_string_equal(vt_state_value(f, "generation"), gen);
	assert_string_equal(vt_state_value(f, "unblock_tries"), "10");
	expect_hex(vt_state_value(f, "unblock_challenge"), c, sizeof(c));
	assert_int_equal(vt_tx(f, STATUS), 0x63C3);
}

/* Find the certificate entry A2 with reference ref in the directory answer. */
static bool dir_cert(struct vt_fix *f, uint8_t ref, struct vnp_tlv *ret)
{
	struct vnp_tlv t71, e, r;
	const uint8_t *p, *end;

	assert_int_equal(vt_tx(f, "80CA010000"), 0x9000);
	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x71, &t71), VNP_OK);
	p = t71.value;
	end = t71.value + t71.len;
	while (vnp_tlv_next(&p, end, &e) == VNP_OK) {
		if (e.tag != 0xA2 || vnp_tlv_find(e.value, e.len, 0x80, &r) != VNP_OK ||
		    r.len != 1 || r.value[0] != ref)
			continue;
		*ret = e;
		return true;
	}
	return false;
}

static void test_category(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_vcard *b = NULL;
	struct vnp_tlv e, t;

	vt_select_login(f, f->card);
	/* 8E 01 02: authority */
	assert_int_equal(vt_tx(f, "80E000000F" "8001A2" "8201AA" "8E0102" "8C0430820001" "00"),
			 0x9000);
	assert_int_equal(f->resp[2], 0x40);
	/* no 8E: category 0, not reported */
	assert_int_equal(vt_tx(f, "80E000000C" "8001A2" "8201BB" "8C0430820002" "00"), 0x9000);
	assert_int_equal(f->resp[2], 0x41);
	/* bad: length, value, on a data object */
	assert_int_equal(vt_tx(f, "80E000000D" "8001A2" "8E020002" "8C0430820003" "00"), 0x6A80);
	assert_int_equal(vt_tx(f, "80E000000A" "8001A2" "8E0109" "8C023082" "00"), 0x6A80);
	assert_int_equal(vt_tx(f, "80E000000A" "8001A1" "8E0102" "8C023082" "00"), 0x6A80);
	assert_true(dir_cert(f, 0x40, &e));
	assert_int_equal(vnp_tlv_find(e.value, e.len, 0x8E, &t), VNP_OK);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.value[0], 0x02);
	assert_true(dir_cert(f, 0x41, &e));
	assert_int_equal(vnp_tlv_find(e.value, e.len, 0x8E, &t), VNP_E_NOT_FOUND);
	assert_string_equal(vt_state_value(f, "obj.40.category"), "02");
	assert_string_equal(vt_state_value(f, "obj.41.category"), "00");
	/* persisted */
	f->p->close(f->card);
	assert_int_equal(f->p->open(f->path, &b), 0);
	f->card = b;
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_true(dir_cert(f, 0x40, &e));
	assert_int_equal(vnp_tlv_find(e.value, e.len, 0x8E, &t), VNP_OK);
	assert_int_equal(t.value[0], 0x02);
}

/* SELECT tags 89 and 8B carry the unblock counter and its maximum. */
static void test_select_tags(void **state)
{
	struct vt_fix *f = *state;
	struct vnp_tlv t6f, t;
	uint8_t bad[VNP_RECOVERY_RESPONSE_LEN] = { 0 }, c[VNP_RECOVERY_CHALLENGE_LEN];

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	get_challenge(f, f->card, c);
	assert_int_equal(rrc(f, f->card, bad, NEW_PIN) & 0xFFF0, 0x63C0);
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x6F, &t6f), VNP_OK);
	assert_int_equal(vnp_tlv_find(t6f.value, t6f.len, 0x89, &t), VNP_OK);
	assert_int_equal(t.len, 2);
	assert_int_equal(t.value[0], 3);
	assert_int_equal(t.value[1], 9);
	assert_int_equal(vnp_tlv_find(t6f.value, t6f.len, 0x8B, &t), VNP_OK);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.value[0], 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vector, setup_key, vt_teardown),
		cmocka_unit_test_setup_teardown(test_unblock, setup_key, vt_teardown),
		cmocka_unit_test_setup_teardown(test_new_challenge_voids_old, setup_key,
						vt_teardown),
		cmocka_unit_test_setup_teardown(test_challenge_get_response, setup_key,
						vt_teardown),
		cmocka_unit_test_setup_teardown(test_no_pending, setup_key, vt_teardown),
		cmocka_unit_test_setup_teardown(test_terminate, setup_key, vt_teardown),
		cmocka_unit_test_setup_teardown(test_terminate_token_not_locked_by_pin, setup_key,
						vt_teardown),
		cmocka_unit_test_setup_teardown(test_no_recovery_key, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_unblock_status_readonly, setup_key,
						vt_teardown),
		cmocka_unit_test_setup_teardown(test_category, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_select_tags, setup_key, vt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
