/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card transactions, reset recovery and driver detection. */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "compiler.h"
#include "detect.h"
#include "log.h"
#include "rv.h"
#include "sw.h"

static void end_outer(struct vnp_card *card)
{
	card->tx_depth = 0;
	card->in_transaction = false;
	if (card->io.ops && card->io.ops->end) {
		card->io.stats.reader_calls++;
		card->io.ops->end(card->io.reader);
	}
}

int vnp_card_begin(struct vnp_card *card)
{
	struct vnp_token_info info;
	int rv = VNP_OK;

	if (!card)
		return VNP_E_ARGS;
	if (card->tx_depth > 0) {
		card->tx_depth++;
		return VNP_OK;
	}
	if (card->io.ops && card->io.ops->begin) {
		card->io.stats.reader_calls++;
		rv = card->io.ops->begin(card->io.reader);
	}
	if (rv && rv != VNP_E_CARD_RESET)
		return rv;
	card->io.stats.transactions++;
	card->tx_depth = 1;
	card->in_transaction = true;
	if (rv == VNP_E_CARD_RESET) {
		/* The backend reconnected and holds the transaction: the applet is no longer
		 * selected and its volatile state is gone. Re-select inside this transaction. */
		card->reset_seen = true;
		vnp_log(VNP_LOG_CARD, "%s: card was reset, re-selecting", card->io.who);
		rv = VNP_OK;
		if (card->drv && card->drv->probe)
			rv = card->drv->probe(card, &info);
		if (rv) {
			vnp_warn("%s: re-select after reset failed: %s", card->io.who,
				 vnp_rv_text(rv));
			end_outer(card);
		}
	}
	return rv;
}

void vnp_card_end(struct vnp_card *card)
{
	if (!card || card->tx_depth == 0)
		return;
	if (--card->tx_depth == 0)
		end_outer(card);
}

/* Extended case 4 overhead: header 4, Lc 3, Le 2. */
#define EXT_OVERHEAD 9u

void vnp_card_io_limits(const struct vnp_card_io *io, size_t *ret_max_lc, size_t *ret_max_le)
{
	bool ext = io->caps.extended && io->card_extended;
	size_t max_lc = ext ? 65535u : 255u, max_le = ext ? 65536u : 256u;

	if (ext && io->caps.max_cmd > EXT_OVERHEAD)
		max_lc = VNP_MIN(max_lc, io->caps.max_cmd - EXT_OVERHEAD);
	if (io->card_max_cmd_data)
		max_lc = VNP_MIN(max_lc, io->card_max_cmd_data);
	if (ext && io->caps.max_resp > 2)
		max_le = VNP_MIN(max_le, io->caps.max_resp - 2);
	if (ext && io->card_max_resp_data)
		max_le = VNP_MIN(max_le, io->card_max_resp_data);
	*ret_max_lc = max_lc;
	*ret_max_le = max_le;
}

/* Whether a goes in one command and one answer: no chaining, no GET RESPONSE expected. */
static bool one_exchange(const struct vnp_card_io *io, const struct vnp_apdu *a)
{
	size_t max_lc, max_le;

	if (io->caps.t0 && a->lc && a->le)
		return false; /* T=0 case 4: the answer always comes through 61xx */
	vnp_card_io_limits(io, &max_lc, &max_le);
	return a->lc <= max_lc && a->le <= max_le;
}

/* An answer after which re-selecting the applet may help: the applet is not selected
 * (another client selected another one, or the card lost it) or our state is gone. */
static bool reselect_may_help(int rv, uint16_t sw)
{
	if (rv == VNP_E_CARD_RESET)
		return true;
	return rv != VNP_OK && (sw == 0x6999 || sw == 0x6A82 || sw == 0x6D00 || sw == 0x6982);
}

/* In a transaction: re-select when asked, then send a. */
static int run_in_transaction(struct vnp_card *card, struct vnp_apdu *a,
			      const struct vnp_sw_entry *applet_sw, bool reselect)
{
	struct vnp_token_info info;
	int rv = vnp_card_begin(card);

	if (rv)
		return rv;
	if (reselect && card->drv && card->drv->probe) {
		vnp_log(VNP_LOG_CARD, "%s: re-selecting the applet and trying once more",
			card->io.who);
		rv = card->drv->probe(card, &info);
	}
	if (rv == VNP_OK)
		rv = vnp_apdu_run(&card->io, a, applet_sw);
	vnp_card_end(card);
	return rv;
}

int vnp_card_run_one(struct vnp_card *card, struct vnp_apdu *a,
		     const struct vnp_sw_entry *applet_sw)
{
	int rv;

	if (!card || !a)
		return VNP_E_ARGS;
	if (card->tx_depth > 0)
		return vnp_apdu_run(&card->io, a, applet_sw);
	if (!one_exchange(&card->io, a))
		return run_in_transaction(card, a, applet_sw, false);
	rv = vnp_apdu_run(&card->io, a, applet_sw);
	if (rv == VNP_E_SHARING) /* another client holds a transaction: wait for ours */
		return run_in_transaction(card, a, applet_sw, false);
	if (!reselect_may_help(rv, a->sw))
		return rv;
	if (rv == VNP_E_CARD_RESET) {
		/* the backend has acknowledged the reset; the applet and PIN state are gone */
		card->reset_seen = true;
		vnp_log(VNP_LOG_CARD, "%s: card was reset", card->io.who);
	}
	return run_in_transaction(card, a, applet_sw, true);
}

int vnp_card_detect(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	const struct vnp_card_driver *drivers[VNP_DRIVERS_MAX];
	struct vnp_token_info info;
	uint8_t atr[VNP_ATR_MAX];
	size_t i, n, atr_len = sizeof(atr);
	int rv;

	if (!card)
		return VNP_E_ARGS;
	/* The order comes from the ATR (detect.c); without one, the default order. */
	if (!card->io.ops || !card->io.ops->atr ||
	    card->io.ops->atr(card->io.reader, atr, &atr_len) != VNP_OK)
		atr_len = 0;
	n = vnp_card_detect_order(atr, atr_len, drivers, VNP_ARRAY_SIZE(drivers));
	for (i = 0; i < n; i++) {
		const struct vnp_card_driver *d = drivers[i];

		if (card->drv && card->drv->release)
			card->drv->release(card);
		card->drv = d;
		memset(&info, 0, sizeof(info));
		rv = d->probe(card, &info);
		if (rv == VNP_OK) {
			vnp_log(VNP_LOG_CARD, "%s: card driver %s", card->io.who, d->name);
			if (ret_info)
				*ret_info = info;
			return VNP_OK;
		}
		if (d->release)
			d->release(card);
		card->drv = NULL;
		/* A card that does not know this applet answers with some error status word;
		 * transport failures end the detection. */
		if ((rv <= VNP_E_TRANSPORT && rv > VNP_E_CARD) || rv == VNP_E_NOMEM)
			return rv;
		vnp_log(VNP_LOG_CARD, "%s: not a %s card: %s", card->io.who, d->name,
			vnp_rv_text(rv));
	}
	return VNP_E_NOT_SUPPORTED;
}

void vnp_dir_free(struct vnp_dir *dir)
{
	if (!dir)
		return;
	free(dir->objs);
	free(dir);
}

void *vnp_card_drv_data(struct vnp_card *card, size_t size)
{
	if (!card->drv_data)
		card->drv_data = calloc(1, size);
	return card->drv_data;
}

void vnp_card_free_drv_data(struct vnp_card *card)
{
	free(card->drv_data);
	card->drv_data = NULL;
}
