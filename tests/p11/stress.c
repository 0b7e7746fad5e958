/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Thread stress of the built module (TAP), issue 5: one in-process virtual token with an
 * RSA-2048 and a P-256 key; 16 threads x 200 randomised operations (sign single- and
 * multi-part, find, attributes, extra sessions, token/session info). Thread 0 owns the
 * login state (login is per token): the others accept CKR_USER_NOT_LOGGED_IN as the only
 * failure of a signature. Run twice: CKF_OS_LOCKING_OK, then the application's mutex
 * callbacks (counted; all created mutexes destroyed by C_Finalize). A fork() in the middle
 * of the first run: the child is not initialised until C_Initialize, then signs, while the
 * parent's threads go on. A watchdog fails the test after 120 s (deadlock). Seed:
 * VNPKI_STRESS_SEED (printed). */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define N_THREADS 16
#define N_OPS 200
#define PIN "123456"
#define WATCHDOG_S 120

static CK_FUNCTION_LIST_3_0_PTR f;
static const struct vnp_ext_functions *ext;
static CK_SLOT_ID slot;
static CK_BBOOL yes = CK_TRUE;
static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE id_rsa = 1, id_ec = 2;

/* The keys (handles stay valid for the life of the library). */
static CK_OBJECT_HANDLE rsa_pub, rsa_priv, ec_pub, ec_priv;
static CK_BYTE modulus[256], ec_point[128];
static CK_ULONG ec_point_len;
static unsigned seed;

/* ---- results shared by the threads ---- */

enum op { OP_SIGN_RSA, OP_SIGN_RSA_MP, OP_SIGN_EC, OP_SIGN_EC_MP, OP_FIND, OP_ATTR,
	  OP_SESSION, OP_INFO, OP_LOGIN, OP_MAX };
static const char *const op_name[OP_MAX] = { "sign-rsa", "sign-rsa-mp", "sign-ec", "sign-ec-mp",
					     "find", "attr", "session", "info", "login" };
static atomic_ulong n_ops[OP_MAX], n_signed, n_not_logged_in, n_ended, n_errors;
/* Bumped by thread 0 before and after each C_Logout (odd: a logout under way). C_Logout
 * ends the sign operations of the token's sessions (session.c, allowed by PKCS #11 2.40
 * §5.6), so a signer whose operation started before or during a logout may get
 * CKR_OPERATION_NOT_INITIALIZED, and only then. */
static atomic_ulong logouts;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

/* Record an unexpected result (the first 20 are printed as TAP comments). */
static void bad(int t, const char *what, CK_RV rv)
{
	unsigned long n = atomic_fetch_add(&n_errors, 1);

	if (n >= 20)
		return;
	pthread_mutex_lock(&err_lock);
	printf("# thread %d: %s = 0x%lx\n", t, what, (unsigned long)rv);
	fflush(stdout);
	pthread_mutex_unlock(&err_lock);
}

/* Check rv is want (or alt, when alt != want). */
static bool expect(int t, const char *what, CK_RV rv, CK_RV want, CK_RV alt)
{
	if (rv == want || rv == alt)
		return true;
	bad(t, what, rv);
	return false;
}

static unsigned next_rand(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ---- mutex callbacks (second run) ---- */

static atomic_long mx_created, mx_destroyed, mx_locks, mx_unlocks;

static CK_RV cb_create(CK_VOID_PTR_PTR ret)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (!ret || !m || pthread_mutex_init(m, NULL) != 0) {
		free(m);
		return CKR_HOST_MEMORY;
	}
	atomic_fetch_add(&mx_created, 1);
	*ret = m;
	return CKR_OK;
}

static CK_RV cb_destroy(CK_VOID_PTR m)
{
	if (!m || pthread_mutex_destroy(m) != 0)
		return CKR_MUTEX_BAD;
	free(m);
	atomic_fetch_add(&mx_destroyed, 1);
	return CKR_OK;
}

static CK_RV cb_lock(CK_VOID_PTR m)
{
	if (!m || pthread_mutex_lock(m) != 0)
		return CKR_MUTEX_BAD;
	atomic_fetch_add(&mx_locks, 1);
	return CKR_OK;
}

static CK_RV cb_unlock(CK_VOID_PTR m)
{
	if (!m || pthread_mutex_unlock(m) != 0)
		return CKR_MUTEX_NOT_LOCKED;
	atomic_fetch_add(&mx_unlocks, 1);
	return CKR_OK;
}

