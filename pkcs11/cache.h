/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The on-disk enumeration cache: a token's object directory and its certificate values,
 * kept per user and per token so that a warm start costs the SELECT only.
 *
 * Where: cfg->cache_dir ($VNPKI_CACHE_DIR, else `cache.dir` of vnpki.conf, else
 * $XDG_CACHE_HOME/vnpki or ~/.cache/vnpki); `cache = off` turns it off. The directory is
 * made 0700; it is refused (cache off, a warning) when it is a symlink, not ours, or
 * writable by group or others. One file per token, "<driver>-<serial hex>", mode 0600,
 * written to a temporary file and renamed.
 *
 * Validity: an entry is used only when the driver, the serial, the label and the change
 * counter the card gave at SELECT are the ones stored. Only drivers whose applet moves a
 * counter on every write are cached (vntoken; see cache.c). A certificate value is used only
 * when its SHA-256 is the one of its directory entry. A file that is short, corrupt (its
 * SHA-256 trailer does not match), or of another format is ignored and rewritten.
 *
 * Contents: public things only: the directory (keys' public halves, certificates' and
 * public data objects' metadata) and certificate values. Never a PIN, never a private data
 * object: a directory holding one is stored without it and flagged partial, and a partial
 * entry gives certificate values only (the directory is then read from the card).
 *
 * All functions take the module lock held (they touch tok and vnp_lib.cfg) and do no card
 * I/O. Failures are logged (VNP_LOG_P11) and never reach the application. */
#ifndef VNP_P11_CACHE_H
#define VNP_P11_CACHE_H

#include "p11.h"

struct vnp_cache;

/* The entry for the token described by drv_name and info (as SELECT gave it), or NULL
 * (off, not cacheable, missing, stale, corrupt). Free with vnp_cache_free. */
struct vnp_cache *vnp_cache_load(const char *drv_name, const struct vnp_token_info *info);
/* A copy of the cached directory (free with vnp_dir_free), or NULL when the entry is
 * partial or memory runs out. */
struct vnp_dir *vnp_cache_dir(const struct vnp_cache *c);
/* Give the token's certificate objects their cached values (parsed), where the directory
 * entry's hash matches. Returns how many were given. */
size_t vnp_cache_apply(const struct vnp_cache *c, struct vnp_token *tok);
void vnp_cache_free(struct vnp_cache *c); /* NULL is a no-op */
/* Write the token's current directory (tok->dir_counter) and the certificate values it has
 * loaded. Does nothing when the cache is off or the driver is not cacheable. */
void vnp_cache_store(const struct vnp_token *tok);

/* Exposed for tests: the cache file of a token (driver, serial) into buf; false when the
 * cache is off. */
bool vnp_cache_path(const char *drv_name, const uint8_t *serial, size_t serial_len, char *buf,
		    size_t cap);

#endif
