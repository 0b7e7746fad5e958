/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging and APDU tracing (STYLE.md §7).
 * VNP_DEBUG=p11,apdu,reader,card,all   categories
 * VNP_DEBUG_FILE=/path                 log destination (default stderr)
 * The config file's `log` and `log.file` keys do the same (env wins).
 * Nothing is printed unless a category is on. APDU tracing is its own category. */
#ifndef VNP_LOG_H
#define VNP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

enum vnp_log_cat {
	VNP_LOG_P11 = 1u << 0,    /* C_* calls */
	VNP_LOG_APDU = 1u << 1,   /* APDU trace (secrets redacted) */
	VNP_LOG_READER = 1u << 2, /* reader backends */
	VNP_LOG_CARD = 1u << 3,   /* card drivers */
	VNP_LOG_WARN = 1u << 4,   /* warnings and errors; on whenever any category is on */
};

/* (Re)configure from the environment and optional config values (either may be NULL).
 * Thread-safe; called by C_Initialize and by tools. */
void vnp_log_setup(const char *categories, const char *file);
/* Close the log file, if any (C_Finalize). */
void vnp_log_close(void);
bool vnp_log_enabled(unsigned cat);
void vnp_log(unsigned cat, const char *fmt, ...) VNP_PRINTF(2, 3);
/* One APDU trace line: "vnpki[pid/tid] +us <who> -> hex" or "<- hex (sw text)".
 * sensitive: print the 4- or 5-byte header and "<redacted N bytes>" instead of the data. */
void vnp_log_apdu(const char *who, bool to_card, const uint8_t *buf, size_t len, bool sensitive);

#define vnp_warn(...) vnp_log(VNP_LOG_WARN, __VA_ARGS__)

#endif
