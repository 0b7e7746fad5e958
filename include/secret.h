/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Secrets (PINs, response codes, key blobs): one type, one pair of functions (STYLE.md §6). */
#ifndef VNP_SECRET_H
#define VNP_SECRET_H

#include <stddef.h>
#include <stdint.h>

struct vnp_secret {
	uint8_t *p;
	size_t len;  /* bytes in use */
	size_t cap;  /* bytes mapped */
};

/* Allocate cap bytes of locked, non-dumpable memory (mmap + mlock + MADV_DONTDUMP;
 * mlock failure is tolerated). Returns VNP_OK or VNP_E_NOMEM. */
int vnp_secret_new(size_t cap, struct vnp_secret *ret);
/* Allocate and copy len bytes. */
int vnp_secret_dup(const void *src, size_t len, struct vnp_secret *ret);
/* Wipe (OPENSSL_cleanse) and unmap. NULL or an empty secret is a no-op. */
void vnp_secret_free(struct vnp_secret *s);
/* Wipe any buffer that held a secret (OPENSSL_cleanse). */
void vnp_wipe(void *p, size_t len);
/* Constant-time comparison of equal-length buffers: 0 when equal. */
int vnp_memcmp_ct(const void *a, const void *b, size_t len);

#endif
