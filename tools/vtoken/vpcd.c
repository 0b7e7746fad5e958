/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card side of vsmartcard's vpcd protocol. vpcd delays its ACKs: without
 * TCP_NODELAY here and TCP_QUICKACK re-armed after every read, each APDU costs ~40 ms. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

static void quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int connect_once(const struct vnp_vt_vpcd *v)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int fd = -1, one = 1;

	snprintf(port, sizeof(port), "%u", v->port);
	if (getaddrinfo(v->host, port, &hints, &res) != 0)
		return -2;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		quickack(fd);
	}
	return fd;
}

/* Read exactly n bytes; 0 or -1 (EOF, error). */
static int read_full(int fd, uint8_t *buf, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	quickack(fd);
	return 0;
}

static int write_msg(int fd, const uint8_t *payload, size_t len, uint8_t *scratch)
{
	size_t off = 0, total = len + 2;
	ssize_t r;

	scratch[0] = (uint8_t)(len >> 8);
	scratch[1] = (uint8_t)len;
	memcpy(scratch + 2, payload, len);
	while (off < total) {
		r = send(fd, scratch + off, total - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
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
		n = vnp_vcard_atr(atr);
		return write_msg(fd, atr, n, scratch);
	default:
		return 0; /* unknown control bytes are ignored */
	}
}

/* Answer messages until the connection ends or *stop. */
static void session(struct vnp_vt_vpcd *v, int fd, uint8_t *in, uint8_t *out, uint8_t *scratch)
{
	uint8_t hdr[2];
	size_t len, out_len;

	while (!*v->stop) {
		if (read_full(fd, hdr, 2) < 0)
			return;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (len && read_full(fd, in, len) < 0)
			return;
		if (len == 1) {
			if (handle_control(v, fd, in[0], scratch) < 0)
				return;
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
		if (write_msg(fd, out, out_len, scratch) < 0)
			return;
		OPENSSL_cleanse(scratch, out_len + 2);
	}
}

int vnp_vt_vpcd_serve(struct vnp_vt_vpcd *v)
{
	uint8_t *in = malloc(VPCD_MSG_MAX), *out = malloc(VPCD_MSG_MAX),
		*scratch = malloc(VPCD_MSG_MAX + 2);
	unsigned backoff = 100, waited;
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
			for (waited = 0; waited < backoff && !*v->stop; waited += 50)
				vnp_vt_sleep_ms(50, v->stop);
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
			continue;
		}
		backoff = 100;
		atomic_store(&v->fd, fd);
		snprintf(msg, sizeof(msg), "connected to vpcd %s:%u", v->host, v->port);
		vnp_vt_trace_event(v->who, msg);
		if (!*v->stop)
			session(v, fd, in, out, scratch);
		atomic_store(&v->fd, -1);
		close(fd);
		vnp_vcard_reset(v->card); /* the reader went away: the card is unpowered */
		vnp_vt_trace_event(v->who, "disconnected");
	}
out:
	if (in)
		OPENSSL_clear_free(in, VPCD_MSG_MAX);
	free(out);
	if (scratch)
		OPENSSL_clear_free(scratch, VPCD_MSG_MAX + 2);
	return rv;
}
