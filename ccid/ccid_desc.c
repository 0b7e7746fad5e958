/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CCID class descriptor parsing (CCID 1.1 §5.1). */
#include <string.h>

#include "ccid_desc.h"
#include "rv.h"

/* Reads at a fixed offset; the caller has checked that buf holds VNP_CCID_DESC_LEN bytes. */
static uint16_t le16(const uint8_t *buf, size_t off)
{
	return (uint16_t)(buf[off] | buf[off + 1] << 8);
}

static uint32_t le32(const uint8_t *buf, size_t off)
{
	return (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 | (uint32_t)buf[off + 2] << 16 |
	       (uint32_t)buf[off + 3] << 24;
}

enum vnp_ccid_level vnp_ccid_desc_level(uint32_t dwFeatures)
{
	if (dwFeatures & VNP_CCID_FEAT_EXT_APDU)
		return VNP_CCID_LEVEL_EXTENDED_APDU;
	if (dwFeatures & VNP_CCID_FEAT_SHORT_APDU)
		return VNP_CCID_LEVEL_SHORT_APDU;
	if (dwFeatures & VNP_CCID_FEAT_TPDU)
		return VNP_CCID_LEVEL_TPDU;
	return VNP_CCID_LEVEL_CHARACTER;
}

int vnp_ccid_desc_parse(const uint8_t *buf, size_t len, struct vnp_ccid_desc *ret_desc)
{
	struct vnp_ccid_desc d;
	int rv = VNP_E_MALFORMED;

	if (!buf || !ret_desc) {
		rv = VNP_E_ARGS;
		goto out;
	}
	if (len < VNP_CCID_DESC_LEN || buf[0] != VNP_CCID_DESC_LEN ||
	    buf[1] != VNP_CCID_DESC_TYPE)
		goto out;
	memset(&d, 0, sizeof(d));
	/* offsets from table 5.1-1 */
	d.bLength = buf[0];
	d.bDescriptorType = buf[1];
	d.bcdCCID = le16(buf, 2);
	d.bMaxSlotIndex = buf[4];
	d.bVoltageSupport = buf[5];
	d.dwProtocols = le32(buf, 6);
	d.dwDefaultClock = le32(buf, 10);
	d.dwMaximumClock = le32(buf, 14);
	d.bNumClockSupported = buf[18];
	d.dwDataRate = le32(buf, 19);
	d.dwMaxDataRate = le32(buf, 23);
	d.bNumDataRatesSupported = buf[27];
	d.dwMaxIFSD = le32(buf, 28);
	d.dwSynchProtocols = le32(buf, 32);
	d.dwMechanical = le32(buf, 36);
	d.dwFeatures = le32(buf, 40);
	d.dwMaxCCIDMessageLength = le32(buf, 44);
	d.bClassGetResponse = buf[48];
	d.bClassEnvelope = buf[49];
	d.wLcdLayout = le16(buf, 50);
	d.bPINSupport = buf[52];
	d.bMaxCCIDBusySlots = buf[53];
	d.level = vnp_ccid_desc_level(d.dwFeatures);

	if (!(d.dwProtocols & (VNP_CCID_PROTO_T0 | VNP_CCID_PROTO_T1)))
		goto out;
	if (d.dwMaxCCIDMessageLength < VNP_CCID_MSG_LEN_MIN ||
	    d.dwMaxCCIDMessageLength > VNP_CCID_MSG_LEN_MAX)
		goto out;
	*ret_desc = d;
	rv = VNP_OK;
out:
	return rv;
}
