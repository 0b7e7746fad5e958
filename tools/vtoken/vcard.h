/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card OS of the virtual token: one powered card instance over one state file.
 * It parses command APDUs (short and extended), joins chained commands, buffers long
 * answers for GET RESPONSE, and dispatches to the selected applet. Not thread-safe: one
 * caller at a time per instance; several instances (and processes) may share a state. */
#ifndef VNP_VT_VCARD_H
#define VNP_VT_VCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state.h"
#include "tlv.h"

#define VNP_VT_CHAIN_MAX (VNP_VT_VALUE_MAX + 4096)

struct vnp_vcard;

/* One command as the applet sees it (chained parts already joined). */
struct vnp_vt_cmd {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	size_t ne;
	bool has_le;
};

struct vnp_vt_applet {
	const char *name;
	const uint8_t *aid;
	size_t aid_len;
	/* Selected: write the SELECT answer data to out; return the SW. */
	uint16_t (*select)(struct vnp_vcard *card, struct vnp_buf *out);
	/* One command; answer data to out; return the SW. */
	uint16_t (*process)(struct vnp_vcard *card, const struct vnp_vt_cmd *cmd,
			    struct vnp_buf *out);
	/* Forget the applet's volatile state (deselect, reset, power off). */
	void (*deselect)(struct vnp_vcard *card);
	/* Non-zero: SELECT also matches a right-truncated AID of at least this many bytes
	 * (ISO 7816-4 §11.2.2, partial DF name). */
	size_t aid_min_len;
};

/* Volatile state of the vntoken applet. */
struct vnp_vt_vntoken {
	bool pin_verified;
	bool always_auth_ok; /* a VERIFY since the last signature with an always-auth key */
	bool mse_set;
	uint8_t mse_key, mse_scheme, mse_hash;
	uint16_t mse_salt;
};

/* Volatile state of the PIV applet (PIV.md). */
struct vnp_vt_piv {
	bool pin_verified;
	bool always_auth_ok; /* a VERIFY since the last use of key 9C */
	bool mgmt_ok;        /* card management key (9B) authenticated */
	uint8_t mgmt_step;   /* 0 none, 1 witness sent (mutual), 2 challenge sent (external) */
	uint8_t nonce[16];   /* the witness or challenge of mgmt_step */
	size_t nonce_len;
};

struct vnp_vcard {
	struct vnp_vt_state *st;
	const struct vnp_vt_applet *applet; /* selected, or NULL */
	struct vnp_vt_vntoken vnt;
	struct vnp_vt_piv piv;
	uint8_t *pending;                   /* answer bytes waiting for GET RESPONSE */
	size_t pending_len, pending_off;
	uint8_t *chain;                     /* joined data of a command chain */
	size_t chain_len;
	uint8_t chain_hdr[4];               /* CLA (without the chaining bit), INS, P1, P2 */
	bool chaining;
	unsigned sign_ms;                   /* sleep per private-key operation */
	const _Atomic int *stop;           /* cuts sleeps short when set (may be NULL) */
	uint64_t sign_ops;                  /* private-key operations done */
};

extern const struct vnp_vt_applet vnp_vt_applet_vntoken;
extern const struct vnp_vt_applet vnp_vt_applet_piv;

/* Power on a card over the state file at path. VNP_OK, VNP_E_IO (missing/unreadable),
 * VNP_E_MALFORMED (bad state file), VNP_E_NOMEM. */
int vnp_vcard_open(const char *path, struct vnp_vcard **ret);
/* Power off and free; NULL is a no-op. */
void vnp_vcard_close(struct vnp_vcard *card);
/* The ATR (APPLET.md); returns its length. atr must hold 33 bytes. */
size_t vnp_vcard_atr(uint8_t *atr);
/* The ATR of this card's profile (vntoken: as vnp_vcard_atr; piv: PIV.md). atr must hold
 * 33 bytes; returns the length. */
size_t vnp_vcard_atr_of(const struct vnp_vcard *card, uint8_t *atr);
/* Warm reset: drop the volatile state (selection, PIN verified, MSE, pending, chain). */
void vnp_vcard_reset(struct vnp_vcard *card);
/* One command APDU -> response APDU with SW1 SW2 (capacity *resp_len >= 2 on entry).
 * Card-level errors are status words; returns VNP_OK or VNP_E_ARGS. */
int vnp_vcard_transmit(struct vnp_vcard *card, const uint8_t *cmd, size_t cmd_len,
		       uint8_t *resp, size_t *resp_len);

#endif
