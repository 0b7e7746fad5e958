/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CCID 1.1 message framing: build PC_to_RDR messages, check RDR_to_PC answers. */
#include <string.h>

#include "ccid.h"
#include "rv.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Header: bMessageType, dwLength (LE), bSlot, bSeq, three message-specific bytes (§6.1). */
static int build(uint8_t type, uint8_t slot, uint8_t seq, uint8_t b7, uint8_t b8, uint8_t b9,
		 const uint8_t *data, size_t data_len, uint8_t *buf, size_t cap, size_t *ret_len)
{
	int rv = VNP_OK;

	if (!buf || !ret_len || (data_len && !data)) {
		rv = VNP_E_ARGS;
		goto out;
	}
	if (data_len > UINT32_MAX - VNP_CCID_HDR_LEN || cap < VNP_CCID_HDR_LEN ||
	    data_len > cap - VNP_CCID_HDR_LEN) {
		rv = VNP_E_BUFFER_TOO_SMALL;
		goto out;
	}
	buf[0] = type;
	put_le32(buf + 1, (uint32_t)data_len);
	buf[5] = slot;
	buf[6] = seq;
	buf[7] = b7;
	buf[8] = b8;
	buf[9] = b9;
	if (data_len)
		memcpy(buf + VNP_CCID_HDR_LEN, data, data_len);
	*ret_len = VNP_CCID_HDR_LEN + data_len;
out:
	return rv;
}

int vnp_ccid_build_power_on(uint8_t slot, uint8_t seq, uint8_t power_select, uint8_t *buf,
			    size_t cap, size_t *ret_len)
{
	return build(VNP_CCID_PC_TO_RDR_ICCPOWERON, slot, seq, power_select, 0, 0, NULL, 0, buf,
		     cap, ret_len);
}

int vnp_ccid_build_power_off(uint8_t slot, uint8_t seq, uint8_t *buf, size_t cap,
			     size_t *ret_len)
{
	return build(VNP_CCID_PC_TO_RDR_ICCPOWEROFF, slot, seq, 0, 0, 0, NULL, 0, buf, cap,
		     ret_len);
}

int vnp_ccid_build_get_slot_status(uint8_t slot, uint8_t seq, uint8_t *buf, size_t cap,
				   size_t *ret_len)
{
	return build(VNP_CCID_PC_TO_RDR_GETSLOTSTATUS, slot, seq, 0, 0, 0, NULL, 0, buf, cap,
		     ret_len);
}

int vnp_ccid_build_get_parameters(uint8_t slot, uint8_t seq, uint8_t *buf, size_t cap,
				  size_t *ret_len)
{
	return build(VNP_CCID_PC_TO_RDR_GETPARAMETERS, slot, seq, 0, 0, 0, NULL, 0, buf, cap,
		     ret_len);
}

/* §6.1.4: bBWI, wLevelParameter (LE). */
int vnp_ccid_build_xfr_block(uint8_t slot, uint8_t seq, uint8_t bBWI, uint16_t w_level,
			     const uint8_t *data, size_t data_len, uint8_t *buf, size_t cap,
			     size_t *ret_len)
{
	return build(VNP_CCID_PC_TO_RDR_XFRBLOCK, slot, seq, bBWI, (uint8_t)w_level,
		     (uint8_t)(w_level >> 8), data, data_len, buf, cap, ret_len);
}

/* §6.1.7: bProtocolNum 1, abRFU[2], then the 7-byte T=1 structure. */
int vnp_ccid_build_set_parameters_t1(uint8_t slot, uint8_t seq,
				     const struct vnp_ccid_t1_params *p, uint8_t *buf, size_t cap,
				     size_t *ret_len)
{
	uint8_t d[VNP_CCID_T1_PARAMS_LEN];

	if (!p)
		return VNP_E_ARGS;
	d[0] = p->bmFindexDindex;
	d[1] = p->bmTCCKST1;
	d[2] = p->bGuardTimeT1;
	d[3] = p->bmWaitingIntegersT1;
	d[4] = p->bClockStop;
	d[5] = p->bIFSC;
	d[6] = p->bNadValue;
	return build(VNP_CCID_PC_TO_RDR_SETPARAMETERS, slot, seq, 1, 0, 0, d, sizeof(d), buf, cap,
		     ret_len);
}

