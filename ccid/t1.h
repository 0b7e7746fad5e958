/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ISO/IEC 7816-3:2006 §11 T=1 block protocol over an abstract block exchange, so that it can
 * run over CCID XfrBlock at TPDU level, or over a test's scripted card. Blocks are
 * NAD PCB LEN INF EDC, with EDC = LRC. Private to ccid/. Not thread-safe: one struct vnp_t1
 * per card, serialised by the caller (the token lock). */
#ifndef VNP_T1_H
#define VNP_T1_H

#include <stddef.h>
#include <stdint.h>

#define VNP_T1_INF_MAX 254
#define VNP_T1_BLOCK_MAX (3 + VNP_T1_INF_MAX + 1)
#define VNP_T1_IFS_DEFAULT 32 /* IFSC/IFSD before negotiation, §11.4.2 */
#define VNP_T1_MAX_RETRIES 3  /* R-block retransmission requests before RESYNCH */
#define VNP_T1_MAX_STALLS 255 /* consecutive S(WTX)/S(IFS) requests or empty chained
                               * I-blocks without progress */

/* Send blk (blk_len bytes) and receive the card's next block into rsp (rsp_cap bytes), waiting
 * bwt_mult times the block waiting time (1 unless the card asked for a waiting time extension).
 * Returns VNP_OK with *ret_rsp_len set, VNP_E_TIMEOUT when no block came back (the block is
 * lost: T=1 recovers), any other enum vnp_rv for a fatal error (passed through: card removed,
 * device gone). */
typedef int (*vnp_t1_xfer_fn)(void *ctx, const uint8_t *blk, size_t blk_len, uint8_t *rsp,
			      size_t rsp_cap, size_t *ret_rsp_len, unsigned bwt_mult);

struct vnp_t1 {
	vnp_t1_xfer_fn xfer;
	void *ctx;
	uint8_t nad;      /* NAD sent; the card's blocks carry it with SAD and DAD swapped */
	size_t ifsc;      /* card's max INF size: chunk size of our I-blocks */
	size_t ifsc_atr;  /* IFSC from the ATR, restored by RESYNCH */
	size_t ifsd;      /* our max INF size, as negotiated */
	size_t ifsc_max;  /* largest INF our transport carries (0: VNP_T1_INF_MAX): an S(IFS)
			   * request of the card above it is answered, and clamped to it */
	uint8_t ns;       /* N(S) of our next I-block */
	uint8_t nr;       /* N(S) expected in the card's next I-block */
	unsigned resynchs; /* RESYNCH exchanges done (diagnostics, tests) */
};

/* Initialise t: ifsc from the ATR (TA for T=1; 1..254, else VNP_T1_IFS_DEFAULT), IFSD 32,
 * N(S) = N(R) = 0, NAD 0. xfer must be non-NULL. */
void vnp_t1_init(struct vnp_t1 *t, size_t ifsc, vnp_t1_xfer_fn xfer, void *ctx);

/* Negotiate IFSD (1..254) with S(IFS request), done once after the ATR (§11.4.2). Invalid or
 * missing answers are retried up to VNP_T1_MAX_RETRIES times, then RESYNCH.
 * Errors: VNP_E_ARGS (ifsd out of range), VNP_E_TRANSPORT, or xfer's fatal errors. */
int vnp_t1_negotiate_ifsd(struct vnp_t1 *t, size_t ifsd);

/* Send one APDU (cmd_len bytes, chained in IFSC-sized I-blocks) and receive the answer (chained
 * I-blocks of at most IFSD bytes) into rsp; *ret_rsp_len set on success. Handles R-block
 * acknowledgements and retransmission, S(WTX) and S(IFS) requests from the card. After
 * VNP_T1_MAX_RETRIES errors in a row (bad EDC, bad block, timeout) it sends RESYNCH and
 * returns VNP_E_TRANSPORT: the command's effect is unknown, so it is not replayed.
 * Errors: VNP_E_ARGS, VNP_E_BUFFER_TOO_SMALL (answer longer than rsp_cap: the exchange is
 * abandoned with RESYNCH), VNP_E_TRANSPORT (protocol failure, S(ABORT), too many stalls),
 * xfer's fatal errors. */
int vnp_t1_transceive(struct vnp_t1 *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
		      size_t rsp_cap, size_t *ret_rsp_len);

/* S(RESYNCH request) up to VNP_T1_MAX_RETRIES times; on S(RESYNCH response) reset N(S), N(R),
 * IFSC (ATR value) and IFSD (32) (§11.6.3.2 rule 6.4). Errors: VNP_E_TRANSPORT, xfer's fatal
 * errors. */
int vnp_t1_resynch(struct vnp_t1 *t);

/* Longitudinal redundancy check: XOR of the len bytes at p. */
uint8_t vnp_t1_lrc(const uint8_t *p, size_t len);

#endif
