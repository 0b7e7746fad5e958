/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken apdu: power a card on from a state file, send APDUs given in hex, print
 * each response in hex (one line each). For shell tests and people. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "rv.h"
#include "util.h"
#include "vcard.h"

#define APDU_BUF 70000

static void print_hex_upper(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02X", p[i]);
	putchar('\n');
}

int vnp_vt_cmd_apdu(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vnp_vcard *card = NULL;
	uint8_t *cmd = NULL, *resp = NULL;
	const char *path = NULL;
	size_t n, rlen;
	int c, i, rv, code = VT_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'h':
			printf("Usage: vnpki-vtoken apdu --state FILE HEX...\n"
			       "Power a card on over FILE, send each HEX command APDU in turn and "
			       "print each\nresponse (data and SW) in hex, one line per APDU.\n");
			return VT_EXIT_OK;
		default: return VT_EXIT_USAGE;
		}
	}
	if (!path) {
		fprintf(stderr, "vnpki-vtoken apdu: --state FILE is required (see --help)\n");
		return VT_EXIT_USAGE;
	}
	rv = vnp_vcard_open(path, &card);
	if (rv != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken apdu: cannot open %s: %s\n", path,
			rv == VNP_E_IO ? "missing or unreadable" : "not a valid state file");
		return VT_EXIT_FAIL;
	}
	cmd = malloc(APDU_BUF);
	resp = malloc(APDU_BUF);
	if (!cmd || !resp)
		goto out;
	for (i = optind; i < argc; i++) {
		if (vnp_hex_decode(argv[i], strlen(argv[i]), cmd, APDU_BUF, &n) != VNP_OK) {
			fprintf(stderr, "vnpki-vtoken apdu: '%s' is not hex\n", argv[i]);
			code = VT_EXIT_USAGE;
			goto out;
		}
		rlen = APDU_BUF;
		if (vnp_vcard_transmit(card, cmd, n, resp, &rlen) != VNP_OK)
			goto out;
		print_hex_upper(resp, rlen);
	}
	code = VT_EXIT_OK;
out:
	if (cmd)
		OPENSSL_clear_free(cmd, APDU_BUF);
	free(resp);
	vnp_vcard_close(card);
	return code;
}
