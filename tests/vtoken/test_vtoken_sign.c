/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: GENERATE (RSA-2048, P-256), MSE SET + PSO signatures checked with OpenSSL
 * against the public key from the GENERATE answer (PKCS#1 v1.5, PSS, ECDSA), always-auth,
 * usage, error cases. */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "rv.h"
#include "tlv.h"
#include "vt_helpers.h"

/* Send an extended-length case 4 APDU. */
static uint16_t tx_ext(struct vt_fix *f, const char *hdr, const uint8_t *data, size_t len)
{
	uint8_t cmd[2048];
	size_t n = vt_hex(hdr, cmd, 4);

	cmd[n++] = 0;
	cmd[n++] = (uint8_t)(len >> 8);
	cmd[n++] = (uint8_t)len;
	memcpy(cmd + n, data, len);
	n += len;
	cmd[n++] = 0;
	cmd[n++] = 0;
	return vt_txb(f, f->card, cmd, n);
}

/* Generate with template hex (A0 contents), return the key ref and the public key. */
static uint8_t generate(struct vt_fix *f, const char *tmpl_hex, EVP_PKEY **ret)
{
	uint8_t inner[200], data[210];
	size_t n = vt_hex(tmpl_hex, inner, sizeof(inner));
	struct vnp_tlv a0, t, pub, n_t, e_t, alg;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	uint8_t ref;

	data[0] = 0xA0;
	data[1] = (uint8_t)n;
	memcpy(data + 2, inner, n);
	assert_int_equal(tx_ext(f, "00470000", data, n + 2), 0x9000);
	assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0xA0, &a0), VNP_OK);
	assert_int_equal(vnp_tlv_find(a0.value, a0.len, 0x80, &t), VNP_OK);
	ref = t.value[0];
	assert_int_equal(vnp_tlv_find(a0.value, a0.len, 0x81, &alg), VNP_OK);
	assert_int_equal(vnp_tlv_find(a0.value, a0.len, 0x88, &t), VNP_OK);
	assert_true(t.value[0] & 0x02); /* generated on card */
	assert_int_equal(vnp_tlv_find(a0.value, a0.len, 0x7F49, &pub), VNP_OK);
	if (alg.value[0] == 0x01) {
		BIGNUM *bn_n, *bn_e;
		assert_int_equal(vnp_tlv_find(pub.value, pub.len, 0x81, &n_t), VNP_OK);
		assert_int_equal(vnp_tlv_find(pub.value, pub.len, 0x82, &e_t), VNP_OK);
		assert_int_equal(n_t.len, 256);
		bn_n = BN_bin2bn(n_t.value, (int)n_t.len, NULL);
		bn_e = BN_bin2bn(e_t.value, (int)e_t.len, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
		params = OSSL_PARAM_BLD_to_param(bld);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		BN_free(bn_n);
		BN_free(bn_e);
	} else {
		assert_int_equal(vnp_tlv_find(pub.value, pub.len, 0x86, &n_t), VNP_OK);
		assert_int_equal(n_t.len, 65);
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, n_t.value, n_t.len);
		params = OSSL_PARAM_BLD_to_param(bld);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	*ret = NULL;
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, ret, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ref;
}

static uint16_t mse(struct vt_fix *f, const char *body)
{
	char cmd[128];
	size_t n = strlen(body) / 2;

	snprintf(cmd, sizeof(cmd), "002241B6%02zX%s", n, body);
	return vt_tx(f, cmd);
}

static uint16_t pso(struct vt_fix *f, const uint8_t *in, size_t len)
{
	return tx_ext(f, "002A9E9A", in, len);
}

static void sha256(const char *msg, uint8_t md[32])
{
	unsigned int n = 32;

	assert_int_equal(EVP_Digest(msg, strlen(msg), md, &n, EVP_sha256(), NULL), 1);
}

