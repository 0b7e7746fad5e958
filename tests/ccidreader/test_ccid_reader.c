/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host CCID engine (ccid/ccid_reader.c) against the virtual token's CCID device engine
 * (tools/vtoken/ccid_dev.c) in one process, joined by an in-memory pipe that can also inject
 * answers of its own (stale bSeq, lying lengths) or swallow one. The vntoken card driver runs
 * on top, so every exchange level moves real applet traffic: RSA-2048 and ECDSA signatures
 * (verified with OpenSSL), a 3000-byte object both ways. Then the T=1 faults. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "apdu.h"
#include "card.h"
#include "ccid.h"
#include "ccid_dev.h"
#include "ccid_reader.h"
#include "keys.h"
#include "rv.h"
#include "state.h"
#include "t1.h"
#include "vcard.h"

#define vnp_t1_lrc_for_test vnp_t1_lrc

#define PIN "123456"
#define INJ_MAX 12

/* ---- the in-memory pipe ---- */

struct mem_pipe {
	struct vnp_vt_ccid_dev *dev;
	uint8_t last_seq;
	/* answers returned before the device's, in order */
	uint8_t inj[INJ_MAX][600];
	size_t inj_len[INJ_MAX];
	unsigned n_inj, inj_pos;
	bool swallow_next; /* the device's next answer disappears (no bulk-IN at all) */
	unsigned long ins, outs;
};

static int mp_out(void *pipe, const uint8_t *msg, size_t len, unsigned timeout_ms)
{
	struct mem_pipe *p = pipe;

	(void)timeout_ms;
	p->outs++;
	if (len >= VNP_CCID_HDR_LEN)
		p->last_seq = msg[6];
	return vnp_vt_ccid_dev_put(p->dev, msg, len);
}

static int mp_in(void *pipe, uint8_t *buf, size_t cap, size_t *ret_len, unsigned timeout_ms)
{
	struct mem_pipe *p = pipe;
	uint8_t tmp[8];
	size_t n = 0;
	int rv;

	(void)timeout_ms;
	assert_true(timeout_ms > 0);
	p->ins++;
	if (p->inj_pos < p->n_inj) {
		unsigned i = p->inj_pos++;

		if (p->inj_len[i] > cap)
			return VNP_E_TRANSPORT; /* USB overflow: nothing copied past cap */
		memcpy(buf, p->inj[i], p->inj_len[i]);
		*ret_len = p->inj_len[i];
		return VNP_OK;
	}
	if (p->swallow_next) {
		p->swallow_next = false;
		rv = vnp_vt_ccid_dev_get(p->dev, tmp, 0, &n);
		assert_int_equal(rv, VNP_E_BUFFER_TOO_SMALL);
		return VNP_E_TIMEOUT;
	}
	rv = vnp_vt_ccid_dev_get(p->dev, buf, cap, ret_len);
	if (rv == VNP_E_NOT_FOUND)
		return VNP_E_TIMEOUT;
	if (rv == VNP_E_BUFFER_TOO_SMALL)
		return VNP_E_TRANSPORT;
	return rv;
}

static const struct vnp_ccid_pipe_ops mem_ops = { .bulk_out = mp_out, .bulk_in = mp_in };

/* An answer to inject: header with dwLength dw, bSeq seq, total length len (zero data). */
static void inject(struct mem_pipe *p, uint8_t type, uint32_t dw, uint8_t seq, uint8_t status,
		   size_t len)
{
	uint8_t *m = p->inj[p->n_inj];

	assert_true(p->n_inj < INJ_MAX && len <= sizeof(p->inj[0]) && len >= VNP_CCID_HDR_LEN);
	memset(m, 0, len);
	m[0] = type;
	m[1] = (uint8_t)dw;
	m[2] = (uint8_t)(dw >> 8);
	m[3] = (uint8_t)(dw >> 16);
	m[4] = (uint8_t)(dw >> 24);
	m[6] = seq;
	m[7] = status;
	p->inj_len[p->n_inj++] = len;
}

/* ---- the token ---- */

static char state_path[64];

static void make_state(const char *path)
{
	struct vnp_vt_state *st = NULL;
	size_t i;

	assert_int_equal(vnp_vt_state_new(path, &st), VNP_OK);
	for (i = 0; i < VNP_VT_SERIAL_LEN; i++)
		st->d.serial[i] = (uint8_t)(0x20 + i);
	memcpy(st->d.label, "ccid", 4);
	st->d.label_len = 4;
	memset(st->d.pin_salt, 0x3C, sizeof(st->d.pin_salt));
	assert_int_equal(vnp_vt_pin_hash(st->libctx, st->d.pin_salt, sizeof(st->d.pin_salt),
					 (const uint8_t *)PIN, strlen(PIN), st->d.pin_hash),
			 VNP_OK);
	assert_int_equal(vnp_vt_state_create(st, true), VNP_OK);
	vnp_vt_state_free(st);
}

/* ---- the module side: a vnp_reader over the CCID reader ---- */

struct ccr {
	struct vnp_ccid_reader *r;
};

static int ccr_begin(struct vnp_reader *r)
{
	(void)r;
	return VNP_OK;
}

