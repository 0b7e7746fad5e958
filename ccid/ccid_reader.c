/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One CCID slot over a byte pipe: CCID 1.1 §6 commands, APDU and TPDU exchange levels. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "ccid.h"
#include "ccid_desc.h"
#include "ccid_reader.h"
#include "compiler.h"
#include "rv.h"
#include "t1.h"

/* Largest extended APDU: 4 header + 3 Lc + 65535 data + 2 Le (ISO 7816-3 §12.1.3, case 4E). */
#define EXT_CMD_MAX (4 + 3 + 65535 + 2)
#define EXT_RESP_MAX (65536 + 2)
#define SHORT_CMD_MAX (4 + 1 + 255 + 1)
#define SHORT_RESP_MAX (256 + 2)

struct vnp_ccid_reader {
	const struct vnp_ccid_pipe_ops *ops;
	void *pipe;
	struct vnp_ccid_desc desc;
	uint8_t slot;
	uint8_t seq;
	size_t max_msg;   /* dwMaxCCIDMessageLength */
	uint8_t *out;     /* one PC_to_RDR message (max_msg bytes) */
	size_t out_len;
	uint8_t *in;      /* one RDR_to_PC message (max_msg bytes) */
	bool powered;
	struct vnp_t1 t1;
	struct vnp_ccid_reader_stats stats;
};

/* The answer to r->out: reads bulk-IN until an answer with our bSeq arrives, waits through
 * time extensions (no busy loop: each wait is a blocking read with a longer timeout), and
 * discards answers of earlier commands. VNP_OK or VNP_E_NO_CARD etc. from
 * vnp_ccid_parse_reply; reply (pointing into r->in) is filled whenever the header parsed. */
static int read_answer(struct vnp_ccid_reader *r, struct vnp_ccid_reply *reply, unsigned mult)
{
	unsigned stale = 0, ext = 0;
	size_t n = 0;
	int rv;

	for (;;) {
		unsigned long t = (unsigned long)VNP_CCID_READER_TIMEOUT_MS * (mult ? mult : 1);

		rv = r->ops->bulk_in(r->pipe, r->in, r->max_msg, &n,
				     t > 0xFFFFFFFFul ? 0xFFFFFFFFu : (unsigned)t);
		if (rv != VNP_OK)
			return rv;
		if (n > r->max_msg)
			return VNP_E_TRANSPORT; /* a pipe that broke its contract */
		/* an answer to an earlier command that we gave up on: drop it, read on */
		if (n >= VNP_CCID_HDR_LEN && (r->in[5] != r->out[5] || r->in[6] != r->out[6])) {
			r->stats.stale++;
			if (++stale > VNP_CCID_READER_MAX_STALE)
				return VNP_E_TRANSPORT;
			continue;
		}
		rv = vnp_ccid_parse_reply(r->out, r->out_len, r->in, n, (uint32_t)r->max_msg,
					  reply);
		if (rv != VNP_CCID_TIME_EXTENSION)
			return rv;
		/* §6.2.6: bError of a time extension is the BWT multiplier */
		r->stats.time_ext++;
		if (++ext > VNP_CCID_READER_MAX_TIME_EXT)
			return VNP_E_TRANSPORT;
		mult = reply->bError ? reply->bError : 1;
	}
}

/* Send r->out (r->out_len bytes, built with r->seq) and read its answer. */
static int command(struct vnp_ccid_reader *r, struct vnp_ccid_reply *reply, unsigned mult)
{
	int rv;

	r->stats.msgs++;
	rv = r->ops->bulk_out(r->pipe, r->out, r->out_len, VNP_CCID_READER_TIMEOUT_MS);
	r->seq++;
	if (rv != VNP_OK)
		return rv;
	return read_answer(r, reply, mult);
}

/* The answer's meaning for a command that needs a powered card. */
static int card_rv(struct vnp_ccid_reader *r, int rv, const struct vnp_ccid_reply *reply)
{
	if (rv == VNP_E_NO_CARD || rv == VNP_E_TRANSPORT) {
		if (reply->icc == VNP_CCID_ICC_ABSENT) {
			r->powered = false;
			return VNP_E_NO_CARD;
		}
		if (reply->cmd == VNP_CCID_CMD_FAILED && reply->icc == VNP_CCID_ICC_INACTIVE) {
			r->powered = false;
			return VNP_E_CARD_RESET;
		}
		if (reply->mute)
			return VNP_E_TIMEOUT;
	}
	return rv;
}

