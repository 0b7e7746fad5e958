/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for ccid/log.c: categories, line format, APDU redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static char logpath[] = "/tmp/vnp-test-log-XXXXXX";

static char *slurp(void)
{
	FILE *f = fopen(logpath, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	int fd = mkstemp(logpath);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	setenv("VNP_DEBUG_FILE", logpath, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vnp_log_close();
	unsetenv("VNP_DEBUG_FILE");
	unsetenv("VNP_DEBUG");
	return unlink(logpath);
}

static void reset_file(void)
{
	FILE *f = fopen(logpath, "w");

	assert_non_null(f);
	fclose(f);
}

static void test_off_by_default(void **state)
{
	char *text;

	(void)state;
	unsetenv("VNP_DEBUG");
	reset_file();
	vnp_log_setup(NULL, NULL);
	assert_false(vnp_log_enabled(VNP_LOG_WARN));
	vnp_warn("should not appear %d", 1);
	vnp_log_apdu("slot0", true, (const uint8_t *)"\x00\xA4\x04\x00", 4, false);
	text = slurp();
	assert_string_equal(text, "");
	free(text);
}

static void test_categories(void **state)
{
	char *text;

	(void)state;
	reset_file();
	setenv("VNP_DEBUG", "reader", 1);
	vnp_log_setup("apdu", NULL); /* env wins over config */
	assert_true(vnp_log_enabled(VNP_LOG_READER));
	assert_true(vnp_log_enabled(VNP_LOG_WARN));
	assert_false(vnp_log_enabled(VNP_LOG_APDU));
	vnp_log(VNP_LOG_READER, "reader %s", "one");
	vnp_log(VNP_LOG_P11, "p11 %s", "hidden");
	text = slurp();
	assert_non_null(strstr(text, "reader one\n"));
	assert_null(strstr(text, "hidden"));
	/* line format: vnpki[pid/tid] +NNNNNNus text */
	{
		char want[64];

		snprintf(want, sizeof(want), "vnpki[%ld/", (long)getpid());
		assert_memory_equal(text, want, strlen(want));
		assert_non_null(strstr(text, "] +000000us reader one"));
	}
	free(text);

	unsetenv("VNP_DEBUG");
	vnp_log_setup("p11, card", NULL);
	assert_true(vnp_log_enabled(VNP_LOG_P11));
	assert_true(vnp_log_enabled(VNP_LOG_CARD));
	assert_false(vnp_log_enabled(VNP_LOG_APDU));
	vnp_log_setup("all", NULL);
	assert_true(vnp_log_enabled(VNP_LOG_APDU | VNP_LOG_READER));
}

static const struct {
	const char *name;
	bool to_card;
	const char *apdu;
	size_t len;
	const char *want;   /* must appear */
	const char *secret; /* hex that must not appear */
} redact_cases[] = {
	{ "verify", true, "\x00\x20\x00\x80\x06" "123456", 11,
	  "slot0 -> 00 20 00 80 06 <redacted 6 bytes>\n", "31 32 33" },
	{ "change ref extended", true, "\x00\x24\x00\x80\x00\x00\x0c" "123456654321", 19,
	  "slot0 -> 00 24 00 80 00 00 0C <redacted 12 bytes>\n", "36 35 34" },
	{ "response", false, "\xde\xad\xbe\xef\x90\x00", 6,
	  "slot0 <- <redacted 4 bytes> 90 00 (SW 9000)\n", "DE AD" },
};

static void test_apdu_redaction(void **state)
{
	(void)state;
	setenv("VNP_DEBUG", "apdu", 1);
	vnp_log_setup(NULL, NULL);
	for (size_t i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
		char *text;

		reset_file();
		vnp_log_apdu("slot0", redact_cases[i].to_card,
			     (const uint8_t *)redact_cases[i].apdu, redact_cases[i].len, true);
		text = slurp();
		print_message("# %s: %s", redact_cases[i].name, text);
		assert_non_null(strstr(text, redact_cases[i].want));
		assert_null(strstr(text, redact_cases[i].secret));
		assert_null(strstr(text, "123456"));
		assert_non_null(strstr(text, "<redacted"));
		free(text);
	}
}

static void test_apdu_plain(void **state)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00 };
	static const uint8_t rsp[] = { 0x01, 0x02, 0x6A, 0x82 };
	char *text;

	(void)state;
	setenv("VNP_DEBUG", "apdu", 1);
	vnp_log_setup(NULL, NULL);
	reset_file();
	vnp_log_apdu("slot1", true, sel, sizeof(sel), false);
	vnp_log_apdu("slot1", false, rsp, sizeof(rsp), false);
	text = slurp();
	assert_non_null(strstr(text, "slot1 -> 00 A4 04 00 02 3F 00\n"));
	assert_non_null(strstr(text, "slot1 <- 01 02 6A 82 (SW 6A82)\n"));
	assert_null(strstr(text, "redacted"));
	free(text);
}

#define THREADS 4
#define LINES 200

static void *writer(void *arg)
{
	static const uint8_t pin[] = { 0x00, 0x20, 0x00, 0x80, 0x04, 0x39, 0x38, 0x37, 0x36 };

	for (int i = 0; i < LINES; i++) {
		vnp_log(VNP_LOG_CARD, "thread %ld line %d end", (long)(intptr_t)arg, i);
		vnp_log_apdu("t", true, pin, sizeof(pin), true);
	}
	return NULL;
}

/* Lines from concurrent threads never interleave and every line has the prefix. */
static void test_threads(void **state)
{
	pthread_t th[THREADS];
	char *text, *save = NULL;
	int lines = 0;

	(void)state;
	setenv("VNP_DEBUG", "card,apdu", 1);
	vnp_log_setup(NULL, NULL);
	reset_file();
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	text = slurp();
	assert_null(strstr(text, "39 38"));
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		assert_memory_equal(l, "vnpki[", 6);
		assert_true(strstr(l, " end") || strstr(l, "t -> 00 20 00 80 04 <redacted 4 bytes>"));
		lines++;
	}
	assert_int_equal(lines, 2 * THREADS * LINES);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_by_default),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_apdu_redaction),
		cmocka_unit_test(test_apdu_plain),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