static void ccr_end(struct vnp_reader *r)
{
	(void)r;
}

static int ccr_transmit(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
			size_t *resp_len)
{
	return vnp_ccid_reader_transmit(((struct ccr *)r)->r, cmd, cmd_len, resp, resp_len);
}

static const struct vnp_reader_ops ccr_ops = {
	.name = "ccid-test",
	.begin = ccr_begin,
	.end = ccr_end,
	.transmit = ccr_transmit,
};

struct rig {
	struct vnp_vt_ccid_cfg cfg;
	struct mem_pipe pipe;
	struct vnp_ccid_reader *r;
	struct ccr ccr;
	struct vnp_card card;
	struct vnp_token_info info;
	bool card_up;
};

static void rig_up(struct rig *g, const struct vnp_vt_ccid_cfg *cfg)
{
	uint8_t desc[VNP_VT_CCID_DESC_LEN], atr[VNP_ATR_MAX], want[33];
	size_t atr_len = sizeof(atr), want_len;

	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	assert_int_equal(vnp_vt_ccid_dev_new(cfg, state_path, &g->pipe.dev), VNP_OK);
	assert_int_equal(vnp_vt_ccid_dev_class_desc(g->pipe.dev, desc), VNP_VT_CCID_DESC_LEN);
	assert_int_equal(vnp_ccid_reader_new(&mem_ops, &g->pipe, desc, sizeof(desc), 0, &g->r),
			 VNP_OK);
	assert_int_equal(vnp_ccid_reader_power_on(g->r, atr, &atr_len), VNP_OK);
	want_len = vnp_vcard_atr(want);
	assert_int_equal(atr_len, want_len);
	assert_memory_equal(atr, want, want_len);
	g->ccr.r = g->r;
}

static void card_up(struct rig *g)
{
	memset(&g->card, 0, sizeof(g->card));
	g->card.io.ops = &ccr_ops;
	g->card.io.reader = (struct vnp_reader *)&g->ccr;
	vnp_ccid_reader_caps(g->r, &g->card.io.caps);
	snprintf(g->card.io.who, sizeof(g->card.io.who), "ccid");
	assert_int_equal(vnp_card_detect(&g->card, &g->info), VNP_OK);
	assert_string_equal(g->info.label, "ccid");
	g->card_up = true;
}

static void rig_down(struct rig *g)
{
	if (g->card_up && g->card.drv)
		g->card.drv->release(&g->card);
	vnp_ccid_reader_free(g->r);
	vnp_vt_ccid_dev_free(g->pipe.dev);
}

/* ---- signatures ---- */

static struct vnp_obj rsa_key, ec_key;

static void check_rsa(const struct vnp_pubkey *pub, const uint8_t *in, size_t in_len,
		      const uint8_t *sig, size_t sig_len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *n = BN_bin2bn(pub->modulus, (int)pub->modulus_len, NULL);
	BIGNUM *e = BN_bin2bn(pub->exponent, (int)pub->exponent_len, NULL);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params;

	assert_int_equal(sig_len, 256);
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, sig, sig_len, in, in_len), 1);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
}

static void check_ecdsa(const struct vnp_pubkey *pub, const uint8_t *hash, size_t hlen,
			const uint8_t *sig, size_t slen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	OSSL_PARAM *params;
	int der_len;

	assert_int_equal(slen, 64);
	assert_true(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						    "prime256v1", 0));
	assert_true(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub->ec_point,
						     pub->ec_point_len));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	assert_true(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)));
	der_len = i2d_ECDSA_SIG(es, &der);
	assert_true(der_len > 0);
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, der, (size_t)der_len, hash, hlen), 1);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
}

/* SHA-256 DigestInfo prefix (RFC 8017 §9.2 note 1) + a fixed hash */
static void digest_info(uint8_t *di)
{
	static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					  0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

	memcpy(di, prefix, sizeof(prefix));
	for (size_t i = 0; i < 32; i++)
		di[sizeof(prefix) + i] = (uint8_t)(0xA0 + i);
}

static void login(struct rig *g)
{
	int tries = 0;

	assert_int_equal(g->card.drv->verify(&g->card, VNP_PIN_USER, (const uint8_t *)PIN, 6,
					     &tries),
			 VNP_OK);
}

static void sign_both(struct rig *g)
{
	struct vnp_sign_params pk = { .scheme = VNP_SIG_RSA_PKCS1 }, ec = { .scheme = VNP_SIG_ECDSA };
	uint8_t di[51], sig[512];
	size_t sig_len;

	digest_info(di);
	sig_len = sizeof(sig);
	assert_int_equal(g->card.drv->sign(&g->card, &rsa_key, &pk, di, sizeof(di), sig, &sig_len),
			 VNP_OK);
	check_rsa(&rsa_key.pub, di, sizeof(di), sig, sig_len);
	sig_len = sizeof(sig);
	assert_int_equal(g->card.drv->sign(&g->card, &ec_key, &ec, di + 19, 32, sig, &sig_len),
			 VNP_OK);
	check_ecdsa(&ec_key.pub, di + 19, 32, sig, sig_len);
}

