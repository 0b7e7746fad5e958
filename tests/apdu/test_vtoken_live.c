/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vntoken driver against the real virtual token (libvnpki-vtoken.so, in-process),
 * once over an extended-length reader and once over a short-APDU-only reader. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "fake.h"
#include "keys.h"
#include "rv.h"
#include "state.h"
#include "vtoken_plugin.h"

#define PIN "123456"

struct live_reader {
	const struct vnp_vtoken_plugin *pl;
	struct vnp_vcard *vc;
	bool reset_pending;
};

static int live_begin(struct vnp_reader *r)
{
	struct live_reader *lr = (struct live_reader *)r;

	if (lr->reset_pending) {
		lr->reset_pending = false;
		return VNP_E_CARD_RESET;
	}
	return VNP_OK;
}

static void live_end(struct vnp_reader *r)
{
	(void)r;
}

static int live_transmit(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len,
			 uint8_t *resp, size_t *resp_len)
{
	struct live_reader *lr = (struct live_reader *)r;

	return lr->pl->transmit(lr->vc, cmd, cmd_len, resp, resp_len);
}

static const struct vnp_reader_ops live_ops = {
	.name = "vtoken-test",
	.begin = live_begin,
	.end = live_end,
	.transmit = live_transmit,
};

static void make_state(const char *path)
{
	struct vnp_vt_state *st = NULL;
	size_t i;

	assert_int_equal(vnp_vt_state_new(path, &st), VNP_OK);
	for (i = 0; i < VNP_VT_SERIAL_LEN; i++)
		st->d.serial[i] = (uint8_t)(0x10 + i);
	memcpy(st->d.label, "live", 4);
	st->d.label_len = 4;
	memset(st->d.pin_salt, 0x5A, sizeof(st->d.pin_salt));
	assert_int_equal(vnp_vt_pin_hash(st->libctx, st->d.pin_salt, sizeof(st->d.pin_salt),
					 (const uint8_t *)PIN, strlen(PIN), st->d.pin_hash),
			 VNP_OK);
	assert_int_equal(vnp_vt_state_create(st, true), VNP_OK);
	vnp_vt_state_free(st);
}

/* ECDSA P-256 check of r || s over hash with the public point from the card. */
static void check_ecdsa(const struct vnp_pubkey *pub, const uint8_t *hash, size_t hlen,
			const uint8_t *sig, size_t slen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int der_len;

	assert_int_equal(slen, 64);
	assert_non_null(bld);
	assert_true(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						    "prime256v1", 0));
	assert_true(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub->ec_point,
						     pub->ec_point_len));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
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