/* ---- operations ---- */

/* Verify sig over data (or hash for CKM_ECDSA) with the module's host-side verification. */
static void verify(int t, CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE pub,
		   CK_BYTE *data, CK_ULONG len, CK_BYTE *sig, CK_ULONG slen)
{
	CK_RV rv = f->C_VerifyInit(h, m, pub);

	if (expect(t, "C_VerifyInit", rv, CKR_OK, CKR_OK))
		expect(t, "C_Verify", f->C_Verify(h, data, len, sig, slen), CKR_OK, CKR_OK);
}

/* One signature, verified. Accepted failures: CKR_USER_NOT_LOGGED_IN (logged out), and
 * CKR_OPERATION_NOT_INITIALIZED after SignInit when a C_Logout came in between. */
static void op_sign(int t, CK_SESSION_HANDLE h, bool rsa, bool multipart, unsigned *rs)
{
	CK_MECHANISM m = { rsa ? CKM_SHA256_RSA_PKCS : CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE data[100], sig[512];
	CK_ULONG slen = sizeof(sig), len = 1 + next_rand(rs) % sizeof(data), cut = len / 2;
	unsigned long gen = atomic_load(&logouts);
	const char *step = "C_SignInit";
	CK_RV rv;

	for (CK_ULONG i = 0; i < len; i++)
		data[i] = (CK_BYTE)next_rand(rs);
	rv = f->C_SignInit(h, &m, rsa ? rsa_priv : ec_priv);
	if (rv == CKR_OK && !multipart) {
		step = "C_Sign";
		rv = f->C_Sign(h, data, len, sig, &slen);
	} else if (rv == CKR_OK) {
		step = "C_SignUpdate";
		rv = f->C_SignUpdate(h, data, cut);
		if (rv == CKR_OK)
			rv = f->C_SignUpdate(h, data + cut, len - cut);
		if (rv == CKR_OK) {
			step = "C_SignFinal";
			rv = f->C_SignFinal(h, sig, &slen);
		}
	}
	if (rv == CKR_OPERATION_NOT_INITIALIZED && strcmp(step, "C_SignInit") != 0 &&
	    (atomic_load(&logouts) != gen || (gen & 1))) {
		atomic_fetch_add(&n_ended, 1);
		return;
	}
	if (!expect(t, step, rv, CKR_OK,
		    strcmp(step, "C_SignUpdate") == 0 ? CKR_OK : CKR_USER_NOT_LOGGED_IN))
		return;
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		atomic_fetch_add(&n_not_logged_in, 1);
		return;
	}
	atomic_fetch_add(&n_signed, 1);
	if (rsa && slen != 256)
		bad(t, "RSA signature length", slen);
	verify(t, h, &m, rsa ? rsa_pub : ec_pub, data, len, sig, slen);
}

/* One search with a random template; checks the count against the login state rules. */
static void op_find(int t, CK_SESSION_HANDLE h, unsigned *rs)
{
	CK_OBJECT_CLASS pub = CKO_PUBLIC_KEY, priv = CKO_PRIVATE_KEY;
	CK_KEY_TYPE ec = CKK_EC;
	CK_ATTRIBUTE tpub[] = { { CKA_CLASS, &pub, sizeof(pub) } };
	CK_ATTRIBUTE tpriv[] = { { CKA_CLASS, &priv, sizeof(priv) } };
	CK_ATTRIBUTE tid[] = { { CKA_ID, (void *)&id_rsa, 1 } };
	CK_ATTRIBUTE tec[] = { { CKA_CLASS, &pub, sizeof(pub) }, { CKA_KEY_TYPE, &ec, sizeof(ec) } };
	CK_OBJECT_HANDLE out[8];
	CK_ULONG n = 0, lo, hi;
	CK_ATTRIBUTE *tmpl;
	CK_ULONG tn;
	CK_RV rv;

	switch (next_rand(rs) % 4) {
	case 0: tmpl = tpub; tn = 1; lo = hi = 2; break;
	case 1: tmpl = tpriv; tn = 1; lo = 0; hi = 2; break;
	case 2: tmpl = tid; tn = 1; lo = 1; hi = 2; break;
	default: tmpl = tec; tn = 2; lo = hi = 1; break;
	}
	rv = f->C_FindObjectsInit(h, tmpl, tn);
	if (!expect(t, "C_FindObjectsInit", rv, CKR_OK, CKR_OK))
		return;
	rv = f->C_FindObjects(h, out, 8, &n);
	expect(t, "C_FindObjects", rv, CKR_OK, CKR_OK);
	if (rv == CKR_OK && (n < lo || n > hi || (n == 1 && tmpl == tec && out[0] != ec_pub)))
		bad(t, "C_FindObjects count", n);
	expect(t, "C_FindObjectsFinal", f->C_FindObjectsFinal(h), CKR_OK, CKR_OK);
}