static int group_setup(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_EXT, .max_msg = 65544 + 10 };
	struct vnp_keygen kr = { .alg = VNP_ALG_RSA2048, .id = { 0x01 }, .id_len = 1,
				 .label = "rsa", .usage = VNP_USAGE_SIGN };
	struct vnp_keygen ke = { .alg = VNP_ALG_EC_P256, .id = { 0x02 }, .id_len = 1,
				 .label = "ec", .usage = VNP_USAGE_SIGN };
	struct rig g;
	int fd;

	(void)state;
	snprintf(state_path, sizeof(state_path), "/tmp/vnp-ccidreader-XXXXXX");
	fd = mkstemp(state_path);
	if (fd < 0)
		return -1;
	close(fd);
	make_state(state_path);
	rig_up(&g, &cfg);
	card_up(&g);
	login(&g);
	assert_int_equal(g.card.drv->generate_key(&g.card, &kr, &rsa_key), VNP_OK);
	assert_int_equal(g.card.drv->generate_key(&g.card, &ke, &ec_key), VNP_OK);
	assert_int_equal(rsa_key.pub.modulus_len, 256);
	rig_down(&g);
	return 0;
}

static int group_teardown(void **state)
{
	char lock[80];

	(void)state;
	unlink(state_path);
	snprintf(lock, sizeof(lock), "%s.lock", state_path);
	unlink(lock);
	return 0;
}

/* ---- every exchange level, message size and IFSC ---- */

struct level_case {
	const char *name;
	int level;
	uint32_t max_msg;
	uint8_t ifsc;
};

static const struct level_case level_cases[] = {
	{ "short APDU, 271", VNP_VT_CCID_LEVEL_SHORT, 271, 0 },
	{ "extended APDU, 271", VNP_VT_CCID_LEVEL_EXT, 271, 0 },
	{ "extended APDU, 64", VNP_VT_CCID_LEVEL_EXT, 64, 0 },
	{ "extended APDU, 65554", VNP_VT_CCID_LEVEL_EXT, 65544 + 10, 0 },
	{ "T=1, 271, IFSC 32", VNP_VT_CCID_LEVEL_T1, 271, 32 },
	{ "T=1, 271, IFSC 254", VNP_VT_CCID_LEVEL_T1, 271, 254 },
	{ "T=1, 64, IFSC 254 (clamped to 50)", VNP_VT_CCID_LEVEL_T1, 64, 254 },
	{ "T=1, 65554, IFSC 254", VNP_VT_CCID_LEVEL_T1, 65544 + 10, 254 },
};

static void run_level(const struct level_case *c)
{
	struct vnp_vt_ccid_cfg cfg = { .level = c->level, .max_msg = c->max_msg, .ifsc = c->ifsc };
	struct vnp_obj meta = { .kind = VNP_OBJ_DATA, .id = { 0x09 }, .id_len = 1, .label = "big",
				.application = "ccid-test" };
	struct vnp_ccid_reader_stats hs;
	struct vnp_vt_ccid_stats ds;
	struct vnp_reader_caps caps;
	struct vnp_dir *dir = NULL;
	uint8_t *big, *val = NULL, ref = 0;
	size_t len = 0;
	struct rig g;

	rig_up(&g, &cfg);
	vnp_ccid_reader_caps(g.r, &caps);
	assert_int_equal(caps.extended, c->level != VNP_VT_CCID_LEVEL_SHORT);
	card_up(&g);
	login(&g);
	sign_both(&g);

	big = malloc(3000);
	assert_non_null(big);
	for (size_t i = 0; i < 3000; i++)
		big[i] = (uint8_t)(i * 13 + c->level);
	assert_int_equal(g.card.drv->write_object(&g.card, &meta, big, 3000, &ref), VNP_OK);
	assert_int_equal(g.card.drv->read_dir(&g.card, &dir), VNP_OK);
	for (size_t i = 0; i < dir->count; i++) {
		if (dir->objs[i].kind != VNP_OBJ_DATA || dir->objs[i].ref != ref)
			continue;
		assert_int_equal(g.card.drv->read_object(&g.card, &dir->objs[i], &val, &len),
				 VNP_OK);
		assert_int_equal(len, 3000);
		assert_memory_equal(val, big, 3000);
		free(val);
		val = NULL;
		assert_int_equal(g.card.drv->delete_object(&g.card, &dir->objs[i]), VNP_OK);
	}
	assert_int_equal(len, 3000);
	vnp_dir_free(dir);
	free(big);

	vnp_ccid_reader_stats(g.r, &hs);
	vnp_vt_ccid_dev_stats(g.pipe.dev, &ds);
	if (c->level == VNP_VT_CCID_LEVEL_T1) {
		/* IFSD negotiated to what the message allows */
		assert_int_equal(ds.ifsd, c->max_msg - 14 < 254 ? c->max_msg - 14 : 254);
		assert_int_equal(hs.t1_r_err, 0);
		assert_int_equal(ds.retransmits, 0);
	}
	print_message("# %-36s %3lu APDUs, %4lu CCID messages, %4lu T=1 blocks\n", c->name,
		      ds.apdus, hs.msgs, ds.blocks);
	assert_int_equal(hs.stale, 0);
	assert_int_equal(hs.time_ext, 0);
	assert_int_equal(vnp_ccid_reader_power_off(g.r), VNP_OK);
	rig_down(&g);
}

