/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card side of vsmartcard's vpcd protocol: a TCP client to the pcscd driver's port.
 * Message = 2-byte big-endian length + payload; a 1-byte payload is a control byte
 * (00 power off, 01 power on, 02 reset, 04 get ATR); anything else is a command APDU. */
#ifndef VNP_VT_VPCD_H
#define VNP_VT_VPCD_H

#include <stdatomic.h>
#include "vcard.h"

struct vnp_vt_vpcd {
	struct vnp_vcard *card;
	const char *host;
	unsigned port;
	unsigned latency_ms;     /* sleep per APDU */
	char who[16];            /* trace name */
	_Atomic int *stop;      /* set by the signal handler thread */
	atomic_int fd;           /* current socket, -1 when none (for shutdown()) */
};

/* Connect (retrying with backoff while vpcd is not up) and answer until *stop; reconnect
 * when vpcd goes away. Returns VNP_OK on stop, VNP_E_ARGS for a bad host. */
int vnp_vt_vpcd_serve(struct vnp_vt_vpcd *v);

#endif
