/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vtoken reader backend against a fake plugin (FAKE_PLUGIN, FAKE_PLUGIN_BADABI env). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "rv.h"
#include "transport.h"

static char dir[] = "/tmp/vnp-test-vtoken-XXXXXX";
static char state0[PATH_MAX], state1[PATH_MAX];

static struct vnp_config *make_cfg(const char *plugin)
{
	struct vnp_config *c = malloc(sizeof(*c));

	assert_non_null(c);
	vnp_config_defaults(c);
	c->use_vtoken = true;
	snprintf(c->vtoken_plugin, sizeof(c->vtoken_plugin), "%s", plugin);
	c->n_vtoken_state = 2;
	snprintf(c->vtoken_state[0], PATH_MAX, "%s", state0);
	snprintf(c->vtoken_state[1], PATH_MAX, "%s", state1);
	return c;
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	unsetenv("VNPKI_VTOKEN_PLUGIN");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state0, sizeof(state0), "%s/token0.state", dir);
	snprintf(state1, sizeof(state1), "%s/token1.state", dir); /* not created: empty reader */
	f = fopen(state0, "w");
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(state0);
	unlink(state1);
	return rmdir(dir);
}

static void test_list_connect_transmit(void **state)
{
	static const uint8_t select[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x56, 0x4E,
					  0x50, 0x4B, 0x49, 0x54, 0x4B, 0x00 };
	struct vnp_config *cfg = make_cfg(getenv("FAKE_PLUGIN"));
	const struct vnp_reader_ops *ops = &vnp_reader_vtoken;
	struct vnp_reader_state st[4];
	struct vnp_reader_caps caps;
	struct vnp_backend *be = NULL;
	struct vnp_reader *r = NULL, *r2 = NULL;
	uint8_t *resp = malloc(VNP_APDU_BUF_MAX);
	uint8_t small[4], atr[VNP_ATR_MAX];
	size_t n = 0, rlen, alen = sizeof(atr);

	(void)state;
	assert_non_null(resp);
	assert_string_equal(ops->name, "vtoken");
	assert_int_equal(ops->open(cfg, &be), VNP_OK);
	assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
	assert_int_equal(n, 2);
	assert_string_equal(st[0].name, "vnpki virtual token 0");
	assert_string_equal(st[1].name, "vnpki virtual token 1");
	assert_true(st[0].card_present);
	assert_false(st[1].card_present);
	assert_int_equal(st[0].atr_len, 5);
	assert_memory_equal(st[0].atr, "\x3B\x80\x80\x01\x01", 5);
	assert_int_equal(ops->list(be, st, 1, &n), VNP_OK);
	assert_int_equal(n, 1);

	assert_int_equal(ops->connect(be, "vnpki virtual token 1", &r, &caps), VNP_E_NO_CARD);
	assert_int_equal(ops->connect(be, "vnpki virtual token 2", &r, &caps), VNP_E_NO_DEVICE);
	assert_int_equal(ops->connect(be, "other reader", &r, &caps), VNP_E_NO_DEVICE);
	assert_int_equal(ops->connect(be, "vnpki virtual token 0", &r, &caps), VNP_OK);
	assert_true(caps.extended);
	assert_int_equal(caps.max_cmd, 65536);
	assert_int_equal(caps.max_resp, 65536 + 2); /* data + SW */
	assert_false(caps.t0);
	assert_int_equal(ops->atr(r, atr, &alen), VNP_OK);
	assert_int_equal(alen, 5);

	assert_int_equal(ops->begin(r), VNP_OK);
	rlen = VNP_APDU_BUF_MAX;
	assert_int_equal(ops->transmit(r, select, sizeof(select), resp, &rlen), VNP_OK);
	assert_int_equal(rlen, sizeof(select) + 2);
	assert_memory_equal(resp, select, sizeof(select));
	assert_int_equal(resp[rlen - 2], 0x90);
	assert_int_equal(resp[rlen - 1], 0x00);
	/* a small buffer goes through the bounce buffer */
	rlen = sizeof(small);
	assert_int_equal(ops->transmit(r, select, 2, small, &rlen), VNP_OK);
	assert_int_equal(rlen, 4);
	assert_memory_equal(small, "\x00\xA4\x90\x00", 4);
	rlen = sizeof(small);
	assert_int_equal(ops->transmit(r, select, sizeof(select), small, &rlen),
			 VNP_E_BUFFER_TOO_SMALL);
	ops->end(r);

	/* removing the state file removes the card */
	{
		uint32_t ev = st[0].event_count;

		unlink(state0);
		assert_int_equal(ops->begin(r), VNP_E_NO_CARD);
		assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
		assert_false(st[0].card_present);
		assert_int_not_equal(st[0].event_count, ev);
		fclose(fopen(state0, "w"));
	}
	/* a state file the plugin refuses is no card; a repaired one is */
	{
		FILE *f = fopen(state0, "w");

		assert_non_null(f);
		fputs("bad state", f);
		fclose(f);
		assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
		assert_false(st[0].card_present);
		assert_int_equal(ops->connect(be, "vnpki virtual token 0", &r2, &caps),
				 VNP_E_MALFORMED);
		f = fopen(state0, "w");
		assert_non_null(f);
		fputs("good state, longer", f);
		fclose(f);
		assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
		assert_true(st[0].card_present);
		assert_int_equal(st[0].atr_len, 5);
		assert_int_equal(ops->list(be, st, 4, &n), VNP_OK); /* cached */
		assert_true(st[0].card_present);
	}
	ops->disconnect(r);
	ops->close(be);
	free(resp);
	free(cfg);
}