static void test_levels(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(level_cases) / sizeof(level_cases[0]); i++)
		run_level(&level_cases[i]);
}

/* A short APDU reader refuses what does not fit; the caps say so. */
static void test_short_limits(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_SHORT, .max_msg = 271 };
	struct vnp_reader_caps caps;
	uint8_t cmd[300] = { 0x00, 0xCA, 0x00, 0x00, 0x00, 0x01, 0x00 }, resp[300];
	size_t n = sizeof(resp);
	struct rig g;

	(void)state;
	rig_up(&g, &cfg);
	vnp_ccid_reader_caps(g.r, &caps);
	assert_false(caps.extended);
	assert_int_equal(caps.max_cmd, 261);
	assert_int_equal(caps.max_resp, 258);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, cmd, 262, resp, &n), VNP_E_RANGE);
	rig_down(&g);
}

/* ---- T=1 faults ---- */

static void t1_rig(struct rig *g, struct vnp_vt_ccid_cfg *cfg)
{
	cfg->level = VNP_VT_CCID_LEVEL_T1;
	cfg->max_msg = 271;
	if (!cfg->ifsc)
		cfg->ifsc = 32;
	rig_up(g, cfg);
	card_up(g);
	login(g);
	sign_both(g);
}

static void stats(struct rig *g, struct vnp_ccid_reader_stats *hs, struct vnp_vt_ccid_stats *ds,
		  const char *what)
{
	vnp_ccid_reader_stats(g->r, hs);
	vnp_vt_ccid_dev_stats(g->pipe.dev, ds);
	print_message("# %-22s card: %lu blocks, %lu retransmitted, %lu R(err) received, "
		      "%lu WTX, %lu time ext; host: %lu R(err) sent, %lu mute, %lu stale, "
		      "%u resynch\n",
		      what, ds->blocks, ds->retransmits, ds->r_err_rx, ds->wtx, ds->time_ext,
		      hs->t1_r_err, hs->t1_mute, hs->stale, hs->t1_resynchs);
}

static void test_t1_bad_edc(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .fault_bad_edc = 6 };
	struct vnp_ccid_reader_stats hs;
	struct vnp_vt_ccid_stats ds;
	struct rig g;

	(void)state;
	t1_rig(&g, &cfg);
	stats(&g, &hs, &ds, "corrupted EDC");
	assert_int_equal(ds.bad_edc, 1);
	assert_int_equal(hs.t1_r_err, 1);    /* one R-block with the EDC error */
	assert_int_equal(ds.r_err_rx, 1);
	assert_int_equal(ds.retransmits, 1); /* one block sent again */
	assert_int_equal(hs.t1_resynchs, 0);
	rig_down(&g);
}

static void test_t1_lost_block(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .fault_lose_block = 4 };
	struct vnp_ccid_reader_stats hs;
	struct vnp_vt_ccid_stats ds;
	struct rig g;

	(void)state;
	t1_rig(&g, &cfg);
	stats(&g, &hs, &ds, "lost block");
	assert_int_equal(ds.lost, 1);
	assert_int_equal(hs.t1_mute, 1);
	assert_int_equal(hs.t1_r_err, 1);
	assert_int_equal(ds.retransmits, 1);
	assert_int_equal(hs.t1_resynchs, 0);
	rig_down(&g);
}

/* No bulk-IN answer at all (the pipe times out): T=1 treats the block as lost. */
static void test_t1_no_answer(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { 0 };
	struct vnp_ccid_reader_stats hs;
	struct vnp_vt_ccid_stats ds;
	struct rig g;

	(void)state;
	t1_rig(&g, &cfg);
	g.pipe.swallow_next = true;
	sign_both(&g);
	stats(&g, &hs, &ds, "no answer (timeout)");
	assert_int_equal(hs.t1_mute, 1);
	assert_int_equal(ds.retransmits, 1);
	rig_down(&g);
}

static void test_t1_wtx(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .fault_wtx = 2, .fault_time_ext = 1 };
	struct vnp_ccid_reader_stats hs;
	struct vnp_vt_ccid_stats ds;
	struct rig g;

	(void)state;
	t1_rig(&g, &cfg);
	stats(&g, &hs, &ds, "WTX + time extension");
	assert_int_equal(ds.wtx, 2 * ds.apdus);
	assert_true(ds.apdus >= 4);
	assert_int_equal(hs.time_ext, ds.time_ext);
	assert_int_equal(ds.time_ext, ds.xfr);
	assert_int_equal(hs.t1_r_err, 0);
	rig_down(&g);
}

