/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ISO/IEC 7816-3 T=1: I-, R- and S-blocks, chaining, error recovery (§11.6). */
#include <stdbool.h>
#include <string.h>
#include <openssl/crypto.h>

#include "compiler.h"
#include "rv.h"
#include "t1.h"

/* PCB coding, §11.3.2 */
#define PCB_I_NS 0x40
#define PCB_I_M 0x20
#define PCB_R 0x80
#define PCB_R_NR 0x10
#define PCB_S 0xC0
#define PCB_S_RESP 0x20
#define S_RESYNCH 0x00
#define S_IFS 0x01
#define S_ABORT 0x02
#define S_WTX 0x03

#define IS_I(pcb) (((pcb)&0x80) == 0)
#define IS_R(pcb) (((pcb)&0xC0) == PCB_R)

/* Block check outcome, also the R-block error code (§11.3.2.2) */
enum blk_err { BLK_OK = 0, BLK_EDC = 1, BLK_OTHER = 2 };

uint8_t vnp_t1_lrc(const uint8_t *p, size_t len)
{
	uint8_t x = 0;

	for (size_t i = 0; i < len; i++)
		x ^= p[i];
	return x;
}

void vnp_t1_init(struct vnp_t1 *t, size_t ifsc, vnp_t1_xfer_fn xfer, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->xfer = xfer;
	t->ctx = ctx;
	t->ifsc = (ifsc >= 1 && ifsc <= VNP_T1_INF_MAX) ? ifsc : VNP_T1_IFS_DEFAULT;
	t->ifsc_atr = t->ifsc;
	t->ifsd = VNP_T1_IFS_DEFAULT;
}

/* Writes NAD PCB LEN INF LRC into b (VNP_T1_BLOCK_MAX bytes); len <= VNP_T1_INF_MAX. */
static size_t make_block(const struct vnp_t1 *t, uint8_t *b, uint8_t pcb, const uint8_t *inf,
			 size_t len)
{
	b[0] = t->nad;
	b[1] = pcb;
	b[2] = (uint8_t)len;
	if (len)
		memcpy(b + 3, inf, len);
	b[3 + len] = vnp_t1_lrc(b, 3 + len);
	return 4 + len;
}

static enum blk_err check_block(const struct vnp_t1 *t, const uint8_t *b, size_t len)
{
	uint8_t nad_rx = (uint8_t)(((t->nad & 0x07) << 4) | ((t->nad >> 4) & 0x07));
	uint8_t pcb;
	size_t n;

	if (len < 4 || len > VNP_T1_BLOCK_MAX || b[2] == 0xFF || (size_t)b[2] + 4 != len)
		return BLK_OTHER;
	if (vnp_t1_lrc(b, len - 1) != b[len - 1])
		return BLK_EDC;
	pcb = b[1];
	n = b[2];
	if (b[0] != nad_rx)
		return BLK_OTHER;
	if (IS_I(pcb))
		return ((pcb & 0x1F) || n > t->ifsd) ? BLK_OTHER : BLK_OK;
	if (IS_R(pcb))
		return ((pcb & 0x2C) || (pcb & 0x03) == 3 || n) ? BLK_OTHER : BLK_OK;
	switch (pcb & 0x1F) {
	case S_RESYNCH:
	case S_ABORT:
		return n == 0 ? BLK_OK : BLK_OTHER;
	case S_IFS:
	case S_WTX:
		return n == 1 ? BLK_OK : BLK_OTHER;
	default:
		return BLK_OTHER;
	}
}

/* One exchange; *err is BLK_OTHER on timeout, else the block check. Fatal errors returned. */
static int exchange(struct vnp_t1 *t, const uint8_t *out, size_t out_len, uint8_t *in,
		    size_t *in_len, unsigned bwt, enum blk_err *err)
{
	int rv = t->xfer(t->ctx, out, out_len, in, VNP_T1_BLOCK_MAX, in_len, bwt);

	if (rv == VNP_E_TIMEOUT) {
		*err = BLK_OTHER;
		rv = VNP_OK;
	} else if (rv == VNP_OK) {
		*err = *in_len > VNP_T1_BLOCK_MAX ? BLK_OTHER : check_block(t, in, *in_len);
	}
	return rv;
}

