/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two processes hammer one state file with VERIFY (wrong, then right) and CREATE OBJECT:
 * the lock must serialise them so that no write is lost (change counter = objects created,
 * every object present, PIN counter back to its maximum). Also: the state file is 0600 and
 * does not hold the PIN in clear. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_helpers.h"

/* With 3 PIN tries and 2 children at most 2 wrong PINs are outstanding: never locked. */
#define CHILDREN 2
#define ROUNDS 20 /* CHILDREN * ROUNDS data objects: the applet holds 64 (80..BF) */

#define SELECT "00A4040008F0564E504B49544B00"
#define VERIFY_OK "0020008106313233343536"
#define VERIFY_BAD "0020008106303030303030"
/* CREATE a public data object: type A1, label "h", app "a", value 4 bytes */
#define CREATE "80E0000015" "8001A1" "820101" "830168" "890161" "8B0100" "8C0401020304" "00"

/* One child: its own card instance over the shared file. Exit status 0 when every answer
 * was as expected. */
static int child(struct vt_fix *f)
{
	struct vnp_vcard *card = NULL;
	uint16_t sw;
	int bad = 0;

	if (f->p->open(f->path, &card) != 0)
		return 10;
	if (vt_tx_card(f, card, SELECT) != 0x9000)
		bad = 11;
	for (int i = 0; i < ROUNDS && !bad; i++) {
		sw = vt_tx_card(f, card, VERIFY_BAD);
		if (sw != 0x63C1 && sw != 0x63C2)
			bad = 12;
		else if ((sw = vt_tx_card(f, card, VERIFY_OK)) != 0x9000)
			bad = 13;
		else if ((sw = vt_tx_card(f, card, CREATE)) != 0x9000)
			bad = 15;
		if (bad)
			fprintf(stderr, "# child %d round %d: SW %04X (%d)\n", (int)getpid(), i, sw,
				bad);
	}
	f->p->close(card);
	return bad;
}

static unsigned count_objects(const char *path)
{
	char line[512];
	unsigned n = 0;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "obj.", 4) && strstr(line, ".type=a1"))
			n++;
	fclose(fp);
	return n;
}

static void test_hammer(void **state)
{
	struct vt_fix *f = *state;
	pid_t pids[CHILDREN];
	int status, failed = 0;
	char want[16];

	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child(f));
	}
	for (int i = 0; i < CHILDREN; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	assert_int_equal(failed, 0);
	snprintf(want, sizeof(want), "%d", CHILDREN * ROUNDS);
	assert_string_equal(vt_state_value(f, "counter"), want);
	assert_int_equal(count_objects(f->path), CHILDREN * ROUNDS);
	assert_string_equal(vt_state_value(f, "pin_tries"), "3");
	/* the parent's card sees the same token */
	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, "0020008100"), 0x63C3);
}

static void test_file_mode_and_no_clear_pin(void **state)
{
	struct vt_fix *f = *state;
	struct stat sb;
	char lock[160], text[65536];
	size_t n;
	FILE *fp;

	assert_int_equal(vt_tx(f, SELECT), 0x9000);
	assert_int_equal(vt_tx(f, "002400810D06313233343536393837363534"), 0x9000);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_mode & 0077, 0);
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	/* neither the old nor the new PIN, in ASCII or in hex */
	assert_null(strstr(text, "123456"));
	assert_null(strstr(text, "313233343536"));
	assert_null(strstr(text, "987654"));
	assert_null(strstr(text, "393837363534"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hammer, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_file_mode_and_no_clear_pin, vt_setup,
						vt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
