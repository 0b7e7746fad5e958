/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ABI between the in-process `vtoken` reader backend (ccid/vtoken.c) and the virtual
 * token plugin (tools/vtoken/, libvnpki-vtoken.so). The module carries no emulator code:
 * ccid/vtoken.c dlopen()s the plugin only when the configuration names a vtoken reader,
 * and looks up one symbol, VNP_VTOKEN_PLUGIN_SYMBOL, a function returning this table. */
#ifndef VNP_VTOKEN_PLUGIN_H
#define VNP_VTOKEN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define VNP_VTOKEN_PLUGIN_ABI 1
#define VNP_VTOKEN_PLUGIN_SYMBOL "vnp_vtoken_plugin_v1"

struct vnp_vcard; /* one powered card instance over one state file */

struct vnp_vtoken_plugin {
	unsigned abi; /* VNP_VTOKEN_PLUGIN_ABI */
	/* Power a card on from its state file. Returns 0, or a negative enum vnp_rv
	 * (VNP_E_IO when the state file is missing or unreadable). */
	int (*open)(const char *state_path, struct vnp_vcard **ret);
	void (*close)(struct vnp_vcard *card);
	/* ATR of the card; returns its length (<= 33). */
	size_t (*atr)(struct vnp_vcard *card, uint8_t *atr);
	/* Warm reset: drops volatile state (PIN verified, security environment,
	 * pending response data, selected applet). */
	void (*reset)(struct vnp_vcard *card);
	/* Process one command APDU; writes the response with SW1 SW2 into resp (capacity
	 * *resp_len on entry, >= 65538), sets *resp_len. Returns 0 or a negative enum vnp_rv
	 * for a host failure (a card-level error is a status word, not a return value). */
	int (*transmit)(struct vnp_vcard *card, const uint8_t *cmd, size_t cmd_len,
			uint8_t *resp, size_t *resp_len);
};

typedef const struct vnp_vtoken_plugin *(*vnp_vtoken_plugin_fn)(void);

#endif
