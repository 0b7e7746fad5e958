/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Coalesced signing (issue 6), TAP. On a fresh in-process virtual token with an RSA-2048 and
 * a P-256 key, 8 threads (one session each) sign at once:
 *  - every signature verifies (with the module's C_Verify, on the host), and the token saw
 *    fewer signing APDUs (SIGN / SIGN BATCH) and fewer card operations than signatures, and
 *    no MSE SET / PSO at all;
 * The card takes 10 ms per signature (VNPKI_VTOKEN_SIGN_MS), as a real token takes its time.
 *  - error case: in rounds where 8 ECDSA requests wait together behind an RSA signature,
 *    one carries an input the card refuses (65 bytes): that caller alone gets
 *    CKR_DATA_LEN_RANGE, the 7 others get signatures that verify; at least one round must
 *    have sent all 8 as one batch.
 *
 * With --bench it measures instead (no token is made; VNPKI_CONF and VNPKI_MODULE say where
 * the token is; the keys are vnpki-bench's: CKA_ID b1 RSA-2048, b2 P-256, made with
 * `vnpki-bench --setup`): for 1 and 8 threads, signatures per second, reader calls (pcscd
 * round trips) and APDUs per signature, card operations per signature.
 *   test-p11-batch --bench --pin PIN [--seconds S] [--threads N,...] [--check]
 *                  [--rsa-id HEX --ec-id HEX]   (CKA_ID of the keys; any module, e.g. OpenSC)
 * --check makes the exit status 1 when a lone signature costs more than one reader call
 * (one pcscd round trip) or one APDU, or when several threads were not coalesced at all. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define N_THREADS 8
#define N_SIGS 25
#define N_ROUNDS 12
#define SIGN_MS "10" /* the in-process card's time per signature (VNPKI_VTOKEN_SIGN_MS) */
#define PIN "123456"

static CK_FUNCTION_LIST_3_0_PTR f;
static const struct vnp_ext_functions *ext;
static CK_SLOT_ID slot;
static CK_BBOOL yes = CK_TRUE;
static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static CK_OBJECT_HANDLE rsa_pub, rsa_priv, ec_pub, ec_priv;
static pthread_barrier_t barrier;
static atomic_ulong n_bad, n_signed;
static const char *pin = PIN;
static bool check; /* --check: budgets (one reader call per lone signature, batches with 8) */

struct worker {
	int idx;
	pthread_t th;
	CK_SESSION_HANDLE h;
	/* round mode */
	bool blocker, bad;
	CK_RV rv;
	/* bench mode */
	CK_MECHANISM_TYPE mech;
	CK_OBJECT_HANDLE key;
	double seconds;
	unsigned long count;
};

static void bad(const char *what, CK_RV rv)
{
	if (atomic_fetch_add(&n_bad, 1) < 10)
		printf("# %s: 0x%lx\n", what, (unsigned long)rv);
}

/* Sign data with key and mech in session h; check it with the public key when pub. */
static CK_RV sign_one(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key,
		      CK_OBJECT_HANDLE pub, CK_BYTE *data, CK_ULONG len)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_BYTE sig[512];
	CK_ULONG slen = sizeof(sig);
	CK_RV rv;

	rv = f->C_SignInit(h, &m, key);
	if (rv == CKR_OK)
		rv = f->C_Sign(h, data, len, sig, &slen);
	if (rv != CKR_OK || !pub)
		return rv;
	rv = f->C_VerifyInit(h, &m, pub);
	if (rv == CKR_OK)
		rv = f->C_Verify(h, data, len, sig, slen);
	if (rv != CKR_OK)
		bad("C_Verify", rv);
	return rv == CKR_OK ? CKR_OK : CKR_SIGNATURE_INVALID;
}

static void *signer(void *arg)
{
	struct worker *w = arg;
	CK_BYTE data[64];
	CK_RV rv;

	pthread_barrier_wait(&barrier);
	for (int i = 0; i < N_SIGS; i++) {
		bool rsa = (i + w->idx) % 2 == 0;

		snprintf((char *)data, sizeof(data), "thread %d signature %d", w->idx, i);
		rv = sign_one(w->h, rsa ? CKM_SHA256_RSA_PKCS : CKM_ECDSA_SHA256,
			      rsa ? rsa_priv : ec_priv, rsa ? rsa_pub : ec_pub, data,
			      (CK_ULONG)strlen((char *)data));
		if (rv != CKR_OK)
			bad("C_Sign", rv);
		else
			atomic_fetch_add(&n_signed, 1);
	}
	return NULL;
}