int vnp_ccid_reply_type(uint8_t req)
{
	switch (req) {
	case VNP_CCID_PC_TO_RDR_ICCPOWERON:
	case VNP_CCID_PC_TO_RDR_XFRBLOCK:
		return VNP_CCID_RDR_TO_PC_DATABLOCK;
	case VNP_CCID_PC_TO_RDR_ICCPOWEROFF:
	case VNP_CCID_PC_TO_RDR_GETSLOTSTATUS:
		return VNP_CCID_RDR_TO_PC_SLOTSTATUS;
	case VNP_CCID_PC_TO_RDR_GETPARAMETERS:
	case VNP_CCID_PC_TO_RDR_SETPARAMETERS:
		return VNP_CCID_RDR_TO_PC_PARAMETERS;
	default:
		return -1;
	}
}

int vnp_ccid_parse_reply(const uint8_t *req, size_t req_len, const uint8_t *rsp, size_t rsp_len,
			 uint32_t max_msg_len, struct vnp_ccid_reply *reply)
{
	struct vnp_ccid_reply r;
	uint32_t dw_len;
	unsigned icc, cmd;
	int rv = VNP_E_TRANSPORT;

	if (!req || !rsp || !reply || req_len < VNP_CCID_HDR_LEN) {
		rv = VNP_E_ARGS;
		goto out;
	}
	if (rsp_len < VNP_CCID_HDR_LEN)
		goto out;
	dw_len = get_le32(rsp + 1);
	/* dwLength must fit both what was read and what the reader may send (§5.1) */
	if (dw_len > rsp_len - VNP_CCID_HDR_LEN ||
	    (uint64_t)dw_len + VNP_CCID_HDR_LEN > max_msg_len)
		goto out;
	if (vnp_ccid_reply_type(req[0]) != rsp[0] || rsp[5] != req[5] || rsp[6] != req[6])
		goto out;
	icc = rsp[7] & 0x03;
	cmd = (rsp[7] >> 6) & 0x03;
	/* bits 2-5 are RFU; bmICCStatus 3 and bmCommandStatus 3 are RFU */
	if ((rsp[7] & 0x3C) || icc == 3 || cmd == 3)
		goto out;

	memset(&r, 0, sizeof(r));
	r.bMessageType = rsp[0];
	r.bSlot = rsp[5];
	r.bSeq = rsp[6];
	r.bStatus = rsp[7];
	r.bError = rsp[8];
	r.bSpecific = rsp[9];
	r.icc = (enum vnp_ccid_icc)icc;
	r.cmd = (enum vnp_ccid_cmd_status)cmd;
	r.data = dw_len ? rsp + VNP_CCID_HDR_LEN : NULL;
	r.data_len = dw_len;

	switch (r.cmd) {
	case VNP_CCID_CMD_TIME_EXTENSION:
		rv = VNP_CCID_TIME_EXTENSION;
		break;
	case VNP_CCID_CMD_FAILED:
		r.mute = r.bError == VNP_CCID_ERR_ICC_MUTE;
		rv = (r.mute || r.icc == VNP_CCID_ICC_ABSENT) ? VNP_E_NO_CARD : VNP_E_TRANSPORT;
		break;
	case VNP_CCID_CMD_OK:
		rv = (r.icc == VNP_CCID_ICC_ABSENT && r.bMessageType != VNP_CCID_RDR_TO_PC_SLOTSTATUS)
			     ? VNP_E_NO_CARD
			     : VNP_OK;
		break;
	}
	*reply = r;
out:
	return rv;
}

int vnp_ccid_parse_t1_params(const struct vnp_ccid_reply *reply,
			     struct vnp_ccid_t1_params *ret_params)
{
	const uint8_t *d;

	if (!reply || !ret_params)
		return VNP_E_ARGS;
	if (reply->bMessageType != VNP_CCID_RDR_TO_PC_PARAMETERS || reply->bSpecific != 1 ||
	    reply->data_len != VNP_CCID_T1_PARAMS_LEN || !reply->data)
		return VNP_E_MALFORMED;
	d = reply->data;
	ret_params->bmFindexDindex = d[0];
	ret_params->bmTCCKST1 = d[1];
	ret_params->bGuardTimeT1 = d[2];
	ret_params->bmWaitingIntegersT1 = d[3];
	ret_params->bClockStop = d[4];
	ret_params->bIFSC = d[5];
	ret_params->bNadValue = d[6];
	return VNP_OK;
}
