/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hotplug_client MODULE PIN: the application side of hotplug.sh.
 * A waiter thread sits in C_WaitForSlotEvent (blocking) and prints every event as
 * "event slot=N present=0|1". The main thread signs in a loop with an EC key (CKM_ECDSA,
 * id 02) and prints "signing" once the first signature is made; the script then pulls the
 * token. The first failing C_Sign must return CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT
 * (or CKR_SESSION_HANDLE_INVALID when the waiter saw the removal first)
 * ("sign-failed rv=0x..."), the session must be gone afterwards. The main thread then
 * waits (C_GetSlotList(TRUE) every 100 ms, 30 s at most) for the token to come back, opens
 * a new session, logs in and signs ("resigned"). Last, C_Finalize while the waiter is
 * blocked: the waiter must return CKR_CRYPTOKI_NOT_INITIALIZED within 2 s
 * ("finalize-wake ms=N"). Exit 0 when all of this held.
 * hotplug_client MODULE --wait-slots N: see wait_slots().
 * hotplug_client MODULE --wait-card: see wait_card(). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR f;
static CK_RV waiter_rv = CKR_OK;
static volatile int waiter_done;
static struct timespec waiter_end;

static long ms_since(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void *waiter(void *arg)
{
	(void)arg;
	for (;;) {
		CK_SLOT_ID slot = 0;
		CK_SLOT_INFO si;
		CK_RV rv = f->C_WaitForSlotEvent(0, &slot, NULL);

		if (rv != CKR_OK) {
			waiter_rv = rv;
			break;
		}
		memset(&si, 0, sizeof(si));
		f->C_GetSlotInfo(slot, &si);
		printf("event slot=%lu present=%d\n", (unsigned long)slot,
		       !!(si.flags & CKF_TOKEN_PRESENT));
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &waiter_end);
	waiter_done = 1;
	return NULL;
}

/* A logged-in session on the first slot with a token and the EC key id 02. */
static CK_RV open_signer(const char *pin, CK_SESSION_HANDLE *hs, CK_OBJECT_HANDLE *key)
{
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8, found = 0;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_BYTE id = 2;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, &id, 1 } };
	CK_RV rv;

	rv = f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		return rv;
	if (!n)
		return CKR_TOKEN_NOT_PRESENT;
	rv = f->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, hs);
	if (rv != CKR_OK)
		return rv;
	rv = f->C_Login(*hs, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return rv;
	rv = f->C_FindObjectsInit(*hs, tmpl, 2);
	if (rv == CKR_OK)
		rv = f->C_FindObjects(*hs, key, 1, &found);
	f->C_FindObjectsFinal(*hs);
	if (rv == CKR_OK && found != 1)
		rv = CKR_KEY_HANDLE_INVALID;
	return rv;
}

static CK_RV sign_once(CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE key)
{
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE hash[32], sig[256];
	CK_ULONG sig_len = sizeof(sig);
	CK_RV rv;

	memset(hash, 0x5a, sizeof(hash));
	rv = f->C_SignInit(hs, &m, key);
	if (rv != CKR_OK)
		return rv;
	return f->C_Sign(hs, hash, sizeof(hash), sig, &sig_len);
}

/* --wait-slots N: block in C_WaitForSlotEvent until the module lists N slots (a reader added
 * at run time); prints "ready", then "slots=N event-slot=S". */
static int wait_slots(int want)
{
	CK_ULONG n = 0;
	CK_SLOT_ID slot = 0;
	CK_RV rv = CKR_OK;

	printf("ready\n");
	fflush(stdout);
	while (f->C_GetSlotList(CK_FALSE, NULL, &n) == CKR_OK && (int)n < want) {
		rv = f->C_WaitForSlotEvent(0, &slot, NULL);
		if (rv != CKR_OK)
			break;
	}
	printf("slots=%lu event-slot=%lu rv=0x%lx\n", (unsigned long)n, (unsigned long)slot,
	       (unsigned long)rv);
	f->C_Finalize(NULL);
	return (int)n >= want && rv == CKR_OK ? 0 : 1;
}

/* --wait-card: nothing but C_WaitForSlotEvent (no other call that would refresh the slots):
 * prints "ready" once a token is present, then "removed ms=N" when an event shows a slot
 * without its token (N: ms since "ready"). */
