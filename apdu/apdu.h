/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Command/response APDUs (ISO/IEC 7816-4 §5): cases 1-4, short and extended length,
 * command chaining, response chaining (61xx + GET RESPONSE) and 6Cxx (wrong Le). */
#ifndef VNP_APDU_H
#define VNP_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "transport.h"

#define VNP_APDU_SENSITIVE 0x01u /* data is a secret: the trace redacts it, buffers are wiped */
#define VNP_APDU_NO_CHAIN 0x02u  /* never split this command with command chaining */

/* Ne meaning "as much as the card gives": 256 in short form, 65536 in extended form. */
#define VNP_LE_MAX 65536u

struct vnp_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* command data (Nc = lc bytes), may be NULL when lc == 0 */
	size_t lc;
	size_t le;           /* Ne: 0 = no response data expected, up to VNP_LE_MAX */
	unsigned flags;

	/* response */
	uint8_t *resp;       /* caller's buffer for the response data (without SW), may be NULL
			      * when no data is expected */
	size_t resp_cap;
	size_t resp_len;     /* set by vnp_apdu_transmit: data bytes received */
	uint16_t sw;         /* final status word */
};

/* Counters kept per card; exposed through the vendor interface. */
struct vnp_apdu_stats {
	uint64_t apdus;          /* command APDUs sent (GET RESPONSE and chain parts included) */
	uint64_t by_ins[256];    /* same, by INS byte */
	uint64_t transactions;   /* begin() calls */
	uint64_t bytes_out, bytes_in;
	uint64_t reader_calls;   /* calls to the reader: transmit, begin and end (with pcsc each
				  * is a pcscd round trip) */
};

/* The byte channel to one card, as the card drivers see it. */
struct vnp_card_io {
	const struct vnp_reader_ops *ops;
	struct vnp_reader *reader;
	struct vnp_reader_caps caps; /* what the reader moves */
	bool card_extended;          /* the card says it takes extended length */
	size_t card_max_cmd_data;    /* largest Nc the card takes in one APDU (0: 255) */
	size_t card_max_resp_data;   /* largest Ne the card gives in one APDU (0: 256) */
	char who[24];                /* trace name, e.g. "slot0" */
	struct vnp_apdu_stats stats;
};

/* Encode one C-APDU (no chaining) into out. extended selects the extended-length form when
 * lc > 255 or le > 256 (otherwise short form is used anyway). Returns VNP_OK,
 * VNP_E_RANGE when lc/le do not fit the chosen form, VNP_E_BUFFER_TOO_SMALL. Pure. */
int vnp_apdu_encode(const struct vnp_apdu *apdu, bool extended, uint8_t *out, size_t cap,
		    size_t *ret_len);

/* Send apdu through io and collect the whole response:
 *  - extended form when both io->caps.extended and io->card_extended allow it and the
 *    lengths need it; otherwise command chaining (CLA | 0x10) in pieces of at most 255 (or
 *    card_max_cmd_data) bytes unless VNP_APDU_NO_CHAIN;
 *  - 61xx: GET RESPONSE (00 C0 00 00 xx) until the data is complete or Ne is reached;
 *  - 6Cxx: the same command once more with Le = xx.
 * Response data beyond resp_cap is an error (VNP_E_BUFFER_TOO_SMALL) after draining.
 * Sets apdu->sw and apdu->resp_len. Returns VNP_OK whatever the final SW (check it with
 * vnp_sw_to_rv), or a transport error. Counts every APDU sent in io->stats; traces them
 * (VNP_LOG_APDU) with VNP_APDU_SENSITIVE data redacted; wipes its own copies of
 * sensitive commands. */
int vnp_apdu_transmit(struct vnp_card_io *io, struct vnp_apdu *apdu);

/* vnp_apdu_transmit, then vnp_sw_to_rv(apdu->sw, applet_sw). */
struct vnp_sw_entry;
int vnp_apdu_run(struct vnp_card_io *io, struct vnp_apdu *apdu,
		 const struct vnp_sw_entry *applet_sw);

#endif
