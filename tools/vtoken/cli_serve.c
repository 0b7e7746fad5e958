/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken serve: plug one card per state file into pcscd through vpcd (ports
 * port, port+1, ...). SIGTERM/SIGINT stop it (exit 0); SIGUSR1 writes the stats file. A card
 * thread that ends on its own (bad host) stops the others and the exit status is 1. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "rv.h"
#include "trace.h"
#include "vpcd.h"

#define SERVE_MAX_CARDS 16

static _Atomic int serve_stop; /* set by the signal-waiting main thread, read by the card threads */
static pthread_t serve_main; /* the thread waiting in sigwait */

struct serve_card {
	struct vnp_vt_vpcd v;
	pthread_t thread;
	bool started;
	int rv;
};

static void serve_usage(FILE *f)
{
	fprintf(f,
		"Usage: vnpki-vtoken serve --state FILE [--state FILE2 ...] [OPTIONS]\n"
		"Connect each token to vsmartcard's vpcd (pcscd reader driver) and answer its\n"
		"APDUs until SIGTERM or SIGINT. SIGUSR1 writes the stats file.\n\n"
		"  --state FILE      token state (repeat for more cards, on consecutive ports)\n"
		"  --host HOST       vpcd host (default 127.0.0.1)\n"
		"  --port N          vpcd port of the first card (default 35963)\n"
		"  --latency-ms N    sleep N ms per APDU\n"
		"  --sign-ms N       a private-key operation takes N ms (computing included)\n"
		"  --trace FILE      append an APDU trace (PINs redacted)\n"
		"  --stats FILE      write APDU counts as JSON on exit and on SIGUSR1\n"
		"  --t0              behave as a T=0 card (short APDUs, 61xx, 6Cxx) whatever\n"
		"                    the state says\n");
}

static void *serve_thread(void *arg)
{
	struct serve_card *sc = arg;

	sc->rv = vnp_vt_vpcd_serve(&sc->v);
	/* A worker that ends before the stop (bad host, no memory) would leave its card
	 * unplugged while the process looks alive: wake the main thread, which stops all. */
	if (!serve_stop) {
		if (sc->rv == VNP_OK)
			sc->rv = VNP_E_INTERNAL;
		pthread_kill(serve_main, SIGUSR2);
	}
	return NULL;
}

struct serve_args {
	const char *states[SERVE_MAX_CARDS];
	unsigned nstates;
	const char *host, *trace, *stats;
	unsigned port, latency_ms, sign_ms;
	int t0;
};

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "latency-ms", required_argument, NULL, 'l' },
		{ "sign-ms", required_argument, NULL, 'g' },
		{ "trace", required_argument, NULL, 't' },
		{ "stats", required_argument, NULL, 'S' },
		{ "t0", no_argument, NULL, '0' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case '0': a->t0 = 1; break;
		case 's':
			if (a->nstates == SERVE_MAX_CARDS) {
				fprintf(stderr, "vnpki-vtoken serve: at most %d --state\n",
					SERVE_MAX_CARDS);
				return -1;
			}
			a->states[a->nstates++] = optarg;
			break;
		case 'H': a->host = optarg; break;
		case 'p': bad |= vnp_vt_cli_uint("--port", optarg, 1, 65535, &a->port); break;
		case 'l':
			bad |= vnp_vt_cli_uint("--latency-ms", optarg, 0, 600000, &a->latency_ms);
			break;
		case 'g': bad |= vnp_vt_cli_uint("--sign-ms", optarg, 0, 600000, &a->sign_ms); break;
		case 't': a->trace = optarg; break;
		case 'S': a->stats = optarg; break;
		case 'h': serve_usage(stdout); return 1;
		default: return -1;
		}
	}
	if (bad)
		return -1;
	if (!a->nstates || optind < argc) {
		fprintf(stderr, "vnpki-vtoken serve: --state FILE is required (see --help)\n");
		return -1;
	}
	if (a->port + a->nstates - 1 > 65535) {
		fprintf(stderr, "vnpki-vtoken serve: ports run past 65535\n");
		return -1;
	}
	return 0;
}

/* Wait for signals; returns when told to stop (SIGTERM, SIGINT) or a worker ended
 * (SIGUSR2). */
static void wait_signals(const sigset_t *set, const struct serve_args *a)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			if (vnp_vt_stats_write(a->stats) != VNP_OK)
				fprintf(stderr, "vnpki-vtoken serve: cannot write %s\n", a->stats);
			continue;
		}
		return;
	}
}

int vnp_vt_cmd_serve(int argc, char **argv)
{
	struct serve_args a = { .host = "127.0.0.1", .port = 35963 };
	struct serve_card *cards = NULL;
	sigset_t set;
	unsigned i;
	int rv, code = VT_EXIT_FAIL, fd;
	bool all_started;

	rv = parse_args(argc, argv, &a);
	if (rv)
		return rv > 0 ? VT_EXIT_OK : VT_EXIT_USAGE;
	/* The modelled timings (--latency-ms, --sign-ms) are the token's: no 50 us timer slack
	 * per sleep on top (inherited by the card threads). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	cards = calloc(a.nstates, sizeof(*cards));
	if (!cards)
		return VT_EXIT_FAIL;
	for (i = 0; i < a.nstates; i++) {
		rv = vnp_vcard_open(a.states[i], &cards[i].v.card);
		if (rv != VNP_OK) {
			fprintf(stderr, "vnpki-vtoken serve: cannot open %s: %s\n", a.states[i],
				rv == VNP_E_IO ? "missing or unreadable" : "not a valid state file");
			goto out;
		}
		cards[i].v.card->sign_ms = a.sign_ms;
		cards[i].v.card->force_t0 = a.t0;
		cards[i].v.card->stop = &serve_stop;
		cards[i].v.host = a.host;
		cards[i].v.port = a.port + i;
		cards[i].v.latency_ms = a.latency_ms;
		cards[i].v.stop = &serve_stop;
		atomic_init(&cards[i].v.fd, -1);
		snprintf(cards[i].v.who, sizeof(cards[i].v.who), "card%u", i);
	}
	if (vnp_vt_trace_open(a.trace) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve: cannot open trace file %s\n", a.trace);
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	serve_main = pthread_self();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < a.nstates; i++) {
		if (pthread_create(&cards[i].thread, NULL, serve_thread, &cards[i]) != 0) {
			fprintf(stderr, "vnpki-vtoken serve: cannot start a thread\n");
			break;
		}
		cards[i].started = true;
	}
	all_started = i == a.nstates;
	if (all_started)
		wait_signals(&set, &a);
	serve_stop = 1;
	for (i = 0; i < a.nstates; i++) {
		fd = atomic_load(&cards[i].v.fd);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
	}
	code = all_started ? VT_EXIT_OK : VT_EXIT_FAIL;
	for (i = 0; i < a.nstates; i++) {
		if (!cards[i].started)
			continue;
		pthread_join(cards[i].thread, NULL);
		if (cards[i].rv != VNP_OK) {
			fprintf(stderr, "vnpki-vtoken serve: %s stopped: %s\n", cards[i].v.who,
				vnp_rv_text(cards[i].rv));
			code = VT_EXIT_FAIL;
		}
	}
	if (vnp_vt_stats_write(a.stats) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken serve: cannot write %s\n", a.stats);
		code = VT_EXIT_FAIL;
	}
	vnp_vt_trace_close();
out:
	for (i = 0; i < a.nstates; i++)
		vnp_vcard_close(cards[i].v.card);
	free(cards);
	return code;
}
