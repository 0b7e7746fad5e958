/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reader seam: one vtable per transport (pcsc, vtoken; usb later).
 * ccid/ moves bytes; it never parses an APDU.
 *
 * Serialisation: a backend is used by one thread at a time for a given struct vnp_reader
 * (the token lock in pkcs11/ holds it). list() may be called concurrently with I/O on
 * readers of the same backend; backends guard their own shared state. */
#ifndef VNP_TRANSPORT_H
#define VNP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnp_config;
struct vnp_backend;
struct vnp_reader;

#define VNP_READER_NAME_MAX 128
#define VNP_ATR_MAX 33
/* Largest APDU a transport moves: extended case 4 (4 + 3 + 65535 + 2) and
 * 65536 response bytes + SW. */
#define VNP_APDU_BUF_MAX (65536 + 16)

struct vnp_reader_state {
	char name[VNP_READER_NAME_MAX]; /* unique within its backend, stable while present */
	bool card_present;
	uint8_t atr[VNP_ATR_MAX];
	size_t atr_len;
	uint32_t event_count; /* moves whenever a card is inserted or removed (0 if unknown) */
};

struct vnp_reader_caps {
	bool extended;   /* reader (and driver) move extended-length APDUs */
	size_t max_cmd;  /* largest command APDU in bytes the reader moves */
	size_t max_resp; /* largest response APDU in bytes (data + SW) */
	bool t0;         /* the card speaks T=0 (GET RESPONSE for case 4) */
};

struct vnp_reader_ops {
	const char *name; /* "pcsc", "vtoken" */

	/* Open the backend. VNP_E_NO_SERVICE when its service (pcscd) is not there: the caller
	 * treats that as "no readers", not a failure. */
	int (*open)(const struct vnp_config *cfg, struct vnp_backend **ret);
	void (*close)(struct vnp_backend *be);

	/* List the readers now attached, with card presence and ATR. Fills at most max
	 * entries of out, sets *ret_count. Never blocks on a card. */
	int (*list)(struct vnp_backend *be, struct vnp_reader_state *out, size_t max,
		    size_t *ret_count);

	/* Connect to the card in the named reader (shared mode). Fills caps.
	 * VNP_E_NO_CARD when empty; VNP_E_NO_DEVICE when the reader is gone. */
	int (*connect)(struct vnp_backend *be, const char *name, struct vnp_reader **ret,
		       struct vnp_reader_caps *ret_caps);
	void (*disconnect)(struct vnp_reader *r);

	/* Current ATR of the connected card. */
	int (*atr)(struct vnp_reader *r, uint8_t *atr, size_t *atr_len);

	/* Start / end an exclusive transaction (PC/SC SCardBeginTransaction). begin() returns
	 * VNP_E_CARD_RESET when the card was reset since the last call (the backend has already
	 * reconnected and holds the transaction: the caller re-selects and drops volatile
	 * state), VNP_E_NO_CARD when removed. */
	int (*begin)(struct vnp_reader *r);
	void (*end)(struct vnp_reader *r);

	/* Send one command APDU (already encoded, T=1/T=0 framing is the transport's job),
	 * receive the response including SW1 SW2. *resp_len is the capacity of resp on entry
	 * (>= VNP_APDU_BUF_MAX is always enough), the length received on return.
	 * Errors: VNP_E_NO_CARD, VNP_E_CARD_RESET, VNP_E_NO_DEVICE, VNP_E_TRANSPORT. */
	int (*transmit)(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
			size_t *resp_len);

	/* Optional (NULL: the caller polls list()). Block, without touching any reader handle,
	 * until a reader appears or goes or a card is inserted or removed, for at most
	 * timeout_ms, or until cancel(). VNP_OK when something may have changed,
	 * VNP_E_TIMEOUT when nothing did; *cancelled true when woken by cancel(). May run
	 * concurrently with every other op (its own context); several waiters are allowed. */
	int (*wait_event)(struct vnp_backend *be, unsigned timeout_ms, bool *cancelled);
	/* Optional. Wake every thread in wait_event() of be; waits that start later return at
	 * once with *cancelled until close(). A wake-up that races a waiter's entry into the
	 * blocking call may be lost: callers repeat cancel() until the waiter is out. */
	void (*cancel)(struct vnp_backend *be);
};

extern const struct vnp_reader_ops vnp_reader_pcsc;
extern const struct vnp_reader_ops vnp_reader_vtoken;
extern const struct vnp_reader_ops vnp_reader_usb; /* when VNP_HAVE_LIBUSB */
extern const struct vnp_reader_ops vnp_reader_ccidsock; /* ccid_sock.c */

#endif
