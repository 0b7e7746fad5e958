/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken serve-ccid: the virtual token as a CCID device on a unix socket (framing in
 * ccid/ccid_sock_proto.h, described in CCID.md). One host connection at a time. SIGTERM and
 * SIGINT stop it (exit 0). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "ccid_dev.h"
#include "ccid_sock_serve.h"
#include "cli.h"
#include "rv.h"
#include "trace.h"

static _Atomic int ccid_stop; /* set by the signal handler (lock-free) */

static void on_signal(int sig)
{
	(void)sig;
	ccid_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vnpki-vtoken serve-ccid --state FILE --socket PATH [OPTIONS]\n"
		"Serve the token as a USB CCID device over a unix SOCK_SEQPACKET socket (the\n"
		"module's `ccidsock` reader backend connects to it; see CCID.md).\n\n"
		"  --state FILE           token state (the card is present while it exists)\n"
		"  --socket PATH          socket to create (an old socket file there is replaced)\n"
		"  --level apdu|ext|t1    exchange level: short APDU, extended APDU, TPDU T=1\n"
		"                         (default t1)\n"
		"  --max-msg N            dwMaxCCIDMessageLength, 64..65554 (default 271)\n"
		"  --ifsc N               the card's IFSC for T=1, 1..254 (default 254)\n"
		"  --fault-bad-edc N      corrupt the EDC of the Nth T=1 block the card sends\n"
		"  --fault-lose-block N   lose the Nth card block (ICC mute)\n"
		"  --fault-time-ext N     N time extensions before every XfrBlock answer\n"
		"  --fault-wtx N          N S(WTX) requests before every APDU answer (T=1)\n"
		"  --fault-pull-card N    pull the card during the Nth XfrBlock (for good)\n"
		"  --trace FILE           append an APDU trace (PINs redacted)\n"
		"  --stats FILE           write APDU counts as JSON on exit\n");
}

struct ccid_args {
	const char *state, *socket, *trace, *stats;
	struct vnp_vt_ccid_cfg cfg;
};

static int parse_level(const char *s, int *ret)
{
	if (!strcmp(s, "apdu"))
		*ret = VNP_VT_CCID_LEVEL_SHORT;
	else if (!strcmp(s, "ext"))
		*ret = VNP_VT_CCID_LEVEL_EXT;
	else if (!strcmp(s, "t1"))
		*ret = VNP_VT_CCID_LEVEL_T1;
	else
		return -1;
	return 0;
}

static int parse_args(int argc, char **argv, struct ccid_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "level", required_argument, NULL, 'l' },
		{ "max-msg", required_argument, NULL, 'm' },
		{ "ifsc", required_argument, NULL, 'i' },
		{ "fault-bad-edc", required_argument, NULL, 'E' },
		{ "fault-lose-block", required_argument, NULL, 'L' },
		{ "fault-time-ext", required_argument, NULL, 'T' },
		{ "fault-wtx", required_argument, NULL, 'W' },
		{ "fault-pull-card", required_argument, NULL, 'P' },
		{ "trace", required_argument, NULL, 't' },
		{ "stats", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned v = 0;
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->state = optarg; break;
		case 'S': a->socket = optarg; break;
		case 'l':
			if (parse_level(optarg, &a->cfg.level)) {
				fprintf(stderr, "vnpki-vtoken serve-ccid: --level apdu, ext or t1\n");
				bad = -1;
			}
			break;
		case 'm':
			bad |= vnp_vt_cli_uint("--max-msg", optarg, 64, 65554, &v);
			a->cfg.max_msg = v;
			break;
		case 'i':
			bad |= vnp_vt_cli_uint("--ifsc", optarg, 1, 254, &v);
			a->cfg.ifsc = (uint8_t)v;
			break;
		case 'E':
			bad |= vnp_vt_cli_uint("--fault-bad-edc", optarg, 0, 1000000,
					       &a->cfg.fault_bad_edc);
			break;
		case 'L':
			bad |= vnp_vt_cli_uint("--fault-lose-block", optarg, 0, 1000000,
					       &a->cfg.fault_lose_block);
			break;
		case 'T':
			bad |= vnp_vt_cli_uint("--fault-time-ext", optarg, 0, 32,
					       &a->cfg.fault_time_ext);
			break;
		case 'W':
			bad |= vnp_vt_cli_uint("--fault-wtx", optarg, 0, 32, &a->cfg.fault_wtx);
			break;
		case 'P':
			bad |= vnp_vt_cli_uint("--fault-pull-card", optarg, 0, 1000000,
					       &a->cfg.fault_pull_card);
			break;
		case 't': a->trace = optarg; break;
		case 'j': a->stats = optarg; break;
		case 'h': usage(stdout); return 1;
		default: return -1;
		}
	}
	if (bad)
		return -1;
	if (!a->state || !a->socket || optind < argc) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: --state and --socket are required\n");
		return -1;
	}
	if (strlen(a->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: socket path too long\n");
		return -1;
	}
	return 0;
}