int vnp_t1_resynch(struct vnp_t1 *t)
{
	uint8_t out[VNP_T1_BLOCK_MAX], in[VNP_T1_BLOCK_MAX];
	size_t out_len, in_len = 0;
	enum blk_err err;
	int rv = VNP_E_TRANSPORT;

	if (!t || !t->xfer) {
		rv = VNP_E_ARGS;
		goto out;
	}
	t->resynchs++;
	out_len = make_block(t, out, PCB_S | S_RESYNCH, NULL, 0);
	for (unsigned i = 0; i < VNP_T1_MAX_RETRIES; i++) {
		rv = exchange(t, out, out_len, in, &in_len, 1, &err);
		if (rv != VNP_OK)
			goto out;
		rv = VNP_E_TRANSPORT;
		if (err == BLK_OK && in[1] == (PCB_S | PCB_S_RESP | S_RESYNCH)) {
			t->ns = 0;
			t->nr = 0;
			t->ifsc = t->ifsc_atr;
			t->ifsd = VNP_T1_IFS_DEFAULT;
			rv = VNP_OK;
			goto out;
		}
	}
out:
	return rv;
}

int vnp_t1_negotiate_ifsd(struct vnp_t1 *t, size_t ifsd)
{
	uint8_t out[VNP_T1_BLOCK_MAX], in[VNP_T1_BLOCK_MAX], v;
	size_t out_len, in_len = 0;
	enum blk_err err;
	int rv = VNP_E_ARGS;

	if (!t || !t->xfer || ifsd < 1 || ifsd > VNP_T1_INF_MAX)
		goto out;
	v = (uint8_t)ifsd;
	out_len = make_block(t, out, PCB_S | S_IFS, &v, 1);
	for (unsigned i = 0; i <= VNP_T1_MAX_RETRIES; i++) {
		rv = exchange(t, out, out_len, in, &in_len, 1, &err);
		if (rv != VNP_OK)
			goto out;
		if (err == BLK_OK && in[1] == (PCB_S | PCB_S_RESP | S_IFS) && in[3] == v) {
			t->ifsd = ifsd;
			goto out;
		}
	}
	/* §11.6.3.2 rule 6: no valid S(IFS response) after retries */
	rv = vnp_t1_resynch(t);
	if (rv == VNP_OK)
		rv = VNP_E_TRANSPORT;
out:
	return rv;
}