int vnp_ccid_reader_new(const struct vnp_ccid_pipe_ops *ops, void *pipe, const uint8_t *class_desc,
			size_t desc_len, uint8_t slot, struct vnp_ccid_reader **ret)
{
	struct vnp_ccid_reader *r = NULL;
	int rv;

	if (!ops || !ops->bulk_out || !ops->bulk_in || !class_desc || !ret)
		return VNP_E_ARGS;
	r = calloc(1, sizeof(*r));
	if (!r)
		return VNP_E_NOMEM;
	rv = vnp_ccid_desc_parse(class_desc, desc_len, &r->desc);
	if (rv != VNP_OK)
		goto out;
	rv = VNP_E_NOT_SUPPORTED;
	if (r->desc.level == VNP_CCID_LEVEL_CHARACTER || slot > r->desc.bMaxSlotIndex)
		goto out;
	if (r->desc.level == VNP_CCID_LEVEL_TPDU &&
	    (!(r->desc.dwProtocols & VNP_CCID_PROTO_T1) ||
	     r->desc.dwMaxCCIDMessageLength < VNP_CCID_HDR_LEN + 5))
		goto out;
	r->ops = ops;
	r->pipe = pipe;
	r->slot = slot;
	r->max_msg = r->desc.dwMaxCCIDMessageLength;
	r->out = malloc(r->max_msg);
	r->in = malloc(r->max_msg);
	if (!r->out || !r->in) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	*ret = r;
	r = NULL;
	rv = VNP_OK;
out:
	vnp_ccid_reader_free(r);
	return rv;
}

void vnp_ccid_reader_free(struct vnp_ccid_reader *r)
{
	if (!r)
		return;
	/* the buffers held APDUs (PINs, private object data) */
	if (r->out)
		OPENSSL_clear_free(r->out, r->max_msg);
	if (r->in)
		OPENSSL_clear_free(r->in, r->max_msg);
	free(r);
}

void vnp_ccid_reader_stats(const struct vnp_ccid_reader *r, struct vnp_ccid_reader_stats *ret)
{
	if (!r || !ret)
		return;
	*ret = r->stats;
	ret->t1_resynchs = r->t1.resynchs;
}

bool vnp_ccid_reader_powered(const struct vnp_ccid_reader *r)
{
	return r && r->powered;
}

void vnp_ccid_reader_caps(const struct vnp_ccid_reader *r, struct vnp_reader_caps *ret)
{
	size_t room;

	if (!r || !ret)
		return;
	memset(ret, 0, sizeof(*ret));
	room = r->max_msg - VNP_CCID_HDR_LEN;
	switch (r->desc.level) {
	case VNP_CCID_LEVEL_SHORT_APDU:
		/* one XfrBlock per APDU, short APDUs only (§6.1.4) */
		ret->extended = false;
		ret->max_cmd = VNP_MIN(room, (size_t)SHORT_CMD_MAX);
		ret->max_resp = VNP_MIN(room, (size_t)SHORT_RESP_MAX);
		break;
	case VNP_CCID_LEVEL_EXTENDED_APDU:
	case VNP_CCID_LEVEL_TPDU:
	case VNP_CCID_LEVEL_CHARACTER:
		/* wLevelParameter or T=1 chaining: any length */
		ret->extended = true;
		ret->max_cmd = EXT_CMD_MAX;
		ret->max_resp = EXT_RESP_MAX;
		break;
	}
}

int vnp_ccid_reader_slot_status(struct vnp_ccid_reader *r, bool *ret_present, bool *ret_active)
{
	struct vnp_ccid_reply reply;
	int rv;

	if (!r || !ret_present || !ret_active)
		return VNP_E_ARGS;
	rv = vnp_ccid_build_get_slot_status(r->slot, r->seq, r->out, r->max_msg, &r->out_len);
	if (rv != VNP_OK)
		return rv;
	memset(&reply, 0, sizeof(reply));
	rv = command(r, &reply, 1);
	/* Many readers answer GetSlotStatus without a card (or with a mute one) as a failed
	 * command with bError ICC_MUTE: that is a slot status too, not an error. */
	if (rv == VNP_E_NO_CARD && reply.bMessageType == VNP_CCID_RDR_TO_PC_SLOTSTATUS)
		rv = VNP_OK;
	if (rv != VNP_OK)
		return rv;
	*ret_present = reply.icc != VNP_CCID_ICC_ABSENT;
	*ret_active = reply.icc == VNP_CCID_ICC_ACTIVE;
	if (!*ret_active)
		r->powered = false;
	return VNP_OK;
}