static void test_time_ext_apdu(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_EXT, .max_msg = 271,
				       .fault_time_ext = 3 };
	struct vnp_ccid_reader_stats hs;
	struct vnp_vt_ccid_stats ds;
	struct rig g;

	(void)state;
	rig_up(&g, &cfg);
	card_up(&g);
	login(&g);
	sign_both(&g);
	vnp_ccid_reader_stats(g.r, &hs);
	vnp_vt_ccid_dev_stats(g.pipe.dev, &ds);
	assert_int_equal(hs.time_ext, 3 * ds.xfr);
	rig_down(&g);
}

static const uint8_t select_mf[] = { 0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00 };

/* The card is pulled during the Nth exchange: VNP_E_NO_CARD there, then absent, a slot change
 * on the interrupt pipe, NO_CARD from power on; put back, it works again. */
static void run_pull(int level, unsigned nth)
{
	struct vnp_vt_ccid_cfg cfg = { .level = level, .max_msg = 271, .ifsc = 32,
				       .fault_pull_card = nth };
	uint8_t resp[300], atr[VNP_ATR_MAX], irq[8];
	size_t n, atr_len = sizeof(atr);
	bool present, active;
	unsigned i;
	int rv = VNP_OK;
	struct rig g;

	rig_up(&g, &cfg);
	assert_int_equal(vnp_vt_ccid_dev_interrupt(g.pipe.dev, irq, sizeof(irq)), 2);
	assert_int_equal(irq[0], 0x50);
	assert_int_equal(irq[1], 0x03); /* present, changed */
	for (i = 0; i < 20 && rv == VNP_OK; i++) {
		n = sizeof(resp);
		rv = vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n);
	}
	assert_int_equal(rv, VNP_E_NO_CARD);
	/* at TPDU level the IFS negotiation was exchange 1 */
	assert_int_equal(i, level == VNP_VT_CCID_LEVEL_T1 ? nth - 1 : nth);
	assert_false(vnp_ccid_reader_powered(g.r));
	n = sizeof(resp);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_E_CARD_RESET);
	assert_int_equal(vnp_ccid_reader_slot_status(g.r, &present, &active), VNP_OK);
	assert_false(present);
	assert_int_equal(vnp_ccid_reader_power_on(g.r, atr, &atr_len), VNP_E_NO_CARD);
	assert_int_equal(vnp_vt_ccid_dev_interrupt(g.pipe.dev, irq, sizeof(irq)), 2);
	assert_int_equal(irq[1], 0x02); /* absent, changed */
	assert_int_equal(vnp_vt_ccid_dev_interrupt(g.pipe.dev, irq, sizeof(irq)), 0);
	vnp_vt_ccid_dev_insert(g.pipe.dev);
	assert_int_equal(vnp_ccid_reader_slot_status(g.r, &present, &active), VNP_OK);
	assert_true(present);
	assert_false(active);
	atr_len = sizeof(atr);
	assert_int_equal(vnp_ccid_reader_power_on(g.r, atr, &atr_len), VNP_OK);
	n = sizeof(resp);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_OK);
	assert_true(n >= 2);
	rig_down(&g);
}

static void test_pull_card(void **state)
{
	(void)state;
	run_pull(VNP_VT_CCID_LEVEL_T1, 5);
	run_pull(VNP_VT_CCID_LEVEL_EXT, 3);
	run_pull(VNP_VT_CCID_LEVEL_SHORT, 1);
}

/* Removing the state file is pulling the card; putting it back inserts an unpowered card. */
static void test_state_file_removed(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_T1, .max_msg = 271 };
	char moved[80];
	uint8_t resp[300], atr[VNP_ATR_MAX];
	size_t n = sizeof(resp), atr_len = sizeof(atr);
	bool present, active;
	struct rig g;

	(void)state;
	rig_up(&g, &cfg);
	snprintf(moved, sizeof(moved), "%s.away", state_path);
	assert_int_equal(rename(state_path, moved), 0);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_E_NO_CARD);
	assert_int_equal(rename(moved, state_path), 0);
	assert_int_equal(vnp_ccid_reader_slot_status(g.r, &present, &active), VNP_OK);
	assert_true(present);
	assert_false(active);
	assert_int_equal(vnp_ccid_reader_power_on(g.r, atr, &atr_len), VNP_OK);
	n = sizeof(resp);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_OK);
	rig_down(&g);
}

/* Answers of an earlier command (stale bSeq) are dropped, a bounded number of times. */
static void test_stale_seq(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_EXT, .max_msg = 271 };
	struct vnp_ccid_reader_stats hs;
	uint8_t resp[300];
	size_t n = sizeof(resp);
	struct rig g;

	(void)state;
	rig_up(&g, &cfg);
	/* the next command goes out with bSeq last+1: inject answers carrying last, last-1 */
	inject(&g.pipe, VNP_CCID_RDR_TO_PC_DATABLOCK, 2, g.pipe.last_seq, 0, 12);
	inject(&g.pipe, VNP_CCID_RDR_TO_PC_SLOTSTATUS, 0, (uint8_t)(g.pipe.last_seq - 1), 0, 10);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_OK);
	vnp_ccid_reader_stats(g.r, &hs);
	assert_int_equal(hs.stale, 2);
	assert_true(n >= 2);

	/* more than VNP_CCID_READER_MAX_STALE in a row: give up */
	g.pipe.n_inj = g.pipe.inj_pos = 0;
	for (unsigned i = 0; i <= VNP_CCID_READER_MAX_STALE; i++)
		inject(&g.pipe, VNP_CCID_RDR_TO_PC_DATABLOCK, 0, g.pipe.last_seq, 0, 10);
	n = sizeof(resp);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_E_TRANSPORT);
	/* and the next command is fine: the late real answer is dropped as stale */
	n = sizeof(resp);
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_OK);
	rig_down(&g);
}

