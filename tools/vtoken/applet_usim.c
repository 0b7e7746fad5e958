/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A USIM stub on the virtual UICC (profile "sim"): SELECT by its AID answers an FCP
 * template (ETSI TS 102 221 §11.1.1.3) so that the card looks like a UICC carrying a
 * telecom application besides the SIM PKI applet; every other command answers 6D00. */
#include "vcard.h"

/* RID A0 00 00 00 87 (3GPP), application code 10 02 (USIM), then country/provider bytes. */
static const uint8_t usim_aid[] = { 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
				    0x84, 0xFF, 0xFF, 0x89, 0x06, 0x02, 0x00, 0xFF };

static uint16_t usim_select(struct vnp_vcard *card, struct vnp_buf *out)
{
	size_t fcp;

	(void)card;
	fcp = vnp_tlv_open(out, 0x62);
	vnp_tlv_put_uint(out, 0x82, 0x7821, 2); /* file descriptor: DF (ADF), shareable */
	vnp_tlv_put_uint(out, 0x83, 0x7FFF, 2); /* file identifier of the current ADF */
	vnp_tlv_put(out, 0x84, usim_aid, sizeof(usim_aid));
	vnp_tlv_put_uint(out, 0x8A, 0x05, 1);   /* life cycle: operational, activated */
	vnp_tlv_close(out, fcp);
	return 0x9000;
}

static uint16_t usim_process(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	(void)card;
	(void)c;
	(void)out;
	return 0x6D00;
}

const struct vnp_vt_applet vnp_vt_applet_usim = {
	.name = "usim",
	.aid = usim_aid,
	.aid_len = sizeof(usim_aid),
	.select = usim_select,
	.process = usim_process,
	.deselect = NULL,
};
