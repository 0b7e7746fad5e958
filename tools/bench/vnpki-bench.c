/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-bench: drives ANY PKCS#11 module (ours, OpenSC's, SoftHSM's) the way a signing
 * application does and prints what it cost. Workload, fixed:
 *   1. enumeration, cold: C_Initialize -> C_GetSlotList -> C_GetTokenInfo -> C_OpenSession
 *      -> C_FindObjects (certificates) -> CKA_VALUE of each;
 *   2. C_Login (CKU_USER, --pin);
 *   3. per mechanism (CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS on the first RSA key,
 *      CKM_ECDSA_SHA256 on the first EC key, or the key with --key-id), --count signatures
 *      with each thread count of --threads (a session per thread, CKF_OS_LOCKING_OK).
 * Reported per step: time, signatures/s, p50/p99 latency, APDUs per operation, pcscd round
 * trips per operation, and the module's resident memory (VmRSS after load + enumeration minus
 * before the load).
 *
 * APDUs are counted by the virtual token when told where (--vtoken-stats FILE --vtoken-pid
 * PID: the bench sends SIGUSR1 to `vnpki-vtoken serve --stats FILE` and reads the file), so
 * every module is counted the same way; otherwise by our module's vendor interface; otherwise
 * not at all ("-"). pcscd round trips come from libvnpki-pcsc-count.so (--pcsc-shim PATH,
 * loaded RTLD_GLOBAL before the module; for OpenSC its opensc.conf must name the same file as
 * provider_library).
 *
 *   vnpki-bench --module PATH [--slot N] [--pin PIN] [--count N] [--threads 1,8]
 *               [--mechs rsa-pkcs,rsa-pss,ecdsa] [--key-id HEX] [--setup] [--json]
 *               [--vtoken-stats FILE --vtoken-pid PID] [--pcsc-shim PATH] [--name NAME]
 *               [--max-sign-apdus N] [--max-enum-apdus N]
 *
 * --setup generates two keys (CKA_ID b1 RSA-2048, b2 P-256) when the token has none (ours).
 * --max-sign-apdus makes the exit status 1 when a steady-state signature (the last one of the
 * one-thread run) costs more than N APDUs, --max-enum-apdus when the enumeration does
 * (functional budgets, never timings). */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
#include "vnpki/vnpki.h"

#define MAX_THREADS 64
#define MAX_MECHS 3
#define MAX_RUNS 8

struct counts {
	uint64_t apdus;    /* UINT64_MAX: unknown */
	uint64_t pcsc;     /* UINT64_MAX: unknown */
	uint64_t transmit;
	uint64_t by_ins[256];
	bool by_ins_known;
};

struct step {
	const char *name;
	double ms;
	uint64_t apdus, pcsc; /* UINT64_MAX: unknown */
	unsigned ops;
};

struct run {
	const char *mech;
	unsigned threads, sigs;
	double secs, p50_ms, p99_ms;
	uint64_t apdus, pcsc, last_apdus;
	int failed;
};

struct bench {
	CK_FUNCTION_LIST_PTR f;
	const struct vnp_ext_functions *ext;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	const char *pin, *name, *module;
	unsigned count;
	const char *vt_stats;
	pid_t vt_pid;
	void (*pcsc_count)(uint64_t *, uint64_t *);
	CK_BYTE key_id[64];
	size_t key_id_len;
	/* results */
	struct step enumeration, login;
	struct run runs[MAX_RUNS * MAX_MECHS];
	unsigned n_runs;
	long rss_kb;
	unsigned n_objects, n_certs;
	char token_label[33];
};

static const CK_BYTE rsa_setup_id[] = { 0xb1 };
static const CK_BYTE ec_setup_id[] = { 0xb2 };
/* DER OID prime256v1 */
static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE sig_input[64] = { 0x5a };

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

static long vm_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* ---- counting ---- */

/* Ask `vnpki-vtoken serve` for its counts: remove the file, SIGUSR1, wait for the new one
 * (written by rename, so it is whole). */
