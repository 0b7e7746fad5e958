/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers for the virtual token. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "keys.h"
#include "rv.h"
#include "state.h"
#include "util.h"
#include "vt_helpers.h"

void vt_make_state(const char *path, bool short_only)
{
	struct vnp_vt_state *st = NULL;
	static const uint8_t serial[8] = { 0x56, 0x54, 0, 0, 0, 0, 0, 0x01 };

	assert_int_equal(vnp_vt_state_new(path, &st), VNP_OK);
	memcpy(st->d.serial, serial, 8);
	memcpy(st->d.label, "Test token", 10);
	st->d.label_len = 10;
	if (short_only) {
		st->d.extended = false;
		st->d.max_nc = 255;
		st->d.max_ne = 256;
	}
	assert_int_equal(RAND_bytes(st->d.pin_salt, sizeof(st->d.pin_salt)), 1);
	assert_int_equal(vnp_vt_pin_hash(st->libctx, st->d.pin_salt, sizeof(st->d.pin_salt),
					 (const uint8_t *)VT_PIN, strlen(VT_PIN), st->d.pin_hash),
			 VNP_OK);
	assert_int_equal(vnp_vt_state_create(st, false), VNP_OK);
	vnp_vt_state_free(st);
}

static int setup(void **state, bool short_only)
{
	struct vt_fix *f = calloc(1, sizeof(*f));
	vnp_vtoken_plugin_fn fn;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/vtoken-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/token.state", f->dir);
	vt_make_state(f->path, short_only);
	f->dl = dlopen(VT_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!f->dl)
		fail_msg("dlopen %s: %s", VT_PLUGIN_PATH, dlerror());
	fn = (vnp_vtoken_plugin_fn)dlsym(f->dl, VNP_VTOKEN_PLUGIN_SYMBOL);
	assert_non_null(fn);
	f->p = fn();
	assert_non_null(f->p);
	assert_int_equal(f->p->abi, VNP_VTOKEN_PLUGIN_ABI);
	assert_int_equal(f->p->open(f->path, &f->card), 0);
	f->resp = malloc(VT_RESP_MAX);
	assert_non_null(f->resp);
	*state = f;
	return 0;
}

int vt_setup(void **state)
{
	return setup(state, false);
}

int vt_setup_short(void **state)
{
	return setup(state, true);
}

int vt_teardown(void **state)
{
	struct vt_fix *f = *state;
	char cmd[200];

	f->p->close(f->card);
	dlclose(f->dl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f->resp);
	free(f);
	return 0;
}

size_t vt_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_int_equal(vnp_hex_decode(hex, strlen(hex), out, cap, &n), VNP_OK);
	return n;
}

uint16_t vt_txb(struct vt_fix *f, struct vnp_vcard *card, const uint8_t *cmd, size_t len)
{
	size_t rlen = VT_RESP_MAX;

	assert_int_equal(f->p->transmit(card, cmd, len, f->resp, &rlen), 0);
	assert_true(rlen >= 2);
	f->resp_len = rlen - 2;
	return (uint16_t)(f->resp[rlen - 2] << 8 | f->resp[rlen - 1]);
}

uint16_t vt_tx_card(struct vt_fix *f, struct vnp_vcard *card, const char *hex)
{
	static uint8_t cmd[VT_RESP_MAX];
	size_t n = vt_hex(hex, cmd, sizeof(cmd));

	return vt_txb(f, card, cmd, n);
}

uint16_t vt_tx(struct vt_fix *f, const char *hex)
{
	return vt_tx_card(f, f->card, hex);
}

void vt_select_login(struct vt_fix *f, struct vnp_vcard *card)
{
	assert_int_equal(vt_tx_card(f, card, "00A4040008F0564E504B49544B00"), 0x9000);
	assert_int_equal(vt_tx_card(f, card, "0020008106313233343536"), 0x9000);
}

const char *vt_state_value(const struct vt_fix *f, const char *key)
{
	static char line[200000];
	size_t klen = strlen(key);
	const char *ret = NULL;
	FILE *fp = fopen(f->path, "r");

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			line[strcspn(line, "\n")] = 0;
			ret = line + klen + 1;
			break;
		}
	}
	fclose(fp);
	return ret;
}