int vnp_t1_transceive(struct vnp_t1 *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
		      size_t rsp_cap, size_t *ret_rsp_len)
{
	uint8_t ib[VNP_T1_BLOCK_MAX], out[VNP_T1_BLOCK_MAX], in[VNP_T1_BLOCK_MAX], pcb, v;
	size_t ib_len, out_len, in_len = 0, off = 0, chunk, got = 0, n;
	bool sending = true;
	unsigned errors = 0, stalls = 0, bwt = 1;
	enum blk_err err;
	int rv = VNP_E_ARGS;

	if (!t || !t->xfer || (!cmd && cmd_len) || (!rsp && rsp_cap) || !ret_rsp_len)
		goto out;
	chunk = VNP_MIN(cmd_len, t->ifsc);
	ib_len = make_block(t, ib, (uint8_t)((t->ns ? PCB_I_NS : 0) | (chunk < cmd_len ? PCB_I_M : 0)),
			    cmd, chunk);
	memcpy(out, ib, ib_len);
	out_len = ib_len;
	for (;;) {
		rv = exchange(t, out, out_len, in, &in_len, bwt, &err);
		if (rv != VNP_OK)
			goto out;
		bwt = 1;
		if (err != BLK_OK)
			goto bad;
		pcb = in[1];
		n = in[2];
		if (IS_I(pcb)) {
			/* the card answers only after our last chained block (§11.6.2.2) */
			if ((sending && off + chunk < cmd_len) || !!(pcb & PCB_I_NS) != t->nr) {
				err = BLK_OTHER;
				goto bad;
			}
			if (sending) {
				t->ns ^= 1;
				sending = false;
			}
			if (n > rsp_cap - got) {
				vnp_t1_resynch(t);
				rv = VNP_E_BUFFER_TOO_SMALL;
				goto out;
			}
			if (n)
				memcpy(rsp + got, in + 3, n);
			got += n;
			t->nr ^= 1;
			errors = 0;
			/* empty chained I-blocks make no progress: bounded like S-blocks */
			if (n || !(pcb & PCB_I_M))
				stalls = 0;
			else if (++stalls > VNP_T1_MAX_STALLS)
				goto resynch;
			if (!(pcb & PCB_I_M)) {
				*ret_rsp_len = got;
				rv = VNP_OK;
				goto out;
			}
			out_len = make_block(t, out, (uint8_t)(PCB_R | (t->nr ? PCB_R_NR : 0)), NULL, 0);
			continue;
		}
		if (IS_R(pcb)) {
			bool nr_card = !!(pcb & PCB_R_NR);

			if (sending && nr_card != t->ns && off + chunk < cmd_len) {
				/* acknowledgement of a chained block: send the next one */
				t->ns ^= 1;
				off += chunk;
				chunk = VNP_MIN(cmd_len - off, t->ifsc);
				ib_len = make_block(t, ib,
						    (uint8_t)((t->ns ? PCB_I_NS : 0) |
							      (off + chunk < cmd_len ? PCB_I_M : 0)),
						    cmd + off, chunk);
				memcpy(out, ib, ib_len);
				out_len = ib_len;
				errors = 0;
				stalls = 0;
				continue;
			}
			if (sending && nr_card == t->ns) {
				/* retransmission request for our last I-block */
				if (++errors > VNP_T1_MAX_RETRIES)
					goto resynch;
				memcpy(out, ib, ib_len);
				out_len = ib_len;
				continue;
			}
			if (!sending) {
				/* the card did not get our acknowledgement: send it again */
				if (++errors > VNP_T1_MAX_RETRIES)
					goto resynch;
				continue;
			}
			err = BLK_OTHER;
			goto bad;
		}
		/* S-block: only requests are valid from the card here */
		v = in[3];
		if (++stalls > VNP_T1_MAX_STALLS) {
			rv = VNP_E_TRANSPORT;
			goto out;
		}
		if (pcb == (PCB_S | S_WTX)) {
			bwt = v ? v : 1;
			out_len = make_block(t, out, PCB_S | PCB_S_RESP | S_WTX, &v, 1);
			continue;
		}
		if (pcb == (PCB_S | S_IFS) && v >= 1 && v <= VNP_T1_INF_MAX) {
			t->ifsc = (t->ifsc_max && v > t->ifsc_max) ? t->ifsc_max : v;
			out_len = make_block(t, out, PCB_S | PCB_S_RESP | S_IFS, &v, 1);
			continue;
		}
		if (pcb == (PCB_S | S_ABORT)) {
			rv = VNP_E_TRANSPORT;
			goto out;
		}
		err = BLK_OTHER;
bad:
		/* §11.6.3.2 rule 7.1-7.3: ask for the card's block again with an R-block */
		if (++errors > VNP_T1_MAX_RETRIES)
			goto resynch;
		out_len = make_block(t, out, (uint8_t)(PCB_R | (t->nr ? PCB_R_NR : 0) | err), NULL, 0);
	}
resynch:
	rv = vnp_t1_resynch(t);
	if (rv == VNP_OK)
		rv = VNP_E_TRANSPORT;
out:
	/* the blocks carried the APDUs: a VERIFY's PIN, private object data */
	OPENSSL_cleanse(ib, sizeof(ib));
	OPENSSL_cleanse(out, sizeof(out));
	OPENSSL_cleanse(in, sizeof(in));
	return rv;
}