static int vtoken_counts(struct bench *b, struct counts *c)
{
	FILE *f = NULL;
	char buf[8192];
	size_t n;
	char *p;

	if (unlink(b->vt_stats) != 0 && errno != ENOENT)
		return -1;
	if (kill(b->vt_pid, SIGUSR1) != 0)
		return -1;
	for (int i = 0; i < 2000 && !f; i++) {
		f = fopen(b->vt_stats, "re");
		if (!f)
			usleep(1000);
	}
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "\"apdus\":");
	if (!p)
		return -1;
	c->apdus = strtoull(p + 8, NULL, 10);
	memset(c->by_ins, 0, sizeof(c->by_ins));
	p = strstr(buf, "\"by_ins\"");
	while (p && (p = strchr(p, '"'))) {
		/* "XX": n */
		char *end;
		unsigned long ins = strtoul(p + 1, &end, 16);

		if (end == p + 3 && *end == '"' && ins < 256) {
			p = end + 2;
			c->by_ins[ins] = strtoull(p, &p, 10);
		} else {
			p++;
		}
	}
	c->by_ins_known = true;
	return 0;
}

static void snapshot(struct bench *b, struct counts *c)
{
	struct vnp_ext_apdu_stats st;

	c->apdus = UINT64_MAX;
	c->pcsc = UINT64_MAX;
	c->transmit = UINT64_MAX;
	c->by_ins_known = false;
	if (b->vt_stats && b->vt_pid > 0) {
		if (vtoken_counts(b, c) != 0)
			c->apdus = UINT64_MAX;
	} else if (b->ext && b->ext->get_apdu_stats(b->slot, &st) == CKR_OK) {
		c->apdus = st.apdus;
		memcpy(c->by_ins, st.by_ins, sizeof(c->by_ins));
		c->by_ins_known = true;
	}
	if (b->pcsc_count)
		b->pcsc_count(&c->pcsc, &c->transmit);
}

static uint64_t delta(uint64_t a, uint64_t z)
{
	return a == UINT64_MAX || z == UINT64_MAX ? UINT64_MAX : z - a;
}

static void print_by_ins(const struct counts *a, const struct counts *z)
{
	if (!a->by_ins_known || !z->by_ins_known)
		return;
	printf("   by INS:");
	for (unsigned i = 0; i < 256; i++)
		if (z->by_ins[i] - a->by_ins[i])
			printf(" %02X:%llu", i, (unsigned long long)(z->by_ins[i] - a->by_ins[i]));
	printf("\n");
}

/* ---- keys ---- */

static CK_OBJECT_HANDLE find_by_id(struct bench *b, CK_SESSION_HANDLE s, const CK_BYTE *id,
				   size_t id_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, (void *)id, id_len } };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;

	if (b->f->C_FindObjectsInit(s, t, 2) != CKR_OK)
		return CK_INVALID_HANDLE;
	if (b->f->C_FindObjects(s, &h, 1, &n) != CKR_OK || n != 1)
		h = CK_INVALID_HANDLE;
	b->f->C_FindObjectsFinal(s);
	return h;
}

/* The private key to sign with: --key-id when given (and of the type), else the first of the
 * type that can sign, preferring one without CKA_ALWAYS_AUTHENTICATE. */
