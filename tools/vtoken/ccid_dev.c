/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual token as a CCID device: PC_to_RDR messages in, RDR_to_PC answers out
 * (CCID 1.1 §6), at short APDU, extended APDU or TPDU (T=1) level, with fault injection. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "ccid.h"
#include "ccid_dev_int.h"
#include "compiler.h"
#include "rv.h"
#include "vcard.h"

#define SHORT_CMD_MAX (4 + 1 + 255 + 1)
#define MSG_MAX_LIMIT (VT_CCID_CMD_MAX + VNP_CCID_HDR_LEN)
#define MSG_MIN_LIMIT 64u

/* bError values (CCID 1.1 table 6.2-2); other values are the offset of the bad field */
#define ERR_CMD_NOT_SUPPORTED 0x00
#define ERR_BAD_LENGTH 0x01 /* offset of dwLength */
#define ERR_BAD_SLOT 0x05
#define ERR_BAD_PARAM7 0x07  /* bPowerSelect, bProtocolNum */
#define ERR_BAD_LEVEL 0x08   /* wLevelParameter */
#define ERR_XFR_OVERRUN 0xFC
#define ERR_HW 0xFB
#define ERR_MUTE 0xFE

#define TIME_EXT_MULT 2

#define NOTIFY_SLOT_CHANGE 0x50

static bool present(const struct vnp_vt_ccid_dev *d)
{
	return !d->pulled && access(d->state, F_OK) == 0;
}

/* bmICCStatus: 0 active, 1 present and unpowered, 2 absent. A card whose file went away is
 * powered off here. */