/* IFSC for T=1 from the ATR (ISO 7816-3 §8.2.3: the first TA_i, i >= 3, after a TD_(i-1)
 * naming T=1), or 0 when absent or the ATR is malformed. */
static size_t atr_ifsc(const uint8_t *atr, size_t len)
{
	size_t p = 2;
	uint8_t y;
	unsigned i = 1, proto = 0;

	if (len < 2)
		return 0;
	y = atr[1] >> 4;
	for (;;) {
		if (y & 1) { /* TA_i */
			if (p >= len)
				return 0;
			if (i >= 3 && proto == 1)
				return atr[p];
			p++;
		}
		p += !!(y & 2) + !!(y & 4); /* TB_i, TC_i */
		if (!(y & 8) || p >= len)
			return 0;
		proto = atr[p] & 0x0F;
		y = atr[p] >> 4;
		p++;
		i++;
	}
}

/* T=1 block exchange over XfrBlock at TPDU level (t1.c's vnp_t1_xfer_fn). */
static int t1_xfer(void *ctx, const uint8_t *blk, size_t blk_len, uint8_t *rsp, size_t rsp_cap,
		   size_t *ret_rsp_len, unsigned bwt_mult)
{
	struct vnp_ccid_reader *r = ctx;
	struct vnp_ccid_reply reply;
	uint8_t bwi = (uint8_t)VNP_MIN(bwt_mult, 255u);
	int rv;

	r->stats.t1_blocks++;
	if (blk_len >= 2 && (blk[1] & 0xC0) == 0x80 && (blk[1] & 0x03))
		r->stats.t1_r_err++;
	rv = vnp_ccid_build_xfr_block(r->slot, r->seq, bwi == 1 ? 0 : bwi, VNP_CCID_LEVEL_BEGIN_END,
				      blk, blk_len, r->out, r->max_msg, &r->out_len);
	if (rv != VNP_OK)
		return rv == VNP_E_BUFFER_TOO_SMALL ? VNP_E_TRANSPORT : rv;
	memset(&reply, 0, sizeof(reply));
	rv = command(r, &reply, bwt_mult);
	rv = card_rv(r, rv, &reply);
	if (rv == VNP_E_TIMEOUT || rv == VNP_E_TRANSPORT) {
		/* the card sent no block (mute, no answer at all), or the reader's answer was
		 * malformed: the block is lost, T=1 asks again (and gives up after its retries) */
		r->stats.t1_mute++;
		return VNP_E_TIMEOUT;
	}
	if (rv != VNP_OK)
		return rv;
	/* a block longer than the caller's buffer is invalid for T=1: report its length, copy
	 * what fits, and let t1.c reject it */
	if (reply.data_len)
		memcpy(rsp, reply.data, VNP_MIN(reply.data_len, rsp_cap));
	*ret_rsp_len = reply.data_len;
	return VNP_OK;
}

