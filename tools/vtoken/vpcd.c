/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card side of vsmartcard's vpcd protocol. vpcd delays its ACKs: without
 * TCP_NODELAY here and TCP_QUICKACK re-armed after every read, each APDU costs ~40 ms. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "rv.h"
#include "trace.h"
#include "util.h"
#include "vpcd.h"

#define VPCD_MSG_MAX 0xFFFF
/* Blocking calls wake up this often to look at *stop (SIGTERM must not wait for vpcd). */
#define STOP_POLL_MS 100
/* A connect() that vpcd neither accepts nor refuses (full backlog, dropped SYN) gives up
 * after this long and goes through the backoff like a refused one. */
#define CONNECT_TIMEOUT_MS 2000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

static void quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* Wait until fd is ready for events, *stop is set (-1) or timeout_ms passes (0; negative:
 * no timeout). 1 when ready. */
static int wait_fd(int fd, short events, _Atomic int *stop, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int waited = 0, r;

	while (!*stop) {
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return 0;
		r = poll(&pfd, 1, STOP_POLL_MS);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0)
			return 1;
		waited += STOP_POLL_MS;
	}
	return -1;
}

/* Non-blocking connect bounded by CONNECT_TIMEOUT_MS and *stop; the socket stays
 * non-blocking (reads and writes wait in wait_fd). */
static int connect_addr(const struct addrinfo *ai, _Atomic int *stop)
{
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, stop, CONNECT_TIMEOUT_MS) == 1 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
		return fd;
	close(fd);
	return -1;
}

/* A connected socket, -1 (not now: retry later) or -2 (the host does not resolve). */
static int connect_once(struct vnp_vt_vpcd *v)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int fd = -1, one = 1;

	snprintf(port, sizeof(port), "%u", v->port);
	if (getaddrinfo(v->host, port, &hints, &res) != 0)
		return -2;
	for (ai = res; ai && fd < 0 && !*v->stop; ai = ai->ai_next)
		fd = connect_addr(ai, v->stop);
	freeaddrinfo(res);
	if (fd >= 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		quickack(fd);
	}
	return fd;
}

/* Read exactly n bytes; 0 or -1 (EOF, error, *stop). */
static int read_full(int fd, uint8_t *buf, size_t n, _Atomic int *stop)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, buf, n);
		if (r < 0 && (errno == EINTR ||
			      ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			       wait_fd(fd, POLLIN, stop, -1) == 1)))
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	quickack(fd);
	return 0;
}

static int write_msg(int fd, const uint8_t *payload, size_t len, uint8_t *scratch,
		     _Atomic int *stop)
{
	size_t off = 0, total = len + 2;
	ssize_t r;

	scratch[0] = (uint8_t)(len >> 8);
	scratch[1] = (uint8_t)len;
	memcpy(scratch + 2, payload, len);
	while (off < total) {
		r = send(fd, scratch + off, total - off, MSG_NOSIGNAL);
		if (r < 0 && (errno == EINTR ||
			      ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			       wait_fd(fd, POLLOUT, stop, -1) == 1)))
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int handle_control(struct vnp_vt_vpcd *v, int fd, uint8_t ctl, uint8_t *scratch)
{
	uint8_t atr[33];
	size_t n;

	switch (ctl) {
	case 0x00:
		vnp_vt_trace_event(v->who, "power off");
		vnp_vcard_reset(v->card);
		return 0;
	case 0x01:
		vnp_vt_trace_event(v->who, "power on");
		vnp_vcard_reset(v->card);
		return 0;
	case 0x02:
		vnp_vt_trace_event(v->who, "reset");
		vnp_vcard_reset(v->card);
		return 0;
	case 0x04:
		n = vnp_vcard_atr_of(v->card, atr);
		return write_msg(fd, atr, n, scratch, v->stop);
	default:
		return 0; /* unknown control bytes are ignored */
	}
}

/* Answer messages until the connection ends or *stop. Returns the number of messages
 * answered (0: vpcd hung up at once, which the caller backs off from). */
static unsigned session(struct vnp_vt_vpcd *v, int fd, uint8_t *in, uint8_t *out,
			uint8_t *scratch)
{
	uint8_t hdr[2];
	size_t len, out_len;
	unsigned msgs = 0;

	while (!*v->stop) {
		if (read_full(fd, hdr, 2, v->stop) < 0)
			break;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (len && read_full(fd, in, len, v->stop) < 0)
			break;
		msgs++;
		if (len == 1) {
			if (handle_control(v, fd, in[0], scratch) < 0)
				break;
			continue;
		}
		vnp_vt_trace_cmd(v->who, in, len);
		if (v->latency_ms)
			vnp_vt_sleep_ms(v->latency_ms, v->stop);
		out_len = VPCD_MSG_MAX;
		if (vnp_vcard_transmit(v->card, in, len, out, &out_len) != VNP_OK) {
			out[0] = 0x6F;
			out[1] = 0x00;
			out_len = 2;
		}
		OPENSSL_cleanse(in, len); /* may have held a PIN */
		vnp_vt_trace_resp(v->who, out, out_len);
		if (write_msg(fd, out, out_len, scratch, v->stop) < 0)
			break;
		OPENSSL_cleanse(scratch, out_len + 2);
		OPENSSL_cleanse(out, out_len); /* may have held private object data */
	}
	OPENSSL_cleanse(in, VPCD_MSG_MAX); /* a read cut short may have left part of a PIN */
	return msgs;
}

/* Sleep for the backoff (cut short by *stop) and double it up to BACKOFF_MAX_MS. */
static void back_off(struct vnp_vt_vpcd *v, unsigned *backoff)
{
	unsigned waited;

	for (waited = 0; waited < *backoff && !*v->stop; waited += 50)
		vnp_vt_sleep_ms(50, v->stop);
	*backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
}

int vnp_vt_vpcd_serve(struct vnp_vt_vpcd *v)
{
	uint8_t *in = malloc(VPCD_MSG_MAX), *out = malloc(VPCD_MSG_MAX),
		*scratch = malloc(VPCD_MSG_MAX + 2);
	unsigned backoff = BACKOFF_MIN_MS, msgs;
	char msg[96];
	int fd, rv = VNP_OK;

	if (!in || !out || !scratch) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	while (!*v->stop) {
		fd = connect_once(v);
		if (fd == -2) {
			fprintf(stderr, "vnpki-vtoken: cannot resolve host %s\n", v->host);
			rv = VNP_E_ARGS;
			goto out;
		}
		if (fd < 0) {
			back_off(v, &backoff);
			continue;
		}
		atomic_store(&v->fd, fd);
		snprintf(msg, sizeof(msg), "connected to vpcd %s:%u", v->host, v->port);
		vnp_vt_trace_event(v->who, msg);
		msgs = *v->stop ? 0 : session(v, fd, in, out, scratch);
		atomic_store(&v->fd, -1);
		close(fd);
		vnp_vcard_reset(v->card); /* the reader went away: the card is unpowered */
		vnp_vt_trace_event(v->who, "disconnected");
		/* Something on the port that hangs up without a word is not vpcd: do not
		 * reconnect in a tight loop. A real session resets the backoff. */
		if (msgs)
			backoff = BACKOFF_MIN_MS;
		else
			back_off(v, &backoff);
	}
out:
	if (in)
		OPENSSL_clear_free(in, VPCD_MSG_MAX);
	if (out)
		OPENSSL_clear_free(out, VPCD_MSG_MAX);
	if (scratch)
		OPENSSL_clear_free(scratch, VPCD_MSG_MAX + 2);
	return rv;
}