/* Attributes of the public keys (always visible) and of a private key (hidden when logged
 * out: CKR_OBJECT_HANDLE_INVALID). */
static void op_attr(int t, CK_SESSION_HANDLE h, unsigned *rs)
{
	CK_BYTE buf[512], id = 0;
	CK_ULONG bits = 0;
	CK_ATTRIBUTE a[] = { { CKA_MODULUS, buf, sizeof(buf) },
			     { CKA_MODULUS_BITS, &bits, sizeof(bits) } };
	CK_ATTRIBUTE e = { CKA_EC_POINT, buf, sizeof(buf) };
	CK_ATTRIBUTE p = { CKA_ID, &id, 1 };
	CK_RV rv;

	switch (next_rand(rs) % 3) {
	case 0:
		rv = f->C_GetAttributeValue(h, rsa_pub, a, 2);
		if (expect(t, "C_GetAttributeValue(RSA)", rv, CKR_OK, CKR_OK) &&
		    (a[0].ulValueLen != 256 || memcmp(buf, modulus, 256) != 0 || bits != 2048))
			bad(t, "RSA modulus differs", a[0].ulValueLen);
		break;
	case 1:
		rv = f->C_GetAttributeValue(h, ec_pub, &e, 1);
		if (expect(t, "C_GetAttributeValue(EC)", rv, CKR_OK, CKR_OK) &&
		    (e.ulValueLen != ec_point_len || memcmp(buf, ec_point, ec_point_len) != 0))
			bad(t, "EC point differs", e.ulValueLen);
		break;
	default:
		rv = f->C_GetAttributeValue(h, next_rand(rs) & 1 ? rsa_priv : ec_priv, &p, 1);
		if (expect(t, "C_GetAttributeValue(private)", rv, CKR_OK,
			   CKR_OBJECT_HANDLE_INVALID) &&
		    rv == CKR_OK && id != id_rsa && id != id_ec)
			bad(t, "private key CKA_ID", id);
		break;
	}
}

/* An extra session: open, look, maybe sign in it, close. */
static void op_session(int t, unsigned *rs)
{
	CK_SESSION_HANDLE h;
	CK_SESSION_INFO si;
	CK_FLAGS fl = CKF_SERIAL_SESSION | (next_rand(rs) & 1 ? CKF_RW_SESSION : 0);
	CK_RV rv = f->C_OpenSession(slot, fl, NULL, NULL, &h);

	if (!expect(t, "C_OpenSession", rv, CKR_OK, CKR_OK))
		return;
	rv = f->C_GetSessionInfo(h, &si);
	if (expect(t, "C_GetSessionInfo(extra)", rv, CKR_OK, CKR_OK) &&
	    (si.slotID != slot || si.flags != fl))
		bad(t, "extra session info", si.flags);
	if (next_rand(rs) % 4 == 0)
		op_sign(t, h, next_rand(rs) & 1, false, rs);
	expect(t, "C_CloseSession", f->C_CloseSession(h), CKR_OK, CKR_OK);
}

static void op_info(int t, CK_SESSION_HANDLE h)
{
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO si;
	CK_RV rv;

	rv = f->C_GetTokenInfo(slot, &ti);
	if (expect(t, "C_GetTokenInfo", rv, CKR_OK, CKR_OK) &&
	    (memcmp(ti.serialNumber, "5654000000000005", 16) != 0 || ti.ulSessionCount < 1 ||
	     ti.ulSessionCount > 2 * N_THREADS + 2))
		bad(t, "token info", ti.ulSessionCount);
	rv = f->C_GetSessionInfo(h, &si);
	if (expect(t, "C_GetSessionInfo", rv, CKR_OK, CKR_OK) &&
	    si.state != CKS_RW_PUBLIC_SESSION && si.state != CKS_RW_USER_FUNCTIONS)
		bad(t, "session state", si.state);
}