static int wait_card(void)
{
	CK_SLOT_ID slot = 0;
	CK_SLOT_INFO si;
	CK_ULONG n = 0;
	struct timespec t0, t1;
	CK_RV rv;

	if (f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0) {
		fprintf(stderr, "no token present at start\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rv = f->C_WaitForSlotEvent(0, &slot, NULL);
		if (rv != CKR_OK)
			break;
		memset(&si, 0, sizeof(si));
		f->C_GetSlotInfo(slot, &si);
		if (!(si.flags & CKF_TOKEN_PRESENT)) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("removed ms=%ld\n", ms_since(&t0, &t1));
			fflush(stdout);
			break;
		}
	}
	f->C_Finalize(NULL);
	return rv == CKR_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	CK_SESSION_HANDLE hs;
	CK_OBJECT_HANDLE key;
	CK_SESSION_INFO info;
	struct timespec t0;
	pthread_t th;
	void *dl;
	CK_RV rv;
	int i, ok = 1;

	if (argc != 3 && !(argc == 4 && !strcmp(argv[2], "--wait-slots"))) {
		fprintf(stderr, "usage: %s MODULE PIN | MODULE --wait-slots N | MODULE --wait-card\n",
			argv[0]);
		return 2;
	}
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl || !(get = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl, "C_GetFunctionList")) ||
	    get(&f) != CKR_OK || f->C_Initialize(&init) != CKR_OK) {
		fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
		return 2;
	}
	if (argc == 4)
		return wait_slots(atoi(argv[3]));
	if (!strcmp(argv[2], "--wait-card"))
		return wait_card();
	rv = open_signer(argv[2], &hs, &key);
	if (rv != CKR_OK) {
		fprintf(stderr, "first session: rv=0x%lx\n", (unsigned long)rv);
		return 1;
	}
	pthread_create(&th, NULL, waiter, NULL);
	for (i = 0;; i++) {
		rv = sign_once(hs, key);
		if (rv != CKR_OK)
			break;
		if (i == 0) {
			printf("signing\n");
			fflush(stdout);
		}
		if (i > 200000)
			break;
	}
	printf("sign-failed rv=0x%lx after %d signatures\n", (unsigned long)rv, i);
	fflush(stdout);
	/* CKR_SESSION_HANDLE_INVALID too when the waiter thread learnt of the removal first (a
	 * backend that is told at once, like usb's interrupt endpoint): "removing a token closes
	 * all sessions with it" (PKCS#11 2.40, CKR_SESSION_HANDLE_INVALID). */
	if (rv != CKR_DEVICE_REMOVED && rv != CKR_TOKEN_NOT_PRESENT &&
	    rv != CKR_SESSION_HANDLE_INVALID) {
		fprintf(stderr, "C_Sign after removal: rv=0x%lx, want DEVICE_REMOVED, "
				"TOKEN_NOT_PRESENT or SESSION_HANDLE_INVALID\n", (unsigned long)rv);
		ok = 0;
	}
	rv = f->C_GetSessionInfo(hs, &info);
	printf("old-session rv=0x%lx\n", (unsigned long)rv);
	if (rv != CKR_SESSION_HANDLE_INVALID && rv != CKR_DEVICE_REMOVED &&
	    rv != CKR_TOKEN_NOT_PRESENT) {
		fprintf(stderr, "old session still usable: rv=0x%lx\n", (unsigned long)rv);
		ok = 0;
	}
	fflush(stdout);
	for (i = 0; i < 300; i++) {
		CK_SLOT_ID s[8];
		CK_ULONG n = 8;

		if (f->C_GetSlotList(CK_TRUE, s, &n) == CKR_OK && n)
			break;
		usleep(100000);
	}
	rv = open_signer(argv[2], &hs, &key);
	if (rv == CKR_OK)
		rv = sign_once(hs, key);
	printf("resigned rv=0x%lx\n", (unsigned long)rv);
	fflush(stdout);
	if (rv != CKR_OK)
		ok = 0;
	/* let the waiter report the re-insertion, then finalize under it */
	usleep(500000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rv = f->C_Finalize(NULL);
	if (rv != CKR_OK) {
		fprintf(stderr, "C_Finalize: rv=0x%lx\n", (unsigned long)rv);
		ok = 0;
	}
	for (i = 0; i < 300 && !waiter_done; i++)
		usleep(10000);
	if (!waiter_done) {
		printf("finalize-wake timeout\n");
		fflush(stdout);
		_exit(1); /* the waiter is stuck: do not join */
	}
	pthread_join(th, NULL);
	printf("finalize-wake ms=%ld rv=0x%lx\n", ms_since(&t0, &waiter_end),
	       (unsigned long)waiter_rv);
	if (waiter_rv != CKR_CRYPTOKI_NOT_INITIALIZED || ms_since(&t0, &waiter_end) > 2000)
		ok = 0;
	return ok ? 0 : 1;
}