static uint8_t icc(struct vnp_vt_ccid_dev *d)
{
	if (!present(d)) {
		vnp_vcard_close(d->card);
		d->card = NULL;
		return 2;
	}
	return d->card ? 0 : 1;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Queue one RDR_to_PC message answering req's header. */
static int answer(struct vnp_vt_ccid_dev *d, uint8_t type, const uint8_t *req, uint8_t status,
		  uint8_t error, uint8_t specific, const uint8_t *data, size_t len)
{
	struct vt_answer *a = malloc(sizeof(*a) + VNP_CCID_HDR_LEN + len);

	if (!a)
		return VNP_E_NOMEM;
	a->next = NULL;
	a->len = VNP_CCID_HDR_LEN + len;
	a->msg[0] = type;
	put_le32(a->msg + 1, (uint32_t)len);
	a->msg[5] = req[5];
	a->msg[6] = req[6];
	a->msg[7] = status;
	a->msg[8] = error;
	a->msg[9] = specific;
	if (len)
		memcpy(a->msg + VNP_CCID_HDR_LEN, data, len);
	if (d->tail)
		d->tail->next = a;
	else
		d->head = a;
	d->tail = a;
	return VNP_OK;
}

static uint8_t reply_type(uint8_t req)
{
	int t = vnp_ccid_reply_type(req);

	return t < 0 ? VNP_CCID_RDR_TO_PC_SLOTSTATUS : (uint8_t)t;
}

/* A failed command (bmCommandStatus 1) with the slot's ICC status. */
static int fail(struct vnp_vt_ccid_dev *d, const uint8_t *req, uint8_t error)
{
	return answer(d, reply_type(req[0]), req, (uint8_t)(0x40 | icc(d)), error, 0, NULL, 0);
}

static int ok(struct vnp_vt_ccid_dev *d, const uint8_t *req, uint8_t specific, const uint8_t *data,
	      size_t len)
{
	return answer(d, reply_type(req[0]), req, icc(d), 0, specific, data, len);
}

static void drop_queue(struct vnp_vt_ccid_dev *d)
{
	while (d->head) {
		struct vt_answer *a = d->head;

		d->head = a->next;
		OPENSSL_cleanse(a->msg, a->len);
		free(a);
	}
	d->tail = NULL;
}

static void card_off(struct vnp_vt_ccid_dev *d)
{
	vnp_vcard_close(d->card);
	d->card = NULL;
	d->chaining = false;
	d->rsp_pending = false;
	vnp_vt_ccid_t1_reset(d);
	OPENSSL_cleanse(d->cmd, VT_CCID_CMD_MAX);
	OPENSSL_cleanse(d->rsp, VT_CCID_RSP_MAX);
}

int vnp_vt_ccid_dev_new(const struct vnp_vt_ccid_cfg *cfg, const char *state_path,
			struct vnp_vt_ccid_dev **ret)
{
	struct vnp_vt_ccid_dev *d;

	if (!cfg || !state_path || !ret || cfg->level < VNP_VT_CCID_LEVEL_SHORT ||
	    cfg->level > VNP_VT_CCID_LEVEL_T1 || cfg->ifsc > VNP_T1_INF_MAX ||
	    (cfg->max_msg && (cfg->max_msg < MSG_MIN_LIMIT || cfg->max_msg > MSG_MAX_LIMIT)))
		return VNP_E_ARGS;
	d = calloc(1, sizeof(*d));
	if (!d)
		return VNP_E_NOMEM;
	d->cfg = *cfg;
	if (!d->cfg.max_msg)
		d->cfg.max_msg = 271;
	if (!d->cfg.ifsc)
		d->cfg.ifsc = VNP_T1_INF_MAX;
	/* T=1 blocks must fit one message */
	if (d->cfg.ifsc > d->cfg.max_msg - VNP_CCID_HDR_LEN - 4)
		d->cfg.ifsc = (uint8_t)(d->cfg.max_msg - VNP_CCID_HDR_LEN - 4);
	d->state = strdup(state_path);
	d->cmd = malloc(VT_CCID_CMD_MAX);
	d->rsp = malloc(VT_CCID_RSP_MAX);
	if (!d->state || !d->cmd || !d->rsp) {
		vnp_vt_ccid_dev_free(d);
		return VNP_E_NOMEM;
	}
	/* abProtocolDataStructure T=1 (§6.1.7): Fi/Di 1/1, LRC, BWI 4 CWI 5, IFSC, NAD 0 */
	d->t1_params[0] = 0x11;
	d->t1_params[1] = 0x10;
	d->t1_params[2] = 0x00;
	d->t1_params[3] = 0x45;
	d->t1_params[4] = 0x00;
	d->t1_params[5] = d->cfg.ifsc;
	d->t1_params[6] = 0x00;
	vnp_vt_ccid_t1_reset(d);
	d->st.ifsd = VNP_T1_IFS_DEFAULT;
	*ret = d;
	return VNP_OK;
}

void vnp_vt_ccid_dev_free(struct vnp_vt_ccid_dev *d)
{
	if (!d)
		return;
	vnp_vcard_close(d->card);
	drop_queue(d);
	if (d->cmd)
		OPENSSL_clear_free(d->cmd, VT_CCID_CMD_MAX);
	if (d->rsp)
		OPENSSL_clear_free(d->rsp, VT_CCID_RSP_MAX);
	free(d->state);
	free(d);
}

size_t vnp_vt_ccid_dev_class_desc(const struct vnp_vt_ccid_dev *d, uint8_t *out)
{
	static const uint32_t level_bits[] = { 0x00020000u, 0x00040000u, 0x00010000u };
	uint8_t *p = out;

	if (!d || !out)
		return 0;
	memset(out, 0, VNP_VT_CCID_DESC_LEN);
	p[0] = VNP_VT_CCID_DESC_LEN;
	p[1] = 0x21;
	p[2] = 0x10; /* bcdCCID 1.10 */
	p[3] = 0x01;
	p[4] = 0;    /* bMaxSlotIndex */
	p[5] = 0x07; /* 5 V, 3 V, 1.8 V */
	put_le32(p + 6, 0x00000002u);  /* dwProtocols: T=1 */
	put_le32(p + 10, 4000);        /* dwDefaultClock, kHz */
	put_le32(p + 14, 4000);        /* dwMaximumClock */
	put_le32(p + 19, 10752);       /* dwDataRate, bps */
	put_le32(p + 23, 10752);       /* dwMaxDataRate */
	put_le32(p + 28, VNP_T1_INF_MAX); /* dwMaxIFSD */
	/* dwFeatures: automatic parameters from the ATR, voltage, clock, baud rate, parameter
	 * negotiation; plus the exchange level */
	put_le32(p + 40, 0x000000BEu | level_bits[d->cfg.level]);
	put_le32(p + 44, d->cfg.max_msg);
	p[48] = 0xFF; /* bClassGetResponse: echo */
	p[49] = 0xFF; /* bClassEnvelope */
	p[53] = 1;    /* bMaxCCIDBusySlots */
	return VNP_VT_CCID_DESC_LEN;
}

int vnp_vt_ccid_run_apdu(struct vnp_vt_ccid_dev *d)
{
	size_t n = VT_CCID_RSP_MAX;

	if (vnp_vcard_transmit(d->card, d->cmd, d->cmd_len, d->rsp, &n) != VNP_OK) {
		d->rsp[0] = 0x6F;
		d->rsp[1] = 0x00;
		n = 2;
	}
	d->st.apdus++;
	if (d->cfg.on_apdu)
		d->cfg.on_apdu(d->cfg.on_apdu_ctx, d->cmd, d->cmd_len, d->rsp, n);
	OPENSSL_cleanse(d->cmd, d->cmd_len); /* may have held a PIN */
	d->cmd_len = 0;
	d->rsp_len = n;
	d->rsp_off = 0;
	/* the state file went away during the command: the card was pulled, no answer */
	if (!present(d))
		return VNP_E_NO_CARD;
	return VNP_OK;
}

/* IccPowerOn (§6.1.1): a fresh card over the state file, answered with the ATR. */
static int power_on(struct vnp_vt_ccid_dev *d, const uint8_t *req)
{
	uint8_t atr[33];
	size_t n;
	int rv;

	if (req[7] > 3)
		return fail(d, req, ERR_BAD_PARAM7);
	card_off(d);
	if (!present(d))
		return fail(d, req, ERR_MUTE);
	rv = vnp_vcard_open(d->state, &d->card);
	if (rv != VNP_OK) {
		d->card = NULL;
		return fail(d, req, rv == VNP_E_IO ? ERR_MUTE : ERR_HW);
	}
	n = vnp_vcard_atr_of(d->card, atr); /* the profile's ATR (PIV, UICC, ...) */
	return ok(d, req, 0, atr, n);
}

static int parameters(struct vnp_vt_ccid_dev *d, const uint8_t *req, size_t data_len)
{
	if (icc(d) == 2)
		return fail(d, req, ERR_MUTE);
	if (req[0] == VNP_CCID_PC_TO_RDR_SETPARAMETERS &&
	    (req[7] != 1 || data_len != sizeof(d->t1_params)))
		return answer(d, VNP_CCID_RDR_TO_PC_PARAMETERS, req, (uint8_t)(0x40 | icc(d)),
			      ERR_BAD_PARAM7, 1, d->t1_params, sizeof(d->t1_params));
	/* SetParameters T=1: the card's IFSC and the LRC stay ours */
	return ok(d, req, 1, d->t1_params, sizeof(d->t1_params));
}

/* Queue the next part of d->rsp at extended level (table 6.2-3 bChainParameter). */
static int send_part(struct vnp_vt_ccid_dev *d, const uint8_t *req)
{
	size_t room = d->cfg.max_msg - VNP_CCID_HDR_LEN;
	size_t n = VNP_MIN(d->rsp_len - d->rsp_off, room);
	bool first = d->rsp_off == 0, last = d->rsp_off + n == d->rsp_len;
	uint8_t cp = first ? (last ? 0x00 : 0x01) : (last ? 0x02 : 0x03);
	int rv;

	rv = ok(d, req, cp, d->rsp + d->rsp_off, n);
	d->rsp_off += n;
	d->rsp_pending = !last;
	if (last)
		OPENSSL_cleanse(d->rsp, d->rsp_len);
	return rv;
}

/* The Nth APDU-level answer is lost when fault_lose_block says so: the reader reports a mute
 * card (the command did run). */
static bool lose_answer(struct vnp_vt_ccid_dev *d)
{
	d->answers++;
	if (d->cfg.fault_lose_block && d->answers == d->cfg.fault_lose_block) {
		d->st.lost++;
		return true;
	}
	return false;
}

static int xfr_apdu(struct vnp_vt_ccid_dev *d, const uint8_t *req, const uint8_t *data,
		    size_t len)
{
	uint16_t lvl = (uint16_t)(req[8] | req[9] << 8);
	bool ext = d->cfg.level == VNP_VT_CCID_LEVEL_EXT;
	int rv;

	if (!ext) {
		if (lvl)
			return fail(d, req, ERR_BAD_LEVEL);
		if (len > SHORT_CMD_MAX || !len)
			return fail(d, req, ERR_BAD_LENGTH);
	}
	switch (lvl) {
	case VNP_CCID_LEVEL_BEGIN_END:
	case VNP_CCID_LEVEL_BEGIN_CONTINUE:
		d->cmd_len = 0;
		d->chaining = false;
		d->rsp_pending = false;
		break;
	case VNP_CCID_LEVEL_CONTINUE_END:
	case VNP_CCID_LEVEL_CONTINUE:
		if (!d->chaining)
			return fail(d, req, ERR_BAD_LEVEL);
		break;
	case VNP_CCID_LEVEL_EMPTY:
		if (!d->rsp_pending || len)
			return fail(d, req, ERR_BAD_LEVEL);
		return send_part(d, req);
	default:
		return fail(d, req, ERR_BAD_LEVEL);
	}
	if (len > VT_CCID_CMD_MAX - d->cmd_len) {
		d->chaining = false;
		d->cmd_len = 0;
		return fail(d, req, ERR_BAD_LENGTH);
	}
	memcpy(d->cmd + d->cmd_len, data, len);
	d->cmd_len += len;
	if (lvl == VNP_CCID_LEVEL_BEGIN_CONTINUE || lvl == VNP_CCID_LEVEL_CONTINUE) {
		d->chaining = true;
		return ok(d, req, VNP_CCID_LEVEL_EMPTY, NULL, 0); /* send the rest */
	}
	d->chaining = false;
	rv = vnp_vt_ccid_run_apdu(d);
	if (rv != VNP_OK)
		return fail(d, req, ERR_MUTE);
	if (lose_answer(d)) {
		OPENSSL_cleanse(d->rsp, d->rsp_len);
		return fail(d, req, ERR_MUTE);
	}
	if (!ext && d->rsp_len > d->cfg.max_msg - VNP_CCID_HDR_LEN)
		return fail(d, req, ERR_XFR_OVERRUN);
	return send_part(d, req);
}

/* TPDU level: data is one T=1 block from the host. */
static int xfr_t1(struct vnp_vt_ccid_dev *d, const uint8_t *req, const uint8_t *data, size_t len)
{
	uint8_t blk[VNP_T1_BLOCK_MAX];
	long n;
	int rv;

	n = vnp_vt_ccid_t1_rx(d, data, len, blk);
	if (n < 0)
		return fail(d, req, ERR_MUTE);
	d->st.blocks++;
	if (d->cfg.fault_lose_block && d->st.blocks == d->cfg.fault_lose_block) {
		d->st.lost++;
		rv = fail(d, req, ERR_MUTE); /* BWT ran out: the reader says mute */
		goto out;
	}
	if (d->cfg.fault_bad_edc && d->st.blocks == d->cfg.fault_bad_edc) {
		d->st.bad_edc++;
		blk[n - 1] ^= 0x5A;
	}
	rv = ok(d, req, 0, blk, (size_t)n);
out:
	OPENSSL_cleanse(blk, sizeof(blk));
	return rv;
}

static int xfr_block(struct vnp_vt_ccid_dev *d, const uint8_t *req, const uint8_t *data,
		     size_t len)
{
	int rv;

	d->st.xfr++;
	if (d->cfg.fault_pull_card && d->st.xfr == d->cfg.fault_pull_card && present(d)) {
		d->pulled = true;
		d->st.pulls++;
		card_off(d);
	}
	if (icc(d) != 0)
		return fail(d, req, ERR_MUTE);
	for (unsigned i = 0; i < d->cfg.fault_time_ext; i++) {
		/* §6.2.6: bmCommandStatus 2, bError the BWT multiplier */
		rv = answer(d, VNP_CCID_RDR_TO_PC_DATABLOCK, req, 0x80, TIME_EXT_MULT, 0, NULL, 0);
		if (rv != VNP_OK)
			return rv;
		d->st.time_ext++;
	}
	if (d->cfg.level == VNP_VT_CCID_LEVEL_T1)
		return xfr_t1(d, req, data, len);
	return xfr_apdu(d, req, data, len);
}

int vnp_vt_ccid_dev_put(struct vnp_vt_ccid_dev *d, const uint8_t *msg, size_t len)
{
	size_t data_len;

	if (!d || (!msg && len))
		return VNP_E_ARGS;
	if (len < VNP_CCID_HDR_LEN)
		return VNP_OK; /* no header to answer: a USB device drops it */
	d->st.msgs++;
	data_len = len - VNP_CCID_HDR_LEN;
	if (((uint32_t)msg[1] | (uint32_t)msg[2] << 8 | (uint32_t)msg[3] << 16 |
	     (uint32_t)msg[4] << 24) != data_len)
		return fail(d, msg, ERR_BAD_LENGTH);
	if (msg[5] != 0)
		return fail(d, msg, ERR_BAD_SLOT);
	switch (msg[0]) {
	case VNP_CCID_PC_TO_RDR_ICCPOWERON:
		return power_on(d, msg);
	case VNP_CCID_PC_TO_RDR_ICCPOWEROFF:
		card_off(d);
		return ok(d, msg, 0x01 /* clock stopped */, NULL, 0);
	case VNP_CCID_PC_TO_RDR_GETSLOTSTATUS:
		return ok(d, msg, d->card ? 0x00 : 0x01, NULL, 0);
	case VNP_CCID_PC_TO_RDR_GETPARAMETERS:
	case VNP_CCID_PC_TO_RDR_SETPARAMETERS:
		return parameters(d, msg, data_len);
	case VNP_CCID_PC_TO_RDR_XFRBLOCK:
		return xfr_block(d, msg, msg + VNP_CCID_HDR_LEN, data_len);
	default:
		return fail(d, msg, ERR_CMD_NOT_SUPPORTED);
	}
}

int vnp_vt_ccid_dev_get(struct vnp_vt_ccid_dev *d, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct vt_answer *a;
	int rv = VNP_OK;

	if (!d || !ret_len || (!buf && cap))
		return VNP_E_ARGS;
	a = d->head;
	if (!a)
		return VNP_E_NOT_FOUND;
	d->head = a->next;
	if (!d->head)
		d->tail = NULL;
	if (a->len > cap) {
		rv = VNP_E_BUFFER_TOO_SMALL;
	} else {
		memcpy(buf, a->msg, a->len);
		*ret_len = a->len;
	}
	OPENSSL_cleanse(a->msg, a->len);
	free(a);
	return rv;
}

size_t vnp_vt_ccid_dev_interrupt(struct vnp_vt_ccid_dev *d, uint8_t *buf, size_t cap)
{
	bool now;

	if (!d || !buf || cap < 2)
		return 0;
	now = icc(d) != 2;
	if (now == d->reported_present)
		return 0;
	d->reported_present = now;
	/* bmSlotICCState: bit 0 present, bit 1 changed (slot 0) */
	buf[0] = NOTIFY_SLOT_CHANGE;
	buf[1] = (uint8_t)((now ? 0x01 : 0x00) | 0x02);
	return 2;
}

void vnp_vt_ccid_dev_power_off(struct vnp_vt_ccid_dev *d)
{
	if (!d)
		return;
	card_off(d);
	drop_queue(d);
}

void vnp_vt_ccid_dev_insert(struct vnp_vt_ccid_dev *d)
{
	if (d)
		d->pulled = false;
}

void vnp_vt_ccid_dev_stats(const struct vnp_vt_ccid_dev *d, struct vnp_vt_ccid_stats *ret)
{
	if (d && ret)
		*ret = d->st;
}