static int verify(EVP_PKEY *pub, int pad, int saltlen, const uint8_t *md, const uint8_t *sig,
		  size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	int ok;

	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	if (pad) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, pad) > 0);
		assert_true(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0);
		if (pad == RSA_PKCS1_PSS_PADDING)
			assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen) > 0);
	}
	ok = EVP_PKEY_verify(ctx, sig, sig_len, md, 32);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void test_rsa(void **state)
{
	struct vt_fix *f = *state;
	static const uint8_t di_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
					     0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
					     0x00, 0x04, 0x20 };
	uint8_t md[32], di[51], sig[512], big[246];
	EVP_PKEY *pub;
	uint8_t ref;
	char body[64];

	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x9000);
	assert_int_equal(vt_tx(f, "0047000005A003810101"), 0x6982);
	assert_int_equal(vt_tx(f, "0020008106313233343536"), 0x9000);
	assert_int_equal(vt_tx(f, "0047000005A003810199"), 0x6A80); /* unknown alg */
	ref = generate(f, "8101018202AB01830472736131", &pub);
	assert_int_equal(ref, 0x01);
	assert_string_equal(vt_state_value(f, "counter"), "1");
	assert_non_null(vt_state_value(f, "key.01.der"));

	/* PSO before MSE */
	sha256("hello", md);
	assert_int_equal(pso(f, md, 32), 0x6985);
	/* PKCS#1 v1.5 over a DigestInfo */
	snprintf(body, sizeof(body), "8401%02X800101", ref);
	assert_int_equal(mse(f, body), 0x9000);
	memcpy(di, di_prefix, sizeof(di_prefix));
	memcpy(di + sizeof(di_prefix), md, 32);
	assert_int_equal(pso(f, di, sizeof(di)), 0x9000);
	assert_int_equal(f->resp_len, 256);
	memcpy(sig, f->resp, 256);
	assert_int_equal(verify(pub, RSA_PKCS1_PADDING, 0, md, sig, 256), 1);
	sig[10] ^= 1;
	assert_int_not_equal(verify(pub, RSA_PKCS1_PADDING, 0, md, sig, 256), 1);
	/* input longer than k - 11 */
	memset(big, 0x55, sizeof(big));
	assert_int_equal(pso(f, big, sizeof(big)), 0x6A80);
	assert_int_equal(pso(f, big, 245), 0x9000);

	/* PSS, SHA-256, salt 32 */
	snprintf(body, sizeof(body), "8401%02X8001028101038502%04X", ref, 32);
	assert_int_equal(mse(f, body), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);
	assert_int_equal(f->resp_len, 256);
	memcpy(sig, f->resp, 256);
	assert_int_equal(verify(pub, RSA_PKCS1_PSS_PADDING, 32, md, sig, 256), 1);
	assert_int_equal(pso(f, md, 31), 0x6A80); /* not a SHA-256 hash */
	/* PSS salt 0 */
	assert_int_equal(mse(f, "84010180010281010385020000"), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);
	memcpy(sig, f->resp, 256);
	assert_int_equal(verify(pub, RSA_PKCS1_PSS_PADDING, 0, md, sig, 256), 1);

	/* MSE errors */
	assert_int_equal(mse(f, "840105800101"), 0x6A88); /* no such key */
	assert_int_equal(mse(f, "840101800103"), 0x6A80); /* ECDSA with RSA key */
	assert_int_equal(pso(f, md, 32), 0x6985);          /* failed MSE cleared the env */
	assert_int_equal(vt_tx(f, "0022 41B6 03 840101"), 0x6A80);
	EVP_PKEY_free(pub);
}

static void test_ecdsa(void **state)
{
	struct vt_fix *f = *state;
	uint8_t md[32], der[80], *p;
	EVP_PKEY *pub;
	ECDSA_SIG *es;
	int der_len;

	vt_select_login(f, f->card);
	assert_int_equal(generate(f, "810111820101", &pub), 0x01);
	EVP_PKEY_free(pub);
	assert_int_equal(generate(f, "810111820102840102", &pub), 0x02);
	EVP_PKEY_free(pub);
	/* the directory lists both keys */
	assert_int_equal(vt_tx(f, "80CA010000"), 0x9000);
	{
		struct vnp_tlv t71, e;
		const uint8_t *q, *end;
		int keys = 0;
		assert_int_equal(vnp_tlv_find(f->resp, f->resp_len, 0x71, &t71), VNP_OK);
		q = t71.value;
		end = t71.value + t71.len;
		while (vnp_tlv_next(&q, end, &e) == VNP_OK)
			keys += e.tag == 0xA0;
		assert_int_equal(keys, 2);
	}
	/* key 02 is decrypt-only */
	assert_int_equal(mse(f, "840102800103"), 0x9000);
	sha256("abc", md);
	assert_int_equal(pso(f, md, 32), 0x6985);
	/* regenerate key 01 explicitly to get its public key again */
	assert_int_equal(generate(f, "800101810111", &pub), 0x01);
	assert_string_equal(vt_state_value(f, "counter"), "3");
	assert_int_equal(mse(f, "840101800103"), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);
	assert_int_equal(f->resp_len, 64);
	es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(f->resp, 32, NULL), BN_bin2bn(f->resp + 32, 32, NULL));
	p = der;
	der_len = i2d_ECDSA_SIG(es, &p);
	assert_true(der_len > 0);
	assert_int_equal(verify(pub, 0, 0, md, der, (size_t)der_len), 1);
	ECDSA_SIG_free(es);
	assert_int_equal(mse(f, "840101800101"), 0x6A80); /* PKCS#1 with an EC key */
	EVP_PKEY_free(pub);
}

