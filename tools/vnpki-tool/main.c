/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-tool: the token owner's command line. Global options, then one subcommand:
 *
 *   vnpki-tool [--module PATH] [--slot N | --serial S] COMMAND [options]
 *
 * Exit codes: see enum in tool.h and README.md. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"
#include "vnp_build_config.h"

static const struct {
	const char *name;
	int (*run)(struct tool *t, int argc, char **argv);
} commands[] = {
	{ "list", vnp_cmd_list },
	{ "status", vnp_cmd_status },
	{ "change-pin", vnp_cmd_change_pin },
	{ "unblock-request", vnp_cmd_unblock_request },
	{ "unblock", vnp_cmd_unblock },
	{ "import-cert", vnp_cmd_import_cert },
	{ "inventory", vnp_cmd_inventory },
};

bool vnp_common_option(struct tool *t, int c, const char *arg, int *ret_exit)
{
	char *end;

	switch (c) {
	case OPT_MODULE:
		t->module_path = arg;
		return true;
	case OPT_SLOT:
		t->slot = (CK_SLOT_ID)strtoul(arg, &end, 0);
		if (!*arg || *end) {
			vnp_err(MSG_BAD_SLOT, arg);
			*ret_exit = EXIT_USAGE;
		}
		t->have_slot = true;
		return true;
	case OPT_SERIAL:
		t->serial = arg;
		return true;
	case 'h':
		return true;
	default:
		return false;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { VNP_COMMON_OPTIONS,
					      { "version", no_argument, NULL, 'V' },
					      { NULL, 0, NULL, 0 } };
	struct tool t;
	int c, rc = EXIT_OK;

	memset(&t, 0, sizeof(t));
	vnp_msg_init();
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		if (c == 'V') {
			printf("vnpki-tool %s\n", VNP_VERSION);
			return EXIT_OK;
		}
		if (!vnp_common_option(&t, c, optarg, &rc))
			rc = EXIT_USAGE;
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(MSG_HELP_MAIN, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind >= argc) {
		vnp_usage(MSG_HELP_MAIN, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* glibc: start over with the subcommand's argv */
		rc = commands[i].run(&t, argc, argv);
		vnp_tool_unload(&t);
		fflush(stdout);
		return rc;
	}
	vnp_err(MSG_UNKNOWN_COMMAND, argv[optind]);
	vnp_usage(MSG_HELP_MAIN, stderr);
	return EXIT_USAGE;
}
