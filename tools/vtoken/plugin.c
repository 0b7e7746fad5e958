/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvnpki-vtoken.so: the virtual token as an in-process card, behind the plugin ABI of
 * ccid/vtoken_plugin.h. The only exported symbol is vnp_vtoken_plugin_v1. */
#include <stdlib.h>

#include "compiler.h"
#include "rv.h"
#include "vcard.h"
#include "vtoken_plugin.h"

/* VNPKI_VTOKEN_SIGN_MS: the in-process card's time per private-key operation (as `serve
 * --sign-ms`), to model a real token in tests and benchmarks. */
static int plugin_open(const char *state_path, struct vnp_vcard **ret)
{
	const char *ms = secure_getenv("VNPKI_VTOKEN_SIGN_MS");
	int rv = vnp_vcard_open(state_path, ret);

	if (rv == VNP_OK && ms)
		(*ret)->sign_ms = (unsigned)strtoul(ms, NULL, 10);
	return rv;
}

static void plugin_close(struct vnp_vcard *card)
{
	vnp_vcard_close(card);
}

static size_t plugin_atr(struct vnp_vcard *card, uint8_t *atr)
{
	return vnp_vcard_atr_of(card, atr);
}

static void plugin_reset(struct vnp_vcard *card)
{
	vnp_vcard_reset(card);
}

static int plugin_transmit(struct vnp_vcard *card, const uint8_t *cmd, size_t cmd_len,
			   uint8_t *resp, size_t *resp_len)
{
	return vnp_vcard_transmit(card, cmd, cmd_len, resp, resp_len);
}

static const struct vnp_vtoken_plugin plugin = {
	.abi = VNP_VTOKEN_PLUGIN_ABI,
	.open = plugin_open,
	.close = plugin_close,
	.atr = plugin_atr,
	.reset = plugin_reset,
	.transmit = plugin_transmit,
};

/* The plugin's table (static, never NULL). */
VNP_EXPORT const struct vnp_vtoken_plugin *vnp_vtoken_plugin_v1(void);
const struct vnp_vtoken_plugin *vnp_vtoken_plugin_v1(void)
{
	return &plugin;
}