static void test_always_auth(void **state)
{
	struct vt_fix *f = *state;
	uint8_t md[32];
	EVP_PKEY *pub;

	vt_select_login(f, f->card);
	assert_int_equal(generate(f, "810111880101", &pub), 0x01);
	EVP_PKEY_free(pub);
	assert_int_equal(generate(f, "810111", &pub), 0x02);
	EVP_PKEY_free(pub);
	sha256("x", md);
	assert_int_equal(mse(f, "840101800103"), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);  /* the login VERIFY counts once */
	assert_int_equal(pso(f, md, 32), 0x6982);
	assert_int_equal(vt_tx(f, "0020008106313233343536"), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x6982);
	/* other keys are not affected */
	assert_int_equal(mse(f, "840102800103"), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x9000);
	/* not logged in after reset */
	f->p->reset(f->card);
	assert_int_equal(vt_tx(f, "00A4040008F0564E504B49544B00"), 0x9000);
	assert_int_equal(pso(f, md, 32), 0x6982);
}

/* SIGN / SIGN BATCH (80 2B): key and scheme in the command; no MSE needed, none disturbed;
 * per-input answers; the PIN policy of PSO. */
static uint16_t sign_cmd(struct vt_fix *f, uint8_t p1, const char *env, const uint8_t *const *in,
			 const size_t *len, size_t n)
{
	uint8_t data[1500];
	size_t o = vt_hex(env, data, sizeof(data));
	char hdr[16];

	for (size_t i = 0; i < n; i++) {
		data[o++] = 0x9A;
		data[o++] = (uint8_t)len[i];
		memcpy(data + o, in[i], len[i]);
		o += len[i];
	}
	snprintf(hdr, sizeof(hdr), "802B%02X00", p1);
	return tx_ext(f, hdr, data, o);
}

