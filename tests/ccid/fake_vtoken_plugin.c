/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tiny stand-in for libvnpki-vtoken.so: a card that answers every command with its own
 * bytes followed by 90 00. FAKE_ABI overrides the ABI number (for the mismatch test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "rv.h"
#include "vtoken_plugin.h"

#ifndef FAKE_ABI
#define FAKE_ABI VNP_VTOKEN_PLUGIN_ABI
#endif

struct vnp_vcard {
	int resets;
};

/* A state file that starts with "bad" does not power on. */
static int fake_open(const char *state_path, struct vnp_vcard **ret)
{
	char head[4] = { 0 };
	FILE *f = fopen(state_path, "r");

	if (!f)
		return VNP_E_IO;
	if (fread(head, 1, 3, f) == 3 && !strcmp(head, "bad")) {
		fclose(f);
		return VNP_E_MALFORMED;
	}
	fclose(f);
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : VNP_E_NOMEM;
}

static void fake_close(struct vnp_vcard *card)
{
	free(card);
}

static size_t fake_atr(struct vnp_vcard *card, uint8_t *atr)
{
	static const uint8_t a[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };

	(void)card;
	memcpy(atr, a, sizeof(a));
	return sizeof(a);
}

static void fake_reset(struct vnp_vcard *card)
{
	card->resets++;
}

static int fake_transmit(struct vnp_vcard *card, const uint8_t *cmd, size_t cmd_len,
			 uint8_t *resp, size_t *resp_len)
{
	(void)card;
	if (*resp_len < cmd_len + 2)
		return VNP_E_BUFFER_TOO_SMALL;
	memcpy(resp, cmd, cmd_len);
	resp[cmd_len] = 0x90;
	resp[cmd_len + 1] = 0x00;
	*resp_len = cmd_len + 2;
	return 0;
}

static const struct vnp_vtoken_plugin fake = {
	.abi = FAKE_ABI,
	.open = fake_open,
	.close = fake_close,
	.atr = fake_atr,
	.reset = fake_reset,
	.transmit = fake_transmit,
};

VNP_EXPORT const struct vnp_vtoken_plugin *vnp_vtoken_plugin_v1(void);

VNP_EXPORT const struct vnp_vtoken_plugin *vnp_vtoken_plugin_v1(void)
{
	return &fake;
}
