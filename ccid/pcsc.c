/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PC/SC reader backend (pcsc-lite). One PC/SC context per backend; all state lives in
 * struct vnp_backend. Built only when libpcsclite is found (VNP_HAVE_PCSC). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/reader.h>

#include "config.h"
#include "log.h"
#include "pcsc_caps.h"
#include "rv.h"
#include "transport.h"

#define PC_MAX_WAITERS 8
#define PC_WAIT_READERS 32

struct vnp_backend {
	pthread_mutex_t lock; /* guards ctx (re-established after a pcscd restart) and n_conn */
	SCARDCONTEXT ctx;
	unsigned n_conn;      /* connected readers: the context is kept while any is open */
	/* wait_event(): each waiter has its own context (pcsc-lite serialises calls on one
	 * context), listed here for cancel(); cancelled is sticky until close() */
	bool cancelled;
	SCARDCONTEXT waiters[PC_MAX_WAITERS];
	bool waiting[PC_MAX_WAITERS];
};

struct vnp_reader {
	struct vnp_backend *be;
	SCARDHANDLE h;
	DWORD proto;
	char name[VNP_READER_NAME_MAX];
};

/* PC/SC → vnp_rv for card and reader I/O (pcsc-lite winscard.h). */
static int map_rv(LONG rc)
{
	switch (rc) {
	case SCARD_S_SUCCESS:
		return VNP_OK;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_UNPOWERED_CARD:
	case SCARD_W_UNRESPONSIVE_CARD:
		return VNP_E_NO_CARD;
	case SCARD_W_RESET_CARD:
		return VNP_E_CARD_RESET;
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_NO_READERS_AVAILABLE:
		return VNP_E_NO_DEVICE;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return VNP_E_NO_SERVICE;
	case SCARD_E_SHARING_VIOLATION:
		return VNP_E_SHARING;
	case SCARD_E_TIMEOUT:
		return VNP_E_TIMEOUT;
	case SCARD_E_INSUFFICIENT_BUFFER:
		return VNP_E_BUFFER_TOO_SMALL;
	case SCARD_E_NO_MEMORY:
		return VNP_E_NOMEM;
	case SCARD_E_INVALID_PARAMETER:
	case SCARD_E_INVALID_VALUE:
		return VNP_E_ARGS;
	default:
		return VNP_E_TRANSPORT;
	}
}

static int pc_open(const struct vnp_config *cfg, struct vnp_backend **ret)
{
	struct vnp_backend *be;
	LONG rc;

	(void)cfg;
	if (!ret)
		return VNP_E_ARGS;
	be = calloc(1, sizeof(*be));
	if (!be)
		return VNP_E_NOMEM;
	rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &be->ctx);
	if (rc != SCARD_S_SUCCESS) {
		vnp_log(VNP_LOG_READER, "pcsc: SCardEstablishContext: %s (0x%08lX)",
			pcsc_stringify_error(rc), (unsigned long)rc);
		free(be);
		return rc == SCARD_E_NO_SERVICE ? VNP_E_NO_SERVICE : map_rv(rc);
	}
	pthread_mutex_init(&be->lock, NULL);
	vnp_log(VNP_LOG_READER, "pcsc: context established");
	*ret = be;
	return VNP_OK;
}

static void pc_close(struct vnp_backend *be)
{
	if (!be)
		return;
	SCardReleaseContext(be->ctx);
	pthread_mutex_destroy(&be->lock);
	free(be);
}

/* After a pcscd restart the context is dead; get a new one when no reader uses the old one. */
static LONG revive_context_locked(struct vnp_backend *be)
{
	SCARDCONTEXT ctx;
	LONG rc;

	if (be->n_conn)
		return SCARD_E_NO_SERVICE;
	rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rc != SCARD_S_SUCCESS)
		return rc;
	SCardReleaseContext(be->ctx);
	be->ctx = ctx;
	vnp_log(VNP_LOG_READER, "pcsc: context re-established");
	return SCARD_S_SUCCESS;
}