static CK_OBJECT_HANDLE find_key(struct bench *b, CK_SESSION_HANDLE s, CK_KEY_TYPE type,
				 bool *ret_always)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &type, sizeof(type) },
			     { CKA_ID, b->key_id, b->key_id_len } };
	CK_OBJECT_HANDLE hs[32], best = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	bool best_always = true;

	if (b->f->C_FindObjectsInit(s, t, b->key_id_len ? 3 : 2) != CKR_OK)
		return CK_INVALID_HANDLE;
	if (b->f->C_FindObjects(s, hs, 32, &n) != CKR_OK)
		n = 0;
	b->f->C_FindObjectsFinal(s);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_BBOOL sign = CK_TRUE, always = CK_FALSE;
		CK_ATTRIBUTE a1 = { CKA_SIGN, &sign, sizeof(sign) };
		CK_ATTRIBUTE a2 = { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) };

		b->f->C_GetAttributeValue(s, hs[i], &a1, 1);
		if (b->f->C_GetAttributeValue(s, hs[i], &a2, 1) != CKR_OK)
			always = CK_FALSE;
		if (!sign)
			continue;
		if (best == CK_INVALID_HANDLE || (best_always && !always)) {
			best = hs[i];
			best_always = always;
		}
	}
	*ret_always = best_always && best != CK_INVALID_HANDLE;
	return best;
}

static int setup_keys(struct bench *b)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG bits = 2048;
	CK_MECHANISM rsa_gen = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM ec_gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;

	if (find_by_id(b, b->s, rsa_setup_id, sizeof(rsa_setup_id)) == CK_INVALID_HANDLE) {
		CK_ATTRIBUTE pt[] = { { CKA_MODULUS_BITS, &bits, sizeof(bits) },
				      { CKA_ID, (void *)rsa_setup_id, sizeof(rsa_setup_id) },
				      { CKA_VERIFY, &yes, sizeof(yes) } };
		CK_ATTRIBUTE kt[] = { { CKA_ID, (void *)rsa_setup_id, sizeof(rsa_setup_id) },
				      { CKA_SIGN, &yes, sizeof(yes) } };
		if (check(b->f->C_GenerateKeyPair(b->s, &rsa_gen, pt, 3, kt, 2, &pub, &priv),
			  "C_GenerateKeyPair RSA-2048"))
			return -1;
	}
	if (find_by_id(b, b->s, ec_setup_id, sizeof(ec_setup_id)) == CK_INVALID_HANDLE) {
		CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
				      { CKA_ID, (void *)ec_setup_id, sizeof(ec_setup_id) },
				      { CKA_VERIFY, &yes, sizeof(yes) } };
		CK_ATTRIBUTE kt[] = { { CKA_ID, (void *)ec_setup_id, sizeof(ec_setup_id) },
				      { CKA_SIGN, &yes, sizeof(yes) } };
		if (check(b->f->C_GenerateKeyPair(b->s, &ec_gen, pt, 3, kt, 2, &pub, &priv),
			  "C_GenerateKeyPair P-256"))
			return -1;
	}
	return 0;
}

/* ---- signing ---- */

struct mech_def {
	const char *name;
	CK_MECHANISM_TYPE type;
	CK_KEY_TYPE key_type;
};

static const struct mech_def mech_defs[] = {
	{ "rsa-pkcs", CKM_SHA256_RSA_PKCS, CKK_RSA },
	{ "rsa-pss", CKM_SHA256_RSA_PKCS_PSS, CKK_RSA },
	{ "ecdsa", CKM_ECDSA_SHA256, CKK_EC },
};

struct worker {
	struct bench *b;
	const struct mech_def *m;
	CK_OBJECT_HANDLE key;
	bool always;
	unsigned n;
	double *lat_ms;
	pthread_barrier_t *start;
	int failed;
	/* the one-thread run: the counts just before the last signature */
	struct counts *before_last;
};