/* An empty slot reported the way many readers do: GetSlotStatus answered as a failed
 * command (bmCommandStatus 1) with bError ICC_MUTE and bmICCStatus 2 or 1. */
static void test_slot_status_failed_mute(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_EXT, .max_msg = 271 };
	bool present = true, active = true;
	struct rig g;

	(void)state;
	rig_up(&g, &cfg);
	inject(&g.pipe, VNP_CCID_RDR_TO_PC_SLOTSTATUS, 0, (uint8_t)(g.pipe.last_seq + 1), 0x42, 10);
	g.pipe.inj[0][8] = VNP_CCID_ERR_ICC_MUTE;
	assert_int_equal(vnp_ccid_reader_slot_status(g.r, &present, &active), VNP_OK);
	assert_false(present);
	assert_false(active);
	assert_false(vnp_ccid_reader_powered(g.r));
	inject(&g.pipe, VNP_CCID_RDR_TO_PC_SLOTSTATUS, 0, (uint8_t)(g.pipe.last_seq + 1), 0x41, 10);
	g.pipe.inj[1][8] = VNP_CCID_ERR_ICC_MUTE;
	assert_int_equal(vnp_ccid_reader_slot_status(g.r, &present, &active), VNP_OK);
	assert_true(present);
	assert_false(active);
	/* any other failure stays an error */
	inject(&g.pipe, VNP_CCID_RDR_TO_PC_SLOTSTATUS, 0, (uint8_t)(g.pipe.last_seq + 1), 0x41, 10);
	g.pipe.inj[2][8] = VNP_CCID_ERR_HW_ERROR;
	assert_int_equal(vnp_ccid_reader_slot_status(g.r, &present, &active), VNP_E_TRANSPORT);
	rig_down(&g);
}

/* Extended APDU level: a reader that answers with empty parts that say "more follows" for
 * ever is given up on after VNP_CCID_READER_MAX_EMPTY of them. */
static void test_empty_parts(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_EXT, .max_msg = 271 };
	uint8_t resp[300];
	size_t n = sizeof(resp);
	struct rig g;

	(void)state;
	rig_up(&g, &cfg);
	/* bChainParameter 1 (begins), then 3 (continues), each without data, bSeq following
	 * the commands: the APDU, then one empty XfrBlock per part */
	for (unsigned i = 0; i < INJ_MAX; i++) {
		inject(&g.pipe, VNP_CCID_RDR_TO_PC_DATABLOCK, 0, (uint8_t)(g.pipe.last_seq + 1 + i),
		       0, 10);
		g.pipe.inj[i][9] = i ? 0x03 : 0x01;
	}
	assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n),
			 VNP_E_TRANSPORT);
	assert_int_equal(g.pipe.inj_pos, VNP_CCID_READER_MAX_EMPTY + 1);
	rig_down(&g);
}

/* dwLength beyond the bytes received, beyond dwMaxCCIDMessageLength, and a message longer
 * than the buffer: errors, nothing read past what arrived (ASan watches). */
static void run_lying(int level)
{
	struct vnp_vt_ccid_cfg cfg = { .level = level, .max_msg = 271, .ifsc = 32 };
	struct vnp_ccid_reader_stats hs;
	uint8_t resp[300];
	size_t n;
	int want = level == VNP_VT_CCID_LEVEL_T1 ? VNP_OK : VNP_E_TRANSPORT;
	struct rig g;
	static const struct {
		uint32_t dw;
		size_t len;
	} lies[] = {
		{ 100, 20 },          /* dwLength > bytes received */
		{ 0xFFFFFFF0u, 12 },  /* wraps when added to the header */
		{ 300, 310 },         /* > dwMaxCCIDMessageLength, > cap */
		{ 261, 271 + 1 },     /* one byte past the buffer */
	};

	rig_up(&g, &cfg);
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		g.pipe.n_inj = g.pipe.inj_pos = 0;
		inject(&g.pipe, VNP_CCID_RDR_TO_PC_DATABLOCK, lies[i].dw,
		       (uint8_t)(g.pipe.last_seq + 1), 0, lies[i].len);
		n = sizeof(resp);
		/* APDU levels: the command fails; T=1: the block counts as lost, and the card
		 * sends it again */
		assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp,
							  &n),
				 want);
		n = sizeof(resp);
		assert_int_equal(vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp,
							  &n),
				 VNP_OK);
	}
	vnp_ccid_reader_stats(g.r, &hs);
	if (level == VNP_VT_CCID_LEVEL_T1)
		assert_int_equal(hs.t1_mute, 4);
	assert_true(hs.stale >= 4);
	rig_down(&g);
}

