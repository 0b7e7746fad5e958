/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ccidsock reader backend (ccid/ccid_sock.c) against the CCID socket device end
 * (tools/vtoken/ccid_sock_serve.c) running in a thread: configuration, list, connect,
 * transmit, card removal and re-insertion (state file), the device going away and coming
 * back on the same path, wait_event on slot changes and on the device's socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "ccid_dev.h"
#include "ccid_sock_serve.h"
#include "config.h"
#include "keys.h"
#include "rv.h"
#include "state.h"
#include "transport.h"
#include "vcard.h"

static char dir[64], state_path[96], sock_path[96];

struct srv {
	struct vnp_vt_ccid_dev *d;
	int lfd;
	_Atomic int stop;
	pthread_t th;
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	vnp_vt_ccid_sock_serve(s->d, s->lfd, &s->stop);
	return NULL;
}

static void srv_start(struct srv *s, int level)
{
	struct vnp_vt_ccid_cfg cfg = { .level = level, .max_msg = 271, .ifsc = 32 };

	memset(s, 0, sizeof(*s));
	assert_int_equal(vnp_vt_ccid_dev_new(&cfg, state_path, &s->d), VNP_OK);
	s->lfd = vnp_vt_ccid_sock_listen(sock_path);
	assert_true(s->lfd >= 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->lfd);
	unlink(sock_path);
	vnp_vt_ccid_dev_free(s->d);
}

static void *stop_later(void *arg)
{
	usleep(300 * 1000);
	srv_stop(arg);
	return NULL;
}