static CK_RV sign_once(struct worker *w, CK_SESSION_HANDLE s)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM mech = { w->m->type, NULL, 0 };
	CK_BYTE sig[1024];
	CK_ULONG sig_len = sizeof(sig);
	CK_RV rv;

	if (w->m->type == CKM_SHA256_RSA_PKCS_PSS) {
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
	}
	rv = w->b->f->C_SignInit(s, &mech, w->key);
	if (rv == CKR_OK && w->always)
		rv = w->b->f->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)w->b->pin,
				      strlen(w->b->pin));
	if (rv == CKR_OK)
		rv = w->b->f->C_Sign(s, (CK_BYTE_PTR)sig_input, sizeof(sig_input), sig, &sig_len);
	return rv;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE s;
	CK_RV rv;

	rv = w->b->f->C_OpenSession(w->b->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	pthread_barrier_wait(w->start);
	if (check(rv, "C_OpenSession (thread)")) {
		w->failed = 1;
		return NULL;
	}
	for (unsigned i = 0; i < w->n; i++) {
		double t0;

		if (w->before_last && i + 1 == w->n)
			snapshot(w->b, w->before_last);
		t0 = now_s();
		rv = sign_once(w, s);
		w->lat_ms[i] = (now_s() - t0) * 1000.0;
		if (check(rv, w->m->name)) {
			w->failed = 1;
			break;
		}
	}
	w->b->f->C_CloseSession(s);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

static int run_sign(struct bench *b, const struct mech_def *m, unsigned threads)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t start;
	struct counts c0, c1, before_last;
	struct run *r = &b->runs[b->n_runs];
	double *lat, t0;
	unsigned total = 0, per = b->count / threads ? b->count / threads : 1;
	bool always = false;
	CK_OBJECT_HANDLE key = find_key(b, b->s, m->key_type, &always);
	size_t nl = 0;

	memset(r, 0, sizeof(*r));
	r->mech = m->name;
	r->threads = threads;
	if (key == CK_INVALID_HANDLE) {
		fprintf(stderr, "vnpki-bench: no %s private key for %s\n",
			m->key_type == CKK_RSA ? "RSA" : "EC", m->name);
		return -1;
	}
	lat = calloc((size_t)per * threads, sizeof(*lat));
	if (!lat)
		return -1;
	pthread_barrier_init(&start, NULL, threads + 1);
	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct worker){ .b = b, .m = m, .key = key, .always = always, .n = per,
					.lat_ms = lat + (size_t)i * per, .start = &start,
					.before_last = threads == 1 ? &before_last : NULL };
		if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "vnpki-bench: cannot start a thread\n");
			exit(2);
		}
	}
	snapshot(b, &c0);
	pthread_barrier_wait(&start);
	t0 = now_s();
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		r->failed |= w[i].failed;
	}
	r->secs = now_s() - t0;
	snapshot(b, &c1);
	pthread_barrier_destroy(&start);
	total = per * threads;
	for (size_t i = 0; i < total; i++)
		if (lat[i] > 0)
			lat[nl++] = lat[i];
	qsort(lat, nl, sizeof(*lat), cmp_double);
	r->sigs = total;
	r->p50_ms = percentile(lat, nl, 0.50);
	r->p99_ms = percentile(lat, nl, 0.99);
	r->apdus = delta(c0.apdus, c1.apdus);
	r->pcsc = delta(c0.pcsc, c1.pcsc);
	r->last_apdus = threads == 1 ? delta(before_last.apdus, c1.apdus) : UINT64_MAX;
	free(lat);
	b->n_runs++;
	return r->failed ? -1 : 0;
}

/* ---- output ---- */

static void fmt_per(char *buf, size_t cap, uint64_t n, unsigned ops)
{
	if (n == UINT64_MAX || !ops)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.2f", (double)n / ops);
}