static void run_live(bool extended)
{
	const char *so = getenv("VNP_TEST_VTOKEN_PLUGIN");
	char path[] = "/tmp/vnp-apdu-live-XXXXXX";
	char lock[64];
	struct live_reader lr;
	struct vnp_card card;
	struct vnp_token_info info;
	struct vnp_keygen kg = { .alg = VNP_ALG_EC_P256, .id = { 0x01, 0x02 }, .id_len = 2,
				 .label = "live key", .usage = VNP_USAGE_SIGN };
	struct vnp_sign_params ec = { .scheme = VNP_SIG_ECDSA };
	struct vnp_obj key, cert = { .kind = VNP_OBJ_CERT, .id = { 0x01, 0x02 }, .id_len = 2,
				     .label = "live cert" };
	struct vnp_dir *dir = NULL;
	uint8_t hash[32], sig[128], *val = NULL, *big, rnd[300];
	size_t sig_len, len, i;
	uint64_t apdus_before, tx_before;
	int tries = 0, fd;
	void *h;
	vnp_vtoken_plugin_fn fn;

	if (!so)
		skip();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	make_state(path);
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fail_msg("dlopen %s: %s", so, dlerror());
	fn = (vnp_vtoken_plugin_fn)dlsym(h, VNP_VTOKEN_PLUGIN_SYMBOL);
	assert_non_null(fn);
	memset(&lr, 0, sizeof(lr));
	lr.pl = fn();
	assert_int_equal(lr.pl->abi, VNP_VTOKEN_PLUGIN_ABI);
	assert_int_equal(lr.pl->open(path, &lr.vc), VNP_OK);

	memset(&card, 0, sizeof(card));
	card.io.ops = &live_ops;
	card.io.reader = (struct vnp_reader *)&lr;
	card.io.caps.extended = extended;
	card.io.caps.max_cmd = extended ? VNP_APDU_BUF_MAX : 261;
	card.io.caps.max_resp = extended ? VNP_APDU_BUF_MAX : 258;
	snprintf(card.io.who, sizeof(card.io.who), "live");

	assert_int_equal(vnp_card_detect(&card, &info), VNP_OK);
	assert_string_equal(info.label, "live");
	assert_int_equal(info.serial_len, 8);
	assert_int_equal(info.user_pin.max_tries, 3);
	assert_true(info.user_pin.initial);

	assert_int_equal(card.drv->verify(&card, VNP_PIN_USER, (const uint8_t *)"000000", 6,
					  &tries),
			 VNP_E_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	assert_int_equal(card.drv->verify(&card, VNP_PIN_USER, (const uint8_t *)PIN, 6, &tries),
			 VNP_OK);
	assert_int_equal(card.drv->generate_key(&card, &kg, &key), VNP_OK);
	assert_int_equal(key.pub.alg, VNP_ALG_EC_P256);
	assert_int_equal(key.pub.ec_point_len, 65);

	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (uint8_t)i;
	apdus_before = card.io.stats.apdus;
	tx_before = card.io.stats.transactions;
	for (i = 0; i < 2; i++) {
		sig_len = sizeof(sig);
		assert_int_equal(card.drv->sign(&card, &key, &ec, hash, 32, sig, &sig_len), VNP_OK);
		check_ecdsa(&key.pub, hash, 32, sig, sig_len);
	}
	/* SIGN names key and scheme: no MSE SET, one APDU and no transaction per signature */
	assert_int_equal(card.io.stats.by_ins[0x22], 0);
	assert_int_equal(card.io.stats.by_ins[0x2B], 2);
	assert_int_equal(card.io.stats.apdus - apdus_before, 2);
	assert_int_equal(card.io.stats.transactions, tx_before);

	/* SIGN BATCH: five inputs in one APDU; the one that does not fit ECDSA (65 bytes)
	 * gets its own error, the others verify */
	{
		static uint8_t long_in[65];
		uint8_t sigs[5][80];
		struct vnp_sign_item items[5];

		memset(items, 0, sizeof(items));
		for (i = 0; i < 5; i++) {
			items[i].in = i == 2 ? long_in : hash;
			items[i].in_len = i == 2 ? sizeof(long_in) : 32 - i;
			items[i].out = sigs[i];
			items[i].out_len = sizeof(sigs[i]);
			items[i].rv = -1;
		}
		apdus_before = card.io.stats.apdus;
		assert_int_equal(card.drv->sign_batch(&card, &key, &ec, items, 5), VNP_OK);
		assert_int_equal(card.io.stats.apdus - apdus_before, extended ? 1 : 2);
		for (i = 0; i < 5; i++) {
			if (i == 2) {
				assert_int_equal(items[i].rv, VNP_E_INVALID_DATA);
				continue;
			}
			assert_int_equal(items[i].rv, VNP_OK);
			check_ecdsa(&key.pub, hash, 32 - i, sigs[i], items[i].out_len);
		}
	}

	/* the card forgets the environment behind the driver's back: 6985, MSE, retry */
	lr.pl->reset(lr.vc);
	assert_int_equal(card.drv->probe(&card, &info), VNP_OK);
	assert_int_equal(card.drv->verify(&card, VNP_PIN_USER, (const uint8_t *)PIN, 6, &tries),
			 VNP_OK);
	sig_len = sizeof(sig);
	assert_int_equal(card.drv->sign(&card, &key, &ec, hash, 32, sig, &sig_len), VNP_OK);
	check_ecdsa(&key.pub, hash, 32, sig, sig_len);

	/* a reset the transport reports: re-selected, PIN state gone */
	lr.pl->reset(lr.vc);
	lr.reset_pending = true;
	sig_len = sizeof(sig);
	assert_int_equal(card.drv->sign(&card, &key, &ec, hash, 32, sig, &sig_len),
			 VNP_E_SECURITY_STATUS);
	assert_true(card.reset_seen);

	/* a certificate bigger than one short APDU, both ways */
	big = malloc(3000);
	assert_non_null(big);
	for (i = 0; i < 3000; i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(card.drv->verify(&card, VNP_PIN_USER, (const uint8_t *)PIN, 6, &tries),
			 VNP_OK);
	assert_int_equal(card.drv->write_object(&card, &cert, big, 3000, &cert.ref), VNP_OK);
	assert_int_equal(card.drv->read_dir(&card, &dir), VNP_OK);
	assert_int_equal(dir->count, 2);
	assert_int_equal(dir->objs[1].kind, VNP_OBJ_CERT);
	assert_int_equal(dir->objs[1].length, 3000);
	assert_int_equal(card.drv->read_object(&card, &dir->objs[1], &val, &len), VNP_OK);
	assert_int_equal(len, 3000);
	assert_memory_equal(val, big, 3000);
	free(val);
	assert_int_equal(card.drv->delete_object(&card, &dir->objs[1]), VNP_OK);
	vnp_dir_free(dir);
	free(big);
	assert_int_equal(card.drv->get_random(&card, rnd, sizeof(rnd)), VNP_OK);
	assert_int_equal(card.drv->logout(&card, VNP_PIN_USER), VNP_OK);

	card.drv->release(&card);
	lr.pl->close(lr.vc);
	dlclose(h);
	unlink(path);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(lock);
}

static void test_live_extended(void **state)
{
	(void)state;
	run_live(true);
}

static void test_live_short(void **state)
{
	(void)state;
	run_live(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_extended),
		cmocka_unit_test(test_live_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
