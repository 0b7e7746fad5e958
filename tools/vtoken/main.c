/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken: the virtual token's command line (init, serve, show, apdu). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vnp_build_config.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vnpki-vtoken COMMAND [OPTIONS]\n"
		"The vnpki virtual token: a card running the vntoken applet.\n\n"
		"Commands:\n"
		"  init   personalise a new token state file\n"
		"  serve  plug token(s) into pcscd through vsmartcard's vpcd\n"
		"  serve-ccid  the token as a CCID device on a unix socket (CCID.md)\n"
		"  show   print a token's serial, label, counters and objects\n"
		"  apdu   send APDUs (hex) to a freshly powered card and print the answers\n\n"
		"'vnpki-vtoken COMMAND --help' describes each command.\n"
		"Exit codes: 0 ok, 1 failure, 2 usage error, 3 state exists (init).\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "init", vnp_vt_cmd_init },
		{ "serve", vnp_vt_cmd_serve },
		{ "serve-ccid", vnp_vt_cmd_serve_ccid },
		{ "show", vnp_vt_cmd_show },
		{ "apdu", vnp_vt_cmd_apdu },
	};
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return VT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return VT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("vnpki-vtoken %s\n", VNP_VERSION);
		return VT_EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vnpki-vtoken: unknown command '%s' (try --help)\n", argv[1]);
	return VT_EXIT_USAGE;
}
