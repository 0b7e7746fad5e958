/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CCID socket, device end: packets in, device answers and slot changes out. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "ccid_sock_proto.h"
#include "ccid_sock_serve.h"
#include "rv.h"

#define POLL_MS 200
/* one packet: kind byte + the largest message the device takes or sends, and some slack */
#define PKT_MAX (1 + 65544 + 10 + 64)

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
static void serve_conn(struct vnp_vt_ccid_dev *d, int fd, uint8_t *in, uint8_t *out,
		       const _Atomic int *stop)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t desc[VNP_VT_CCID_DESC_LEN];
	ssize_t n;
	int r;

	while (!*stop) {
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
}

int vnp_vt_ccid_sock_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	(void)unlink(path); /* a socket file left by an earlier run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}


int vnp_vt_ccid_sock_serve(struct vnp_vt_ccid_dev *d, int lfd, const _Atomic int *stop)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	uint8_t *in = malloc(PKT_MAX), *out = malloc(PKT_MAX);
	int rv = VNP_OK, cfd;

	if (!in || !out) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	while (!*stop) {
		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		serve_conn(d, cfd, in, out, stop);
		close(cfd);
	}
out:
	if (in)
		OPENSSL_clear_free(in, PKT_MAX);
	if (out)
		OPENSSL_clear_free(out, PKT_MAX);
	return rv;
}
