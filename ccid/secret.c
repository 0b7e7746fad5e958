/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Secrets in locked, non-dumpable memory (STYLE.md §6). */
#include <string.h>
#include <sys/mman.h>
#include <openssl/crypto.h>

#include "rv.h"
#include "secret.h"

/* Allocate cap bytes of locked, non-dumpable memory. ret is set only on success.
 * Returns VNP_OK, VNP_E_ARGS (ret NULL) or VNP_E_NOMEM. */
int vnp_secret_new(size_t cap, struct vnp_secret *ret)
{
	size_t maplen = cap ? cap : 1;
	void *p;

	if (!ret)
		return VNP_E_ARGS;
	p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return VNP_E_NOMEM;
	/* mlock may fail under RLIMIT_MEMLOCK: the secret is still wiped on free. */
	(void)mlock(p, maplen);
#ifdef MADV_DONTDUMP
	(void)madvise(p, maplen, MADV_DONTDUMP);
#endif
	ret->p = p;
	ret->len = 0;
	ret->cap = maplen;
	return VNP_OK;
}

/* Allocate a secret of len bytes and copy src into it. Returns VNP_OK, VNP_E_ARGS, VNP_E_NOMEM. */
int vnp_secret_dup(const void *src, size_t len, struct vnp_secret *ret)
{
	struct vnp_secret s;
	int rv;

	if (!ret || (!src && len))
		return VNP_E_ARGS;
	rv = vnp_secret_new(len, &s);
	if (rv != VNP_OK)
		return rv;
	if (len)
		memcpy(s.p, src, len);
	s.len = len;
	*ret = s;
	return VNP_OK;
}

/* Wipe and unmap s, then reset it to empty. NULL or an empty secret is a no-op. */
void vnp_secret_free(struct vnp_secret *s)
{
	if (!s || !s->p)
		return;
	OPENSSL_cleanse(s->p, s->cap);
	(void)munlock(s->p, s->cap);
	(void)munmap(s->p, s->cap);
	s->p = NULL;
	s->len = 0;
	s->cap = 0;
}

/* Wipe len bytes at p (OPENSSL_cleanse, not optimised away). NULL is a no-op. */
void vnp_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

/* Constant-time comparison of len bytes: 0 when equal, 1 otherwise. */
int vnp_memcmp_ct(const void *a, const void *b, size_t len)
{
	if (!len)
		return 0;
	return CRYPTO_memcmp(a, b, len) != 0;
}
