/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "authority.h"
#include "messages.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "keygen", au_cmd_keygen },
	{ "respond", au_cmd_respond },
	{ "personalise", au_cmd_personalise },
	{ "personalize", au_cmd_personalise },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		au_err(AU_E_NO_COMMAND);
		return AU_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(AU_USAGE_MAIN, stdout);
		return AU_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	au_err(AU_E_UNKNOWN_COMMAND, argv[1]);
	return AU_EXIT_USAGE;
}
