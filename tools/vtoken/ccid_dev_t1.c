/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card side of T=1 (ISO/IEC 7816-3:2006 §11): receives chained I-blocks into an APDU,
 * answers in I-blocks of at most IFSD bytes, acknowledges with R-blocks, retransmits its last
 * block on request, answers S(RESYNCH), S(IFS), S(ABORT), and asks for S(WTX) when told to. */
#include <string.h>

#include "ccid_dev_int.h"
#include "compiler.h"
#include "rv.h"
#include "t1.h"

#define PCB_I_NS 0x40
#define PCB_I_M 0x20
#define PCB_R 0x80
#define PCB_R_NR 0x10
#define S_REQ 0xC0
#define S_RESP 0xE0
#define S_RESYNCH 0x00
#define S_IFS 0x01
#define S_ABORT 0x02
#define S_WTX 0x03

#define R_ERR_EDC 0x01
#define R_ERR_OTHER 0x02

void vnp_vt_ccid_t1_reset(struct vnp_vt_ccid_dev *d)
{
	struct vt_t1 *t = &d->t1;

	t->ifsc = d->cfg.ifsc;
	t->ifsd = VNP_T1_IFS_DEFAULT;
	t->ns = 0;
	t->nr = 0;
	t->st = VT_T1_IDLE;
	t->chunk = 0;
	t->wtx_left = 0;
	t->wtx_pending = false;
	t->last_len = 0;
	d->cmd_len = 0;
	d->rsp_len = d->rsp_off = 0;
}

/* Build NAD PCB LEN INF LRC into out. */
static long make_block(uint8_t *out, uint8_t pcb, const uint8_t *inf, size_t n)
{
	out[0] = 0;
	out[1] = pcb;
	out[2] = (uint8_t)n;
	if (n)
		memcpy(out + 3, inf, n);
	out[3 + n] = vnp_t1_lrc(out, 3 + n);
	return (long)(4 + n);
}

/* An I- or S-block, remembered as the last one sent (what a retransmission request gets). */
static long send_block(struct vt_t1 *t, uint8_t *out, uint8_t pcb, const uint8_t *inf, size_t n)
{
	long len = make_block(out, pcb, inf, n);

	memcpy(t->last, out, (size_t)len);
	t->last_len = (size_t)len;
	return len;
}

/* R-blocks are not remembered: their content follows from N(R) alone. */
static long send_r(struct vt_t1 *t, uint8_t *out, uint8_t err)
{
	return make_block(out, (uint8_t)(PCB_R | (t->nr ? PCB_R_NR : 0) | err), NULL, 0);
}

/* Our last block again (§11.6.3.2 rules 7.1-7.3); an R-block when there is none yet. */
static long resend(struct vnp_vt_ccid_dev *d, uint8_t *out, uint8_t err_if_none)
{
	struct vt_t1 *t = &d->t1;

	if (!t->last_len)
		return send_r(t, out, err_if_none);
	d->st.retransmits++;
	memcpy(out, t->last, t->last_len);
	return (long)t->last_len;
}

/* Next I-block of the answer, from d->rsp_off. */
static long send_chunk(struct vnp_vt_ccid_dev *d, uint8_t *out)
{
	struct vt_t1 *t = &d->t1;
	size_t n = VNP_MIN(d->rsp_len - d->rsp_off, t->ifsd);
	bool more = d->rsp_off + n < d->rsp_len;
	uint8_t pcb = (uint8_t)((t->ns ? PCB_I_NS : 0) | (more ? PCB_I_M : 0));

	t->chunk = n;
	t->ns ^= 1;
	t->st = more ? VT_T1_SEND : VT_T1_IDLE;
	return send_block(t, out, pcb, d->rsp + d->rsp_off, n);
}

/* The answer is ready: ask for waiting time first when told to, else send it. */
static long start_answer(struct vnp_vt_ccid_dev *d, uint8_t *out)
{
	struct vt_t1 *t = &d->t1;
	uint8_t mult = 2;

	t->st = VT_T1_SEND;
	if (t->wtx_left) {
		t->wtx_left--;
		t->wtx_pending = true;
		d->st.wtx++;
		return send_block(t, out, S_REQ | S_WTX, &mult, 1);
	}
	t->wtx_pending = false;
	return send_chunk(d, out);
}

