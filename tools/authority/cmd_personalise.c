/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority personalise: give a virtual token its recovery key (RECOVERY.md step 1). */
#include <getopt.h>
#include <stdio.h>

#include <openssl/crypto.h>

#include "authority.h"
#include "messages.h"

int au_cmd_personalise(int argc, char **argv)
{
	static const struct option options[] = {
		{ "master", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t master[VNP_RECOVERY_KEY_LEN], serial[VNP_RECOVERY_SERIAL_LEN];
	char serial_hex[2 * VNP_RECOVERY_SERIAL_LEN + 1];
	const char *master_path = NULL, *state_path = NULL;
	bool force = false;
	int c, rv = AU_EXIT_USAGE;

	OPENSSL_cleanse(master, sizeof(master));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:s:fh", options, NULL)) != -1) {
		switch (c) {
		case 'm': master_path = optarg; break;
		case 's': state_path = optarg; break;
		case 'f': force = true; break;
		case 'h':
			fputs(AU_USAGE_PERSONALISE, stdout);
			rv = AU_EXIT_OK;
			goto out;
		default:
			rv = au_bad_option("personalise", c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		au_err(AU_E_EXTRA_ARGS, "personalise", argv[optind]);
		goto out;
	}
	if (!master_path || !state_path) {
		au_err(AU_E_NEED_OPTION, "personalise", !master_path ? "--master" : "--state");
		goto out;
	}
	rv = au_read_master(master_path, master);
	if (rv != AU_EXIT_OK)
		goto out;
	rv = au_vtoken_set_key(state_path, master, force, serial);
	if (rv != AU_EXIT_OK)
		goto out;
	au_hex(serial, sizeof(serial), serial_hex);
	printf(AU_N_PERSONALISED "\n", serial_hex);
out:
	OPENSSL_cleanse(master, sizeof(master));
	return rv;
}