static void test_lying_lengths(void **state)
{
	(void)state;
	run_lying(VNP_VT_CCID_LEVEL_EXT);
	run_lying(VNP_VT_CCID_LEVEL_SHORT);
	run_lying(VNP_VT_CCID_LEVEL_T1);
}

/* The device answers garbage with CCID errors and stays usable. */
static void test_device_garbage(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_T1, .max_msg = 271 };
	struct vnp_vt_ccid_dev *d;
	uint8_t buf[300];
	size_t n;
	static const struct {
		const char *what;
		uint8_t msg[16];
		size_t len;
		uint8_t status, error;
	} cases[] = {
		{ "dwLength lies", { 0x6F, 0x05, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2 }, 12, 0x41, 0x01 },
		{ "bad slot", { 0x65, 0, 0, 0, 0, 3, 2, 0, 0, 0 }, 10, 0x41, 0x05 },
		{ "unknown type", { 0x99, 0, 0, 0, 0, 0, 3, 0, 0, 0 }, 10, 0x41, 0x00 },
		{ "XfrBlock unpowered", { 0x6F, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0 }, 11, 0x41, 0xFE },
		{ "bad voltage", { 0x62, 0, 0, 0, 0, 0, 5, 9, 0, 0 }, 10, 0x41, 0x07 },
		{ "SetParameters T=0", { 0x61, 5, 0, 0, 0, 0, 6, 0, 0, 0, 0x11, 0, 0, 0x0A, 0 }, 15,
		  0x41, 0x07 },
	};

	(void)state;
	assert_int_equal(vnp_vt_ccid_dev_new(&cfg, state_path, &d), VNP_OK);
	assert_int_equal(vnp_vt_ccid_dev_put(d, (const uint8_t *)"\x62\x00", 2), VNP_OK);
	assert_int_equal(vnp_vt_ccid_dev_get(d, buf, sizeof(buf), &n), VNP_E_NOT_FOUND);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(vnp_vt_ccid_dev_put(d, cases[i].msg, cases[i].len), VNP_OK);
		assert_int_equal(vnp_vt_ccid_dev_get(d, buf, sizeof(buf), &n), VNP_OK);
		assert_true(n >= VNP_CCID_HDR_LEN);
		assert_int_equal(buf[6], cases[i].msg[6]);
		if (buf[7] != cases[i].status || buf[8] != cases[i].error)
			fail_msg("%s: bStatus %02x bError %02x", cases[i].what, buf[7], buf[8]);
		assert_int_equal(vnp_vt_ccid_dev_get(d, buf, sizeof(buf), &n), VNP_E_NOT_FOUND);
	}
	/* a bad T=1 block from the host: R-block with the EDC error */
	{
		static const uint8_t on[] = { 0x62, 0, 0, 0, 0, 0, 7, 0, 0, 0 };
		static const uint8_t bad[] = { 0x6F, 4, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x33 };

		assert_int_equal(vnp_vt_ccid_dev_put(d, on, sizeof(on)), VNP_OK);
		assert_int_equal(vnp_vt_ccid_dev_get(d, buf, sizeof(buf), &n), VNP_OK);
		assert_int_equal(buf[7], 0x00);
		assert_int_equal(vnp_vt_ccid_dev_put(d, bad, sizeof(bad)), VNP_OK);
		assert_int_equal(vnp_vt_ccid_dev_get(d, buf, sizeof(buf), &n), VNP_OK);
		assert_int_equal(n, 14);
		assert_int_equal(buf[11], 0x81); /* R(0), EDC error */
	}
	vnp_vt_ccid_dev_free(d);
}

/* Random messages and T=1 blocks into the device, random answers into the host: every
 * device answer is a well-formed RDR_to_PC message for the request, and nothing crashes or
 * reads out of bounds (ASan). Deterministic seed. */