static long rx_iblock(struct vnp_vt_ccid_dev *d, const uint8_t *blk, uint8_t *out)
{
	struct vt_t1 *t = &d->t1;
	uint8_t pcb = blk[1];
	size_t n = blk[2];
	int rv;

	if (n > t->ifsc || (pcb & 0x1F))
		return send_r(t, out, R_ERR_OTHER);
	if (!!(pcb & PCB_I_NS) != t->nr)
		return resend(d, out, R_ERR_OTHER); /* a repeat: the host lost our answer */
	if (t->st != VT_T1_RECV)
		d->cmd_len = 0; /* a new command (it also acknowledges our last I-block) */
	if (n > VT_CCID_CMD_MAX - d->cmd_len) {
		t->st = VT_T1_IDLE;
		d->cmd_len = 0;
		return send_r(t, out, R_ERR_OTHER);
	}
	memcpy(d->cmd + d->cmd_len, blk + 3, n);
	d->cmd_len += n;
	t->nr ^= 1;
	if (pcb & PCB_I_M) {
		t->st = VT_T1_RECV;
		return send_r(t, out, 0); /* acknowledge, ask for the next part */
	}
	t->st = VT_T1_IDLE;
	rv = vnp_vt_ccid_run_apdu(d);
	if (rv != VNP_OK)
		return rv;
	t->wtx_left = d->cfg.fault_wtx;
	return start_answer(d, out);
}

static long rx_rblock(struct vnp_vt_ccid_dev *d, const uint8_t *blk, uint8_t *out)
{
	struct vt_t1 *t = &d->t1;
	uint8_t pcb = blk[1];

	if (blk[2] || (pcb & 0x2C))
		return send_r(t, out, R_ERR_OTHER);
	if (pcb & 0x03)
		d->st.r_err_rx++;
	/* R(N(R) = our next N(S)) acknowledges a chained I-block: send the next part */
	if (t->st == VT_T1_SEND && !t->wtx_pending && !!(pcb & PCB_R_NR) == t->ns &&
	    d->rsp_off + t->chunk < d->rsp_len) {
		d->rsp_off += t->chunk;
		return send_chunk(d, out);
	}
	if (t->st == VT_T1_RECV) {
		/* the host lost our acknowledgement of its chained block */
		d->st.retransmits++;
		return send_r(t, out, 0);
	}
	return resend(d, out, R_ERR_OTHER);
}

static long rx_sblock(struct vnp_vt_ccid_dev *d, const uint8_t *blk, uint8_t *out)
{
	struct vt_t1 *t = &d->t1;
	uint8_t pcb = blk[1], n = blk[2], v = n ? blk[3] : 0;

	if (pcb == (S_REQ | S_RESYNCH) && !n) {
		d->st.resynchs++;
		vnp_vt_ccid_t1_reset(d);
		return send_block(t, out, S_RESP | S_RESYNCH, NULL, 0);
	}
	if (pcb == (S_REQ | S_IFS) && n == 1 && v >= 1 && v <= VNP_T1_INF_MAX) {
		t->ifsd = v;
		d->st.ifsd = v;
		return send_block(t, out, S_RESP | S_IFS, &v, 1);
	}
	if (pcb == (S_REQ | S_ABORT) && !n) {
		t->st = VT_T1_IDLE;
		d->cmd_len = 0;
		return send_block(t, out, S_RESP | S_ABORT, NULL, 0);
	}
	if (pcb == (S_RESP | S_WTX) && n == 1 && t->wtx_pending)
		return start_answer(d, out);
	return send_r(t, out, R_ERR_OTHER);
}

long vnp_vt_ccid_t1_rx(struct vnp_vt_ccid_dev *d, const uint8_t *blk, size_t len, uint8_t *out)
{
	struct vt_t1 *t = &d->t1;

	if (len < 4 || len > VNP_T1_BLOCK_MAX || blk[2] == 0xFF || (size_t)blk[2] + 4 != len ||
	    blk[0] != 0)
		return send_r(t, out, R_ERR_OTHER);
	if (vnp_t1_lrc(blk, len - 1) != blk[len - 1])
		return send_r(t, out, R_ERR_EDC);
	if (!(blk[1] & 0x80))
		return rx_iblock(d, blk, out);
	if ((blk[1] & 0xC0) == PCB_R)
		return rx_rblock(d, blk, out);
	return rx_sblock(d, blk, out);
}