/* Reader names as one multi-string, malloc'ed. *ret_names NULL when there are no readers. */
static LONG list_names(SCARDCONTEXT ctx, char **ret_names)
{
	char *names = NULL;
	DWORD len = 0;
	LONG rc;

	*ret_names = NULL;
	for (int attempt = 0; attempt < 3; attempt++) {
		free(names);
		names = NULL;
		rc = SCardListReaders(ctx, NULL, NULL, &len);
		if (rc == SCARD_E_NO_READERS_AVAILABLE)
			return SCARD_S_SUCCESS;
		if (rc != SCARD_S_SUCCESS)
			return rc;
		names = calloc(1, (size_t)len + 1);
		if (!names)
			return SCARD_E_NO_MEMORY;
		rc = SCardListReaders(ctx, NULL, names, &len);
		if (rc == SCARD_E_INSUFFICIENT_BUFFER)
			continue; /* a reader appeared between the two calls */
		if (rc == SCARD_E_NO_READERS_AVAILABLE) {
			rc = SCARD_S_SUCCESS;
			names[0] = '\0';
		}
		break;
	}
	if (rc == SCARD_S_SUCCESS)
		*ret_names = names;
	else
		free(names);
	return rc;
}

static int pc_list(struct vnp_backend *be, struct vnp_reader_state *out, size_t max,
		   size_t *ret_count)
{
	SCARD_READERSTATE *rs = NULL;
	char *names = NULL;
	size_t n = 0;
	LONG rc;
	int rv = VNP_OK;

	if (!be || !ret_count || (max && !out))
		return VNP_E_ARGS;
	pthread_mutex_lock(&be->lock);
	rc = list_names(be->ctx, &names);
	if ((rc == SCARD_E_NO_SERVICE || rc == SCARD_E_INVALID_HANDLE ||
	     rc == SCARD_E_SERVICE_STOPPED) && revive_context_locked(be) == SCARD_S_SUCCESS)
		rc = list_names(be->ctx, &names);
	if (rc != SCARD_S_SUCCESS) {
		vnp_log(VNP_LOG_READER, "pcsc: SCardListReaders: %s", pcsc_stringify_error(rc));
		rv = rc == SCARD_E_INVALID_HANDLE ? VNP_E_NO_SERVICE : map_rv(rc);
		goto out;
	}
	rs = calloc(max ? max : 1, sizeof(*rs));
	if (!rs) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	for (const char *p = names; p && *p && n < max; p += strlen(p) + 1) {
		if (strlen(p) >= VNP_READER_NAME_MAX) {
			vnp_warn("pcsc: reader name too long, skipped: %s", p);
			continue;
		}
		rs[n].szReader = p;
		rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
		n++;
	}
	if (n) {
		rc = SCardGetStatusChange(be->ctx, 0, rs, (DWORD)n);
		if (rc != SCARD_S_SUCCESS && rc != SCARD_E_TIMEOUT) {
			vnp_log(VNP_LOG_READER, "pcsc: SCardGetStatusChange: %s",
				pcsc_stringify_error(rc));
			rv = map_rv(rc);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct vnp_reader_state *st = &out[i];
		DWORD ev = rs[i].dwEventState;

		memset(st, 0, sizeof(*st));
		snprintf(st->name, sizeof(st->name), "%s", rs[i].szReader);
		st->card_present = (ev & SCARD_STATE_PRESENT) && !(ev & SCARD_STATE_MUTE);
		if (st->card_present && rs[i].cbAtr <= VNP_ATR_MAX) {
			memcpy(st->atr, rs[i].rgbAtr, rs[i].cbAtr);
			st->atr_len = rs[i].cbAtr;
		}
		/* pcsc-lite keeps a card event counter in the upper 16 bits of dwEventState. */
		st->event_count = (uint32_t)((ev >> 16) & 0xFFFF);
		vnp_log(VNP_LOG_READER, "pcsc: reader '%s' state 0x%lX%s", st->name,
			(unsigned long)(ev & 0xFFFF), st->card_present ? " card" : "");
	}
	*ret_count = n;
out:
	pthread_mutex_unlock(&be->lock);
	free(rs);
	free(names);
	return rv;
}

static const SCARD_IO_REQUEST *pci_for(DWORD proto)
{
	switch (proto) {
	case SCARD_PROTOCOL_T0:
		return SCARD_PCI_T0;
	case SCARD_PROTOCOL_T1:
		return SCARD_PCI_T1;
	default:
		return SCARD_PCI_RAW;
	}
}

/* Ask the driver for its largest input (SCARD_ATTR_MAXINPUT, the CCID driver's
 * dwMaxCCIDMessageLength - 10); vnp_pcsc_caps() decides. */
static void fill_caps(struct vnp_reader *r, struct vnp_reader_caps *caps)
{
	unsigned char attr[8] = { 0 };
	DWORD alen = sizeof(attr);
	unsigned long maxin = 0;
	bool have = false;
	LONG rc;

	rc = SCardGetAttrib(r->h, SCARD_ATTR_MAXINPUT, attr, &alen);
	if (rc == SCARD_S_SUCCESS && alen >= 1 && alen <= sizeof(attr)) {
		for (DWORD i = 0; i < alen; i++) /* little-endian DWORD */
			maxin |= (unsigned long)attr[i] << (8 * i);
		have = true;
	}
	vnp_pcsc_caps(r->name, r->proto == SCARD_PROTOCOL_T0, have, maxin, caps);
	vnp_log(VNP_LOG_READER, "pcsc: '%s' protocol T=%d, MAXINPUT %s%lu, extended %s (%zu/%zu)",
		r->name, caps->t0 ? 0 : 1, have ? "" : "unavailable ", maxin,
		caps->extended ? "yes" : "no", caps->max_cmd, caps->max_resp);
}

static int pc_connect(struct vnp_backend *be, const char *name, struct vnp_reader **ret,
		      struct vnp_reader_caps *ret_caps)
{
	struct vnp_reader *r = NULL;
	struct vnp_reader_caps caps;
	LONG rc;
	int rv = VNP_OK;

	if (!be || !name || !ret)
		return VNP_E_ARGS;
	if (strlen(name) >= VNP_READER_NAME_MAX)
		return VNP_E_NO_DEVICE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return VNP_E_NOMEM;
	r->be = be;
	snprintf(r->name, sizeof(r->name), "%s", name);
	pthread_mutex_lock(&be->lock);
	rc = SCardConnect(be->ctx, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			  &r->h, &r->proto);
	if (rc == SCARD_S_SUCCESS)
		be->n_conn++;
	pthread_mutex_unlock(&be->lock);
	if (rc != SCARD_S_SUCCESS) {
		vnp_log(VNP_LOG_READER, "pcsc: SCardConnect('%s'): %s", name,
			pcsc_stringify_error(rc));
		rv = map_rv(rc);
		goto out;
	}
	fill_caps(r, &caps);
	if (ret_caps)
		*ret_caps = caps;
	*ret = r;
	r = NULL;
out:
	free(r);
	return rv;
}

static void pc_disconnect(struct vnp_reader *r)
{
	if (!r)
		return;
	SCardDisconnect(r->h, SCARD_LEAVE_CARD);
	pthread_mutex_lock(&r->be->lock);
	r->be->n_conn--;
	pthread_mutex_unlock(&r->be->lock);
	vnp_log(VNP_LOG_READER, "pcsc: '%s' disconnected", r->name);
	free(r);
}

static int pc_atr(struct vnp_reader *r, uint8_t *atr, size_t *atr_len)
{
	char name[VNP_READER_NAME_MAX + 1];
	unsigned char buf[MAX_ATR_SIZE];
	DWORD nlen = sizeof(name), state = 0, proto = 0, alen = sizeof(buf);
	LONG rc;

	if (!r || !atr || !atr_len)
		return VNP_E_ARGS;
	rc = SCardStatus(r->h, name, &nlen, &state, &proto, buf, &alen);
	if (rc != SCARD_S_SUCCESS)
		return map_rv(rc);
	if (alen > *atr_len || alen > VNP_ATR_MAX)
		return VNP_E_BUFFER_TOO_SMALL;
	memcpy(atr, buf, alen);
	*atr_len = alen;
	return VNP_OK;
}

/* The card was reset by someone else: acknowledge with SCardReconnect (leave the card as is,
 * pcsc-lite clears the handle's reset event) so that the next call goes through. */
static LONG reconnect(struct vnp_reader *r)
{
	LONG rc = SCardReconnect(r->h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				 SCARD_LEAVE_CARD, &r->proto);

	vnp_log(VNP_LOG_READER, "pcsc: '%s' card reset, reconnect: %s", r->name,
		pcsc_stringify_error(rc));
	return rc;
}

static int pc_begin(struct vnp_reader *r)
{
	LONG rc;
	int rv;

	if (!r)
		return VNP_E_ARGS;
	rc = SCardBeginTransaction(r->h);
	if (rc != SCARD_W_RESET_CARD)
		goto out;
	rc = reconnect(r);
	if (rc == SCARD_S_SUCCESS)
		rc = SCardBeginTransaction(r->h);
	if (rc == SCARD_S_SUCCESS)
		rc = SCARD_W_RESET_CARD; /* holding the transaction; the caller re-selects */
	else if (rc == SCARD_W_RESET_CARD)
		rc = SCARD_F_COMM_ERROR; /* reset again: no transaction is held, so never
					  * answer VNP_E_CARD_RESET (which means "held") */
out:
	rv = map_rv(rc);
	if (rv != VNP_OK && rv != VNP_E_CARD_RESET)
		vnp_log(VNP_LOG_READER, "pcsc: '%s' SCardBeginTransaction: %s", r->name,
			pcsc_stringify_error(rc));
	return rv;
}

static void pc_end(struct vnp_reader *r)
{
	LONG rc;

	if (!r)
		return;
	rc = SCardEndTransaction(r->h, SCARD_LEAVE_CARD);
	if (rc != SCARD_S_SUCCESS)
		vnp_log(VNP_LOG_READER, "pcsc: '%s' SCardEndTransaction: %s", r->name,
			pcsc_stringify_error(rc));
}

/* A transmit failed without saying why (SCARD_E_NOT_TRANSACTED when the card went away in
 * the middle of an APDU): pcscd notices a removal on its next presence poll, so ask the
 * handle's state for up to a second. VNP_E_NO_CARD / VNP_E_NO_DEVICE when the card or the
 * reader is gone, rv otherwise. */
static int gone_or(struct vnp_reader *r, int rv)
{
	for (int i = 0; i < 10; i++) {
		char name[VNP_READER_NAME_MAX + 1];
		unsigned char atr[MAX_ATR_SIZE];
		DWORD nlen = sizeof(name), state = 0, proto = 0, alen = sizeof(atr);
		LONG rc = SCardStatus(r->h, name, &nlen, &state, &proto, atr, &alen);
		struct timespec ts = { 0, 100 * 1000000L };

		if (rc != SCARD_S_SUCCESS && rc != SCARD_W_RESET_CARD &&
		    (map_rv(rc) == VNP_E_NO_CARD || map_rv(rc) == VNP_E_NO_DEVICE))
			return map_rv(rc);
		if (rc == SCARD_S_SUCCESS && !(state & SCARD_PRESENT))
			return VNP_E_NO_CARD;
		nanosleep(&ts, NULL);
	}
	return rv;
}

static int pc_transmit(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
		       size_t *resp_len)
{
	SCARD_IO_REQUEST rpci;
	DWORD rlen;
	LONG rc;

	if (!r || !cmd || !resp || !resp_len)
		return VNP_E_ARGS;
	if (cmd_len > MAX_BUFFER_SIZE_EXTENDED)
		return VNP_E_RANGE;
	rlen = *resp_len > MAX_BUFFER_SIZE_EXTENDED ? MAX_BUFFER_SIZE_EXTENDED : (DWORD)*resp_len;
	rpci = *pci_for(r->proto);
	rc = SCardTransmit(r->h, pci_for(r->proto), cmd, (DWORD)cmd_len, &rpci, resp, &rlen);
	if (rc == SCARD_W_RESET_CARD) {
		reconnect(r);
		return VNP_E_CARD_RESET;
	}
	if (rc != SCARD_S_SUCCESS) {
		vnp_log(VNP_LOG_READER, "pcsc: '%s' SCardTransmit: %s", r->name,
			pcsc_stringify_error(rc));
		return map_rv(rc) == VNP_E_TRANSPORT ? gone_or(r, VNP_E_TRANSPORT) : map_rv(rc);
	}
	if (rlen < 2) {
		vnp_log(VNP_LOG_READER, "pcsc: '%s' response of %lu bytes", r->name,
			(unsigned long)rlen);
		return gone_or(r, VNP_E_TRANSPORT); /* vpcd: the card's socket closed */
	}
	*resp_len = rlen;
	return VNP_OK;
}

/* Snapshot the state of every reader and of the PnP pseudo reader on ctx, then block until
 * one of them changes. */
static LONG wait_change(SCARDCONTEXT ctx, unsigned timeout_ms)
{
	SCARD_READERSTATE rs[PC_WAIT_READERS + 1];
	char *names = NULL;
	DWORD n = 0;
	LONG rc;

	rc = list_names(ctx, &names);
	if (rc != SCARD_S_SUCCESS)
		return rc;
	memset(rs, 0, sizeof(rs));
	for (const char *p = names; p && *p && n < PC_WAIT_READERS; p += strlen(p) + 1)
		rs[n++].szReader = p;
	/* "\\?PnP?\Notification": pcsc-lite reports readers added or removed */
	rs[n++].szReader = "\\\\?PnP?\\Notification";
	for (DWORD i = 0; i < n; i++)
		rs[i].dwCurrentState = SCARD_STATE_UNAWARE;
	rc = SCardGetStatusChange(ctx, 0, rs, n);
	if (rc == SCARD_S_SUCCESS || rc == SCARD_E_TIMEOUT) {
		for (DWORD i = 0; i < n; i++)
			rs[i].dwCurrentState = rs[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		rc = SCardGetStatusChange(ctx, timeout_ms, rs, n);
	}
	free(names);
	return rc;
}

static int pc_wait_event(struct vnp_backend *be, unsigned timeout_ms, bool *cancelled)
{
	SCARDCONTEXT ctx;
	unsigned slot = PC_MAX_WAITERS;
	LONG rc;

	*cancelled = false;
	rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rc != SCARD_S_SUCCESS)
		return map_rv(rc);
	pthread_mutex_lock(&be->lock);
	for (unsigned i = 0; i < PC_MAX_WAITERS && slot == PC_MAX_WAITERS; i++)
		if (!be->waiting[i])
			slot = i;
	if (slot < PC_MAX_WAITERS && !be->cancelled) {
		be->waiting[slot] = true;
		be->waiters[slot] = ctx;
	}
	*cancelled = be->cancelled;
	pthread_mutex_unlock(&be->lock);
	if (*cancelled || slot == PC_MAX_WAITERS) {
		SCardReleaseContext(ctx);
		return *cancelled ? VNP_OK : VNP_E_NOMEM;
	}
	rc = wait_change(ctx, timeout_ms);
	pthread_mutex_lock(&be->lock);
	be->waiting[slot] = false;
	*cancelled = be->cancelled || rc == SCARD_E_CANCELLED;
	pthread_mutex_unlock(&be->lock);
	SCardReleaseContext(ctx);
	vnp_log(VNP_LOG_READER, "pcsc: wait: %s%s", pcsc_stringify_error(rc),
		*cancelled ? " (cancelled)" : "");
	if (*cancelled || rc == SCARD_S_SUCCESS)
		return VNP_OK;
	return map_rv(rc);
}

static void pc_cancel(struct vnp_backend *be)
{
	pthread_mutex_lock(&be->lock);
	be->cancelled = true;
	for (unsigned i = 0; i < PC_MAX_WAITERS; i++)
		if (be->waiting[i])
			SCardCancel(be->waiters[i]);
	pthread_mutex_unlock(&be->lock);
}

/* The PC/SC reader backend (see transport.h for the contract of each member). */
const struct vnp_reader_ops vnp_reader_pcsc = {
	.name = "pcsc",
	.open = pc_open,
	.close = pc_close,
	.list = pc_list,
	.connect = pc_connect,
	.disconnect = pc_disconnect,
	.atr = pc_atr,
	.begin = pc_begin,
	.end = pc_end,
	.transmit = pc_transmit,
	.wait_event = pc_wait_event,
	.cancel = pc_cancel,
};