static void test_missing_plugin(void **state)
{
	struct vnp_config *cfg = make_cfg("/nonexistent/libvnpki-vtoken.so");
	struct vnp_backend *be = NULL;

	(void)state;
	assert_int_equal(vnp_reader_vtoken.open(cfg, &be), VNP_E_CONFIG);
	assert_null(be);
	/* the environment overrides the configuration */
	setenv("VNPKI_VTOKEN_PLUGIN", getenv("FAKE_PLUGIN"), 1);
	assert_int_equal(vnp_reader_vtoken.open(cfg, &be), VNP_OK);
	vnp_reader_vtoken.close(be);
	be = NULL;
	unsetenv("VNPKI_VTOKEN_PLUGIN");
	free(cfg);
}

static void test_bad_abi(void **state)
{
	struct vnp_config *cfg = make_cfg(getenv("FAKE_PLUGIN_BADABI"));
	struct vnp_backend *be = NULL;

	(void)state;
	assert_int_equal(access(cfg->vtoken_plugin, R_OK), 0); /* fails on the ABI, not the path */
	assert_int_equal(vnp_reader_vtoken.open(cfg, &be), VNP_E_CONFIG);
	assert_null(be);
	free(cfg);
}

/* The real plugin (tools/vtoken) behind this backend, when REAL_PLUGIN and VTOKEN_TOOL are set:
 * SELECT the vntoken applet and expect 90 00. */
static void test_real_plugin(void **state)
{
	static const uint8_t select[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x56, 0x4E,
					  0x50, 0x4B, 0x49, 0x54, 0x4B, 0x00 };
	const char *plugin = getenv("REAL_PLUGIN"), *tool = getenv("VTOKEN_TOOL");
	struct vnp_config *cfg;
	struct vnp_backend *be = NULL;
	struct vnp_reader *r = NULL;
	struct vnp_reader_state st[2];
	struct vnp_reader_caps caps;
	char statef[PATH_MAX], cmd[3 * PATH_MAX];
	uint8_t *resp = malloc(VNP_APDU_BUF_MAX);
	size_t n, rlen = VNP_APDU_BUF_MAX;

	(void)state;
	assert_non_null(resp);
	if (!plugin || !tool || access(plugin, R_OK) || access(tool, X_OK)) {
		free(resp);
		skip();
	}
	snprintf(statef, sizeof(statef), "%s/real.state", dir);
	snprintf(cmd, sizeof(cmd),
		 "ASAN_OPTIONS=detect_leaks=0 '%s' init --state '%s' --serial 5654000000000001 --label T --pin 123456 >/dev/null",
		 tool, statef);
	assert_int_equal(system(cmd), 0);
	cfg = make_cfg(plugin);
	cfg->n_vtoken_state = 1;
	snprintf(cfg->vtoken_state[0], PATH_MAX, "%s", statef);
	assert_int_equal(vnp_reader_vtoken.open(cfg, &be), VNP_OK);
	assert_int_equal(vnp_reader_vtoken.list(be, st, 2, &n), VNP_OK);
	assert_int_equal(n, 1);
	assert_true(st[0].card_present);
	assert_true(st[0].atr_len > 2);
	assert_int_equal(vnp_reader_vtoken.connect(be, st[0].name, &r, &caps), VNP_OK);
	assert_int_equal(vnp_reader_vtoken.begin(r), VNP_OK);
	assert_int_equal(vnp_reader_vtoken.transmit(r, select, sizeof(select), resp, &rlen), VNP_OK);
	assert_true(rlen >= 2);
	assert_int_equal(resp[rlen - 2], 0x90);
	assert_int_equal(resp[rlen - 1], 0x00);
	vnp_reader_vtoken.end(r);
	vnp_reader_vtoken.disconnect(r);
	vnp_reader_vtoken.close(be);
	snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s'.*", statef, statef);
	assert_int_equal(system(cmd), 0);
	free(cfg);
	free(resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_connect_transmit),
		cmocka_unit_test(test_missing_plugin),
		cmocka_unit_test(test_bad_abi),
		cmocka_unit_test(test_real_plugin),
	};

	if (!getenv("FAKE_PLUGIN") || !getenv("FAKE_PLUGIN_BADABI"))
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