/* One round of the error case: the blocker signs with RSA first, the others with ECDSA a
 * moment later (so they queue behind it); the bad one's input is 65 bytes. */
static void *rounder(void *arg)
{
	struct worker *w = arg;
	CK_BYTE data[65];
	struct timespec ts = { 0, 300 * 1000 };

	memset(data, 0x5A, sizeof(data));
	data[0] = (CK_BYTE)w->idx;
	pthread_barrier_wait(&barrier);
	if (w->blocker) {
		w->rv = sign_one(w->h, CKM_SHA256_RSA_PKCS, rsa_priv, rsa_pub, data, 32);
		return NULL;
	}
	nanosleep(&ts, NULL);
	w->rv = sign_one(w->h, CKM_ECDSA, ec_priv, w->bad ? 0 : ec_pub, data, w->bad ? 65 : 32);
	return NULL;
}

static void start_workers(struct worker *w, int n, void *(*fn)(void *))
{
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		pthread_create(&w[i].th, NULL, fn, &w[i]);
	for (int i = 0; i < n; i++)
		pthread_join(w[i].th, NULL);
	pthread_barrier_destroy(&barrier);
}

static void setup_keys(CK_SESSION_HANDLE h)
{
	CK_MECHANISM mrsa = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM mec = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 1, 0, 1 }, id_rsa = 1, id_ec = 2;
	CK_ATTRIBUTE pub[] = { { CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
			       { CKA_MODULUS_BITS, &bits, sizeof(bits) },
			       { CKA_PUBLIC_EXPONENT, e, 3 } };
	CK_ATTRIBUTE priv[] = { { CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 },
				{ CKA_ID, &id_rsa, 1 }, { CKA_LABEL, (char *)"rsa", 3 } };
	CK_ATTRIBUTE ecpub[] = { { CKA_TOKEN, &yes, 1 },
				 { CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE ecpriv[] = { { CKA_SIGN, &yes, 1 }, { CKA_ID, &id_ec, 1 },
				  { CKA_LABEL, (char *)"ec", 2 } };

	RV(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	RV(f->C_GenerateKeyPair(h, &mrsa, pub, 4, priv, 4, &rsa_pub, &rsa_priv), CKR_OK);
	RV(f->C_GenerateKeyPair(h, &mec, ecpub, 2, ecpriv, 3, &ec_pub, &ec_priv), CKR_OK);
}

static void *setup_thread(void *arg)
{
	setup_keys(*(CK_SESSION_HANDLE *)arg);
	return NULL;
}

static int setup_token(void)
{
	if (!h_make_dir("p11b"))
		return -1;
	return h_init_token("--serial 5654000000000066 --label batch --pin " PIN);
}

static bool find_slot(void)
{
	CK_ULONG n = 1;

	return f->C_GetSlotList(CK_TRUE, &slot, &n) == CKR_OK && n >= 1;
}

static void open_sessions(struct worker *w, int n)
{
	for (int i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &w[i].h) != CKR_OK)
			bad("C_OpenSession", 0);
	}
}

static void close_sessions(struct worker *w, int n)
{
	for (int i = 0; i < n; i++)
		f->C_CloseSession(w[i].h);
}

static void test_concurrent(void)
{
	struct vnp_ext_apdu_stats st;
	struct worker w[N_THREADS];
	unsigned long total = N_THREADS * N_SIGS;

	RV(ext->reset_apdu_stats(slot), CKR_OK);
	open_sessions(w, N_THREADS);
	start_workers(w, N_THREADS, signer);
	close_sessions(w, N_THREADS);
	ok(atomic_load(&n_signed) == total && atomic_load(&n_bad) == 0,
	   "%d threads: %lu of %lu signatures made and verified", N_THREADS,
	   (unsigned long)atomic_load(&n_signed), total);
	RV(ext->get_apdu_stats(slot, &st), CKR_OK);
	printf("# %lu signatures: %lu card operations, %lu SIGN/SIGN BATCH APDUs, %lu APDUs, "
	       "%lu reader calls, %lu transactions\n", total, (unsigned long)st.sign_card_ops,
	       (unsigned long)st.by_ins[0x2B], (unsigned long)st.apdus,
	       (unsigned long)st.reader_calls, (unsigned long)st.transactions);
	ok(st.sign_requests == total, "every request counted (%lu)",
	   (unsigned long)st.sign_requests);
	ok(st.sign_card_ops < total, "coalesced: %lu card operations for %lu signatures",
	   (unsigned long)st.sign_card_ops, total);
	ok(st.by_ins[0x2B] < total && st.by_ins[0x2B] == st.sign_card_ops,
	   "the token saw fewer signing APDUs (%lu) than signatures",
	   (unsigned long)st.by_ins[0x2B]);
	ok(st.by_ins[0x22] == 0 && st.by_ins[0x2A] == 0 && st.transactions == 0,
	   "no MSE SET, no PSO, no transaction");
}

static void test_error_in_batch(void)
{
	struct worker w[N_THREADS + 1];
	int full = 0, wrong = 0;

	for (int r = 0; r < N_ROUNDS; r++) {
		struct vnp_ext_apdu_stats a, b;
		int badi = 1 + r % N_THREADS;

		open_sessions(w, N_THREADS + 1);
		w[0].blocker = true;
		w[badi].bad = true;
		ext->get_apdu_stats(slot, &a);
		start_workers(w, N_THREADS + 1, rounder);
		ext->get_apdu_stats(slot, &b);
		close_sessions(w, N_THREADS + 1);
		for (int i = 0; i <= N_THREADS; i++) {
			CK_RV want = w[i].bad ? CKR_DATA_LEN_RANGE : CKR_OK;

			if (w[i].rv != want) {
				wrong++;
				printf("# round %d thread %d: 0x%lx, want 0x%lx\n", r, i,
				       (unsigned long)w[i].rv, (unsigned long)want);
			}
		}
		if (b.sign_card_ops - a.sign_card_ops == 2)
			full++;
	}
	ok(wrong == 0 && atomic_load(&n_bad) == 0, "bad input in a batch: only its caller gets CKR_DATA_LEN_RANGE, %d rounds",
	   N_ROUNDS);
	ok(full >= N_ROUNDS / 2, "%d of %d rounds sent the 8 ECDSA requests (one bad) as one batch", full,
	   N_ROUNDS);
}

/* Card removal while 8 threads sign in a loop: every C_Sign ends with a signature or a
 * removal code, nothing crashes (a token reaped while signers are at the card is freed by
 * the last of them); back in, a new session signs. */
static atomic_int stop_loop;
static atomic_ulong n_removed_rv;

static void *loop_signer(void *arg)
{
	struct worker *w = arg;
	CK_BYTE data[32];

	memset(data, w->idx, sizeof(data));
	pthread_barrier_wait(&barrier);
	while (!atomic_load(&stop_loop)) {
		CK_RV rv = sign_one(w->h, CKM_ECDSA, ec_priv, 0, data, sizeof(data));

		if (rv == CKR_OK)
			continue;
		if (rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
		    rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED)
			atomic_fetch_add(&n_removed_rv, 1);
		else
			bad("C_Sign during removal", rv);
		break;
	}
	return NULL;
}

static void *puller(void *arg)
{
	char *moved = arg;
	struct timespec ts = { 0, 60 * 1000 * 1000 };

	pthread_barrier_wait(&barrier);
	nanosleep(&ts, NULL);
	if (rename(h_state_path(), moved) != 0)
		bad("rename", 0);
	return NULL;
}

static void test_removal(void)
{
	struct worker w[N_THREADS + 1];
	char moved[4096];
	CK_SESSION_HANDLE h;
	CK_ULONG n = 0;
	bool back = false;
	unsigned long before = atomic_load(&n_bad);

	snprintf(moved, sizeof(moved), "%s.away", h_state_path());
	open_sessions(w, N_THREADS);
	pthread_barrier_init(&barrier, NULL, N_THREADS + 1);
	for (int i = 0; i < N_THREADS; i++)
		pthread_create(&w[i].th, NULL, loop_signer, &w[i]);
	pthread_create(&w[N_THREADS].th, NULL, puller, moved);
	for (int i = 0; i <= N_THREADS; i++)
		pthread_join(w[i].th, NULL);
	pthread_barrier_destroy(&barrier);
	ok(atomic_load(&n_bad) == before && atomic_load(&n_removed_rv) == N_THREADS,
	   "card pulled while %d threads sign: each ends with a removal code (%lu)", N_THREADS,
	   (unsigned long)atomic_load(&n_removed_rv));
	close_sessions(w, N_THREADS);
	back = rename(moved, h_state_path()) == 0;
	ok(back, "card back");
	for (int i = 0; i < 50 && n == 0; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		n = 1;
		if (f->C_GetSlotList(CK_TRUE, &slot, &n) != CKR_OK)
			n = 0;
		if (n == 0)
			nanosleep(&ts, NULL);
	}
	ok(n == 1, "token present again");
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	RV(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	{
		CK_BYTE data[32] = { 1 };
		CK_OBJECT_HANDLE k = 0, pk = 0;
		CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY, pcls = CKO_PUBLIC_KEY;
		CK_BYTE id = 2;
		CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, &id, 1 } };
		CK_ATTRIBUTE pt[] = { { CKA_CLASS, &pcls, sizeof(pcls) }, { CKA_ID, &id, 1 } };

		n = 0;
		if (f->C_FindObjectsInit(h, t, 2) == CKR_OK) {
			f->C_FindObjects(h, &k, 1, &n);
			f->C_FindObjectsFinal(h);
		}
		if (f->C_FindObjectsInit(h, pt, 2) == CKR_OK) {
			f->C_FindObjects(h, &pk, 1, &n);
			f->C_FindObjectsFinal(h);
		}
		RV(sign_one(h, CKM_ECDSA, k, pk, data, sizeof(data)), CKR_OK);
	}
	RV(f->C_CloseSession(h), CKR_OK);
}