static void on_apdu(void *ctx, const uint8_t *cmd, size_t cmd_len, const uint8_t *resp,
		    size_t resp_len)
{
	(void)ctx;
	vnp_vt_trace_cmd("ccid", cmd, cmd_len);
	vnp_vt_trace_resp("ccid", resp, resp_len);
}

/* One line on stderr at exit: what the device did (tests grep it). */
static void print_stats(const struct vnp_vt_ccid_dev *d)
{
	struct vnp_vt_ccid_stats st;

	vnp_vt_ccid_dev_stats(d, &st);
	fprintf(stderr,
		"serve-ccid: %lu messages, %lu XfrBlock, %lu APDUs, %lu T=1 blocks, "
		"%lu retransmitted, %lu R(err) received, %lu resynch, %lu bad EDC, %lu lost, "
		"%lu WTX, %lu time extensions, %lu pulls, IFSD %u\n",
		st.msgs, st.xfr, st.apdus, st.blocks, st.retransmits, st.r_err_rx, st.resynchs,
		st.bad_edc, st.lost, st.wtx, st.time_ext, st.pulls, st.ifsd);
}

int vnp_vt_cmd_serve_ccid(int argc, char **argv)
{
	struct ccid_args a = { .cfg = { .level = VNP_VT_CCID_LEVEL_T1 } };
	struct vnp_vt_ccid_dev *d = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int rv, lfd = -1, code = VT_EXIT_FAIL;

	rv = parse_args(argc, argv, &a);
	if (rv)
		return rv > 0 ? VT_EXIT_OK : VT_EXIT_USAGE;
	a.cfg.on_apdu = on_apdu;
	if (access(a.state, R_OK) != 0) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: cannot read %s\n", a.state);
		return VT_EXIT_FAIL;
	}
	if (vnp_vt_ccid_dev_new(&a.cfg, a.state, &d) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: bad device settings\n");
		return VT_EXIT_USAGE;
	}
	if (vnp_vt_trace_open(a.trace) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: cannot open trace file %s\n", a.trace);
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = vnp_vt_ccid_sock_listen(a.socket);
	if (lfd < 0) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: cannot listen on %s: %s\n", a.socket,
			strerror(errno));
		goto out_trace;
	}
	if (vnp_vt_ccid_sock_serve(d, lfd, &ccid_stop) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: out of memory\n");
		close(lfd);
		unlink(a.socket);
		goto out_trace;
	}
	code = VT_EXIT_OK;
	print_stats(d);
	if (vnp_vt_stats_write(a.stats) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: cannot write %s\n", a.stats);
		code = VT_EXIT_FAIL;
	}
	close(lfd);
	unlink(a.socket);
out_trace:
	vnp_vt_trace_close();
out:
	vnp_vt_ccid_dev_free(d);
	return code;
}