static void json_num(FILE *f, const char *key, uint64_t n, unsigned ops, const char *sep)
{
	if (n == UINT64_MAX || !ops)
		fprintf(f, "\"%s\": null%s", key, sep);
	else
		fprintf(f, "\"%s\": %.3f%s", key, (double)n / ops, sep);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void print_json(const struct bench *b)
{
	printf("{\"name\": ");
	json_str(stdout, b->name);
	printf(", \"module\": ");
	json_str(stdout, b->module);
	printf(", \"token\": ");
	json_str(stdout, b->token_label);
	printf(", \"rss_kb\": %ld, \"objects\": %u, \"certificates\": %u,\n", b->rss_kb,
	       b->n_objects, b->n_certs);
	printf(" \"enumeration\": {\"ms\": %.3f, ", b->enumeration.ms);
	json_num(stdout, "apdus", b->enumeration.apdus, 1, ", ");
	json_num(stdout, "pcsc", b->enumeration.pcsc, 1, "},\n");
	printf(" \"login\": {\"ms\": %.3f, ", b->login.ms);
	json_num(stdout, "apdus", b->login.apdus, 1, ", ");
	json_num(stdout, "pcsc", b->login.pcsc, 1, "},\n");
	printf(" \"sign\": [");
	for (unsigned i = 0; i < b->n_runs; i++) {
		const struct run *r = &b->runs[i];

		printf("%s\n  {\"mech\": \"%s\", \"threads\": %u, \"signatures\": %u, "
		       "\"per_s\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, ",
		       i ? "," : "", r->mech, r->threads, r->sigs, r->secs > 0 ? r->sigs / r->secs : 0,
		       r->p50_ms, r->p99_ms);
		json_num(stdout, "apdus_per_op", r->apdus, r->sigs, ", ");
		json_num(stdout, "pcsc_per_op", r->pcsc, r->sigs, ", ");
		json_num(stdout, "last_apdus", r->last_apdus, 1, "}");
	}
	printf("\n ]}\n");
}

static void print_text_run(const struct run *r)
{
	char a[32], p[32];

	fmt_per(a, sizeof(a), r->apdus, r->sigs);
	fmt_per(p, sizeof(p), r->pcsc, r->sigs);
	printf("sign %-9s %2u thread%s %5u signatures: %8.1f/s  p50 %8.3f ms  p99 %8.3f ms  "
	       "APDUs/op %s  pcscd round trips/op %s\n",
	       r->mech, r->threads, r->threads == 1 ? " " : "s", r->sigs,
	       r->secs > 0 ? r->sigs / r->secs : 0.0, r->p50_ms, r->p99_ms, a, p);
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: vnpki-bench --module PATH [--slot N] [--pin PIN] [--count N]\n"
		"         [--threads 1,8] [--mechs rsa-pkcs,rsa-pss,ecdsa] [--key-id HEX] [--setup]\n"
		"         [--json] [--name NAME] [--vtoken-stats FILE --vtoken-pid PID]\n"
		"         [--pcsc-shim PATH] [--max-sign-apdus N] [--max-enum-apdus N]\n");
}

static int parse_list(const char *s, unsigned *out, unsigned max)
{
	unsigned n = 0;
	char *end;

	while (*s && n < max) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > MAX_THREADS)
			return -1;
		out[n++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return (int)n;
}

