/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-bench: drives a PKCS#11 module the way a signing application does and prints
 * what it cost: APDUs for the enumeration an application does at start
 * (C_Initialize -> C_GetSlotList -> C_GetTokenInfo -> C_OpenSession -> C_FindObjects and
 * reading each certificate), APDUs per C_Sign in steady state for RSA-2048 and P-256, and
 * signatures per second. APDU counts come from the vnpki vendor interface.
 *
 *   vnpki-bench --module PATH [--slot N] [--pin PIN] [--count N] [--setup]
 *               [--max-sign-apdus N] [--max-enum-apdus N]
 *
 * --setup generates the two benchmark keys (CKA_ID b1 RSA-2048, b2 P-256) when missing.
 * --max-sign-apdus makes the exit status 1 when a steady-state signature costs more APDUs
 * than N, --max-enum-apdus when the enumeration does (functional budgets, not timings). */
#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include "vnpki/vnpki.h"

struct bench {
	CK_FUNCTION_LIST_PTR f;
	const struct vnp_ext_functions *ext;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	const char *pin;
	unsigned count;
};

static const CK_BYTE rsa_id[] = { 0xb1 };
static const CK_BYTE ec_id[] = { 0xb2 };
/* DER OID prime256v1 */
static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int check(CK_RV rv, const char *what)
{
	if (rv == CKR_OK)
		return 0;
	fprintf(stderr, "vnpki-bench: %s failed: CKR 0x%lx\n", what, (unsigned long)rv);
	return -1;
}

static uint64_t apdus(struct bench *b, struct vnp_ext_apdu_stats *st)
{
	if (b->ext->get_apdu_stats(b->slot, st) != CKR_OK)
		return 0;
	return st->apdus;
}

static void print_by_ins(const struct vnp_ext_apdu_stats *a, const struct vnp_ext_apdu_stats *b)
{
	unsigned i;
	for (i = 0; i < 256; i++) {
		uint64_t d = b->by_ins[i] - (a ? a->by_ins[i] : 0);
		if (d)
			printf(" %02X:%llu", i, (unsigned long long)d);
	}
	printf("\n");
}

static CK_OBJECT_HANDLE find_key(struct bench *b, CK_OBJECT_CLASS cls, const CK_BYTE *id, size_t id_len)
{
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, (void *)id, id_len } };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	if (b->f->C_FindObjectsInit(b->s, t, 2) != CKR_OK)
		return CK_INVALID_HANDLE;
	if (b->f->C_FindObjects(b->s, &h, 1, &n) != CKR_OK || n != 1)
		h = CK_INVALID_HANDLE;
	b->f->C_FindObjectsFinal(b->s);
	return h;
}

static int setup_keys(struct bench *b)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG bits = 2048;
	CK_MECHANISM rsa_gen = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM ec_gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	if (find_key(b, CKO_PRIVATE_KEY, rsa_id, sizeof(rsa_id)) == CK_INVALID_HANDLE) {
		CK_ATTRIBUTE pt[] = { { CKA_MODULUS_BITS, &bits, sizeof(bits) },
				      { CKA_ID, (void *)rsa_id, sizeof(rsa_id) },
				      { CKA_VERIFY, &yes, sizeof(yes) } };
		CK_ATTRIBUTE kt[] = { { CKA_ID, (void *)rsa_id, sizeof(rsa_id) },
				      { CKA_SIGN, &yes, sizeof(yes) } };
		if (check(b->f->C_GenerateKeyPair(b->s, &rsa_gen, pt, 3, kt, 2, &pub, &priv),
			  "C_GenerateKeyPair RSA-2048"))
			return -1;
	}
	if (find_key(b, CKO_PRIVATE_KEY, ec_id, sizeof(ec_id)) == CK_INVALID_HANDLE) {
		CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
				      { CKA_ID, (void *)ec_id, sizeof(ec_id) },
				      { CKA_VERIFY, &yes, sizeof(yes) } };
		CK_ATTRIBUTE kt[] = { { CKA_ID, (void *)ec_id, sizeof(ec_id) },
				      { CKA_SIGN, &yes, sizeof(yes) } };
		if (check(b->f->C_GenerateKeyPair(b->s, &ec_gen, pt, 3, kt, 2, &pub, &priv),
			  "C_GenerateKeyPair P-256"))
			return -1;
	}
	return 0;
}

