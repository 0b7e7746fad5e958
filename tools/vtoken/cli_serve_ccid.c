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
#include "ccid_sock_proto.h"
#include "cli.h"
#include "rv.h"
#include "trace.h"

#define POLL_MS 200
#define PKT_MAX (1 + 65544 + 10 + 64)

static volatile sig_atomic_t ccid_stop;

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
		case 'E': bad |= vnp_vt_cli_uint("--fault-bad-edc", optarg, 0, 1000000, &a->cfg.fault_bad_edc); break;
		case 'L': bad |= vnp_vt_cli_uint("--fault-lose-block", optarg, 0, 1000000, &a->cfg.fault_lose_block); break;
		case 'T': bad |= vnp_vt_cli_uint("--fault-time-ext", optarg, 0, 32, &a->cfg.fault_time_ext); break;
		case 'W': bad |= vnp_vt_cli_uint("--fault-wtx", optarg, 0, 32, &a->cfg.fault_wtx); break;
		case 'P': bad |= vnp_vt_cli_uint("--fault-pull-card", optarg, 0, 1000000, &a->cfg.fault_pull_card); break;
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

static int send_pkt(int fd, uint8_t kind, const uint8_t *p, size_t len)
{
	struct iovec iov[2] = { { .iov_base = &kind, .iov_len = 1 },
				{ .iov_base = (void *)p, .iov_len = len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t r;

	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)(len + 1) ? 0 : -1;
}

/* Answers queued by the device, then a slot change if there is one. */
static int flush(struct vnp_vt_ccid_dev *d, int fd, uint8_t *out, size_t cap)
{
	size_t n;
	int rv;

	while ((rv = vnp_vt_ccid_dev_get(d, out, cap, &n)) != VNP_E_NOT_FOUND) {
		if (rv == VNP_OK && send_pkt(fd, VNP_CCIDSOCK_BULK_IN, out, n) < 0)
			return -1;
		OPENSSL_cleanse(out, n);
	}
	n = vnp_vt_ccid_dev_interrupt(d, out, cap);
	if (n && send_pkt(fd, VNP_CCIDSOCK_INTR, out, n) < 0)
		return -1;
	return 0;
}

/* One host, until it hangs up or we are stopped. */
static void serve_conn(struct vnp_vt_ccid_dev *d, int fd, uint8_t *in, uint8_t *out)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t desc[VNP_VT_CCID_DESC_LEN];
	ssize_t n;
	int r;

	vnp_vt_trace_event("ccid", "host connected");
	while (!ccid_stop) {
		r = poll(&p, 1, POLL_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0) {
			if (flush(d, fd, out, PKT_MAX) < 0)
				break;
			continue;
		}
		n = recv(fd, in, PKT_MAX, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (n > PKT_MAX)
			continue; /* longer than any message the device takes: dropped */
		if (in[0] == VNP_CCIDSOCK_DESC) {
			vnp_vt_ccid_dev_class_desc(d, desc);
			if (send_pkt(fd, VNP_CCIDSOCK_DESC, desc, sizeof(desc)) < 0)
				break;
		} else if (in[0] == VNP_CCIDSOCK_BULK_OUT) {
			if (vnp_vt_ccid_dev_put(d, in + 1, (size_t)n - 1) == VNP_E_NOMEM)
				break;
		}
		OPENSSL_cleanse(in, (size_t)n); /* may have held a PIN */
		if (flush(d, fd, out, PKT_MAX) < 0)
			break;
	}
	vnp_vt_ccid_dev_power_off(d);
	vnp_vt_trace_event("ccid", "host disconnected");
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

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	(void)unlink(path); /* a socket file left by an earlier run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int vnp_vt_cmd_serve_ccid(int argc, char **argv)
{
	struct ccid_args a = { .cfg = { .level = VNP_VT_CCID_LEVEL_T1 } };
	struct vnp_vt_ccid_dev *d = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd p = { .events = POLLIN };
	uint8_t *in = NULL, *out = NULL;
	int rv, lfd = -1, cfd, code = VT_EXIT_FAIL;

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
	in = malloc(PKT_MAX);
	out = malloc(PKT_MAX);
	if (!in || !out)
		goto out;
	if (vnp_vt_trace_open(a.trace) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: cannot open trace file %s\n", a.trace);
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(a.socket);
	if (lfd < 0) {
		fprintf(stderr, "vnpki-vtoken serve-ccid: cannot listen on %s: %s\n", a.socket,
			strerror(errno));
		goto out_trace;
	}
	p.fd = lfd;
	while (!ccid_stop) {
		rv = poll(&p, 1, POLL_MS);
		if (rv <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		serve_conn(d, cfd, in, out);
		close(cfd);
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
	if (in)
		OPENSSL_clear_free(in, PKT_MAX);
	if (out)
		OPENSSL_clear_free(out, PKT_MAX);
	vnp_vt_ccid_dev_free(d);
	return code;
}
