/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvnpki-pcsc-count.so: counts the PC/SC calls a PKCS#11 module makes to pcscd, for
 * vnpki-bench. It exports the SCard* functions of pcsc-lite, counts each call and forwards it
 * to the real libpcsclite.so.1. Two ways in, so that any module is counted the same way:
 *  - vnpki-bench dlopen()s it RTLD_GLOBAL before the module: a module linked against
 *    libpcsclite (ours) then binds its SCard* calls here (or LD_PRELOAD it);
 *  - OpenSC dlopen()s its PC/SC provider by name: its opensc.conf names this library
 *    (reader_driver pcsc { provider_library = ...; }), and the dlopen returns the same copy.
 * Every counted function is one request/answer exchange with pcscd in pcsc-lite 1.9
 * (SCardIsValidContext and SCardFreeMemory stay in the process and are not counted).
 * vnpki_pcsc_count() gives the totals; with $VNPKI_PCSC_COUNT_FILE set they are also written
 * there at exit. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <winscard.h>

#define EXPORT __attribute__((visibility("default")))

static _Atomic uint64_t n_calls, n_transmit;
static void *real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void open_real(void)
{
	real = dlopen("libpcsclite.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!real)
		fprintf(stderr, "pcsc-count: %s\n", dlerror());
}

static void *sym(const char *name)
{
	void *p;

	pthread_once(&real_once, open_real);
	p = real ? dlsym(real, name) : NULL;
	if (!p)
		fprintf(stderr, "pcsc-count: no %s in libpcsclite.so.1\n", name);
	return p;
}

/* Look the real function up once (per function) and count the call. */
#define REAL(name, type)                                              \
	static _Atomic(type) fp_##name;                              \
	type f = atomic_load(&fp_##name);                            \
	if (!f) {                                                    \
		*(void **)&f = sym(#name);                           \
		atomic_store(&fp_##name, f);                         \
	}                                                            \
	atomic_fetch_add(&n_calls, 1);                               \
	if (!f)                                                      \
		return SCARD_F_INTERNAL_ERROR

/* Totals since load: every counted call, and the SCardTransmit calls among them. */
EXPORT void vnpki_pcsc_count(uint64_t *ret_calls, uint64_t *ret_transmit);
void vnpki_pcsc_count(uint64_t *ret_calls, uint64_t *ret_transmit)
{
	if (ret_calls)
		*ret_calls = atomic_load(&n_calls);
	if (ret_transmit)
		*ret_transmit = atomic_load(&n_transmit);
}

__attribute__((destructor)) static void write_counts(void)
{
	const char *path = getenv("VNPKI_PCSC_COUNT_FILE");
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "{\"calls\": %llu, \"transmit\": %llu}\n",
		(unsigned long long)atomic_load(&n_calls), (unsigned long long)atomic_load(&n_transmit));
	fclose(f);
}

typedef LONG (*establish_fn)(DWORD, LPCVOID, LPCVOID, LPSCARDCONTEXT);
EXPORT LONG SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx)
{
	REAL(SCardEstablishContext, establish_fn);
	return f(scope, r1, r2, ctx);
}

typedef LONG (*release_fn)(SCARDCONTEXT);
EXPORT LONG SCardReleaseContext(SCARDCONTEXT ctx)
{
	REAL(SCardReleaseContext, release_fn);
	return f(ctx);
}

EXPORT LONG SCardIsValidContext(SCARDCONTEXT ctx)
{
	release_fn f = (release_fn)sym("SCardIsValidContext");

	return f ? f(ctx) : SCARD_F_INTERNAL_ERROR;
}

typedef LONG (*connect_fn)(SCARDCONTEXT, LPCSTR, DWORD, DWORD, LPSCARDHANDLE, LPDWORD);
EXPORT LONG SCardConnect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD protos,
			 LPSCARDHANDLE card, LPDWORD active)
{
	REAL(SCardConnect, connect_fn);
	return f(ctx, reader, share, protos, card, active);
}

typedef LONG (*reconnect_fn)(SCARDHANDLE, DWORD, DWORD, DWORD, LPDWORD);
EXPORT LONG SCardReconnect(SCARDHANDLE card, DWORD share, DWORD protos, DWORD init,
			   LPDWORD active)
{
	REAL(SCardReconnect, reconnect_fn);
	return f(card, share, protos, init, active);
}

typedef LONG (*disconnect_fn)(SCARDHANDLE, DWORD);
EXPORT LONG SCardDisconnect(SCARDHANDLE card, DWORD disp)
{
	REAL(SCardDisconnect, disconnect_fn);
	return f(card, disp);
}

typedef LONG (*begin_fn)(SCARDHANDLE);
EXPORT LONG SCardBeginTransaction(SCARDHANDLE card)
{
	REAL(SCardBeginTransaction, begin_fn);
	return f(card);
}

EXPORT LONG SCardEndTransaction(SCARDHANDLE card, DWORD disp)
{
	REAL(SCardEndTransaction, disconnect_fn);
	return f(card, disp);
}

typedef LONG (*status_fn)(SCARDHANDLE, LPSTR, LPDWORD, LPDWORD, LPDWORD, LPBYTE, LPDWORD);
EXPORT LONG SCardStatus(SCARDHANDLE card, LPSTR names, LPDWORD names_len, LPDWORD state,
			LPDWORD proto, LPBYTE atr, LPDWORD atr_len)
{
	REAL(SCardStatus, status_fn);
	return f(card, names, names_len, state, proto, atr, atr_len);
}

typedef LONG (*gsc_fn)(SCARDCONTEXT, DWORD, SCARD_READERSTATE *, DWORD);
EXPORT LONG SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *rs, DWORD n)
{
	REAL(SCardGetStatusChange, gsc_fn);
	return f(ctx, timeout, rs, n);
}

