/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `ccidsock` reader backend: one reader per configured CCID socket (ccid_sock_proto.h),
 * each a CCID device driven by ccid_reader.c, so that the whole module runs over CCID framing
 * without USB. One connection per socket, kept open; a lost connection is retried by the
 * next list() or begin(). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "ccid.h"
#include "ccid_desc.h"
#include "ccid_reader.h"
#include "ccid_sock_proto.h"
#include "compiler.h"
#include "config.h"
#include "log.h"
#include "poll_wait.h"
#include "reader_name.h"
#include "rv.h"
#include "transport.h"

#define CS_NAME_PREFIX "vnpki CCID socket "
/* The device answers the descriptor at once unless it serves another host. */
#define CS_HELLO_MS 1000

struct cs_conn {
	char path[PATH_MAX];
	pthread_mutex_t lock; /* guards everything below, and the I/O on fd */
	int fd;               /* -1: not connected */
	struct vnp_ccid_reader *rd;
	uint8_t *buf;         /* one packet: kind byte + the largest message */
	size_t buf_cap;
	bool slot_changed;    /* a NotifySlotChange arrived (list() clears it) */
	_Atomic unsigned long intr; /* NotifySlotChange packets seen (wait_event compares) */
	bool powered;
	unsigned power_gen;   /* moves on every power on: handles older than it see a reset */
	uint8_t atr[VNP_ATR_MAX];
	size_t atr_len;
	bool last_present;
	uint32_t events;
};

struct vnp_backend {
	unsigned n;
	struct cs_conn c[VNP_CONF_MAX_CCIDSOCK];
	pthread_mutex_t wlock; /* guards cancelled */
	pthread_cond_t wake;   /* signalled by cancel() */
	bool cancelled;
};