/* C_Finalize while a C_Sign is at the card (without the module lock): C_Finalize waits for
 * it; the signature comes back and nothing is used after it was freed. */
static atomic_int at_card;

static void *final_signer(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE data[32] = { 7 }, sig[128];
	CK_ULONG slen = sizeof(sig);

	w->rv = f->C_SignInit(w->h, &m, w->key);
	atomic_store(&at_card, 1);
	if (w->rv == CKR_OK)
		w->rv = f->C_Sign(w->h, data, sizeof(data), sig, &slen);
	return NULL;
}

static void test_finalize_while_signing(void)
{
	struct worker w;
	struct timespec ts = { 0, 3 * 1000 * 1000 }; /* the card takes SIGN_MS (10 ms) */
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_BYTE id = 2;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, &id, 1 } };
	CK_ULONG n = 0;

	memset(&w, 0, sizeof(w));
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &w.h), CKR_OK);
	RV(f->C_Login(w.h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	if (f->C_FindObjectsInit(w.h, t, 2) == CKR_OK) {
		f->C_FindObjects(w.h, &w.key, 1, &n);
		f->C_FindObjectsFinal(w.h);
	}
	ok(n == 1, "the EC key");
	pthread_create(&w.th, NULL, final_signer, &w);
	while (!atomic_load(&at_card))
		nanosleep(&(struct timespec){ 0, 100 * 1000 }, NULL);
	nanosleep(&ts, NULL);
	RV(f->C_Finalize(NULL), CKR_OK);
	pthread_join(w.th, NULL);
	RV(w.rv, CKR_OK);
}

/* ---- bench mode ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bencher(void *arg)
{
	struct worker *w = arg;
	CK_BYTE data[32];
	double end;

	memset(data, w->idx, sizeof(data));
	pthread_barrier_wait(&barrier);
	end = now_s() + w->seconds;
	while (now_s() < end) {
		CK_RV rv = sign_one(w->h, w->mech, w->key, 0, data, sizeof(data));

		if (rv != CKR_OK) {
			bad("C_Sign", rv);
			break;
		}
		w->count++;
	}
	return NULL;
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE h, CK_BYTE id)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, &id, 1 } };
	CK_OBJECT_HANDLE k = 0;
	CK_ULONG n = 0;

	if (f->C_FindObjectsInit(h, t, 2) == CKR_OK) {
		f->C_FindObjects(h, &k, 1, &n);
		f->C_FindObjectsFinal(h);
	}
	return n == 1 ? k : 0;
}

static int bench(double seconds, const char *threads, CK_BYTE rsa_id, CK_BYTE ec_id)
{
	const struct { const char *name; CK_MECHANISM_TYPE mech; CK_BYTE id; } kinds[] = {
		{ "RSA-2048 (CKM_SHA256_RSA_PKCS)", CKM_SHA256_RSA_PKCS, rsa_id },
		{ "P-256 (CKM_ECDSA_SHA256)", CKM_ECDSA_SHA256, ec_id },
	};
	CK_SESSION_HANDLE keep;

	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &keep) != CKR_OK ||
	    f->C_Login(keep, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)) != CKR_OK) {
		fprintf(stderr, "test-p11-batch: cannot log in\n");
		return 1;
	}
	for (size_t k = 0; k < 2; k++) {
		CK_OBJECT_HANDLE key = find_key(keep, kinds[k].id);
		char list[64];

		if (!key) {
			fprintf(stderr, "test-p11-batch: no key %02x (vnpki-bench --setup)\n",
				kinds[k].id);
			return 1;
		}
		snprintf(list, sizeof(list), "%s", threads);
		for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
			int n = atoi(tok);
			struct worker *w = calloc((size_t)n, sizeof(*w));
			struct vnp_ext_apdu_stats st;
			unsigned long total = 0;
			double t0, dt;

			if (n < 1 || !w)
				return 1;
			open_sessions(w, n);
			for (int i = 0; i < n; i++) {
				w[i].mech = kinds[k].mech;
				w[i].key = key;
				w[i].seconds = seconds;
			}
			/* warm up: one signature (the key's first use) */
			sign_one(w[0].h, kinds[k].mech, key, 0, (CK_BYTE *)"warm-up-warm-up-warm-up-warm-up", 32);
			memset(&st, 0, sizeof(st));
			if (ext)
				ext->reset_apdu_stats(slot);
			t0 = now_s();
			start_workers(w, n, bencher);
			dt = now_s() - t0;
			for (int i = 0; i < n; i++)
				total += w[i].count;
			if (ext)
				ext->get_apdu_stats(slot, &st);
			close_sessions(w, n);
			printf("%-32s threads %2d: %7.1f sig/s, %lu signatures in %.2f s, per signature: "
			       "%.2f reader calls, %.2f APDUs, %.2f card operations\n",
			       kinds[k].name, n, (double)total / dt, total, dt,
			       total ? (double)st.reader_calls / (double)total : 0.0,
			       total ? (double)st.apdus / (double)total : 0.0,
			       total ? (double)st.sign_card_ops / (double)total : 0.0);
			fflush(stdout);
			free(w);
			if (check && !ext) {
				fprintf(stderr, "--check needs the vnpki vendor interface\n");
				return 1;
			}
			if (check && n == 1 && (st.reader_calls != total || st.apdus != total)) {
				fprintf(stderr, "budget: a lone signature took more than one reader "
						"call\n");
				return 1;
			}
			if (check && n > 1 && st.sign_card_ops >= total) {
				fprintf(stderr, "budget: %d threads were not coalesced\n", n);
				return 1;
			}
		}
	}
	f->C_CloseSession(keep);
	return atomic_load(&n_bad) ? 1 : 0;
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS os = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetInterface get_if;
	CK_SESSION_HANDLE keep;
	const char *threads = "1,8";
	CK_BYTE rsa_id = 0xb1, ec_id = 0xb2;
	double seconds = 5;
	bool bench_mode = false;
	void *mod;
	int rv;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bench"))
			bench_mode = true;
		else if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--pin") && i + 1 < argc)
			pin = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = argv[++i];
		else if (!strcmp(argv[i], "--rsa-id") && i + 1 < argc)
			rsa_id = (CK_BYTE)strtoul(argv[++i], NULL, 16);
		else if (!strcmp(argv[i], "--ec-id") && i + 1 < argc)
			ec_id = (CK_BYTE)strtoul(argv[++i], NULL, 16);
	}
	if (bench_mode) {
		mod = h_load_module();
		f = mod ? h_pkcs11_3_0(mod, &get_if) : NULL;
		/* another module (OpenSC, for comparison) has no vendor interface: no counters */
		ext = f ? h_vendor(get_if) : NULL;
		if (!f || f->C_Initialize(&os) != CKR_OK || !find_slot())
			return 1;
		rv = bench(seconds, threads, rsa_id, ec_id);
		f->C_Finalize(NULL);
		return rv;
	}
	setenv("VNPKI_VTOKEN_SIGN_MS", SIGN_MS, 1);
	f = h_start(setup_token, &mod, &get_if);
	if (!f)
		return 1;
	ext = h_vendor(get_if);
	RV(f->C_Initialize(&os), CKR_OK);
	ok(find_slot(), "one token");
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &keep), CKR_OK);
	{
		/* The card's work for the main thread happens in another thread: the virtual
		 * token's OpenSSL library context is freed when the card is pulled, by whichever
		 * thread notices, and OpenSSL 3.0 then leaves the per-thread data of other
		 * threads that used it dangling until their exit (here: the process's). */
		pthread_t th;

		pthread_create(&th, NULL, setup_thread, &keep);
		pthread_join(th, NULL);
	}
	if (ext) {
		test_concurrent();
		test_error_in_batch();
	}
	test_removal();
	f->C_CloseSession(keep); /* closed already by the removal */
	test_finalize_while_signing(); /* finalizes */
	return h_finish(mod);
}
