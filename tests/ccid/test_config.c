/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for ccid/config.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "rv.h"
#include "vnp_build_config.h"

static struct vnp_config *cfg_new(void)
{
	struct vnp_config *c = malloc(sizeof(*c));

	assert_non_null(c);
	vnp_config_defaults(c);
	return c;
}

static void test_defaults(void **state)
{
	struct vnp_config *c = cfg_new();

	(void)state;
	assert_true(c->use_pcsc);
	assert_false(c->use_vtoken);
	assert_true(c->pcsc_first);
	assert_int_equal(c->n_vtoken_state, 0);
	assert_string_equal(c->vtoken_plugin, VNP_VTOKEN_PLUGIN_DEFAULT);
	assert_string_equal(c->log, "");
	free(c);
}

static void test_valid(void **state)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"   # indented comment\n"
		"readers = vtoken, pcsc   # trailing comment\n"
		"vtoken.state = /tmp/a#b.state\n"
		"vtoken.state=/tmp/two.state\n"
		"\tvtoken.plugin = \"/opt/x/libvnpki-vtoken.so\"  \r\n"
		"log = p11,apdu\n"
		"log.file = /tmp/vnpki.log\n"
		"cache.dir = /var/cache/vnpki";
	struct vnp_config *c = cfg_new();

	(void)state;
	assert_int_equal(vnp_config_parse_string(c, text, "t"), VNP_OK);
	assert_true(c->use_pcsc);
	assert_true(c->use_vtoken);
	assert_false(c->pcsc_first);
	assert_int_equal(c->n_vtoken_state, 2);
	assert_string_equal(c->vtoken_state[0], "/tmp/a#b.state");
	assert_string_equal(c->vtoken_state[1], "/tmp/two.state");
	assert_string_equal(c->vtoken_plugin, "/opt/x/libvnpki-vtoken.so");
	assert_string_equal(c->log, "p11,apdu");
	assert_string_equal(c->log_file, "/tmp/vnpki.log");
	assert_string_equal(c->cache_dir, "/var/cache/vnpki");
	free(c);
}

static const struct {
	const char *text;
	bool pcsc, vtoken, pcsc_first;
} reader_cases[] = {
	{ "readers = pcsc", true, false, true },
	{ "readers = vtoken", false, true, false },
	{ "readers = pcsc,vtoken", true, true, true },
	{ "readers = vtoken , pcsc", true, true, false },
	{ "readers = usb, vtoken", false, true, false }, /* unknown backend: ignored */
};

static void test_readers_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reader_cases) / sizeof(reader_cases[0]); i++) {
		struct vnp_config *c = cfg_new();

		assert_int_equal(vnp_config_parse_string(c, reader_cases[i].text, "t"), VNP_OK);
		assert_int_equal(c->use_pcsc, reader_cases[i].pcsc);
		assert_int_equal(c->use_vtoken, reader_cases[i].vtoken);
		assert_int_equal(c->pcsc_first, reader_cases[i].pcsc_first);
		free(c);
	}
}

static const char *const malformed[] = {
	"readers pcsc\n",
	"log = all\njust words\n",
	"= value\n",
	"bad key = 1\n",
	"readers = pcsc,,vtoken\n",
	"vtoken.state =\n",
	("vtoken.state=/1\nvtoken.state=/2\nvtoken.state=/3\nvtoken.state=/4\n"
	 "vtoken.state=/5\nvtoken.state=/6\nvtoken.state=/7\nvtoken.state=/8\nvtoken.state=/9\n"),
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		struct vnp_config *c = cfg_new();

		assert_int_equal(vnp_config_parse_string(c, malformed[i], "t"), VNP_E_CONFIG);
		/* cfg untouched on error */
		assert_string_equal(c->log, "");
		assert_int_equal(c->n_vtoken_state, 0);
		free(c);
	}
}

static void test_long_value(void **state)
{
	struct vnp_config *c = cfg_new();
	char *text = malloc(PATH_MAX + 32);

	(void)state;
	assert_non_null(text);
	strcpy(text, "log.file = /");
	memset(text + strlen(text), 'a', PATH_MAX);
	text[12 + PATH_MAX] = '\0';
	assert_int_equal(vnp_config_parse_string(c, text, "t"), VNP_E_CONFIG);
	free(text);
	free(c);
}

static void test_unknown_key(void **state)
{
	struct vnp_config *c = cfg_new();

	(void)state;
	assert_int_equal(vnp_config_parse_string(c, "frobnicate = yes\nlog = card\n", "t"), VNP_OK);
	assert_string_equal(c->log, "card");
	free(c);
}

static char tmpdir[] = "/tmp/vnp-test-config-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_files_and_override(void **state)
{
	char xdg[PATH_MAX], user[PATH_MAX], env[PATH_MAX], bad[PATH_MAX], sub[PATH_MAX];
	struct vnp_config *c = malloc(sizeof(*c));

	(void)state;
	assert_non_null(c);
	snprintf(xdg, sizeof(xdg), "%s/xdg", tmpdir);
	snprintf(sub, sizeof(sub), "%s/xdg/vnpki", tmpdir);
	snprintf(user, sizeof(user), "%s/xdg/vnpki/vnpki.conf", tmpdir);
	snprintf(env, sizeof(env), "%s/env.conf", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad.conf", tmpdir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(user, "readers = pcsc, vtoken\nvtoken.state = /user/1\nvtoken.state = /user/2\n"
			 "log = p11\n");
	write_file(env, "vtoken.state = /env/1\ncache.dir = /env/cache\n");
	write_file(bad, "readers = vtoken\noops\n");
	setenv("XDG_CONFIG_HOME", xdg, 1);

	/* no VNPKI_CONF: the user file only */
	unsetenv("VNPKI_CONF");
	assert_int_equal(vnp_config_load(c), VNP_OK);
	assert_true(c->use_vtoken);
	assert_int_equal(c->n_vtoken_state, 2);
	assert_string_equal(c->vtoken_state[1], "/user/2");

	/* VNPKI_CONF overrides the keys it sets, keeps the others */
	setenv("VNPKI_CONF", env, 1);
	assert_int_equal(vnp_config_load(c), VNP_OK);
	assert_true(c->use_vtoken);
	assert_string_equal(c->log, "p11");
	assert_int_equal(c->n_vtoken_state, 1);
	assert_string_equal(c->vtoken_state[0], "/env/1");
	assert_string_equal(c->cache_dir, "/env/cache");

	/* a missing file is not an error */
	setenv("VNPKI_CONF", "/nonexistent/vnpki.conf", 1);
	assert_int_equal(vnp_config_load(c), VNP_OK);

	/* a malformed file is */
	setenv("VNPKI_CONF", bad, 1);
	assert_int_equal(vnp_config_load(c), VNP_E_CONFIG);
	assert_int_equal(vnp_config_parse_file(c, bad), VNP_E_CONFIG);
	assert_int_equal(vnp_config_parse_file(c, "/nonexistent/x"), VNP_E_IO);

	unlink(user);
	unlink(env);
	unlink(bad);
	rmdir(sub);
	rmdir(xdg);
	unsetenv("VNPKI_CONF");
	free(c);
}

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_readers_order),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test_setup_teardown(test_files_and_override, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
