/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "hexcodec.h"
#include "rv.h"

size_t th_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (*s == '{') {
			char *e;
			unsigned long cnt = strtoul(s + 1, &e, 10), i;
			int hi = -1, lo = -1;

			if (*e == ':') {
				hi = vnp_hex_nibble(e[1]);
				lo = hi >= 0 ? vnp_hex_nibble(e[2]) : -1;
			}
			if (hi < 0 || lo < 0)
				fail_msg("bad repeat in hex: %s", s);
			uint8_t b = (uint8_t)(hi << 4 | lo);
			bool inc = e[3] == '+';
			e += inc ? 4 : 3;
			if (*e != '}')
				fail_msg("bad repeat in hex: %s", s);
			if (cnt > cap - n)
				fail_msg("hex overflow");
			for (i = 0; i < cnt; i++)
				out[n++] = inc ? (uint8_t)(b + i) : b;
			s = e + 1;
			continue;
		}
		int hi = vnp_hex_nibble(s[0]), lo = s[1] ? vnp_hex_nibble(s[1]) : -1;
		if (hi < 0 || lo < 0)
			fail_msg("bad hex at: %s", s);
		if (n >= cap)
			fail_msg("hex overflow");
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return n;
}

uint8_t *th_hex_alloc(const char *s, size_t *ret_len)
{
	uint8_t *b = malloc(VNP_APDU_BUF_MAX);

	assert_non_null(b);
	*ret_len = th_hex(s, b, VNP_APDU_BUF_MAX);
	return b;
}

char *th_hexstr(const uint8_t *p, size_t n, const char *head, const char *tail)
{
	char *s = malloc(strlen(head) + 3 * n + strlen(tail) + 2);
	size_t o;

	assert_non_null(s);
	o = (size_t)sprintf(s, "%s ", head);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%02X ", p[i]);
	strcpy(s + o, tail);
	return s;
}

static void to_hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02X", b[i]);
	if (i < n)
		snprintf(out + o, cap - o, "...");
}

static int th_begin(struct vnp_reader *rd)
{
	struct th_reader *r = (struct th_reader *)rd;
	int rv = r->begin_rv;

	r->begin_rv = 0;
	r->begins++;
	return rv;
}

static void th_end(struct vnp_reader *rd)
{
	((struct th_reader *)rd)->ends++;
}

static int th_transmit(struct vnp_reader *rd, const uint8_t *cmd, size_t cmd_len,
		       uint8_t *resp, size_t *resp_len)
{
	struct th_reader *r = (struct th_reader *)rd;
	const struct th_step *st = &r->steps[r->pos];
	uint8_t *want;
	size_t want_len, n;
	char got[200], exp[200];

	to_hex(cmd, cmd_len, got, sizeof(got));
	if (!st->cmd)
		fail_msg("unexpected command after the transcript ended: %s", got);
	want = th_hex_alloc(st->cmd, &want_len);
	if (want_len != cmd_len || memcmp(want, cmd, cmd_len) != 0) {
		to_hex(want, want_len, exp, sizeof(exp));
		free(want);
		fail_msg("step %zu: command %s (%zu bytes), expected %s (%zu bytes)", r->pos, got,
			 cmd_len, exp, want_len);
	}
	free(want);
	r->pos++;
	if (st->rv)
		return st->rv;
	assert_true(*resp_len >= VNP_APDU_BUF_MAX);
	n = th_hex(st->resp, resp, *resp_len);
	*resp_len = n;
	return 0;
}

const struct vnp_reader_ops th_reader_ops = {
	.name = "test",
	.begin = th_begin,
	.end = th_end,
	.transmit = th_transmit,
};

void th_card_init(struct vnp_card *card, struct th_reader *r, const struct th_step *steps,
		  bool extended)
{
	memset(card, 0, sizeof(*card));
	memset(r, 0, sizeof(*r));
	r->steps = steps;
	card->io.ops = &th_reader_ops;
	card->io.reader = (struct vnp_reader *)r;
	card->io.caps.extended = extended;
	card->io.caps.max_cmd = VNP_APDU_BUF_MAX;
	card->io.caps.max_resp = VNP_APDU_BUF_MAX;
	card->io.card_extended = extended;
	snprintf(card->io.who, sizeof(card->io.who), "test");
}

void th_assert_done(const struct th_reader *r)
{
	if (r->steps[r->pos].cmd)
		fail_msg("transcript step %zu (%s) was never sent", r->pos, r->steps[r->pos].cmd);
	assert_int_equal(r->begins, r->ends);
}

void th_assert_hex(const uint8_t *p, size_t avail, const char *hex)
{
	size_t n;
	uint8_t *want = th_hex_alloc(hex, &n);

	if (n > avail || memcmp(p, want, n) != 0)
		fail_msg("bytes differ from %s", hex);
	free(want);
}
