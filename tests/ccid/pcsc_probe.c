/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives vnp_reader_pcsc against a card behind pcscd (the virtual token through vpcd):
 * list, connect, begin, SELECT the vntoken applet (expects 90 00), an extended-length
 * GET CHALLENGE and an extended case 3 command (the transport must carry both), end.
 * Usage: pcsc-probe [reader-name-substring]   (default "Virtual PCD")
 *        pcsc-probe --wait-reader|--wait-card [substring]: poll up to 15 s, exit 0 or 77
 * Exit: 0 pass, 1 fail, 77 skip (no pcscd, no reader with a card). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <PCSC/winscard.h>

#include "config.h"
#include "rv.h"
#include "transport.h"

#define CHECK(cond, ...)                                     \
	do {                                                 \
		if (!(cond)) {                               \
			fprintf(stderr, "FAIL: " __VA_ARGS__); \
			fputc('\n', stderr);                 \
			rc = 1;                              \
			goto out;                            \
		}                                            \
	} while (0)

static void hex(const char *tag, const uint8_t *b, size_t n)
{
	printf("%s", tag);
	for (size_t i = 0; i < n && i < 32; i++)
		printf(" %02X", b[i]);
	printf(n > 32 ? " ... (%zu bytes)\n" : "\n", n);
}

static int reset_card(const char *reader)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	LONG rc;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return -1;
	rc = SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			  &h, &proto);
	if (rc == SCARD_S_SUCCESS) {
		rc = SCardReconnect(h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				    SCARD_RESET_CARD, &proto);
		SCardDisconnect(h, SCARD_LEAVE_CARD);
	}
	SCardReleaseContext(ctx);
	return rc == SCARD_S_SUCCESS ? 0 : -1;
}

/* Poll until a reader matching want (with a card when card) shows up. 0 or 77. */
static int wait_for(const char *want, bool card)
{
	struct vnp_reader_state st[16];
	struct vnp_backend *be = NULL;
	size_t n;

	for (int i = 0; i < 150; i++) {
		if (!be && vnp_reader_pcsc.open(NULL, &be) != VNP_OK)
			be = NULL;
		if (be && vnp_reader_pcsc.list(be, st, 16, &n) == VNP_OK) {
			for (size_t j = 0; j < n; j++) {
				if (strstr(st[j].name, want) && (!card || st[j].card_present)) {
					vnp_reader_pcsc.close(be);
					return 0;
				}
			}
		}
		usleep(100 * 1000);
	}
	if (be)
		vnp_reader_pcsc.close(be);
	return 77;
}

int main(int argc, char **argv)
{
	static const uint8_t select[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x56, 0x4E,
					  0x50, 0x4B, 0x49, 0x54, 0x4B, 0x00 };
	static const uint8_t challenge_ext[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00 };
	const char *want = argc > 1 ? argv[1] : "Virtual PCD";
	const struct vnp_reader_ops *ops = &vnp_reader_pcsc;
	struct vnp_reader_state st[16];
	struct vnp_reader_caps caps;
	struct vnp_backend *be = NULL;
	struct vnp_reader *r = NULL;
	uint8_t *resp = malloc(VNP_APDU_BUF_MAX), *big = malloc(4 + 3 + 1000);
	uint8_t atr[VNP_ATR_MAX];
	size_t n = 0, rlen, alen = sizeof(atr);
	const char *name = NULL;
	int rc = 0, rv;

	if (!resp || !big)
		return 1;
	if (argc > 1 && (!strcmp(argv[1], "--wait-reader") || !strcmp(argv[1], "--wait-card"))) {
		rc = wait_for(argc > 2 ? argv[2] : "Virtual PCD", !strcmp(argv[1], "--wait-card"));
		goto out;
	}
	rv = ops->open(NULL, &be);
	if (rv == VNP_E_NO_SERVICE) {
		printf("SKIP: pcscd not running\n");
		rc = 77;
		goto out;
	}
	CHECK(rv == VNP_OK, "open: %s", vnp_rv_text(rv));
	rv = ops->list(be, st, 16, &n);
	CHECK(rv == VNP_OK, "list: %s", vnp_rv_text(rv));
	for (size_t i = 0; i < n; i++) {
		printf("reader '%s' card=%d events=%u", st[i].name, st[i].card_present,
		       st[i].event_count);
		hex(" atr", st[i].atr, st[i].atr_len);
		if (!name && st[i].card_present && strstr(st[i].name, want))
			name = st[i].name;
	}
	if (!name) {
		printf("SKIP: no reader matching '%s' with a card\n", want);
		rc = 77;
		goto out;
	}
	rv = ops->connect(be, "no such reader", &r, &caps);
	CHECK(rv == VNP_E_NO_DEVICE, "connect unknown reader: %s", vnp_rv_text(rv));
	rv = ops->connect(be, name, &r, &caps);
	CHECK(rv == VNP_OK, "connect: %s", vnp_rv_text(rv));
	printf("caps: extended=%d max_cmd=%zu max_resp=%zu t0=%d\n", caps.extended, caps.max_cmd,
	       caps.max_resp, caps.t0);
	CHECK(ops->atr(r, atr, &alen) == VNP_OK && alen > 0, "atr");

	rv = ops->begin(r);
	CHECK(rv == VNP_OK || rv == VNP_E_CARD_RESET, "begin: %s", vnp_rv_text(rv));
	rlen = VNP_APDU_BUF_MAX;
	rv = ops->transmit(r, select, sizeof(select), resp, &rlen);
	CHECK(rv == VNP_OK, "SELECT: %s", vnp_rv_text(rv));
	hex("SELECT <-", resp, rlen);
	CHECK(rlen >= 2 && resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00, "SELECT: not 90 00");

	rlen = VNP_APDU_BUF_MAX;
	rv = ops->transmit(r, challenge_ext, sizeof(challenge_ext), resp, &rlen);
	CHECK(rv == VNP_OK, "GET CHALLENGE (extended Le): %s", vnp_rv_text(rv));
	hex("GET CHALLENGE ext <-", resp, rlen);

	/* extended case 3: 1000 data bytes to an instruction the applet does not know */
	memcpy(big, "\x80\xEE\x00\x00\x00\x03\xE8", 7);
	memset(big + 7, 0x5A, 1000);
	rlen = VNP_APDU_BUF_MAX;
	rv = ops->transmit(r, big, 7 + 1000, resp, &rlen);
	CHECK(rv == VNP_OK, "extended case 3 (1000 bytes): %s", vnp_rv_text(rv));
	hex("extended case 3 <-", resp, rlen);
	ops->end(r);

	/* another application resets the card: begin() reports it once, holding the transaction */
	CHECK(reset_card(name) == 0, "reset from a second PC/SC handle");
	rv = ops->begin(r);
	CHECK(rv == VNP_E_CARD_RESET, "begin after reset: %s", vnp_rv_text(rv));
	rlen = VNP_APDU_BUF_MAX;
	rv = ops->transmit(r, select, sizeof(select), resp, &rlen);
	CHECK(rv == VNP_OK && rlen >= 2 && resp[rlen - 2] == 0x90, "SELECT after reset: %s",
	      vnp_rv_text(rv));
	ops->end(r);
	rv = ops->begin(r);
	CHECK(rv == VNP_OK, "begin after reset handled: %s", vnp_rv_text(rv));
	ops->end(r);
	printf("PASS\n");
out:
	if (r)
		ops->disconnect(r);
	if (be)
		ops->close(be);
	free(resp);
	free(big);
	return rc;
}