struct vnp_reader {
	struct vnp_backend *be;
	unsigned idx;
	unsigned gen;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int errno_rv(int e)
{
	return (e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == EBADF) ? VNP_E_NO_DEVICE
									     : VNP_E_TRANSPORT;
}

static int send_pkt(struct cs_conn *c, uint8_t kind, const uint8_t *p, size_t len)
{
	struct iovec iov[2] = { { .iov_base = &kind, .iov_len = 1 },
				{ .iov_base = (void *)p, .iov_len = len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t r;

	do
		r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno_rv(errno);
	return r == (ssize_t)(len + 1) ? VNP_OK : VNP_E_TRANSPORT;
}

/* Next packet of kind want into c->buf (*ret_len: its length, kind byte included).
 * Interrupt packets on the way are noted. */
static int recv_pkt(struct cs_conn *c, uint8_t want, unsigned timeout_ms, size_t *ret_len)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	long end = now_ms() + timeout_ms, left;
	ssize_t n;
	int r;

	for (;;) {
		left = end - now_ms();
		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)(left > 0x7FFFFFFF ? 0x7FFFFFFF : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return VNP_E_TRANSPORT;
		if (r == 0)
			return VNP_E_TIMEOUT;
		n = recv(c->fd, c->buf, c->buf_cap, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno_rv(errno);
		if (n == 0)
			return VNP_E_NO_DEVICE; /* the device hung up */
		if ((size_t)n > c->buf_cap)
			return VNP_E_TRANSPORT; /* longer than any message it may send */
		if (c->buf[0] == VNP_CCIDSOCK_INTR) {
			c->slot_changed = true;
			c->intr++;
			continue;
		}
		if (c->buf[0] != want)
			continue;
		*ret_len = (size_t)n;
		return VNP_OK;
	}
}

static int pipe_out(void *pipe, const uint8_t *msg, size_t len, unsigned timeout_ms)
{
	(void)timeout_ms; /* a local socket: sendmsg does not wait for the device */
	return send_pkt(pipe, VNP_CCIDSOCK_BULK_OUT, msg, len);
}

static int pipe_in(void *pipe, uint8_t *buf, size_t cap, size_t *ret_len, unsigned timeout_ms)
{
	struct cs_conn *c = pipe;
	size_t n;
	int rv;

	rv = recv_pkt(c, VNP_CCIDSOCK_BULK_IN, timeout_ms, &n);
	if (rv != VNP_OK)
		return rv;
	if (n - 1 > cap)
		rv = VNP_E_TRANSPORT;
	else
		memcpy(buf, c->buf + 1, n - 1);
	*ret_len = n - 1;
	OPENSSL_cleanse(c->buf, n);
	return rv;
}

static const struct vnp_ccid_pipe_ops cs_pipe = { .bulk_out = pipe_out, .bulk_in = pipe_in };

static void conn_drop(struct cs_conn *c)
{
	vnp_ccid_reader_free(c->rd);
	c->rd = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->buf)
		OPENSSL_clear_free(c->buf, c->buf_cap);
	c->buf = NULL;
	c->buf_cap = 0;
	c->powered = false;
	c->atr_len = 0;
}

/* Connect and read the class descriptor. VNP_E_NO_DEVICE when there is no device there (or it
 * is busy with another host). */
static int conn_open(struct cs_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vnp_ccid_desc desc;
	uint8_t hello[1 + VNP_CCID_DESC_LEN + 16];
	size_t n = 0;
	int rv = VNP_E_NO_DEVICE;

	if (c->fd >= 0)
		return VNP_OK;
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1); /* length checked by cs_open */
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	c->buf = hello;
	c->buf_cap = sizeof(hello);
	rv = send_pkt(c, VNP_CCIDSOCK_DESC, NULL, 0);
	if (rv == VNP_OK)
		rv = recv_pkt(c, VNP_CCIDSOCK_DESC, CS_HELLO_MS, &n);
	c->buf = NULL;
	c->buf_cap = 0;
	if (rv != VNP_OK || vnp_ccid_desc_parse(hello + 1, n - 1, &desc) != VNP_OK) {
		if (rv == VNP_OK)
			vnp_warn("ccidsock: %s: bad class descriptor", c->path);
		rv = VNP_E_NO_DEVICE;
		goto out;
	}
	c->buf_cap = 1 + desc.dwMaxCCIDMessageLength;
	c->buf = malloc(c->buf_cap);
	if (!c->buf) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	rv = vnp_ccid_reader_new(&cs_pipe, c, hello + 1, n - 1, 0, &c->rd);
	if (rv != VNP_OK) {
		vnp_warn("ccidsock: %s: unusable CCID device: %s", c->path, vnp_rv_text(rv));
		goto out;
	}
	c->slot_changed = true;
	vnp_log(VNP_LOG_READER, "ccidsock: %s: connected (dwMaxCCIDMessageLength %u)", c->path,
		(unsigned)desc.dwMaxCCIDMessageLength);
out:
	if (rv != VNP_OK) {
		if (c->buf == hello) {
			c->buf = NULL;
			c->buf_cap = 0;
		}
		conn_drop(c);
		rv = rv == VNP_E_NOMEM ? rv : VNP_E_NO_DEVICE;
	}
	return rv;
}

/* Power the card on when it is not; c->lock held. */
static int power_locked(struct cs_conn *c)
{
	size_t n = sizeof(c->atr);
	int rv;

	if (c->powered)
		return VNP_OK;
	rv = vnp_ccid_reader_power_on(c->rd, c->atr, &n);
	if (rv != VNP_OK) {
		c->atr_len = 0;
		return rv;
	}
	c->atr_len = n;
	c->powered = true;
	c->power_gen++;
	return VNP_OK;
}

/* Connected, card present and powered; c->lock held. A device that fails at the CCID level
 * is dropped (VNP_E_NO_DEVICE: reconnected later); a card that does not power up (mute, bad
 * ATR, not T=1) is VNP_E_NO_CARD: a reader without a usable card, not a reader gone. */
static int ready_locked(struct cs_conn *c)
{
	bool present = false, active = false;
	int rv;

	rv = conn_open(c);
	if (rv != VNP_OK)
		goto out;
	rv = vnp_ccid_reader_slot_status(c->rd, &present, &active);
	if (rv != VNP_OK) {
		vnp_log(VNP_LOG_READER, "ccidsock: %s: %s, reconnecting later", c->path,
			vnp_rv_text(rv));
		rv = VNP_E_NO_DEVICE;
		goto out;
	}
	if (!active)
		c->powered = false;
	if (!present) {
		rv = VNP_E_NO_CARD;
		goto out;
	}
	rv = power_locked(c);
	if (rv != VNP_OK && rv != VNP_E_NO_DEVICE && rv != VNP_E_NOMEM) {
		vnp_log(VNP_LOG_READER, "ccidsock: %s: card does not power on: %s", c->path,
			vnp_rv_text(rv));
		rv = VNP_E_NO_CARD;
	}
out:
	if (rv == VNP_E_NO_DEVICE)
		conn_drop(c);
	return rv;
}

static int cs_open(const struct vnp_config *cfg, struct vnp_backend **ret)
{
	struct vnp_backend *be;

	if (!ret)
		return VNP_E_ARGS;
	be = calloc(1, sizeof(*be));
	if (!be)
		return VNP_E_NOMEM;
	pthread_mutex_init(&be->wlock, NULL);
	vnp_wake_init(&be->wake);
	for (unsigned i = 0; cfg && i < cfg->n_ccidsock && i < VNP_CONF_MAX_CCIDSOCK; i++) {
		struct cs_conn *c = &be->c[be->n];

		if (strlen(cfg->ccidsock_path[i]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			vnp_warn("ccidsock: socket path too long, ignored: %s",
				 cfg->ccidsock_path[i]);
			continue;
		}
		be->n++;
		snprintf(c->path, sizeof(c->path), "%s", cfg->ccidsock_path[i]);
		c->fd = -1;
		pthread_mutex_init(&c->lock, NULL);
	}
	vnp_log(VNP_LOG_READER, "ccidsock: %u socket(s)", be->n);
	*ret = be;
	return VNP_OK;
}

static void cs_close(struct vnp_backend *be)
{
	if (!be)
		return;
	for (unsigned i = 0; i < be->n; i++) {
		conn_drop(&be->c[i]);
		pthread_mutex_destroy(&be->c[i].lock);
	}
	pthread_mutex_destroy(&be->wlock);
	pthread_cond_destroy(&be->wake);
	free(be);
}

static int cs_list(struct vnp_backend *be, struct vnp_reader_state *out, size_t max,
		   size_t *ret_count)
{
	size_t count = 0;

	if (!be || !ret_count || (max && !out))
		return VNP_E_ARGS;
	for (unsigned i = 0; i < be->n && count < max; i++) {
		struct cs_conn *c = &be->c[i];
		struct vnp_reader_state *st = &out[count];
		int rv;

		pthread_mutex_lock(&c->lock);
		rv = ready_locked(c);
		if (rv == VNP_E_NO_DEVICE || rv == VNP_E_NOMEM) {
			pthread_mutex_unlock(&c->lock); /* no device there now: no reader */
			continue;
		}
		memset(st, 0, sizeof(*st));
		snprintf(st->name, sizeof(st->name), CS_NAME_PREFIX "%u", i);
		st->card_present = rv == VNP_OK;
		if (st->card_present) {
			memcpy(st->atr, c->atr, c->atr_len);
			st->atr_len = c->atr_len;
		}
		if (st->card_present != c->last_present || c->slot_changed) {
			c->last_present = st->card_present;
			c->events++;
			vnp_log(VNP_LOG_READER, "ccidsock: %s: card %s", c->path,
				st->card_present ? "present" : "absent");
		}
		c->slot_changed = false;
		st->event_count = c->events;
		pthread_mutex_unlock(&c->lock);
		count++;
	}
	*ret_count = count;
	return VNP_OK;
}

static int cs_connect(struct vnp_backend *be, const char *name, struct vnp_reader **ret,
		      struct vnp_reader_caps *ret_caps)
{
	struct vnp_reader *r;
	struct cs_conn *c;
	unsigned idx;
	int rv;

	if (!be || !name || !ret)
		return VNP_E_ARGS;
	rv = vnp_reader_name_index(name, CS_NAME_PREFIX, be->n, &idx);
	if (rv != VNP_OK)
		return rv;
	r = calloc(1, sizeof(*r));
	if (!r)
		return VNP_E_NOMEM;
	c = &be->c[idx];
	pthread_mutex_lock(&c->lock);
	rv = ready_locked(c);
	if (rv == VNP_OK) {
		r->be = be;
		r->idx = idx;
		r->gen = c->power_gen;
		if (ret_caps)
			vnp_ccid_reader_caps(c->rd, ret_caps);
	}
	pthread_mutex_unlock(&c->lock);
	if (rv != VNP_OK) {
		free(r);
		return rv;
	}
	*ret = r;
	return VNP_OK;
}

static void cs_disconnect(struct vnp_reader *r)
{
	free(r);
}

static int cs_atr(struct vnp_reader *r, uint8_t *atr, size_t *atr_len)
{
	struct cs_conn *c;
	int rv = VNP_OK;

	if (!r || !atr || !atr_len)
		return VNP_E_ARGS;
	c = &r->be->c[r->idx];
	pthread_mutex_lock(&c->lock);
	if (!c->powered)
		rv = VNP_E_NO_CARD;
	else if (c->atr_len > *atr_len)
		rv = VNP_E_BUFFER_TOO_SMALL;
	else {
		memcpy(atr, c->atr, c->atr_len);
		*atr_len = c->atr_len;
	}
	pthread_mutex_unlock(&c->lock);
	return rv;
}

/* The device is ours alone while connected: a transaction only checks that the card is the
 * one the handle knows (no power cycle since). */
static int cs_begin(struct vnp_reader *r)
{
	struct cs_conn *c;
	int rv;

	if (!r)
		return VNP_E_ARGS;
	c = &r->be->c[r->idx];
	pthread_mutex_lock(&c->lock);
	rv = ready_locked(c);
	if (rv == VNP_OK && r->gen != c->power_gen) {
		r->gen = c->power_gen;
		rv = VNP_E_CARD_RESET;
	}
	pthread_mutex_unlock(&c->lock);
	return rv;
}

static void cs_end(struct vnp_reader *r)
{
	(void)r;
}

static int cs_transmit(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
		       size_t *resp_len)
{
	struct cs_conn *c;
	int rv;

	if (!r || !cmd || !resp || !resp_len)
		return VNP_E_ARGS;
	c = &r->be->c[r->idx];
	pthread_mutex_lock(&c->lock);
	if (c->fd < 0) {
		rv = VNP_E_NO_DEVICE;
		goto out;
	}
	if (!c->powered || r->gen != c->power_gen) {
		rv = VNP_E_CARD_RESET;
		goto out;
	}
	rv = vnp_ccid_reader_transmit(c->rd, cmd, cmd_len, resp, resp_len);
	switch (rv) {
	case VNP_OK:
	case VNP_E_BUFFER_TOO_SMALL:
		break;
	case VNP_E_NO_CARD:
	case VNP_E_CARD_RESET:
		c->powered = false;
		break;
	case VNP_E_NO_DEVICE:
		conn_drop(c);
		break;
	default:
		rv = VNP_E_TRANSPORT;
		break;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return rv;
}

/* Read what an idle connection has pending (c->lock held): slot changes are counted,
 * bulk-IN answers are stale (every command waits for its own answer) and dropped, a hang-up
 * drops the connection. */
static void drain_locked(struct cs_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	while (c->fd >= 0 && poll(&p, 1, 0) == 1) {
		n = recv(c->fd, c->buf, c->buf_cap, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno_rv(errno) == VNP_E_NO_DEVICE) {
				c->intr++; /* the reader went away: an event */
				conn_drop(c);
			}
			return;
		}
		if (c->buf[0] == VNP_CCIDSOCK_INTR) {
			c->slot_changed = true;
			c->intr++;
		}
		OPENSSL_cleanse(c->buf, VNP_MIN((size_t)n, c->buf_cap));
	}
}

/* What wait_event compares: slot changes seen, and whether each socket file exists (a
 * device that comes or goes). Connections busy with I/O are left alone: that I/O counts
 * their slot changes. */
static void snapshot(struct vnp_backend *be, unsigned long *intr, bool *exists)
{
	for (unsigned i = 0; i < be->n; i++) {
		struct cs_conn *c = &be->c[i];

		if (pthread_mutex_trylock(&c->lock) == 0) {
			drain_locked(c);
			pthread_mutex_unlock(&c->lock);
		}
		intr[i] = c->intr;
		exists[i] = access(c->path, F_OK) == 0;
	}
}

#define CS_POLL_MS 150

struct cs_seen {
	struct vnp_backend *be;
	unsigned long intr0[VNP_CONF_MAX_CCIDSOCK];
	bool ex0[VNP_CONF_MAX_CCIDSOCK];
};

/* With be->wlock held: did a snapshot change since seen's? */
static bool cs_changed(void *arg)
{
	struct cs_seen *seen = arg;
	struct vnp_backend *be = seen->be;
	unsigned long intr[VNP_CONF_MAX_CCIDSOCK];
	bool ex[VNP_CONF_MAX_CCIDSOCK];

	pthread_mutex_unlock(&be->wlock);
	snapshot(be, intr, ex);
	pthread_mutex_lock(&be->wlock);
	return memcmp(seen->intr0, intr, be->n * sizeof(*intr)) ||
	       memcmp(seen->ex0, ex, be->n * sizeof(*ex));
}

static int cs_wait_event(struct vnp_backend *be, unsigned timeout_ms, bool *cancelled)
{
	struct cs_seen seen;

	if (!be || !cancelled)
		return VNP_E_ARGS;
	seen.be = be;
	snapshot(be, seen.intr0, seen.ex0);
	return vnp_poll_wait(&be->wlock, &be->wake, &be->cancelled, timeout_ms, CS_POLL_MS,
			     cs_changed, &seen, cancelled);
}

static void cs_cancel(struct vnp_backend *be)
{
	vnp_poll_cancel(&be->wlock, &be->wake, &be->cancelled);
}

/* The ccidsock reader backend (see transport.h for the contract of each member). */
const struct vnp_reader_ops vnp_reader_ccidsock = {
	.name = "ccidsock",
	.open = cs_open,
	.close = cs_close,
	.list = cs_list,
	.connect = cs_connect,
	.disconnect = cs_disconnect,
	.atr = cs_atr,
	.begin = cs_begin,
	.end = cs_end,
	.transmit = cs_transmit,
	.wait_event = cs_wait_event,
	.cancel = cs_cancel,
};