/* TPDU level, after the ATR: T=1 parameters in the reader, then the IFSD. */
static int t1_setup(struct vnp_ccid_reader *r, const uint8_t *atr, size_t atr_len)
{
	struct vnp_ccid_reply reply;
	struct vnp_ccid_t1_params p;
	size_t ifsc = atr_ifsc(atr, atr_len), ifsd, room = r->max_msg - VNP_CCID_HDR_LEN - 4;
	int rv;

	rv = vnp_ccid_build_get_parameters(r->slot, r->seq, r->out, r->max_msg, &r->out_len);
	if (rv != VNP_OK)
		return rv;
	memset(&reply, 0, sizeof(reply));
	rv = card_rv(r, command(r, &reply, 1), &reply);
	if (rv != VNP_OK)
		return rv;
	if (vnp_ccid_parse_t1_params(&reply, &p) != VNP_OK) {
		/* the reader runs T=0: ask for T=1 with the ATR's IFSC (§6.1.7) */
		memset(&p, 0, sizeof(p));
		p.bmFindexDindex = 0x11;
		p.bmTCCKST1 = 0x10; /* LRC, direct convention */
		p.bmWaitingIntegersT1 = 0x45;
		p.bIFSC = (uint8_t)(ifsc ? ifsc : VNP_T1_IFS_DEFAULT);
		rv = vnp_ccid_build_set_parameters_t1(r->slot, r->seq, &p, r->out, r->max_msg,
						      &r->out_len);
		if (rv != VNP_OK)
			return rv;
		memset(&reply, 0, sizeof(reply));
		rv = card_rv(r, command(r, &reply, 1), &reply);
		if (rv == VNP_E_TRANSPORT)
			rv = VNP_E_NOT_SUPPORTED;
		if (rv != VNP_OK)
			return rv;
		if (vnp_ccid_parse_t1_params(&reply, &p) != VNP_OK)
			return VNP_E_NOT_SUPPORTED;
	}
	if (p.bmTCCKST1 & 0x01)
		return VNP_E_NOT_SUPPORTED; /* CRC: t1.c does LRC only */
	if (p.bIFSC >= 1 && p.bIFSC <= VNP_T1_INF_MAX)
		ifsc = p.bIFSC;
	vnp_t1_init(&r->t1, ifsc, t1_xfer, r);
	/* our blocks and the card's must fit one message each */
	r->t1.ifsc_max = room;
	if (r->t1.ifsc > room)
		r->t1.ifsc = r->t1.ifsc_atr = room;
	ifsd = VNP_T1_INF_MAX;
	if (r->desc.dwMaxIFSD && r->desc.dwMaxIFSD < ifsd)
		ifsd = r->desc.dwMaxIFSD;
	ifsd = VNP_MIN(ifsd, room);
	return ifsd == VNP_T1_IFS_DEFAULT ? VNP_OK : vnp_t1_negotiate_ifsd(&r->t1, ifsd);
}

int vnp_ccid_reader_power_on(struct vnp_ccid_reader *r, uint8_t *atr, size_t *atr_len)
{
	struct vnp_ccid_reply reply;
	uint8_t a[VNP_ATR_MAX];
	size_t n;
	int rv;

	if (!r || !atr || !atr_len)
		return VNP_E_ARGS;
	r->powered = false;
	rv = vnp_ccid_build_power_on(r->slot, r->seq, VNP_CCID_VOLTAGE_AUTO, r->out, r->max_msg,
				     &r->out_len);
	if (rv != VNP_OK)
		return rv;
	memset(&reply, 0, sizeof(reply));
	rv = card_rv(r, command(r, &reply, 1), &reply);
	if (rv == VNP_E_CARD_RESET)
		rv = VNP_E_TIMEOUT; /* activation failed with the card present */
	if (rv != VNP_OK)
		return rv;
	n = reply.data_len;
	if (n < 2 || n > VNP_ATR_MAX)
		return VNP_E_MALFORMED;
	memcpy(a, reply.data, n);
	if (r->desc.level == VNP_CCID_LEVEL_TPDU) {
		rv = t1_setup(r, a, n);
		if (rv != VNP_OK)
			return rv;
	}
	memcpy(atr, a, n);
	*atr_len = n;
	r->powered = true;
	return VNP_OK;
}

int vnp_ccid_reader_power_off(struct vnp_ccid_reader *r)
{
	struct vnp_ccid_reply reply;
	int rv;

	if (!r)
		return VNP_E_ARGS;
	r->powered = false;
	rv = vnp_ccid_build_power_off(r->slot, r->seq, r->out, r->max_msg, &r->out_len);
	if (rv != VNP_OK)
		return rv;
	memset(&reply, 0, sizeof(reply));
	return command(r, &reply, 1);
}

/* Send data as XfrBlock with w_level and read the DataBlock. */
static int xfr(struct vnp_ccid_reader *r, const uint8_t *data, size_t len, uint16_t w_level,
	       struct vnp_ccid_reply *reply)
{
	int rv;