/* Thread 0: log in or out (it alone changes the login state, so it knows it). */
static void op_login(int t, CK_SESSION_HANDLE h, bool *logged_in, unsigned *rs)
{
	CK_SESSION_INFO si;

	if (*logged_in && next_rand(rs) % 4 == 0) {
		/* already logged in: refused before any APDU, no try spent */
		expect(t, "C_Login(again)", f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6),
		       CKR_USER_ALREADY_LOGGED_IN, CKR_USER_ALREADY_LOGGED_IN);
		return;
	}
	if (*logged_in) {
		atomic_fetch_add(&logouts, 1);
		expect(t, "C_Logout", f->C_Logout(h), CKR_OK, CKR_OK);
		atomic_fetch_add(&logouts, 1);
	}
	else
		expect(t, "C_Login", f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK,
		       CKR_OK);
	*logged_in = !*logged_in;
	if (expect(t, "C_GetSessionInfo(login)", f->C_GetSessionInfo(h, &si), CKR_OK, CKR_OK) &&
	    si.state != (*logged_in ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION))
		bad(t, "session state after login change", si.state);
}

struct worker {
	pthread_t th;
	int idx;
	int n_ops;
	atomic_int done;
};

static atomic_int started_ops;
/* Fork gate: the threads park between operations while the main thread forks, so that no
 * thread is inside the allocator (ASan's allocator lock is not fork-safe: a child forked
 * while another thread holds it deadlocks in malloc) nor inside the module. */
static atomic_int hold, parked, running;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned rs = seed * 2654435761u + (unsigned)w->idx * 40503u + 1;
	bool logged_in = true;
	CK_SESSION_HANDLE h;
	CK_RV rv;

	rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
	if (!expect(w->idx, "C_OpenSession(main)", rv, CKR_OK, CKR_OK))
		return NULL;
	for (int i = 0; i < w->n_ops; i++) {
		unsigned r = next_rand(&rs) % 100;
		enum op o;

		if (atomic_load(&hold)) {
			atomic_fetch_add(&parked, 1);
			while (atomic_load(&hold))
				usleep(100);
			atomic_fetch_sub(&parked, 1);
		}

		if (w->idx == 0 && r < 30)
			o = OP_LOGIN;
		else
			o = (enum op)(next_rand(&rs) % OP_LOGIN);
		switch (o) {
		case OP_SIGN_RSA: op_sign(w->idx, h, true, false, &rs); break;
		case OP_SIGN_RSA_MP: op_sign(w->idx, h, true, true, &rs); break;
		case OP_SIGN_EC: op_sign(w->idx, h, false, false, &rs); break;
		case OP_SIGN_EC_MP: op_sign(w->idx, h, false, true, &rs); break;
		case OP_FIND: op_find(w->idx, h, &rs); break;
		case OP_ATTR: op_attr(w->idx, h, &rs); break;
		case OP_SESSION: op_session(w->idx, &rs); break;
		case OP_INFO: op_info(w->idx, h); break;
		default: op_login(w->idx, h, &logged_in, &rs); break;
		}
		atomic_fetch_add(&n_ops[o], 1);
		atomic_fetch_add(&started_ops, 1);
	}
	/* leave the token logged in, as found */
	if (w->idx == 0 && !logged_in)
		expect(0, "C_Login(end)", f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK,
		       CKR_OK);
	expect(w->idx, "C_CloseSession(main)", f->C_CloseSession(h), CKR_OK, CKR_OK);
	atomic_store(&w->done, 1);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

/* ---- fork: the child is a new application ---- */

