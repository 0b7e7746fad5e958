/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers: a temporary token state and the real plugin (dlopen'ed). */
#ifndef VT_HELPERS_H
#define VT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "vtoken_plugin.h"

#define VT_PIN "123456"
#define VT_RESP_MAX 70000

struct vt_fix {
	char dir[64];
	char path[128];
	void *dl;
	const struct vnp_vtoken_plugin *p;
	struct vnp_vcard *card;
	uint8_t *resp;  /* last response data (without SW) */
	size_t resp_len;
};

/* Create a state file at path (PIN VT_PIN, 3 tries). */
void vt_make_state(const char *path, bool short_only);
/* cmocka setup/teardown: temp dir + state + plugin + one card (not selected). */
int vt_setup(void **state);
int vt_setup_short(void **state);
int vt_teardown(void **state);
/* Send a command in hex (spaces allowed); returns the SW; data in f->resp. */
uint16_t vt_tx(struct vt_fix *f, const char *hex);
uint16_t vt_tx_card(struct vt_fix *f, struct vnp_vcard *card, const char *hex);
/* Send raw bytes. */
uint16_t vt_txb(struct vt_fix *f, struct vnp_vcard *card, const uint8_t *cmd, size_t len);
/* SELECT the applet and VERIFY the PIN; asserts 9000 both. */
void vt_select_login(struct vt_fix *f, struct vnp_vcard *card);
/* Read the state file and return the value of key (static buffer) or NULL. */
const char *vt_state_value(const struct vt_fix *f, const char *key);
/* Decode hex into out; returns the length. */
size_t vt_hex(const char *hex, uint8_t *out, size_t cap);

#endif
