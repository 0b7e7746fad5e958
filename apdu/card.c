/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card transactions, reset recovery and driver detection. */
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "compiler.h"
#include "log.h"
#include "rv.h"

static const struct vnp_card_driver *const drivers[] = {
	&vnp_driver_vntoken,
	&vnp_driver_piv,
};

static void end_outer(struct vnp_card *card)
{
	card->tx_depth = 0;
	card->in_transaction = false;
	if (card->io.ops && card->io.ops->end)
		card->io.ops->end(card->io.reader);
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
	if (card->io.ops && card->io.ops->begin)
		rv = card->io.ops->begin(card->io.reader);
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

int vnp_card_detect(struct vnp_card *card, struct vnp_token_info *ret_info)
{
	struct vnp_token_info info;
	size_t i;
	int rv;

	if (!card)
		return VNP_E_ARGS;
	for (i = 0; i < VNP_ARRAY_SIZE(drivers); i++) {
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

void vnp_card_free_drv_data(struct vnp_card *card)
{
	free(card->drv_data);
	card->drv_data = NULL;
}
