/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual PIV card application (SP 800-73-4 part 2 §3; PIV.md): SELECT answer
 * (application property template) and command dispatch. */
#include <string.h>

#include "applet_piv.h"
#include "rv.h"
#include "tlv.h"

static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00,
				   0x00, 0x10, 0x00, 0x01, 0x00 };
static const uint8_t piv_algs[] = { PIV_ALG_3DES, PIV_ALG_AES128, PIV_ALG_AES192,
				    PIV_ALG_AES256, PIV_ALG_RSA2048, PIV_ALG_RSA3072,
				    PIV_ALG_P256, PIV_ALG_P384 };

/* Application property template (part 2 Table 3). Re-selecting keeps the PIN status
 * and the management key status; a management key exchange in progress is dropped. */
static uint16_t piv_select(struct vnp_vcard *card, struct vnp_buf *out)
{
	static const char label[] = "VNPKI virtual PIV";
	size_t mark, inner;
	size_t i;

	card->piv.mgmt_step = 0;
	mark = vnp_tlv_open(out, 0x61);
	vnp_tlv_put(out, 0x4F, piv_aid + 5, sizeof(piv_aid) - 5); /* PIX */
	inner = vnp_tlv_open(out, 0x79);
	vnp_tlv_put(out, 0x4F, piv_aid, 5); /* NIST RID */
	vnp_tlv_close(out, inner);
	vnp_tlv_put(out, 0x50, label, sizeof(label) - 1);
	inner = vnp_tlv_open(out, 0xAC);
	for (i = 0; i < sizeof(piv_algs); i++)
		vnp_tlv_put_uint(out, 0x80, piv_algs[i], 1);
	vnp_tlv_put(out, 0x06, NULL, 0);
	vnp_tlv_close(out, inner);
	vnp_tlv_close(out, mark);
	return 0x9000;
}

static void piv_deselect(struct vnp_vcard *card)
{
	memset(&card->piv, 0, sizeof(card->piv));
}

static uint16_t piv_process(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			    struct vnp_buf *out)
{
	if (c->cla != 0x00)
		return 0x6E00; /* PIV: interindustry class only (CLA 10 chains are joined) */
	switch (c->ins) {
	case 0xCB: return vnp_vt_piv_get_data(card, c, out);
	case 0xDB: return vnp_vt_piv_put_data(card, c);
	case 0x20: return vnp_vt_piv_verify(card, c);
	case 0x24: return vnp_vt_piv_change(card, c);
	case 0x2C: return vnp_vt_piv_reset_retry(card, c);
	case 0x87: return vnp_vt_piv_general_auth(card, c, out);
	case 0x47: return vnp_vt_piv_generate(card, c, out);
	default: return 0x6D00;
	}
}

const struct vnp_vt_applet vnp_vt_applet_piv = {
	.name = "piv",
	.aid = piv_aid,
	.aid_len = sizeof(piv_aid),
	.select = piv_select,
	.process = piv_process,
	.deselect = piv_deselect,
	.aid_min_len = 5, /* the NIST RID; the 9-byte form without the version is usual */
};