	rv = vnp_ccid_build_xfr_block(r->slot, r->seq, 0, w_level, data, len, r->out, r->max_msg,
				      &r->out_len);
	if (rv != VNP_OK)
		return rv == VNP_E_BUFFER_TOO_SMALL ? VNP_E_RANGE : rv;
	memset(reply, 0, sizeof(*reply));
	rv = card_rv(r, command(r, reply, 1), reply);
	if (rv == VNP_OK && reply->bMessageType != VNP_CCID_RDR_TO_PC_DATABLOCK)
		rv = VNP_E_TRANSPORT;
	return rv;
}

/* Extended APDU level (§6.1.4, tables 6.1-3 and 6.2-3): a command longer than one message
 * goes in XfrBlocks with wLevelParameter 1, 3..., 2, each answered by an empty DataBlock with
 * bChainParameter 0x10; a long response comes in DataBlocks with bChainParameter 1, 3..., 2,
 * each asked for with an empty XfrBlock with wLevelParameter 0x10. */
static int transmit_apdu(struct vnp_ccid_reader *r, const uint8_t *apdu, size_t len,
			 uint8_t *resp, size_t *resp_len)
{
	struct vnp_ccid_reply reply;
	size_t room = r->max_msg - VNP_CCID_HDR_LEN, off = 0, got = 0, chunk;
	bool ext = r->desc.level == VNP_CCID_LEVEL_EXTENDED_APDU;
	unsigned empty = 0;
	uint16_t lvl;
	int rv;

	if (!ext && len > room)
		return VNP_E_RANGE;
	for (;;) {
		bool last;

		chunk = VNP_MIN(len - off, room);
		last = off + chunk == len;
		if (off == 0)
			lvl = last ? VNP_CCID_LEVEL_BEGIN_END : VNP_CCID_LEVEL_BEGIN_CONTINUE;
		else
			lvl = last ? VNP_CCID_LEVEL_CONTINUE_END : VNP_CCID_LEVEL_CONTINUE;
		rv = xfr(r, apdu + off, chunk, lvl, &reply);
		if (rv != VNP_OK)
			return rv;
		off += chunk;
		if (off == len)
			break;
		if (reply.bSpecific != VNP_CCID_LEVEL_EMPTY || reply.data_len)
			return VNP_E_TRANSPORT; /* the reader did not ask for the rest */
	}
	for (bool first = true;; first = false) {
		uint8_t cp = ext ? reply.bSpecific : 0;

		/* first part: 0 (whole) or 1 (begins); later parts: 2 (ends) or 3 (continues) */
		if (first ? (cp != 0x00 && cp != 0x01) : (cp != 0x02 && cp != 0x03))
			return VNP_E_TRANSPORT;
		/* a reader that keeps sending empty parts makes no progress: bounded */
		if (reply.data_len || cp == 0x00 || cp == 0x02)
			empty = 0;
		else if (++empty > VNP_CCID_READER_MAX_EMPTY)
			return VNP_E_TRANSPORT;
		if (reply.data_len > *resp_len - got)
			return VNP_E_BUFFER_TOO_SMALL;
		if (reply.data_len)
			memcpy(resp + got, reply.data, reply.data_len);
		got += reply.data_len;
		if (cp == 0x00 || cp == 0x02)
			break;
		rv = xfr(r, NULL, 0, VNP_CCID_LEVEL_EMPTY, &reply);
		if (rv != VNP_OK)
			return rv;
	}
	*resp_len = got;
	return VNP_OK;
}

int vnp_ccid_reader_transmit(struct vnp_ccid_reader *r, const uint8_t *apdu, size_t len,
			     uint8_t *resp, size_t *resp_len)
{
	struct vnp_reader_caps caps;
	size_t n;
	int rv;

	if (!r || !apdu || !len || !resp || !resp_len)
		return VNP_E_ARGS;
	if (!r->powered)
		return VNP_E_CARD_RESET;
	vnp_ccid_reader_caps(r, &caps);
	if (len > caps.max_cmd)
		return VNP_E_RANGE;
	if (r->desc.level != VNP_CCID_LEVEL_TPDU) {
		rv = transmit_apdu(r, apdu, len, resp, resp_len);
		goto out;
	}
	n = 0;
	rv = vnp_t1_transceive(&r->t1, apdu, len, resp, *resp_len, &n);
	if (rv == VNP_OK)
		*resp_len = n;
out:
	/* the command may have carried a PIN, the answer private object data */
	OPENSSL_cleanse(r->out, r->max_msg);
	OPENSSL_cleanse(r->in, r->max_msg);
	return rv;
}
