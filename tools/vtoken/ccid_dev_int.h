/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals of the CCID device (ccid_dev.c: CCID messages; ccid_dev_t1.c: the card's T=1). */
#ifndef VNP_VT_CCID_DEV_INT_H
#define VNP_VT_CCID_DEV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid_dev.h"
#include "t1.h"

/* An extended case 4 command (4 + 3 + 65535 + 2) and a full answer (65536 + SW). */
#define VT_CCID_CMD_MAX (4 + 3 + 65535 + 2)
#define VT_CCID_RSP_MAX (65536 + 2)

struct vt_answer {
	struct vt_answer *next;
	size_t len;
	uint8_t msg[];
};

enum vt_t1_state { VT_T1_IDLE, VT_T1_RECV, VT_T1_SEND };

/* The card's half of T=1 (ISO 7816-3 §11). */
struct vt_t1 {
	size_t ifsc;          /* the card's: largest INF the host may send */
	size_t ifsd;          /* the host's: largest INF the card sends (S(IFS) sets it) */
	uint8_t ns;           /* N(S) of the card's next new I-block */
	uint8_t nr;           /* N(S) expected in the host's next I-block */
	enum vt_t1_state st;
	size_t chunk;         /* INF length of the last I-block sent (SEND) */
	unsigned wtx_left;    /* S(WTX) still to ask before the answer */
	bool wtx_pending;     /* the last block sent was S(WTX request) */
	uint8_t last[VNP_T1_BLOCK_MAX]; /* last block sent, for retransmission */
	size_t last_len;
};

struct vnp_vt_ccid_dev {
	struct vnp_vt_ccid_cfg cfg;
	char *state;               /* state file path: the card is there when it exists */
	struct vnp_vcard *card;    /* powered card, or NULL */
	bool pulled;               /* fault_pull_card took it out */
	bool reported_present;     /* presence last told by the interrupt pipe */
	uint8_t t1_params[7];      /* abProtocolDataStructure for T=1 */
	struct vt_answer *head, *tail;
	uint8_t *cmd;              /* command being assembled (chained) */
	size_t cmd_len;
	bool chaining;             /* extended level: command parts still to come */
	uint8_t *rsp;              /* the card's answer being sent in parts */
	size_t rsp_len, rsp_off;
	bool rsp_pending;          /* extended level: answer parts still to send */
	unsigned long answers;     /* APDU-level answers, for fault_lose_block */
	struct vt_t1 t1;
	struct vnp_vt_ccid_stats st;
};

/* Run d->cmd (d->cmd_len bytes) on the card; the answer goes to d->rsp/rsp_len (rsp_off 0).
 * The command buffer is wiped. VNP_OK, VNP_E_NO_CARD (state file gone meanwhile). */
int vnp_vt_ccid_run_apdu(struct vnp_vt_ccid_dev *d);
/* T=1 state after power on or RESYNCH. */
void vnp_vt_ccid_t1_reset(struct vnp_vt_ccid_dev *d);
/* One block from the host (len bytes) → the card's block into out (VNP_T1_BLOCK_MAX bytes);
 * returns its length. VNP_E_NO_CARD as a negative value when the card went away. */
long vnp_vt_ccid_t1_rx(struct vnp_vt_ccid_dev *d, const uint8_t *blk, size_t len, uint8_t *out);

#endif
