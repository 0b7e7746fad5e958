/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host side of one CCID slot driven over a byte pipe (two bulk endpoints, or a socket that
 * carries their messages): power, slot status, and APDU exchange at the exchange level the
 * class descriptor declares (short APDU, extended APDU with wLevelParameter chaining, or TPDU
 * with T=1 from t1.c). ccid/ never parses an APDU: APDUs are opaque byte strings here.
 * Not thread-safe: one caller at a time per struct vnp_ccid_reader (the backend's lock). */
#ifndef VNP_CCID_READER_H
#define VNP_CCID_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct vnp_ccid_pipe_ops {
	/* One bulk-OUT message of len bytes. VNP_OK, VNP_E_NO_DEVICE (the device is gone),
	 * VNP_E_TRANSPORT, VNP_E_TIMEOUT. */
	int (*bulk_out)(void *pipe, const uint8_t *msg, size_t len, unsigned timeout_ms);
	/* One bulk-IN message into buf (cap bytes), waiting at most timeout_ms; *ret_len set on
	 * VNP_OK. A message longer than cap is an error (VNP_E_TRANSPORT), never a partial
	 * copy past cap. VNP_E_TIMEOUT when nothing came, VNP_E_NO_DEVICE, VNP_E_TRANSPORT. */
	int (*bulk_in)(void *pipe, uint8_t *buf, size_t cap, size_t *ret_len, unsigned timeout_ms);
};

/* Base timeout of one bulk-IN read; a time extension multiplies it (bError of the answer). */
#define VNP_CCID_READER_TIMEOUT_MS 10000u
/* Answers with another bSeq (stale answers of an earlier, abandoned command) discarded in a
 * row before the command fails. */
#define VNP_CCID_READER_MAX_STALE 8u
/* Time extension answers accepted for one command before it fails. */
#define VNP_CCID_READER_MAX_TIME_EXT 64u
/* Empty response parts that say "more follows" (extended APDU level) accepted in a row before
 * the command fails. */
#define VNP_CCID_READER_MAX_EMPTY 8u

/* What happened on the pipe, for tests, benchmarks and bug reports. */
struct vnp_ccid_reader_stats {
	unsigned long msgs;       /* bulk-OUT messages sent */
	unsigned long time_ext;   /* time extension answers waited through */
	unsigned long stale;      /* answers with a stale bSeq discarded */
	unsigned long t1_blocks;  /* T=1 blocks sent (TPDU level) */
	unsigned long t1_r_err;   /* T=1 R-blocks sent that report an error (retransmit requests) */
	unsigned long t1_mute;    /* T=1 blocks the card did not answer (ICC mute, timeout) */
	unsigned t1_resynchs;     /* RESYNCH exchanges (t1.c) */
};

struct vnp_ccid_reader;

/* Create a reader for slot over pipe (ops called with pipe; both outlive the reader).
 * class_desc: the CCID class descriptor (desc_len bytes, 54 expected), parsed here.
 * Errors: VNP_E_ARGS, VNP_E_MALFORMED (descriptor), VNP_E_NOT_SUPPORTED (character level,
 * or TPDU level without T=1; slot > bMaxSlotIndex), VNP_E_NOMEM. */
int vnp_ccid_reader_new(const struct vnp_ccid_pipe_ops *ops, void *pipe, const uint8_t *class_desc,
			size_t desc_len, uint8_t slot, struct vnp_ccid_reader **ret);
/* Free; the card is left as it is (no message sent). NULL is a no-op. */
void vnp_ccid_reader_free(struct vnp_ccid_reader *r);

/* GetSlotStatus: card present, card powered (active). Powers nothing. A failed answer that
 * says ICC mute or absent is a status (VNP_OK), as readers send it for an empty slot.
 * Errors: the pipe's (VNP_E_NO_DEVICE, VNP_E_TIMEOUT, VNP_E_TRANSPORT), VNP_E_ARGS. */
int vnp_ccid_reader_slot_status(struct vnp_ccid_reader *r, bool *ret_present, bool *ret_active);

/* IccPowerOn (automatic voltage); at TPDU level also GetParameters (SetParameters T=1 when
 * the reader is not at T=1) and IFSD negotiation. atr: VNP_ATR_MAX bytes; *atr_len is set.
 * Errors: VNP_E_NO_CARD (absent), VNP_E_TIMEOUT (card mute), VNP_E_NOT_SUPPORTED (not T=1
 * at TPDU level), VNP_E_MALFORMED (ATR too long), the pipe's errors. */
int vnp_ccid_reader_power_on(struct vnp_ccid_reader *r, uint8_t *atr, size_t *atr_len);
int vnp_ccid_reader_power_off(struct vnp_ccid_reader *r);

/* One command APDU (len bytes) → response APDU with SW1 SW2 into resp (capacity *resp_len on
 * entry, length on return). Errors: VNP_E_CARD_RESET (not powered on, or the reader says the
 * card is inactive: power it on again), VNP_E_NO_CARD (absent or pulled), VNP_E_TIMEOUT
 * (mute card), VNP_E_RANGE (command longer than the caps allow), VNP_E_BUFFER_TOO_SMALL,
 * VNP_E_TRANSPORT (protocol failure: the command's effect is unknown), VNP_E_NO_DEVICE. */
int vnp_ccid_reader_transmit(struct vnp_ccid_reader *r, const uint8_t *apdu, size_t len,
			     uint8_t *resp, size_t *resp_len);

/* Reader capabilities for the module (extended, max_cmd, max_resp; t0 false). */
void vnp_ccid_reader_caps(const struct vnp_ccid_reader *r, struct vnp_reader_caps *ret);

void vnp_ccid_reader_stats(const struct vnp_ccid_reader *r, struct vnp_ccid_reader_stats *ret);
/* Whether the last power_on left the card powered (false after NO_CARD or power_off). */
bool vnp_ccid_reader_powered(const struct vnp_ccid_reader *r);

#endif