static int child_main(void)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &kt, sizeof(kt) } };
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE k = 0;
	CK_BYTE sig[128];
	CK_ULONG n = 0, slen = sizeof(sig);
	int bad = 0;

	bad |= (f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_CRYPTOKI_NOT_INITIALIZED) << 0;
	bad |= (f->C_GetTokenInfo(slot, &(CK_TOKEN_INFO){ 0 }) != CKR_CRYPTOKI_NOT_INITIALIZED)
	       << 1;
	bad |= (f->C_Initialize(&args) != CKR_OK) << 2;
	n = 1;
	bad |= (f->C_GetSlotList(CK_TRUE, &slot, &n) != CKR_OK || n != 1) << 3;
	bad |= (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK) << 4;
	bad |= (f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6) != CKR_OK) << 5;
	bad |= (f->C_FindObjectsInit(h, t, 2) != CKR_OK || f->C_FindObjects(h, &k, 1, &n) != CKR_OK ||
		n != 1 || f->C_FindObjectsFinal(h) != CKR_OK) << 6;
	bad |= (f->C_SignInit(h, &m, k) != CKR_OK ||
		f->C_Sign(h, (CK_BYTE_PTR) "child", 5, sig, &slen) != CKR_OK) << 7;
	bad |= (f->C_Finalize(NULL) != CKR_OK) << 8;
	return bad;
}

/* ---- runs ---- */

static void watchdog(int sig)
{
	static const char msg[] = "Bail out! watchdog: no end after 120 s (deadlock?)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(2);
}

static int tries_left(int *max)
{
	struct vnp_ext_pin_counters c;

	if (ext->get_pin_counters(slot, &c) != CKR_OK)
		return -100;
	*max = c.user_tries_max;
	return c.user_tries_left;
}

/* 16 threads x n_ops; with_fork: fork once the threads are under way. */
static void run(const char *name, int n_ops_each, bool with_fork)
{
	unsigned long signed0 = atomic_load(&n_signed), nli0 = atomic_load(&n_not_logged_in),
		      ended0 = atomic_load(&n_ended);
	struct worker w[N_THREADS];
	struct timespec t0, t1;
	unsigned long total = 0, before[OP_MAX];
	int left, max = 0;

	for (int i = 0; i < OP_MAX; i++)
		before[i] = atomic_load(&n_ops[i]);
	atomic_store(&n_errors, 0);
	atomic_store(&started_ops, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	atomic_store(&running, N_THREADS);
	for (int i = 0; i < N_THREADS; i++) {
		w[i].idx = i;
		w[i].n_ops = n_ops_each;
		atomic_store(&w[i].done, 0);
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0) {
			printf("Bail out! pthread_create\n");
			exit(1);
		}
	}
	if (with_fork) {
		pid_t pid;
		int status = 0, parent_ops;

		while (atomic_load(&started_ops) < N_THREADS * n_ops_each / 4)
			usleep(1000);
		atomic_store(&hold, 1);
		while (atomic_load(&parked) < atomic_load(&running))
			usleep(100);
		pid = fork();
		if (pid == 0)
			_exit(child_main());
		parent_ops = atomic_load(&started_ops);
		atomic_store(&hold, 0);
		waitpid(pid, &status, 0);
		ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "%s: fork child: NOT_INITIALIZED, then C_Initialize, login, ECDSA sign "
		   "(status 0x%x)", name, WIFEXITED(status) ? WEXITSTATUS(status) : 0x100 | status);
		ok(atomic_load(&started_ops) > parent_ops ||
			   atomic_load(&started_ops) == N_THREADS * n_ops_each,
		   "%s: the parent's threads kept working during the child (%d -> %d ops)", name,
		   parent_ops, atomic_load(&started_ops));
	}
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(w[i].th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < OP_MAX; i++) {
		unsigned long n = atomic_load(&n_ops[i]) - before[i];

		printf("# %s: %-12s %lu\n", name, op_name[i], n);
		total += n;
	}
	ok(total == (unsigned long)N_THREADS * n_ops_each, "%s: %lu operations in %.2f s", name,
	   total, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	ok(atomic_load(&n_errors) == 0, "%s: every result expected (%lu unexpected)", name,
	   atomic_load(&n_errors));
	printf("# %s: signatures %lu (verified), refused while logged out %lu, ended by a "
	       "logout %lu\n", name, atomic_load(&n_signed) - signed0,
	       atomic_load(&n_not_logged_in) - nli0, atomic_load(&n_ended) - ended0);
	ok(atomic_load(&n_signed) > signed0, "%s: some signatures made", name);
	seed++;
	left = tries_left(&max);
	ok(left == max && max > 1, "%s: PIN counter full at the end (%d/%d)", name, left, max);
}