static int hex_id(const char *s, CK_BYTE *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (CK_BYTE)v;
	}
	*ret_len = n / 2;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "slot", required_argument, NULL, 's' },
		{ "pin", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "mechs", required_argument, NULL, 'k' },
		{ "key-id", required_argument, NULL, 'i' },
		{ "setup", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "name", required_argument, NULL, 'N' },
		{ "vtoken-stats", required_argument, NULL, 'V' },
		{ "vtoken-pid", required_argument, NULL, 'P' },
		{ "pcsc-shim", required_argument, NULL, 'C' },
		{ "max-sign-apdus", required_argument, NULL, 'M' },
		{ "max-enum-apdus", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench *b = calloc(1, sizeof(*b));
	const char *mechs = "rsa-pkcs,rsa-pss,ecdsa", *shim = NULL;
	unsigned threads[8] = { 1, 8 };
	int n_threads = 2, c, setup = 0, json = 0, rc = 1;
	long max_sign = -1, max_enum = -1, slot_arg = -1, rss0;
	void *dl, *shim_dl = NULL;
	CK_RV (*get_interface)(CK_UTF8CHAR_PTR, CK_VERSION_PTR, CK_INTERFACE_PTR_PTR, CK_FLAGS);
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_INTERFACE_PTR iface;
	CK_VERSION ver = { VNPKI_INTERFACE_VERSION_MAJOR, VNPKI_INTERFACE_VERSION_MINOR };
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16, nobj = 0;
	CK_TOKEN_INFO ti;
	CK_OBJECT_HANDLE objs[64];
	CK_OBJECT_CLASS cert_cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE cert_t[] = { { CKA_CLASS, &cert_cls, sizeof(cert_cls) } };
	struct counts c0, c1, c2;
	double t0;

	if (!b)
		return 2;
	b->pin = "123456";
	b->count = 20;
	b->name = "module";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': b->module = optarg; break;
		case 's': slot_arg = strtol(optarg, NULL, 0); break;
		case 'p': b->pin = optarg; break;
		case 'n': b->count = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': n_threads = parse_list(optarg, threads, 8); break;
		case 'k': mechs = optarg; break;
		case 'i':
			if (hex_id(optarg, b->key_id, sizeof(b->key_id), &b->key_id_len)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'S': setup = 1; break;
		case 'j': json = 1; break;
		case 'N': b->name = optarg; break;
		case 'V': b->vt_stats = optarg; break;
		case 'P': b->vt_pid = (pid_t)strtol(optarg, NULL, 10); break;
		case 'C': shim = optarg; break;
		case 'M': max_sign = strtol(optarg, NULL, 0); break;
		case 'E': max_enum = strtol(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!b->module || b->count == 0 || n_threads <= 0 || (!b->vt_stats != !(b->vt_pid > 0))) {
		usage(stderr);
		return 2;
	}
	rss0 = vm_rss_kb();
	if (shim) {
		shim_dl = dlopen(shim, RTLD_NOW | RTLD_GLOBAL);
		if (!shim_dl) {
			fprintf(stderr, "vnpki-bench: %s\n", dlerror());
			return 2;
		}
		*(void **)&b->pcsc_count = dlsym(shim_dl, "vnpki_pcsc_count");
	}
	dl = dlopen(b->module, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "vnpki-bench: %s\n", dlerror());
		return 2;
	}
	*(void **)&get_interface = dlsym(dl, "C_GetInterface");
	*(void **)&get_list = dlsym(dl, "C_GetFunctionList");
	if (!get_list || check(get_list(&b->f), "C_GetFunctionList"))
		goto out_close;

	/* 1. enumeration, cold */
	snapshot(b, &c0); /* the vendor interface is not there yet: token counts only */
	t0 = now_s();
	if (check(b->f->C_Initialize(&init), "C_Initialize"))
		goto out_close;
	if (get_interface &&
	    get_interface((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, &ver, &iface, 0) == CKR_OK)
		b->ext = iface->pFunctionList;
	if (check(b->f->C_GetSlotList(CK_TRUE, slots, &nslots), "C_GetSlotList") || nslots == 0) {
		fprintf(stderr, "vnpki-bench: no token\n");
		goto out_fin;
	}
	b->slot = slots[0];
	for (CK_ULONG i = 0; slot_arg >= 0 && i < nslots; i++)
		if (slots[i] == (CK_SLOT_ID)slot_arg)
			b->slot = slots[i];
	if (check(b->f->C_GetTokenInfo(b->slot, &ti), "C_GetTokenInfo") ||
	    check(b->f->C_OpenSession(b->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				      &b->s),
		  "C_OpenSession") ||
	    check(b->f->C_FindObjectsInit(b->s, cert_t, 1), "C_FindObjectsInit") ||
	    check(b->f->C_FindObjects(b->s, objs, 64, &nobj), "C_FindObjects") ||
	    check(b->f->C_FindObjectsFinal(b->s), "C_FindObjectsFinal"))
		goto out_fin;
	for (CK_ULONG i = 0; i < nobj; i++) {
		CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
		CK_BYTE *val;

		if (b->f->C_GetAttributeValue(b->s, objs[i], &v, 1) != CKR_OK ||
		    v.ulValueLen == CK_UNAVAILABLE_INFORMATION)
			continue;
		val = malloc(v.ulValueLen ? v.ulValueLen : 1);
		v.pValue = val;
		if (val && b->f->C_GetAttributeValue(b->s, objs[i], &v, 1) == CKR_OK)
			b->n_certs++;
		free(val);
	}
	b->enumeration.ms = (now_s() - t0) * 1000.0;
	b->n_objects = (unsigned)nobj;
	memcpy(b->token_label, ti.label, 32);
	for (int i = 31; i >= 0 && b->token_label[i] == ' '; i--)
		b->token_label[i] = '\0';
	snapshot(b, &c1);
	b->rss_kb = vm_rss_kb() - rss0;
	/* Our vendor counters start at C_Initialize: from zero. */
	if (!b->vt_stats && b->ext)
		c0.apdus = 0;
	b->enumeration.apdus = delta(c0.apdus, c1.apdus);
	b->enumeration.pcsc = delta(c0.pcsc, c1.pcsc);

	/* 2. login */
	t0 = now_s();
	if (check(b->f->C_Login(b->s, CKU_USER, (CK_UTF8CHAR_PTR)b->pin, strlen(b->pin)),
		  "C_Login"))
		goto out_fin;
	b->login.ms = (now_s() - t0) * 1000.0;
	snapshot(b, &c2);
	b->login.apdus = delta(c1.apdus, c2.apdus);
	b->login.pcsc = delta(c1.pcsc, c2.pcsc);
	if (!json) {
		char a[32], p[32];

		printf("%s: %s, token \"%s\"; module resident memory %ld KiB\n", b->name, b->module,
		       b->token_label, b->rss_kb);
		fmt_per(a, sizeof(a), b->enumeration.apdus, 1);
		fmt_per(p, sizeof(p), b->enumeration.pcsc, 1);
		printf("enumerate: C_Initialize..C_FindObjects + %u certificate values: %.1f ms, "
		       "APDUs %s, pcscd round trips %s\n",
		       b->n_certs, b->enumeration.ms, a, p);
		print_by_ins(&c0, &c1);
		fmt_per(a, sizeof(a), b->login.apdus, 1);
		fmt_per(p, sizeof(p), b->login.pcsc, 1);
		printf("login: %.1f ms, APDUs %s, pcscd round trips %s\n", b->login.ms, a, p);
	}
	if (setup && setup_keys(b))
		goto out_fin;

	/* 3. signatures */
	rc = 0;
	for (size_t mi = 0; mi < sizeof(mech_defs) / sizeof(mech_defs[0]); mi++) {
		const char *p = strstr(mechs, mech_defs[mi].name);
		size_t nl = strlen(mech_defs[mi].name);

		if (!p || (p[nl] && p[nl] != ','))
			continue;
		for (int ti_ = 0; ti_ < n_threads; ti_++) {
			if (b->n_runs >= MAX_RUNS * MAX_MECHS)
				break;
			if (run_sign(b, &mech_defs[mi], threads[ti_]) != 0)
				rc = 1;
			if (!json)
				print_text_run(&b->runs[b->n_runs - 1]);
		}
	}
	if (json)
		print_json(b);
	if (max_enum >= 0 && b->enumeration.apdus != UINT64_MAX &&
	    b->enumeration.apdus > (uint64_t)max_enum) {
		fprintf(stderr, "vnpki-bench: the enumeration took %llu APDUs, more than %ld\n",
			(unsigned long long)b->enumeration.apdus, max_enum);
		rc = 1;
	}
	for (unsigned i = 0; max_sign >= 0 && i < b->n_runs; i++) {
		const struct run *r = &b->runs[i];

		if (r->last_apdus != UINT64_MAX && r->last_apdus > (uint64_t)max_sign) {
			fprintf(stderr, "vnpki-bench: a steady-state %s signature took %llu APDUs, "
					"more than %ld\n",
				r->mech, (unsigned long long)r->last_apdus, max_sign);
			rc = 1;
		}
	}
out_fin:
	b->f->C_Finalize(NULL);
out_close:
	dlclose(dl);
	if (shim_dl)
		dlclose(shim_dl);
	free(b);
	return rc;
}
