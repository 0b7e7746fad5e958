/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers for apdu/: hex byte strings and a scripted reader that plays a transcript. */
#ifndef VNP_TEST_FAKE_H
#define VNP_TEST_FAKE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "apdu.h"
#include "compiler.h"
#include "card.h"

/* Hex with spaces; "{N:XX}" is N bytes of XX, "{N:XX+}" N bytes counting up from XX.
 * Fails the test on a syntax error or overflow. Returns the byte count. */
size_t th_hex(const char *s, uint8_t *out, size_t cap);
/* th_hex into a malloc'd buffer (caller frees). */
uint8_t *th_hex_alloc(const char *s, size_t *ret_len);
/* The hex text "head p[0] .. p[n-1] tail" (malloc'd, caller frees): a transcript line built
 * from bytes the test computed. */
char *th_hexstr(const uint8_t *p, size_t n, const char *head, const char *tail);

/* Fail unless the first bytes at p (avail bytes readable) equal hex. */
void th_assert_hex(const uint8_t *p, size_t avail, const char *hex);

/* One exchange: the command the driver must send, and the card's answer (with SW), or a
 * transport error (rv != 0). */
struct th_step {
	const char *cmd;
	const char *resp;
	int rv;
};

struct th_reader {
	const struct th_step *steps; /* terminated by {NULL} */
	size_t pos;
	int begin_rv;     /* returned by the next begin(), then reset to 0 */
	unsigned begins, ends;
};

extern const struct vnp_reader_ops th_reader_ops;

/* Set up card->io over r playing steps. */
void th_card_init(struct vnp_card *card, struct th_reader *r, const struct th_step *steps,
		  bool extended);
/* Fail unless every step was played and transactions are balanced. */
void th_assert_done(const struct th_reader *r);

#endif