/* Sign count times with the key; print the figures; return the APDUs of the last
 * signature (steady state), or -1. */
static long bench_sign(struct bench *b, const char *name, const CK_BYTE *id, size_t id_len,
		       CK_MECHANISM_TYPE mech_type)
{
	CK_MECHANISM mech = { mech_type, NULL, 0 };
	CK_BYTE data[64], sig[512];
	CK_ULONG sig_len;
	struct vnp_ext_apdu_stats s0, s1, s2;
	uint64_t before_last = 0;
	double t0, t1;
	unsigned i;
	CK_OBJECT_HANDLE key = find_key(b, CKO_PRIVATE_KEY, id, id_len);
	if (key == CK_INVALID_HANDLE) {
		fprintf(stderr, "vnpki-bench: no %s key with CKA_ID %02x (use --setup)\n", name, id[0]);
		return -1;
	}
	memset(data, 0x5a, sizeof(data));
	apdus(b, &s0);
	t0 = now_s();
	for (i = 0; i < b->count; i++) {
		if (i + 1 == b->count)
			before_last = apdus(b, &s1);
		sig_len = sizeof(sig);
		if (check(b->f->C_SignInit(b->s, &mech, key), "C_SignInit") ||
		    check(b->f->C_Sign(b->s, data, sizeof(data), sig, &sig_len), "C_Sign"))
			return -1;
	}
	t1 = now_s();
	apdus(b, &s2);
	printf("sign %-8s %u signatures: %.1f/s, %.3f ms each; APDUs total %llu, last signature %llu;"
	       " by INS (all):",
	       name, b->count, b->count / (t1 - t0), (t1 - t0) * 1000.0 / b->count,
	       (unsigned long long)(s2.apdus - s0.apdus), (unsigned long long)(s2.apdus - before_last));
	print_by_ins(&s0, &s2);
	return (long)(s2.apdus - before_last);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: vnpki-bench --module PATH [--slot N] [--pin PIN] [--count N] [--setup]"
		    " [--max-sign-apdus N] [--max-enum-apdus N]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' }, { "slot", required_argument, NULL, 's' },
		{ "pin", required_argument, NULL, 'p' },    { "count", required_argument, NULL, 'n' },
		{ "setup", no_argument, NULL, 'S' },        { "max-sign-apdus", required_argument, NULL, 'M' },
		{ "max-enum-apdus", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	struct bench b = { .pin = "123456", .count = 20 };
	const char *module = NULL;
	long max_sign = -1, max_enum = -1, slot_arg = -1, rsa_apdus, ec_apdus;
	int c, setup = 0, rc = 1;
	void *dl;
	CK_RV (*get_interface)(CK_UTF8CHAR_PTR, CK_VERSION_PTR, CK_INTERFACE_PTR_PTR, CK_FLAGS);
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_INTERFACE_PTR iface;
	CK_VERSION ver = { VNPKI_INTERFACE_VERSION_MAJOR, VNPKI_INTERFACE_VERSION_MINOR };
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16, nobj = 0, i;
	CK_TOKEN_INFO ti;
	CK_OBJECT_HANDLE objs[64];
	struct vnp_ext_apdu_stats st;
	double t0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': module = optarg; break;
		case 's': slot_arg = strtol(optarg, NULL, 0); break;
		case 'p': b.pin = optarg; break;
		case 'n': b.count = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': setup = 1; break;
		case 'M': max_sign = strtol(optarg, NULL, 0); break;
		case 'E': max_enum = strtol(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!module || b.count == 0) {
		usage(stderr);
		return 2;
	}
	dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "vnpki-bench: %s\n", dlerror());
		return 2;
	}
	*(void **)&get_interface = dlsym(dl, "C_GetInterface");
	*(void **)&get_list = dlsym(dl, "C_GetFunctionList");
	if (!get_interface || !get_list || check(get_list(&b.f), "C_GetFunctionList"))
		goto out_close;

	t0 = now_s();
	if (check(b.f->C_Initialize(NULL), "C_Initialize"))
		goto out_close;
	if (check(get_interface((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, &ver, &iface, 0),
		  "C_GetInterface(" VNPKI_INTERFACE_NAME ")"))
		goto out_fin;
	b.ext = iface->pFunctionList;
	if (check(b.f->C_GetSlotList(CK_TRUE, slots, &nslots), "C_GetSlotList") || nslots == 0) {
		fprintf(stderr, "vnpki-bench: no token\n");
		goto out_fin;
	}
	b.slot = slots[0];
	for (i = 0; slot_arg >= 0 && i < nslots; i++)
		if (slots[i] == (CK_SLOT_ID)slot_arg)
			b.slot = slots[i];
	if (check(b.f->C_GetTokenInfo(b.slot, &ti), "C_GetTokenInfo") ||
	    check(b.f->C_OpenSession(b.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &b.s),
		  "C_OpenSession") ||
	    check(b.f->C_FindObjectsInit(b.s, NULL, 0), "C_FindObjectsInit") ||
	    check(b.f->C_FindObjects(b.s, objs, 64, &nobj), "C_FindObjects") ||
	    check(b.f->C_FindObjectsFinal(b.s), "C_FindObjectsFinal"))
		goto out_fin;
	for (i = 0; i < nobj; i++) {
		CK_OBJECT_CLASS cls;
		CK_ATTRIBUTE a[] = { { CKA_CLASS, &cls, sizeof(cls) } };
		CK_ATTRIBUTE v[] = { { CKA_VALUE, NULL, 0 } };
		if (b.f->C_GetAttributeValue(b.s, objs[i], a, 1) == CKR_OK && cls == CKO_CERTIFICATE)
			b.f->C_GetAttributeValue(b.s, objs[i], v, 1);
	}
	apdus(&b, &st);
	printf("enumerate: C_Initialize..C_FindObjects + certificate values: %lu objects, %llu APDUs,"
	       " %.1f ms; by INS:",
	       (unsigned long)nobj, (unsigned long long)st.apdus, (now_s() - t0) * 1000.0);
	print_by_ins(NULL, &st);

	if (check(b.f->C_Login(b.s, CKU_USER, (CK_UTF8CHAR_PTR)b.pin, strlen(b.pin)), "C_Login"))
		goto out_fin;
	if (setup && setup_keys(&b))
		goto out_fin;
	rsa_apdus = bench_sign(&b, "RSA-2048", rsa_id, sizeof(rsa_id), CKM_SHA256_RSA_PKCS);
	ec_apdus = bench_sign(&b, "P-256", ec_id, sizeof(ec_id), CKM_ECDSA_SHA256);
	if (rsa_apdus < 0 || ec_apdus < 0)
		goto out_fin;
	rc = 0;
	if (max_enum >= 0 && st.apdus > (uint64_t)max_enum) {
		fprintf(stderr, "vnpki-bench: the enumeration took %llu APDUs, more than %ld\n",
			(unsigned long long)st.apdus, max_enum);
		rc = 1;
	}
	if (max_sign >= 0 && (rsa_apdus > max_sign || ec_apdus > max_sign)) {
		fprintf(stderr, "vnpki-bench: a steady-state signature took more than %ld APDUs\n",
			max_sign);
		rc = 1;
	}
out_fin:
	b.f->C_Finalize(NULL);
out_close:
	dlclose(dl);
	return rc;
}
