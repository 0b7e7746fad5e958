/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIM PKI FCI (tools/vtoken/SIMPKI.md "SELECT answer"). The proprietary template A5 carries
 * the fields of the vntoken capability template, so its parser reads them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "simpki_int.h"
#include "tlv.h"
#include "vntoken_int.h"

const uint8_t vnp_simpki_aid[SIMPKI_AID_LEN] = { 0xF0, 0x56, 0x4E, 0x50, 0x4B,
						 0x49, 0x53, 0x49, 0x4D };

int vnp_simpki_parse_fci(const uint8_t *buf, size_t len, struct vnp_token_info *ret)
{
	struct vnp_token_info info;
	struct vnp_tlv fci, name, prop, puk;
	struct vnp_buf b;
	int rv;

	if (!buf || !ret)
		return VNP_E_ARGS;
	rv = vnp_tlv_find(buf, len, 0x6F, &fci);
	if (rv == VNP_OK && !fci.constructed)
		rv = VNP_E_MALFORMED;
	if (rv == VNP_OK) {
		rv = vnp_tlv_find(fci.value, fci.len, 0x84, &name);
		if (rv == VNP_OK && (name.len != SIMPKI_AID_LEN ||
				     memcmp(name.value, vnp_simpki_aid, SIMPKI_AID_LEN) != 0))
			return VNP_E_MALFORMED;
		if (rv == VNP_E_NOT_FOUND)
			rv = VNP_OK;
	}
	if (rv == VNP_OK)
		rv = vnp_tlv_find(fci.value, fci.len, 0xA5, &prop);
	if (rv == VNP_OK && !prop.constructed)
		rv = VNP_E_MALFORMED;
	if (rv == VNP_E_NOT_FOUND)
		rv = VNP_E_MALFORMED;
	if (rv)
		return rv;
	/* The vntoken parser wants its template 6F around the fields. */
	vnp_buf_init(&b);
	vnp_tlv_put(&b, VNT_TAG_FCI, prop.value, prop.len);
	rv = b.failed ? VNP_E_NOMEM : vnp_vntoken_parse_caps(b.p, b.len, &info);
	vnp_buf_free(&b);
	if (rv)
		return rv;
	info.type = VNP_DEVICE_SIM_PKI;
	info.so_kind = VNP_SO_PUK;
	info.puk_min = info.puk_max = SIMPKI_PUK_LEN;
	if (vnp_tlv_find(prop.value, prop.len, 0x8C, &puk) == VNP_OK) {
		if (puk.len != 2 || puk.value[0] == 0 || puk.value[0] > puk.value[1])
			return VNP_E_MALFORMED;
		info.puk_min = puk.value[0];
		info.puk_max = puk.value[1];
	}
	info.extended = false; /* T=0 card: short APDUs */
	if (!info.max_cmd_data || info.max_cmd_data > 255)
		info.max_cmd_data = 255;
	if (!info.max_resp_data || info.max_resp_data > 256)
		info.max_resp_data = 256;
	info.challenge_pending = false;
	snprintf(info.model, sizeof(info.model), "SIM PKI");
	*ret = info;
	return VNP_OK;
}