static void make_state(void)
{
	struct vnp_vt_state *st = NULL;

	assert_int_equal(vnp_vt_state_new(state_path, &st), VNP_OK);
	memcpy(st->d.label, "sock", 4);
	st->d.label_len = 4;
	memset(st->d.pin_salt, 0x11, sizeof(st->d.pin_salt));
	assert_int_equal(vnp_vt_pin_hash(st->libctx, st->d.pin_salt, sizeof(st->d.pin_salt),
					 (const uint8_t *)"123456", 6, st->d.pin_hash),
			 VNP_OK);
	assert_int_equal(vnp_vt_state_create(st, true), VNP_OK);
	vnp_vt_state_free(st);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vnp-ccidsock-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state_path, sizeof(state_path), "%s/t.state", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/dev.sock", dir);
	make_state();
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	unlink(state_path);
	snprintf(p, sizeof(p), "%s.lock", state_path);
	unlink(p);
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

static void test_config(void **state)
{
	struct vnp_config *c = malloc(sizeof(*c));
	char text[256];
	size_t n = 0;

	(void)state;
	assert_non_null(c);
	vnp_config_defaults(c);
	assert_false(c->use_ccidsock);
	assert_int_equal(vnp_config_parse_string(c, "readers = pcsc, ccidsock\n"
						 "ccidsock.path = /a.sock\n"
						 "ccidsock.path = \"/b c.sock\"\n",
						 "t"),
			 VNP_OK);
	assert_true(c->use_ccidsock);
	assert_true(c->use_pcsc);
	assert_int_equal(c->n_ccidsock, 2);
	assert_string_equal(c->ccidsock_path[1], "/b c.sock");
	/* a later file that names ccidsock.path replaces the list */
	assert_int_equal(vnp_config_parse_string(c, "ccidsock.path = /z.sock\n", "t2"), VNP_OK);
	assert_int_equal(c->n_ccidsock, 1);
	assert_int_equal(vnp_config_parse_string(c, "ccidsock.path =\n", "t3"), VNP_E_CONFIG);
	for (int i = 0; i < 9; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "ccidsock.path = /%d\n", i);
	assert_int_equal(vnp_config_parse_string(c, text, "t4"), VNP_E_CONFIG);
	assert_int_equal(c->n_ccidsock, 1);
	assert_int_equal(vnp_config_parse_string(c, "readers = vtoken\n", "t5"), VNP_OK);
	assert_false(c->use_ccidsock);
	free(c);
}

static const uint8_t select_mf[] = { 0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00 };

static void transmit_ok(const struct vnp_reader_ops *ops, struct vnp_reader *r)
{
	uint8_t resp[300];
	size_t n = sizeof(resp);

	assert_int_equal(ops->transmit(r, select_mf, sizeof(select_mf), resp, &n), VNP_OK);
	assert_true(n >= 2);
}

static void run_backend(int level)
{
	const struct vnp_reader_ops *ops = &vnp_reader_ccidsock;
	struct vnp_config *cfg = malloc(sizeof(*cfg));
	struct vnp_reader_state st[4];
	struct vnp_reader_caps caps;
	struct vnp_backend *be = NULL;
	struct vnp_reader *r = NULL;
	uint8_t atr[VNP_ATR_MAX], want[33], resp[300];
	size_t n = 0, atr_len = sizeof(atr), want_len = vnp_vcard_atr(want), rn;
	char moved[128];
	bool cancelled = true;
	pthread_t stopper;
	uint32_t ev;
	struct srv s;

	assert_non_null(cfg);
	vnp_config_defaults(cfg);
	cfg->use_ccidsock = true;
	cfg->n_ccidsock = 2;
	snprintf(cfg->ccidsock_path[0], PATH_MAX, "%s/nobody.sock", dir);
	snprintf(cfg->ccidsock_path[1], PATH_MAX, "%s", sock_path);
	srv_start(&s, level);
	assert_int_equal(ops->open(cfg, &be), VNP_OK);

	/* no device behind the first path: one reader, named after its place in the config */
	assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
	assert_int_equal(n, 1);
	assert_string_equal(st[0].name, "vnpki CCID socket 1");
	assert_true(st[0].card_present);
	assert_int_equal(st[0].atr_len, want_len);
	assert_memory_equal(st[0].atr, want, want_len);
	ev = st[0].event_count;

	assert_int_equal(ops->connect(be, "vnpki CCID socket 0", &r, &caps), VNP_E_NO_DEVICE);
	assert_int_equal(ops->connect(be, st[0].name, &r, &caps), VNP_OK);
	assert_int_equal(caps.extended, level != VNP_VT_CCID_LEVEL_SHORT);
	assert_int_equal(ops->atr(r, atr, &atr_len), VNP_OK);
	assert_memory_equal(atr, want, want_len);
	assert_int_equal(ops->begin(r), VNP_OK);
	transmit_ok(ops, r);
	ops->end(r);

	/* nothing happens: wait_event times out */
	assert_int_equal(ops->wait_event(be, 400, &cancelled), VNP_E_TIMEOUT);
	assert_false(cancelled);

	/* the card goes (its state file), and comes back: a reset for the handle */
	snprintf(moved, sizeof(moved), "%s.away", state_path);
	assert_int_equal(rename(state_path, moved), 0);
	/* the device's NotifySlotChange wakes wait_event */
	assert_int_equal(ops->wait_event(be, 5000, &cancelled), VNP_OK);
	assert_false(cancelled);
	assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
	assert_int_equal(n, 1);
	assert_false(st[0].card_present);
	assert_true(st[0].event_count != ev);
	assert_int_equal(ops->begin(r), VNP_E_NO_CARD);
	rn = sizeof(resp);
	assert_int_equal(ops->transmit(r, select_mf, sizeof(select_mf), resp, &rn),
			 VNP_E_CARD_RESET);
	assert_int_equal(rename(moved, state_path), 0);
	assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
	assert_true(st[0].card_present);
	assert_int_equal(ops->begin(r), VNP_E_CARD_RESET);
	transmit_ok(ops, r);
	ops->end(r);
	assert_int_equal(ops->begin(r), VNP_OK);
	ops->end(r);

	/* the device goes away: the reader is gone; it comes back on the same path */
	srv_stop(&s);
	rn = sizeof(resp);
	assert_int_equal(ops->transmit(r, select_mf, sizeof(select_mf), resp, &rn),
			 VNP_E_NO_DEVICE);
	assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ops->begin(r), VNP_E_NO_DEVICE);
	srv_start(&s, level);
	assert_int_equal(ops->list(be, st, 4, &n), VNP_OK);
	assert_int_equal(n, 1);
	assert_true(st[0].card_present);
	assert_int_equal(ops->begin(r), VNP_E_CARD_RESET);
	transmit_ok(ops, r);
	ops->end(r);

	/* the device goes away while we wait: wait_event sees it */
	assert_int_equal(pthread_create(&stopper, NULL, stop_later, &s), 0);
	assert_int_equal(ops->wait_event(be, 5000, &cancelled), VNP_OK);
	assert_false(cancelled);
	pthread_join(stopper, NULL);
	srv_start(&s, level);

	ops->cancel(be);
	assert_int_equal(ops->wait_event(be, 5000, &cancelled), VNP_OK);
	assert_true(cancelled);
	ops->disconnect(r);
	ops->close(be);
	srv_stop(&s);
	free(cfg);
}

static void test_backend_t1(void **state)
{
	(void)state;
	run_backend(VNP_VT_CCID_LEVEL_T1);
}

static void test_backend_short(void **state)
{
	(void)state;
	run_backend(VNP_VT_CCID_LEVEL_SHORT);
}

/* A socket where nobody answers the descriptor request (the device serves another host):
 * no reader, after a bounded wait. */
static void test_busy_device(void **state)
{
	const struct vnp_reader_ops *ops = &vnp_reader_ccidsock;
	struct vnp_config *cfg = malloc(sizeof(*cfg));
	struct vnp_reader_state st[2];
	struct vnp_backend *be = NULL;
	size_t n = 9;
	int lfd;

	(void)state;
	assert_non_null(cfg);
	vnp_config_defaults(cfg);
	cfg->n_ccidsock = 1;
	snprintf(cfg->ccidsock_path[0], PATH_MAX, "%s", sock_path);
	lfd = vnp_vt_ccid_sock_listen(sock_path); /* listening, never accepting */
	assert_true(lfd >= 0);
	assert_int_equal(ops->open(cfg, &be), VNP_OK);
	assert_int_equal(ops->list(be, st, 2, &n), VNP_OK);
	assert_int_equal(n, 0);
	ops->close(be);
	close(lfd);
	unlink(sock_path);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_backend_t1),
		cmocka_unit_test(test_backend_short),
		cmocka_unit_test(test_busy_device),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