/* Open a session, log in, generate the two keys, read their public parts. */
static void setup_keys(void)
{
	CK_MECHANISM mrsa = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM mec = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 1, 0, 1 };
	CK_ATTRIBUTE pub[] = { { CKA_TOKEN, &yes, 1 }, { CKA_VERIFY, &yes, 1 },
			       { CKA_MODULUS_BITS, &bits, sizeof(bits) },
			       { CKA_PUBLIC_EXPONENT, e, 3 } };
	CK_ATTRIBUTE priv[] = { { CKA_TOKEN, &yes, 1 }, { CKA_SIGN, &yes, 1 },
				{ CKA_ID, (void *)&id_rsa, 1 }, { CKA_LABEL, (char *)"rsa", 3 } };
	CK_ATTRIBUTE ecpub[] = { { CKA_TOKEN, &yes, 1 },
				 { CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE ecpriv[] = { { CKA_SIGN, &yes, 1 }, { CKA_ID, (void *)&id_ec, 1 },
				  { CKA_LABEL, (char *)"ec", 2 } };
	CK_ATTRIBUTE m = { CKA_MODULUS, modulus, sizeof(modulus) };
	CK_ATTRIBUTE pt = { CKA_EC_POINT, ec_point, sizeof(ec_point) };
	CK_SESSION_HANDLE h;
	int max = 0, left;

	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h), CKR_OK);
	left = tries_left(&max);
	ok(left == max && max > 1, "PIN counter full at the start (%d/%d)", left, max);
	RV(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	RV(f->C_GenerateKeyPair(h, &mrsa, pub, 4, priv, 4, &rsa_pub, &rsa_priv), CKR_OK);
	RV(f->C_GenerateKeyPair(h, &mec, ecpub, 2, ecpriv, 3, &ec_pub, &ec_priv), CKR_OK);
	RV(f->C_GetAttributeValue(h, rsa_pub, &m, 1), CKR_OK);
	RV(f->C_GetAttributeValue(h, ec_pub, &pt, 1), CKR_OK);
	ec_point_len = pt.ulValueLen;
	ok(m.ulValueLen == 256 && ec_point_len > 60, "public parts read");
	/* a session stays open (and logged in) across the runs: closing the last session
	 * would log out */
}

static int setup_token(void)
{
	if (!h_make_dir("p11t"))
		return -1;
	return h_init_token("--serial 5654000000000005 --label stress --pin " PIN);
}

static void find_slot(void)
{
	CK_ULONG n = 1;

	RV(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
	ok(n == 1, "one token");
}

int main(void)
{
	const char *s = getenv("VNPKI_STRESS_SEED");
	CK_C_INITIALIZE_ARGS os = { .flags = CKF_OS_LOCKING_OK };
	CK_C_INITIALIZE_ARGS cb = { cb_create, cb_destroy, cb_lock, cb_unlock, 0, NULL };
	CK_C_GetInterface get_if;
	CK_SESSION_HANDLE keep;
	void *mod;

	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S);
	seed = s ? (unsigned)strtoul(s, NULL, 0) : (unsigned)time(NULL);
	printf("# seed %u (VNPKI_STRESS_SEED to repeat)\n", seed);
	f = h_start(setup_token, &mod, &get_if);
	if (!f)
		return 1;
	ext = h_vendor(get_if);

	/* run 1: OS locking, a fork in the middle */
	RV(f->C_Initialize(&os), CKR_OK);
	find_slot();
	setup_keys();
	run("os-locking", N_OPS, true);
	RV(f->C_Finalize(NULL), CKR_OK);

	/* run 2: the application's mutexes */
	RV(f->C_Initialize(&cb), CKR_OK);
	ok(atomic_load(&mx_created) >= 1, "callbacks create the module lock (%ld)",
	   atomic_load(&mx_created));
	find_slot();
	RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &keep), CKR_OK);
	RV(f->C_Login(keep, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	run("callbacks", N_OPS, false);
	RV(f->C_Finalize(NULL), CKR_OK);
	ok(atomic_load(&mx_created) >= 2 && atomic_load(&mx_created) == atomic_load(&mx_destroyed),
	   "mutexes: %ld created (module + token), %ld destroyed by C_Finalize",
	   atomic_load(&mx_created), atomic_load(&mx_destroyed));
	ok(atomic_load(&mx_locks) > N_THREADS * N_OPS && atomic_load(&mx_locks) ==
									atomic_load(&mx_unlocks),
	   "mutexes used: %ld locks, %ld unlocks", atomic_load(&mx_locks),
	   atomic_load(&mx_unlocks));

	alarm(0);
	return h_finish(mod);
}