typedef LONG (*control_fn)(SCARDHANDLE, DWORD, LPCVOID, DWORD, LPVOID, DWORD, LPDWORD);
EXPORT LONG SCardControl(SCARDHANDLE card, DWORD code, LPCVOID in, DWORD in_len, LPVOID out,
			 DWORD out_len, LPDWORD ret_len)
{
	REAL(SCardControl, control_fn);
	return f(card, code, in, in_len, out, out_len, ret_len);
}

typedef LONG (*transmit_fn)(SCARDHANDLE, const SCARD_IO_REQUEST *, LPCBYTE, DWORD,
			    SCARD_IO_REQUEST *, LPBYTE, LPDWORD);
EXPORT LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST *spci, LPCBYTE in, DWORD in_len,
			  SCARD_IO_REQUEST *rpci, LPBYTE out, LPDWORD out_len)
{
	REAL(SCardTransmit, transmit_fn);
	atomic_fetch_add(&n_transmit, 1);
	return f(card, spci, in, in_len, rpci, out, out_len);
}

typedef LONG (*lrg_fn)(SCARDCONTEXT, LPSTR, LPDWORD);
EXPORT LONG SCardListReaderGroups(SCARDCONTEXT ctx, LPSTR groups, LPDWORD len)
{
	REAL(SCardListReaderGroups, lrg_fn);
	return f(ctx, groups, len);
}

typedef LONG (*lr_fn)(SCARDCONTEXT, LPCSTR, LPSTR, LPDWORD);
EXPORT LONG SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR readers, LPDWORD len)
{
	REAL(SCardListReaders, lr_fn);
	return f(ctx, groups, readers, len);
}

typedef LONG (*free_fn)(SCARDCONTEXT, LPCVOID);
EXPORT LONG SCardFreeMemory(SCARDCONTEXT ctx, LPCVOID mem)
{
	free_fn f = (free_fn)sym("SCardFreeMemory");

	return f ? f(ctx, mem) : SCARD_F_INTERNAL_ERROR;
}

typedef LONG (*cancel_fn)(SCARDCONTEXT);
EXPORT LONG SCardCancel(SCARDCONTEXT ctx)
{
	REAL(SCardCancel, cancel_fn);
	return f(ctx);
}

typedef LONG (*gattr_fn)(SCARDHANDLE, DWORD, LPBYTE, LPDWORD);
EXPORT LONG SCardGetAttrib(SCARDHANDLE card, DWORD id, LPBYTE attr, LPDWORD len)
{
	REAL(SCardGetAttrib, gattr_fn);
	return f(card, id, attr, len);
}

typedef LONG (*sattr_fn)(SCARDHANDLE, DWORD, LPCBYTE, DWORD);
EXPORT LONG SCardSetAttrib(SCARDHANDLE card, DWORD id, LPCBYTE attr, DWORD len)
{
	REAL(SCardSetAttrib, sattr_fn);
	return f(card, id, attr, len);
}