static void test_random(void **state)
{
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_T1, .max_msg = 271 };
	struct vnp_ccid_reply reply;
	struct vnp_vt_ccid_dev *d;
	uint8_t msg[300], buf[300], resp[300];
	unsigned seed = 12345, answers = 0;
	size_t n, len;
	struct rig g;

	(void)state;
	for (int level = 0; level <= 2; level++) {
		cfg.level = level;
		assert_int_equal(vnp_vt_ccid_dev_new(&cfg, state_path, &d), VNP_OK);
		for (int i = 0; i < 3000; i++) {
			static const uint8_t types[] = { 0x62, 0x63, 0x65, 0x6F, 0x6F, 0x6F, 0x6C,
							 0x61, 0x6B, 0x00 };

			len = VNP_CCID_HDR_LEN + (size_t)(rand_r(&seed) % 40);
			for (size_t k = 0; k < len; k++)
				msg[k] = (uint8_t)rand_r(&seed);
			msg[0] = types[rand_r(&seed) % sizeof(types)];
			if (rand_r(&seed) % 8) { /* mostly a true dwLength and slot 0 */
				msg[1] = (uint8_t)(len - VNP_CCID_HDR_LEN);
				msg[2] = msg[3] = msg[4] = 0;
				msg[5] = 0;
			}
			if (msg[0] == 0x6F && rand_r(&seed) % 2 && len > VNP_CCID_HDR_LEN + 3) {
				/* a T=1 block with a good LRC now and then */
				msg[10] = 0;
				msg[12] = (uint8_t)(len - VNP_CCID_HDR_LEN - 4);
				msg[len - 1] = vnp_t1_lrc_for_test(msg + 10, len - VNP_CCID_HDR_LEN - 1);
			}
			if (msg[0] == 0x62 && rand_r(&seed) % 2)
				msg[7] = 0;
			assert_int_equal(vnp_vt_ccid_dev_put(d, msg, len), VNP_OK);
			while (vnp_vt_ccid_dev_get(d, buf, sizeof(buf), &n) == VNP_OK) {
				int rv = vnp_ccid_parse_reply(msg, len, buf, n, 271, &reply);

				answers++;
				assert_int_not_equal(rv, VNP_E_ARGS);
				assert_int_equal(buf[6], msg[6]);
			}
		}
		vnp_vt_ccid_dev_free(d);
	}
	print_message("# %u device answers to 9000 random messages\n", answers);
	assert_int_equal(answers, 9000); /* one answer per message, no faults set */

	/* random answers to the host, at every level */
	for (int level = 0; level <= 2; level++) {
		cfg.level = level;
		cfg.ifsc = 32;
		rig_up(&g, &cfg);
		for (int i = 0; i < 300; i++) {
			size_t l = VNP_CCID_HDR_LEN + (size_t)(rand_r(&seed) % 60);
			uint8_t *m;

			g.pipe.n_inj = g.pipe.inj_pos = 0;
			inject(&g.pipe, (uint8_t)(0x80 + rand_r(&seed) % 3), 0,
			       (uint8_t)(g.pipe.last_seq + 1), 0, l);
			m = g.pipe.inj[0];
			for (size_t k = 7; k < l; k++)
				m[k] = (uint8_t)rand_r(&seed);
			if (rand_r(&seed) % 2)
				m[1] = (uint8_t)(l - VNP_CCID_HDR_LEN);
			n = sizeof(resp);
			(void)vnp_ccid_reader_transmit(g.r, select_mf, sizeof(select_mf), resp, &n);
			if (!vnp_ccid_reader_powered(g.r)) {
				uint8_t atr[VNP_ATR_MAX];
				size_t al = sizeof(atr);

				g.pipe.n_inj = g.pipe.inj_pos = 0;
				(void)vnp_ccid_reader_power_on(g.r, atr, &al);
			}
		}
		rig_down(&g);
	}
}

/* IccPowerOn answers the ATR of the card's profile (here PIV), not the vntoken one. */
static void test_profile_atr(void **state)
{
	char path[80], lock[88];
	struct vnp_vt_ccid_cfg cfg = { .level = VNP_VT_CCID_LEVEL_SHORT, .max_msg = 271 };
	uint8_t desc[VNP_VT_CCID_DESC_LEN], atr[VNP_ATR_MAX], want[33], vnt[33];
	size_t atr_len = sizeof(atr), want_len;
	struct vnp_vt_state *st = NULL;
	struct vnp_vcard *card = NULL;
	struct mem_pipe pipe;
	struct vnp_ccid_reader *r = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s.piv", state_path);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	assert_int_equal(vnp_vt_state_new(path, &st), VNP_OK);
	st->d.profile = VNP_VT_PROFILE_PIV;
	assert_int_equal(vnp_vt_state_create(st, true), VNP_OK);
	vnp_vt_state_free(st);
	assert_int_equal(vnp_vcard_open(path, &card), VNP_OK);
	want_len = vnp_vcard_atr_of(card, want);
	vnp_vcard_close(card);
	assert_false(want_len == vnp_vcard_atr(vnt) && memcmp(want, vnt, want_len) == 0);

	memset(&pipe, 0, sizeof(pipe));
	assert_int_equal(vnp_vt_ccid_dev_new(&cfg, path, &pipe.dev), VNP_OK);
	vnp_vt_ccid_dev_class_desc(pipe.dev, desc);
	assert_int_equal(vnp_ccid_reader_new(&mem_ops, &pipe, desc, sizeof(desc), 0, &r), VNP_OK);
	assert_int_equal(vnp_ccid_reader_power_on(r, atr, &atr_len), VNP_OK);
	assert_int_equal(atr_len, want_len);
	assert_memory_equal(atr, want, want_len);
	vnp_ccid_reader_free(r);
	vnp_vt_ccid_dev_free(pipe.dev);
	unlink(path);
	unlink(lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_short_limits),
		cmocka_unit_test(test_t1_bad_edc),
		cmocka_unit_test(test_t1_lost_block),
		cmocka_unit_test(test_t1_no_answer),
		cmocka_unit_test(test_t1_wtx),
		cmocka_unit_test(test_time_ext_apdu),
		cmocka_unit_test(test_pull_card),
		cmocka_unit_test(test_state_file_removed),
		cmocka_unit_test(test_stale_seq),
		cmocka_unit_test(test_empty_parts),
		cmocka_unit_test(test_slot_status_failed_mute),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_device_garbage),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_profile_atr),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