static bool ecdsa_ok(EVP_PKEY *pub, const uint8_t *md, const uint8_t *rs)
{
	uint8_t der[80], *p = der;
	ECDSA_SIG *es = ECDSA_SIG_new();
	int der_len;
	bool ok;

	ECDSA_SIG_set0(es, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
	der_len = i2d_ECDSA_SIG(es, &p);
	ok = der_len > 0 && verify(pub, 0, 0, md, der, (size_t)der_len) == 1;
	ECDSA_SIG_free(es);
	return ok;
}

static void test_sign_batch(void **state)
{
	struct vt_fix *f = *state;
	uint8_t md[3][32], big[65], sig[512];
	const uint8_t *in[65];
	size_t len[65];
	EVP_PKEY *pub, *rpub;
	struct vnp_tlv t;
	const uint8_t *p, *end;

	vt_select_login(f, f->card);
	assert_int_equal(generate(f, "810111", &pub), 0x01);
	assert_int_equal(generate(f, "8101018202AB01", &rpub), 0x02);
	sha256("one", md[0]);
	sha256("two", md[1]);
	sha256("three", md[2]);
	memset(big, 0x77, sizeof(big));

	/* SIGN: one input, the answer is the signature; an MSE SET of key 02 stays in place */
	assert_int_equal(mse(f, "8401028001028101038502 0020"), 0x9000);
	in[0] = md[0];
	len[0] = 32;
	assert_int_equal(sign_cmd(f, 0x00, "840101800103", in, len, 1), 0x9000);
	assert_int_equal(f->resp_len, 64);
	assert_true(ecdsa_ok(pub, md[0], f->resp));
	assert_int_equal(pso(f, md[1], 32), 0x9000); /* PSS with key 02, as set */
	assert_int_equal(f->resp_len, 256);
	memcpy(sig, f->resp, 256);
	assert_int_equal(verify(rpub, RSA_PKCS1_PSS_PADDING, 32, md[1], sig, 256), 1);
	/* SIGN with PSS named in the template */
	assert_int_equal(sign_cmd(f, 0x00, "840102800102810103850200 20", in, len, 1), 0x9000);
	memcpy(sig, f->resp, 256);
	assert_int_equal(verify(rpub, RSA_PKCS1_PSS_PADDING, 32, md[0], sig, 256), 1);

	/* SIGN BATCH: three good inputs and a bad one, answered in order */
	in[0] = md[0], in[1] = big, in[2] = md[1], in[3] = md[2];
	len[0] = 32, len[1] = 65, len[2] = 32, len[3] = 32;
	assert_int_equal(sign_cmd(f, 0x01, "840101800103", in, len, 4), 0x9000);
	p = f->resp;
	end = f->resp + f->resp_len;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(vnp_tlv_next(&p, end, &t), VNP_OK);
		if (i == 1) {
			assert_int_equal(t.tag, 0x96);
			assert_int_equal(t.len, 2);
			assert_int_equal(t.value[0] << 8 | t.value[1], 0x6A80);
			continue;
		}
		assert_int_equal(t.tag, 0x9E);
		assert_int_equal(t.len, 64);
		assert_true(ecdsa_ok(pub, md[i == 0 ? 0 : i - 1], t.value));
	}
	assert_true(p == end);
	/* SIGN with a bad input: its SW is the command's */
	in[0] = big;
	len[0] = 65;
	assert_int_equal(sign_cmd(f, 0x00, "840101800103", in, len, 1), 0x6A80);

	/* errors of the whole command */
	in[0] = md[0];
	len[0] = 32;
	in[1] = md[1];
	len[1] = 32;
	assert_int_equal(sign_cmd(f, 0x00, "840101800103", in, len, 2), 0x6A80); /* SIGN: one */
	assert_int_equal(sign_cmd(f, 0x02, "840101800103", in, len, 1), 0x6A86);
	assert_int_equal(sign_cmd(f, 0x01, "840101800103", in, len, 0), 0x6A80); /* no input */
	assert_int_equal(sign_cmd(f, 0x01, "840105800103", in, len, 1), 0x6A88); /* no key */
	assert_int_equal(sign_cmd(f, 0x01, "840101800101", in, len, 1), 0x6A80); /* PKCS#1, EC */
	assert_int_equal(sign_cmd(f, 0x01, "840101", in, len, 1), 0x6A80);       /* no scheme */
	for (int i = 0; i < 65; i++) {
		in[i] = md[0];
		len[i] = 20;
	}
	assert_int_equal(sign_cmd(f, 0x01, "840101800103", in, len, 65), 0x6A84);
	/* not logged in */
	assert_int_equal(vt_tx(f, "0020FF8100"), 0x9000);
	assert_int_equal(sign_cmd(f, 0x01, "840101800103", in, len, 1), 0x6982);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(rpub);
}

static void test_sign_batch_always_auth(void **state)
{
	struct vt_fix *f = *state;
	const uint8_t *in[2];
	size_t len[2] = { 32, 32 };
	uint8_t md[32];
	EVP_PKEY *pub;

	vt_select_login(f, f->card);
	assert_int_equal(generate(f, "810111880101", &pub), 0x01);
	EVP_PKEY_free(pub);
	sha256("x", md);
	in[0] = in[1] = md;
	assert_int_equal(sign_cmd(f, 0x01, "840101800103", in, len, 2), 0x6985); /* one only */
	assert_int_equal(sign_cmd(f, 0x01, "840101800103", in, len, 1), 0x9000);
	assert_int_equal(sign_cmd(f, 0x00, "840101800103", in, len, 1), 0x6982); /* used up */
	assert_int_equal(vt_tx(f, "0020008106313233343536"), 0x9000);
	assert_int_equal(sign_cmd(f, 0x00, "840101800103", in, len, 1), 0x9000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rsa, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_ecdsa, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_always_auth, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_sign_batch, vt_setup, vt_teardown),
		cmocka_unit_test_setup_teardown(test_sign_batch_always_auth, vt_setup, vt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
