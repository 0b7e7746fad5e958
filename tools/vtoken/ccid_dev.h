/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual token as a USB CCID device (CCID 1.1), without USB: bulk-OUT messages go in,
 * bulk-IN answers and interrupt messages come out. One slot; the card is the card OS of
 * vcard.c over a state file (every profile), powered by IccPowerOn; removing the state file
 * removes the card. At TPDU level the device runs the card side of T=1 (ISO 7816-3 §11).
 * Fault injection for tests. Used by `vnpki-vtoken serve-ccid` (a unix socket) and by the
 * USB harness (umockdev). Not thread-safe: one caller at a time per device. */
#ifndef VNP_VT_CCID_DEV_H
#define VNP_VT_CCID_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNP_VT_CCID_DESC_LEN 54

enum {
	VNP_VT_CCID_LEVEL_SHORT = 0, /* short APDU level */
	VNP_VT_CCID_LEVEL_EXT = 1,   /* extended APDU level (wLevelParameter chaining) */
	VNP_VT_CCID_LEVEL_T1 = 2,    /* TPDU level, T=1 */
};

/* Called after each APDU the card answered (for traces and APDU counts); cmd may hold a PIN. */
typedef void (*vnp_vt_ccid_apdu_fn)(void *ctx, const uint8_t *cmd, size_t cmd_len,
				    const uint8_t *resp, size_t resp_len);

struct vnp_vt_ccid_cfg {
	int level;        /* VNP_VT_CCID_LEVEL_* */
	uint32_t max_msg; /* dwMaxCCIDMessageLength (e.g. 271 or 65544); 0: 271 */
	uint8_t ifsc;     /* card IFSC for T=1 (1..254); 0: 254 */
	/* Fault injection (counts, 0 = off). fault_bad_edc: the Nth card block (T=1) goes out
	 * with a wrong EDC; fault_lose_block: the Nth card block is lost (the reader answers
	 * ICC mute; at APDU levels the Nth answer); fault_time_ext: every XfrBlock answer is
	 * preceded by N time extension answers (bError 2); fault_pull_card: the card is pulled
	 * during the Nth XfrBlock (it stays out until vnp_vt_ccid_dev_insert). */
	unsigned fault_bad_edc, fault_lose_block, fault_time_ext, fault_pull_card;
	/* T=1: the card asks N S(WTX) (multiplier 2) before each APDU's answer. */
	unsigned fault_wtx;
	vnp_vt_ccid_apdu_fn on_apdu; /* may be NULL */
	void *on_apdu_ctx;
};

/* What the device saw and did (tests, notes). */
struct vnp_vt_ccid_stats {
	unsigned long msgs;        /* bulk-OUT messages */
	unsigned long xfr;         /* XfrBlock messages */
	unsigned long apdus;       /* APDUs the card answered */
	unsigned long blocks;      /* T=1 blocks the card sent (incl. retransmissions, lost) */
	unsigned long retransmits; /* T=1 blocks sent again on the host's request */
	unsigned long r_err_rx;    /* T=1 R-blocks with an error code received */
	unsigned long resynchs;    /* S(RESYNCH request) received */
	unsigned long wtx;         /* S(WTX request) sent */
	unsigned long time_ext;    /* time extension answers sent */
	unsigned long bad_edc;     /* blocks sent with a corrupted EDC */
	unsigned long lost;        /* blocks lost */
	unsigned long pulls;       /* card pulls (fault) */
	unsigned ifsd;             /* IFSD the host negotiated */
};

struct vnp_vt_ccid_dev;

/* New device over the token at state_path (the card is present when the file exists).
 * Errors: VNP_E_ARGS (level, max_msg below 64 or above 65544 + 10, ifsc), VNP_E_NOMEM. */
int vnp_vt_ccid_dev_new(const struct vnp_vt_ccid_cfg *cfg, const char *state_path,
			struct vnp_vt_ccid_dev **ret);
/* Power off and free. NULL is a no-op. */
void vnp_vt_ccid_dev_free(struct vnp_vt_ccid_dev *d);
/* The CCID class descriptor (VNP_VT_CCID_DESC_LEN bytes into out); returns its length. */
size_t vnp_vt_ccid_dev_class_desc(const struct vnp_vt_ccid_dev *d, uint8_t *out);
/* One bulk-OUT message; its answers are queued (several with time extensions). Malformed
 * messages get the CCID error answer, never a crash. VNP_OK, VNP_E_ARGS, VNP_E_NOMEM. */
int vnp_vt_ccid_dev_put(struct vnp_vt_ccid_dev *d, const uint8_t *msg, size_t len);
/* Next queued bulk-IN answer into buf; VNP_E_NOT_FOUND when none; VNP_E_BUFFER_TOO_SMALL
 * (the message is dropped) when it is longer than cap. */
int vnp_vt_ccid_dev_get(struct vnp_vt_ccid_dev *d, uint8_t *buf, size_t cap, size_t *ret_len);
/* RDR_to_PC_NotifySlotChange (2 bytes) when the card came or went since the last call
 * (looks at the state file now); returns its length, 0 if nothing changed. */
size_t vnp_vt_ccid_dev_interrupt(struct vnp_vt_ccid_dev *d, uint8_t *buf, size_t cap);
/* The host went away (USB reset, socket closed): power the card off, drop queued answers. */
void vnp_vt_ccid_dev_power_off(struct vnp_vt_ccid_dev *d);
/* Put a pulled card back (after fault_pull_card); it is present and unpowered. */
void vnp_vt_ccid_dev_insert(struct vnp_vt_ccid_dev *d);
void vnp_vt_ccid_dev_stats(const struct vnp_vt_ccid_dev *d, struct vnp_vt_ccid_stats *ret);

#endif
