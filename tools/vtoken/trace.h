/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* APDU counting by INS and the APDU trace file of `vnpki-vtoken serve`. Thread-safe.
 * The data of VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER is never written:
 * the trace shows "<redacted N bytes>" instead. */
#ifndef VNP_VT_TRACE_H
#define VNP_VT_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Open the trace file (NULL: no trace). VNP_OK or VNP_E_IO. */
int vnp_vt_trace_open(const char *path);
void vnp_vt_trace_close(void);
/* Count one command APDU and trace it. who names the card (e.g. "card0"). */
void vnp_vt_trace_cmd(const char *who, const uint8_t *cmd, size_t len);
/* Trace one response APDU. */
void vnp_vt_trace_resp(const char *who, const uint8_t *resp, size_t len);
/* Trace a free-form event (power on, connect, ...). */
void vnp_vt_trace_event(const char *who, const char *what);
/* Format one command for the trace into f, redacting secret data. */
void vnp_vt_trace_format_cmd(FILE *f, const uint8_t *cmd, size_t len);
/* Write {"apdus": N, "by_ins": {"2A": n, ...}} to path atomically. VNP_OK or VNP_E_IO. */
int vnp_vt_stats_write(const char *path);
/* Total command APDUs counted so far. */
uint64_t vnp_vt_stats_total(void);

#endif
