/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* C_Initialize, C_Finalize, C_GetInfo; the library context, locking and fork detection. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p11.h"
#include "log.h"
#include "rv.h"
#include "vnp_build_config.h"

struct vnp_lib vnp_lib;

/* ---- mutexes: OS (pthread) or the application's callbacks ---- */

static CK_RV os_create(void **ret)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (!m)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(m, NULL) != 0) {
		free(m);
		return CKR_CANT_LOCK;
	}
	*ret = m;
	return CKR_OK;
}

static CK_RV os_destroy(void *m)
{
	pthread_mutex_destroy(m);
	free(m);
	return CKR_OK;
}

static CK_RV os_lock(void *m)
{
	return pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_CANT_LOCK;
}

static CK_RV os_unlock(void *m)
{
	return pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static const struct vnp_lock_ops os_lock_ops = { os_create, os_destroy, os_lock, os_unlock };

/* Create a mutex with the callbacks chosen at C_Initialize. CKR_OK or the callback's error. */
CK_RV vnp_mutex_new(void **ret)
{
	return vnp_lib.lk.create(ret);
}

/* Destroy a mutex from vnp_mutex_new. NULL is a no-op. */
void vnp_mutex_free(void *m)
{
	if (m)
		vnp_lib.lk.destroy(m);
}

/* Lock / unlock a mutex from vnp_mutex_new. */
void vnp_mutex_lock(void *m)
{
	vnp_lib.lk.lock(m);
}

void vnp_mutex_unlock(void *m)
{
	vnp_lib.lk.unlock(m);
}

/* Initialised in this process (not a forked child of an initialised parent), then take the
 * module lock. */
CK_RV vnp_enter(void)
{
	if (!vnp_lib.initialized || vnp_lib.pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	vnp_mutex_lock(vnp_lib.lock);
	return CKR_OK;
}

/* Release the module lock; returns rv unchanged. */
CK_RV vnp_leave(CK_RV rv)
{
	vnp_mutex_unlock(vnp_lib.lock);
	return rv;
}

/* ---- init / finalize ---- */

/* The four cases of CK_C_INITIALIZE_ARGS (PKCS #11 2.40 §5.4, C_Initialize):
 * no callbacks and no CKF_OS_LOCKING_OK → the application does not need locking, we lock
 * with pthreads anyway; CKF_OS_LOCKING_OK (with or without callbacks) → pthreads;
 * callbacks only → the application's callbacks. Callbacks are all-or-none. */
static CK_RV choose_locking(const CK_C_INITIALIZE_ARGS *args, struct vnp_lock_ops *ret)
{
	unsigned given;

	*ret = os_lock_ops;
	if (!args)
		return CKR_OK;
	if (args->pReserved)
		return CKR_ARGUMENTS_BAD;
	given = !!args->CreateMutex + !!args->DestroyMutex + !!args->LockMutex +
		!!args->UnlockMutex;
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	if (given == 4 && !(args->flags & CKF_OS_LOCKING_OK)) {
		ret->create = args->CreateMutex;
		ret->destroy = args->DestroyMutex;
		ret->lock = args->LockMutex;
		ret->unlock = args->UnlockMutex;
	}
	/* CKF_LIBRARY_CANT_CREATE_OS_THREADS: we never create threads. */
	return CKR_OK;
}

static void open_backend(const struct vnp_reader_ops *ops)
{
	struct vnp_backend_ent *e = &vnp_lib.backends[vnp_lib.n_backends];
	int rv;

	if (vnp_lib.n_backends >= sizeof(vnp_lib.backends) / sizeof(vnp_lib.backends[0])) {
		vnp_warn("backend %s: too many backends", ops->name);
		return;
	}
	rv = ops->open(&vnp_lib.cfg, &e->be);
	if (rv == VNP_E_NO_SERVICE) {
		vnp_log(VNP_LOG_P11, "backend %s: no service, no readers", ops->name);
		return;
	}
	if (rv != VNP_OK) {
		vnp_warn("backend %s: %s", ops->name, vnp_rv_text(rv));
		return;
	}
	e->ops = ops;
	vnp_lib.n_backends++;
}

static void open_backends(void)
{
	const struct vnp_config *cfg = &vnp_lib.cfg;
	bool pcsc = cfg->use_pcsc, vtok = cfg->use_vtoken;

#if VNP_HAVE_PCSC
	if (pcsc && (cfg->pcsc_first || !vtok))
		open_backend(&vnp_reader_pcsc);
	if (vtok)
		open_backend(&vnp_reader_vtoken);
	if (pcsc && !cfg->pcsc_first && vtok)
		open_backend(&vnp_reader_pcsc);
#else
	if (pcsc)
		vnp_warn("pcsc backend configured but built without pcsc-lite");
	if (vtok)
		open_backend(&vnp_reader_vtoken);
#endif
	if (cfg->use_ccidsock)
		open_backend(&vnp_reader_ccidsock);
	/* usb after pcsc: the interfaces pcscd's driver holds are then skipped (BUSY). */
#if VNP_HAVE_LIBUSB
	if (cfg->use_usb)
		open_backend(&vnp_reader_usb);
#else
	if (cfg->use_usb)
		vnp_warn("usb backend configured but built without libusb-1.0");
#endif
}

/* Free everything of the library context. close_io: disconnect readers and close
 * backends (C_Finalize); false in a forked child, where the handles belong to the parent
 * and are only forgotten. Module lock held or no other thread around. */
static void drop_state(bool close_io)
{
	vnp_sessions_free_all_locked();
	for (size_t i = 0; i < vnp_lib.n_slots; i++) {
		struct vnp_slot *slot = vnp_lib.slots[i];

		if (slot->tok)
			vnp_token_free(slot->tok, vnp_lib.backends[slot->backend].ops, close_io);
		free(slot);
	}
	free(vnp_lib.slots);
	vnp_lib.slots = NULL;
	vnp_lib.n_slots = 0;
	if (close_io)
		for (unsigned i = 0; i < vnp_lib.n_backends; i++)
			vnp_lib.backends[i].ops->close(vnp_lib.backends[i].be);
	vnp_lib.n_backends = 0;
	vnp_config_free(&vnp_lib.cfg); /* the PIV management key */
}

static CK_RV initialize(CK_VOID_PTR pInitArgs)
{
	struct vnp_lock_ops lk;
	CK_RV rv;
	int vrv;

	rv = choose_locking(pInitArgs, &lk);
	if (rv != CKR_OK)
		return rv;
	if (vnp_lib.initialized) {
		if (vnp_lib.pid == getpid())
			return CKR_CRYPTOKI_ALREADY_INITIALIZED;
		/* A forked child: the parent's state is not ours. Its module lock may be held
		 * by a thread that does not exist here: never touch it, only free memory. */
		drop_state(false);
		vnp_lib.initialized = false;
	}
	memset(&vnp_lib, 0, sizeof(vnp_lib));
	vnp_lib.lk = lk;
	rv = vnp_lib.lk.create(&vnp_lib.lock);
	if (rv != CKR_OK)
		return rv;
	vrv = vnp_config_load(&vnp_lib.cfg);
	vnp_log_setup(vnp_lib.cfg.log, vnp_lib.cfg.log_file);
	if (vrv != VNP_OK)
		vnp_warn("configuration: %s; using what could be read", vnp_rv_text(vrv));
	open_backends();
	vnp_lib.next_session = 1;
	vnp_lib.next_object = 1;
	vnp_lib.next_generation = 1;
	vnp_lib.pid = getpid();
	vnp_lib.initialized = true;
	vnp_mutex_lock(vnp_lib.lock);
	vnp_slots_refresh_locked();
	for (size_t i = 0; i < vnp_lib.n_slots; i++)
		vnp_lib.slots[i]->event = false;
	vnp_mutex_unlock(vnp_lib.lock);
	return CKR_OK;
}

CK_RV vnp_C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_RV rv = initialize(pInitArgs);

	vnp_trace("C_Initialize", rv, "pInitArgs=%p", pInitArgs);
	return rv;
}

CK_RV vnp_C_Finalize(CK_VOID_PTR pReserved)
{
	CK_RV rv;

	if (pReserved) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (vnp_lib.initialized && vnp_lib.pid == getpid())
		vnp_slot_wait_wake_all();
	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	/* A C_Sign at the card (no module lock held) still needs its token, slot, backend and
	 * the module lock when it comes back: let it finish first. */
	while (vnp_lib.signers_out) {
		vnp_mutex_unlock(vnp_lib.lock);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		vnp_mutex_lock(vnp_lib.lock);
	}
	drop_state(true);
	vnp_lib.initialized = false;
	vnp_leave(CKR_OK);
	vnp_mutex_free(vnp_lib.lock);
	vnp_lib.lock = NULL;
out:
	vnp_trace("C_Finalize", rv, "pReserved=%p", pReserved);
	if (rv == CKR_OK)
		vnp_log_close();
	return rv;
}

static CK_RV get_info(CK_INFO_PTR pInfo, CK_BYTE major, CK_BYTE minor, const char *fn)
{
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	if (!pInfo) {
		rv = vnp_leave(CKR_ARGUMENTS_BAD);
		goto out;
	}
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->cryptokiVersion.major = major;
	pInfo->cryptokiVersion.minor = minor;
	vnp_pad_utf8(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "vnpki");
	vnp_pad_utf8(pInfo->libraryDescription, sizeof(pInfo->libraryDescription),
		     "vnpki PKCS#11 module");
	pInfo->libraryVersion.major = 0;
	pInfo->libraryVersion.minor = 1;
	vnp_leave(CKR_OK);
out:
	vnp_trace(fn, rv, "pInfo=%p", (void *)pInfo);
	return rv;
}

CK_RV vnp_C_GetInfo_v2(CK_INFO_PTR pInfo)
{
	return get_info(pInfo, 2, 40, "C_GetInfo");
}

CK_RV vnp_C_GetInfo_v3(CK_INFO_PTR pInfo)
{
	return get_info(pInfo, 3, 0, "C_GetInfo");
}
