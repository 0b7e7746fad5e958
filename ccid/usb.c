/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The usb reader backend: USB CCID readers and tokens driven directly with libusb-1.0, no
 * pcscd. One libusb context per backend instance. Each CCID interface found (class 0x0B, or
 * 0xFF for the VID:PIDs the quirks table names) is opened and claimed when list() first sees
 * it and kept until it goes away; an interface somebody else holds (pcscd's CCID driver, a
 * kernel driver) is skipped with one log line: we never detach a kernel driver.
 * The CCID protocol itself (messages, exchange levels, T=1) is ccid_reader.c's; this file
 * moves its messages over the bulk pipes and watches the interrupt endpoint
 * (RDR_to_PC_NotifySlotChange, CCID 1.1 §6.3.1) and libusb hotplug for wait_event().
 *
 * Locks, in this order: vnp_backend.scan (one enumeration at a time), usb_dev.io (the bulk
 * pipes: one CCID exchange at a time), then vnp_backend.lock (device list, presence, event
 * counts). libusb event handling (which runs our transfer and hotplug callbacks, which take
 * vnp_backend.lock) is never entered with vnp_backend.lock held. */
#include <libusb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccid_reader.h"
#include "config.h"
#include "log.h"
#include "rv.h"
#include "transport.h"
#include "usb_desc.h"
#include "usb_quirks.h"

#define USB_NAME_PREFIX "USB CCID "
#define USB_IO_TIMEOUT_MS 10000u  /* bulk-OUT; bulk-IN timeouts come from ccid_reader */
#define USB_WAIT_SLICE_MS 100u    /* wait_event: longest libusb event wait between checks */
#define USB_POLL_MS 500u          /* wait_event without hotplug: device list poll period */
#define USB_BUSY_RETRY_S 2        /* retry claiming an interface held by somebody else */
#define USB_MAX_SKIP 32
#define USB_INTR_LEN 16

/* RDR_to_PC_NotifySlotChange (CCID 1.1 §6.3.1): bmSlotICCState, 2 bits per slot, bit 0
 * card present, bit 1 changed since the last message. */
#define CCID_NOTIFY_SLOT_CHANGE 0x50

struct usb_dev {
	struct usb_dev *next;
	struct vnp_backend *be;
	unsigned refs;      /* the backend's list + connected readers; be->lock */
	bool gone;          /* unplugged (hotplug, NO_DEVICE); be->lock */
	bool seen;          /* list(): found in this enumeration; be->lock */
	libusb_device *dev; /* referenced */
	libusb_device_handle *h;
	unsigned quirks;
	char name[VNP_READER_NAME_MAX];
	struct vnp_usb_ccid_if ifc;

	pthread_mutex_t io; /* the bulk pipes and ccid */
	struct vnp_ccid_reader *ccid;
	unsigned powered;   /* connected readers; io */

	struct libusb_transfer *intr;
	uint8_t intr_buf[USB_INTR_LEN];
	bool intr_busy; /* submitted, callback not yet run; be->lock */
	bool intr_seen; /* a NotifySlotChange came since the device was opened; be->lock */
	bool closing;   /* do not resubmit; be->lock */

	/* card state; be->lock */
	bool present;
	uint32_t events;
	uint8_t atr[VNP_ATR_MAX];
	size_t atr_len;
};

/* A device we do not use: not a CCID device (for good), or one that could not be opened or
 * claimed (held by somebody else, or a transient error: retried every USB_BUSY_RETRY_S). */
struct skip_ent {
	libusb_device *dev; /* referenced */
	time_t last_try;
	bool retry;
};

struct vnp_backend {
	libusb_context *ctx;
	pthread_mutex_t scan; /* one enumeration at a time: never open a device twice */
	pthread_mutex_t lock; /* everything below */
	unsigned gen;         /* moves on any hotplug or card event */
	bool cancelled;
	bool have_hotplug;
	libusb_hotplug_callback_handle hotplug;
	struct usb_dev *devs;
	struct skip_ent skip[USB_MAX_SKIP];
	unsigned n_skip;
	char only[sizeof(((struct vnp_config *)0)->usb_only)];
	char quirks[sizeof(((struct vnp_config *)0)->usb_quirks)];
};

struct vnp_reader {
	struct vnp_backend *be;
	struct usb_dev *d;
	uint32_t events; /* d->events when the card was last powered by us */
};

static int map_usb(int rc)
{
	switch (rc) {
	case LIBUSB_SUCCESS:
		return VNP_OK;
	case LIBUSB_ERROR_NO_DEVICE:
		return VNP_E_NO_DEVICE;
	case LIBUSB_ERROR_TIMEOUT:
		return VNP_E_TIMEOUT;
	case LIBUSB_ERROR_BUSY:
		return VNP_E_SHARING;
	case LIBUSB_ERROR_NO_MEM:
		return VNP_E_NOMEM;
	default:
		return VNP_E_TRANSPORT;
	}
}

/* Called with be->lock held. */
static void bump_locked(struct vnp_backend *be)
{
	be->gen++;
}

static void set_presence_locked(struct usb_dev *d, bool present, bool changed)
{
	if (d->present != present || changed) {
		d->events++;
		vnp_log(VNP_LOG_READER, "usb: %s: card %s", d->name,
			present ? "inserted" : "removed");
		bump_locked(d->be);
	}
	d->present = present;
	if (!present)
		d->atr_len = 0;
}

static void set_presence(struct usb_dev *d, bool present)
{
	pthread_mutex_lock(&d->be->lock);
	set_presence_locked(d, present, false);
	pthread_mutex_unlock(&d->be->lock);
}

static void mark_gone(struct usb_dev *d)
{
	pthread_mutex_lock(&d->be->lock);
	if (!d->gone) {
		d->gone = true;
		vnp_log(VNP_LOG_READER, "usb: %s: device gone", d->name);
		bump_locked(d->be);
	}
	pthread_mutex_unlock(&d->be->lock);
}

/* The pipe of ccid_reader: one CCID message per bulk transfer. */
static int pipe_out(void *pipe, const uint8_t *msg, size_t len, unsigned timeout_ms)
{
	struct usb_dev *d = pipe;
	int done = 0, rc;

	if (len > INT32_MAX)
		return VNP_E_ARGS;
	rc = libusb_bulk_transfer(d->h, d->ifc.ep_bulk_out, (unsigned char *)msg, (int)len, &done,
				  timeout_ms ? timeout_ms : USB_IO_TIMEOUT_MS);
	if (rc == LIBUSB_ERROR_PIPE)
		libusb_clear_halt(d->h, d->ifc.ep_bulk_out);
	if (rc == LIBUSB_ERROR_NO_DEVICE)
		mark_gone(d);
	if (rc == LIBUSB_SUCCESS && (size_t)done != len)
		return VNP_E_TRANSPORT;
	return map_usb(rc);
}

static int pipe_in(void *pipe, uint8_t *buf, size_t cap, size_t *ret_len, unsigned timeout_ms)
{
	struct usb_dev *d = pipe;
	int got = 0, rc;

	if (cap > INT32_MAX)
		cap = INT32_MAX;
	rc = libusb_bulk_transfer(d->h, d->ifc.ep_bulk_in, buf, (int)cap, &got, timeout_ms);
	if (rc == LIBUSB_ERROR_PIPE)
		libusb_clear_halt(d->h, d->ifc.ep_bulk_in);
	if (rc == LIBUSB_ERROR_NO_DEVICE)
		mark_gone(d);
	if (rc == LIBUSB_SUCCESS)
		*ret_len = (size_t)got;
	return map_usb(rc);
}

static const struct vnp_ccid_pipe_ops usb_pipe = {
	.bulk_out = pipe_out,
	.bulk_in = pipe_in,
};

/* The interrupt endpoint: runs inside libusb event handling, in any thread. */
static void LIBUSB_CALL intr_done(struct libusb_transfer *t)
{
	struct usb_dev *d = t->user_data;
	bool again;

	pthread_mutex_lock(&d->be->lock);
	if (t->status == LIBUSB_TRANSFER_COMPLETED && t->actual_length >= 2 &&
	    t->buffer[0] == CCID_NOTIFY_SLOT_CHANGE) {
		uint8_t bits = t->buffer[1] & 0x03; /* slot 0 */

		/* Readers send one message with "changed" set when they start: not an event when
		 * it agrees with the GetSlotStatus answer we opened the device with. */
		set_presence_locked(d, bits & 0x01, (bits & 0x02) && d->intr_seen);
		d->intr_seen = true;
	} else if (t->status == LIBUSB_TRANSFER_NO_DEVICE && !d->gone) {
		d->gone = true;
		bump_locked(d->be);
	}
	again = !d->closing && !d->gone &&
		(t->status == LIBUSB_TRANSFER_COMPLETED || t->status == LIBUSB_TRANSFER_TIMED_OUT);
	if (again && libusb_submit_transfer(t) != LIBUSB_SUCCESS)
		again = false;
	d->intr_busy = again;
	pthread_mutex_unlock(&d->be->lock);
}

static void intr_start(struct usb_dev *d)
{
	bool ok;

	if (!d->ifc.ep_intr_in || (d->quirks & VNP_USB_Q_NO_INTERRUPT))
		return;
	d->intr = libusb_alloc_transfer(0);
	if (!d->intr)
		return;
	libusb_fill_interrupt_transfer(d->intr, d->h, d->ifc.ep_intr_in, d->intr_buf,
				       sizeof(d->intr_buf), intr_done, d, 0);
	pthread_mutex_lock(&d->be->lock);
	ok = libusb_submit_transfer(d->intr) == LIBUSB_SUCCESS;
	d->intr_busy = ok;
	pthread_mutex_unlock(&d->be->lock);
	/* not d->intr_busy: once submitted, the callback owns it (intr_stop frees the transfer) */
	if (!ok) {
		libusb_free_transfer(d->intr);
		d->intr = NULL;
	}
}

/* Cancel the interrupt transfer and run libusb events until its callback has run (at most
 * about two seconds; a transfer whose callback never comes is leaked, never freed while the
 * kernel may still write to it). */
static void intr_stop(struct usb_dev *d)
{
	struct timeval tv = {0, 50000};
	bool busy;

	if (!d->intr)
		return;
	pthread_mutex_lock(&d->be->lock);
	d->closing = true;
	busy = d->intr_busy;
	pthread_mutex_unlock(&d->be->lock);
	if (busy)
		libusb_cancel_transfer(d->intr);
	for (int i = 0; busy && i < 40; i++) {
		libusb_handle_events_timeout_completed(d->be->ctx, &tv, NULL);
		pthread_mutex_lock(&d->be->lock);
		busy = d->intr_busy;
		pthread_mutex_unlock(&d->be->lock);
	}
	if (busy) {
		vnp_warn("usb: %s: interrupt transfer not cancelled; leaking it", d->name);
		return;
	}
	libusb_free_transfer(d->intr);
	d->intr = NULL;
}

/* Whether d's interrupt transfer is in flight (it reports card insertions and removals): not
 * when d has no interrupt endpoint, or the transfer ended with an error and was not resubmitted. */
static bool intr_live(struct usb_dev *d)
{
	bool live;

	pthread_mutex_lock(&d->be->lock);
	live = d->intr_busy;
	pthread_mutex_unlock(&d->be->lock);
	return live;
}

/* Release everything of d (no reference left). Runs libusb events: never with be->lock. */
static void dev_close(struct usb_dev *d)
{
	if (!d)
		return;
	intr_stop(d);
	vnp_ccid_reader_free(d->ccid);
	if (d->h) {
		libusb_release_interface(d->h, d->ifc.bInterfaceNumber);
		libusb_close(d->h);
	}
	if (d->intr) /* leaked transfer: keep d's memory too, the callback may still run */
		return;
	libusb_unref_device(d->dev);
	pthread_mutex_destroy(&d->io);
	vnp_log(VNP_LOG_READER, "usb: %s: closed", d->name);
	free(d);
}

/* Drop one reference; close when it was the last. Called without be->lock. */
static void dev_unref(struct usb_dev *d)
{
	bool last;

	pthread_mutex_lock(&d->be->lock);
	last = --d->refs == 0;
	pthread_mutex_unlock(&d->be->lock);
	if (last)
		dev_close(d);
}

/* "USB CCID vvvv:pppp b-p.p.p": stable while the device stays in the same port. */
static void make_name(libusb_device *ud, uint16_t vid, uint16_t pid, char *out, size_t cap)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(ud, ports, (int)sizeof(ports));
	size_t len;

	len = (size_t)snprintf(out, cap, USB_NAME_PREFIX "%04x:%04x %u", vid, pid,
			       libusb_get_bus_number(ud));
	for (int i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%c%u", i ? '.' : '-', ports[i]);
	if (n <= 0 && len < cap)
		snprintf(out + len, cap - len, "@%u", libusb_get_device_address(ud));
}

/* Copy n bytes (p may be NULL when n is 0, as libusb leaves empty `extra`). */
static void append(uint8_t *b, size_t *off, const unsigned char *p, int n)
{
	if (n <= 0 || !p)
		return;
	memcpy(b + *off, p, (size_t)n);
	*off += (size_t)n;
}

/* The interface descriptor of s, its class-specific bytes, then each endpoint and its
 * class-specific bytes (USB 2.0 §9.6.5, §9.6.6). Returns the length; writes when b. */
static size_t altsetting_bytes(const struct libusb_interface_descriptor *s, uint8_t *b)
{
	size_t off;

	if (b) {
		size_t at = 9;

		b[0] = 9;
		b[1] = VNP_USB_DT_INTERFACE;
		b[2] = s->bInterfaceNumber;
		b[3] = s->bAlternateSetting;
		b[4] = s->bNumEndpoints;
		b[5] = s->bInterfaceClass;
		b[6] = s->bInterfaceSubClass;
		b[7] = s->bInterfaceProtocol;
		b[8] = s->iInterface;
		append(b, &at, s->extra, s->extra_length);
	}
	off = 9 + (size_t)(s->extra_length > 0 ? s->extra_length : 0);
	for (int e = 0; e < s->bNumEndpoints; e++) {
		const struct libusb_endpoint_descriptor *ep = &s->endpoint[e];

		if (b) {
			uint8_t *d = b + off;
			size_t at = off + 7;

			d[0] = 7;
			d[1] = VNP_USB_DT_ENDPOINT;
			d[2] = ep->bEndpointAddress;
			d[3] = ep->bmAttributes;
			d[4] = (uint8_t)(ep->wMaxPacketSize & 0xFF);
			d[5] = (uint8_t)(ep->wMaxPacketSize >> 8);
			d[6] = ep->bInterval;
			append(b, &at, ep->extra, ep->extra_length);
		}
		off += 7 + (size_t)(ep->extra_length > 0 ? ep->extra_length : 0);
	}
	return off;
}

/* The active configuration of ud rebuilt as bytes (USB 2.0 §9.6.3 layout) from libusb's
 * parsed copy: libusb keeps each descriptor's class-specific bytes in `extra`, in device
 * order, so header + extra + (interface + extra + (endpoint + extra)...)... is the
 * configuration as the device sent it, minus descriptors libusb found malformed. */
static int config_bytes(libusb_device *ud, uint8_t **ret, size_t *ret_len)
{
	struct libusb_config_descriptor *c = NULL;
	size_t len, off = 9;
	uint8_t *b = NULL;
	int rc, rv = VNP_OK;

	rc = libusb_get_active_config_descriptor(ud, &c);
	if (rc != LIBUSB_SUCCESS)
		return map_usb(rc);
	len = 9 + (size_t)(c->extra_length > 0 ? c->extra_length : 0);
	for (int i = 0; i < c->bNumInterfaces; i++)
		for (int a = 0; a < c->interface[i].num_altsetting; a++)
			len += altsetting_bytes(&c->interface[i].altsetting[a], NULL);
	if (len > 0xFFFF) {
		rv = VNP_E_MALFORMED;
		goto out;
	}
	b = malloc(len);
	if (!b) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	{
		const uint8_t hdr[9] = {9, VNP_USB_DT_CONFIG, (uint8_t)(len & 0xFF),
					(uint8_t)(len >> 8), c->bNumInterfaces,
					c->bConfigurationValue, c->iConfiguration,
					c->bmAttributes, c->MaxPower};

		memcpy(b, hdr, 9);
	}
	append(b, &off, c->extra, c->extra_length);
	for (int i = 0; i < c->bNumInterfaces; i++)
		for (int a = 0; a < c->interface[i].num_altsetting; a++)
			off += altsetting_bytes(&c->interface[i].altsetting[a], b + off);
	*ret = b;
	*ret_len = off;
	b = NULL;
out:
	free(b);
	libusb_free_config_descriptor(c);
	return rv;
}

/* Is ud a CCID device we may use? Fills vid, pid, quirks, ifc. VNP_E_NOT_FOUND when not. */
static int probe(struct vnp_backend *be, libusb_device *ud, uint16_t *vid, uint16_t *pid,
		 unsigned *quirks, struct vnp_usb_ccid_if *ifc)
{
	struct libusb_device_descriptor dd;
	uint8_t *cfg = NULL;
	size_t len = 0;
	unsigned flags;
	int rv;

	if (libusb_get_device_descriptor(ud, &dd) != LIBUSB_SUCCESS)
		return VNP_E_NOT_FOUND;
	/* hubs, and classes a reader never has at device level */
	if (dd.bDeviceClass == LIBUSB_CLASS_HUB)
		return VNP_E_NOT_FOUND;
	if (!vnp_usb_id_allowed(be->only, dd.idVendor, dd.idProduct))
		return VNP_E_NOT_FOUND;
	*quirks = vnp_usb_quirks_lookup(dd.idVendor, dd.idProduct, be->quirks);
	if (*quirks & VNP_USB_Q_IGNORE)
		return VNP_E_NOT_FOUND;
	rv = config_bytes(ud, &cfg, &len);
	if (rv != VNP_OK)
		return VNP_E_NOT_FOUND;
	flags = (*quirks & VNP_USB_Q_VENDOR_CLASS) ? VNP_USB_FIND_VENDOR_CLASS : 0;
	rv = vnp_usb_desc_find_ccid(cfg, len, flags, 0, ifc);
	free(cfg);
	if (rv != VNP_OK)
		return VNP_E_NOT_FOUND;
	*vid = dd.idVendor;
	*pid = dd.idProduct;
	return VNP_OK;
}

/* Open and claim the CCID interface of ud. VNP_E_SHARING when somebody else holds it. Every
 * error path releases what it took. */
static int dev_open(struct vnp_backend *be, libusb_device *ud, uint16_t vid, uint16_t pid,
		    unsigned quirks, const struct vnp_usb_ccid_if *ifc, struct usb_dev **ret)
{
	struct usb_dev *d;
	bool claimed = false, present = false, active = false;
	int rc, rv;

	d = calloc(1, sizeof(*d));
	if (!d)
		return VNP_E_NOMEM;
	d->be = be;
	d->dev = libusb_ref_device(ud);
	d->quirks = quirks;
	d->ifc = *ifc;
	d->events = 1; /* 0 means "unknown" to the caller */
	pthread_mutex_init(&d->io, NULL);
	make_name(ud, vid, pid, d->name, sizeof(d->name));
	rc = libusb_open(ud, &d->h);
	if (rc != LIBUSB_SUCCESS) {
		vnp_warn("usb: %s: cannot open: %s%s", d->name, libusb_error_name(rc),
			 rc == LIBUSB_ERROR_ACCESS ? " (no permission: see the udev rule in the "
						     "documentation)" : "");
		rv = rc == LIBUSB_ERROR_ACCESS ? VNP_E_SHARING : map_usb(rc);
		d->h = NULL;
		goto out;
	}
	/* Never detach a kernel driver and never take an interface from another program: a
	 * claimed interface answers LIBUSB_ERROR_BUSY and we leave it. */
	rc = libusb_claim_interface(d->h, ifc->bInterfaceNumber);
	if (rc != LIBUSB_SUCCESS) {
		rv = map_usb(rc);
		goto out;
	}
	claimed = true;
	rv = vnp_ccid_reader_new(&usb_pipe, d, ifc->class_desc, sizeof(ifc->class_desc), 0,
				 &d->ccid);
	if (rv != VNP_OK) {
		vnp_warn("usb: %s: CCID class descriptor refused: %s", d->name, vnp_rv_text(rv));
		goto out;
	}
	rv = vnp_ccid_reader_slot_status(d->ccid, &present, &active);
	if (rv != VNP_OK) {
		vnp_warn("usb: %s: GetSlotStatus: %s", d->name, vnp_rv_text(rv));
		goto out;
	}
	d->present = present;
	intr_start(d);
	vnp_log(VNP_LOG_READER, "usb: %s: interface %u claimed (class %02x, card %s%s)", d->name,
		ifc->bInterfaceNumber, ifc->bInterfaceClass, present ? "present" : "absent",
		d->intr ? "" : ", no interrupt endpoint: polling");
	*ret = d;
	d = NULL;
out:
	if (d) {
		vnp_ccid_reader_free(d->ccid);
		if (claimed)
			libusb_release_interface(d->h, ifc->bInterfaceNumber);
		if (d->h)
			libusb_close(d->h);
		libusb_unref_device(d->dev);
		pthread_mutex_destroy(&d->io);
		free(d);
	}
	return rv;
}

/* Is ud in the skip list and not due for another try? Adds it when add. be->lock held. */
static bool skipped_locked(struct vnp_backend *be, libusb_device *ud, time_t now)
{
	for (unsigned i = 0; i < be->n_skip; i++)
		if (be->skip[i].dev == ud)
			return !be->skip[i].retry || now - be->skip[i].last_try < USB_BUSY_RETRY_S;
	return false;
}

/* Remember ud as skipped (retry: try it again later). Returns true the first time, for the
 * caller's one log line. be->lock held. */
static bool skip_add_locked(struct vnp_backend *be, libusb_device *ud, bool retry, time_t now)
{
	for (unsigned i = 0; i < be->n_skip; i++)
		if (be->skip[i].dev == ud) {
			be->skip[i].last_try = now;
			return false;
		}
	if (be->n_skip == USB_MAX_SKIP)
		return true;
	be->skip[be->n_skip].dev = libusb_ref_device(ud);
	be->skip[be->n_skip].last_try = now;
	be->skip[be->n_skip].retry = retry;
	be->n_skip++;
	return true;
}

static void skip_forget_locked(struct vnp_backend *be, libusb_device *ud)
{
	for (unsigned i = 0; i < be->n_skip; i++)
		if (be->skip[i].dev == ud) {
			libusb_unref_device(ud);
			be->skip[i] = be->skip[--be->n_skip];
			return;
		}
}

/* Drop skip entries of devices no longer attached. be->lock held. */
static void skip_prune_locked(struct vnp_backend *be, libusb_device **list, ssize_t n)
{
	for (unsigned i = 0; i < be->n_skip;) {
		bool found = false;

		for (ssize_t k = 0; k < n && !found; k++)
			found = list[k] == be->skip[i].dev;
		if (found) {
			i++;
			continue;
		}
		libusb_unref_device(be->skip[i].dev);
		be->skip[i] = be->skip[--be->n_skip];
	}
}

/* Look at one enumerated device that is not in be->devs yet. */
static void consider(struct vnp_backend *be, libusb_device *ud, time_t now)
{
	struct vnp_usb_ccid_if ifc;
	struct usb_dev *d = NULL;
	uint16_t vid, pid;
	unsigned quirks;
	bool skip;
	int rv;

	pthread_mutex_lock(&be->lock);
	skip = skipped_locked(be, ud, now);
	pthread_mutex_unlock(&be->lock);
	if (skip)
		return;
	if (probe(be, ud, &vid, &pid, &quirks, &ifc) != VNP_OK) {
		pthread_mutex_lock(&be->lock);
		skip_add_locked(be, ud, false, now);
		pthread_mutex_unlock(&be->lock);
		return;
	}
	rv = dev_open(be, ud, vid, pid, quirks, &ifc, &d);
	pthread_mutex_lock(&be->lock);
	if (rv == VNP_OK) {
		skip_forget_locked(be, ud);
		d->refs = 1;
		d->seen = true;
		d->next = be->devs;
		be->devs = d;
		bump_locked(be);
	} else {
		char name[VNP_READER_NAME_MAX];

		make_name(ud, vid, pid, name, sizeof(name));
		if (skip_add_locked(be, ud, true, now)) {
			if (rv == VNP_E_SHARING)
				vnp_warn("usb: %s: interface held by another program (pcscd?): "
					 "skipped", name);
			else
				vnp_log(VNP_LOG_READER,
					"usb: %s: not used (retried every %d s): %s", name,
					USB_BUSY_RETRY_S, vnp_rv_text(rv));
		}
	}
	pthread_mutex_unlock(&be->lock);
}

/* Bring be->devs in line with what libusb sees attached now. */
static void refresh(struct vnp_backend *be)
{
	struct timeval zero = {0, 0};
	libusb_device **list = NULL;
	struct usb_dev *gone = NULL, **pp;
	time_t now = time(NULL);
	ssize_t n;

	/* run pending callbacks (interrupt endpoint, hotplug) without waiting */
	libusb_handle_events_timeout_completed(be->ctx, &zero, NULL);
	n = libusb_get_device_list(be->ctx, &list);
	if (n < 0)
		return;
	pthread_mutex_lock(&be->lock);
	for (struct usb_dev *d = be->devs; d; d = d->next) {
		d->seen = false;
		for (ssize_t k = 0; k < n && !d->seen; k++)
			d->seen = list[k] == d->dev;
	}
	skip_prune_locked(be, list, n);
	pthread_mutex_unlock(&be->lock);
	for (ssize_t k = 0; k < n; k++) {
		bool known = false;

		pthread_mutex_lock(&be->lock);
		for (struct usb_dev *d = be->devs; d && !known; d = d->next)
			known = d->dev == list[k];
		pthread_mutex_unlock(&be->lock);
		if (!known)
			consider(be, list[k], now);
	}
	pthread_mutex_lock(&be->lock);
	for (pp = &be->devs; *pp;) {
		struct usb_dev *d = *pp;

		if (d->seen && !d->gone) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		if (!d->gone) {
			d->gone = true;
			vnp_log(VNP_LOG_READER, "usb: %s: device gone", d->name);
		}
		bump_locked(be);
		if (--d->refs == 0) {
			d->next = gone;
			gone = d;
		}
	}
	pthread_mutex_unlock(&be->lock);
	while (gone) {
		struct usb_dev *d = gone;

		gone = d->next;
		dev_close(d);
	}
	libusb_free_device_list(list, 1);
}

static int LIBUSB_CALL hotplug_cb(libusb_context *ctx, libusb_device *ud,
				  libusb_hotplug_event ev, void *user)
{
	struct vnp_backend *be = user;

	(void)ctx;
	pthread_mutex_lock(&be->lock);
	if (ev == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT)
		for (struct usb_dev *d = be->devs; d; d = d->next)
			if (d->dev == ud)
				d->gone = true;
	bump_locked(be);
	pthread_mutex_unlock(&be->lock);
	return 0; /* stay registered */
}

static int usb_open(const struct vnp_config *cfg, struct vnp_backend **ret)
{
	struct vnp_backend *be;
	int rc;

	if (!ret)
		return VNP_E_ARGS;
	be = calloc(1, sizeof(*be));
	if (!be)
		return VNP_E_NOMEM;
	if (cfg) {
		snprintf(be->only, sizeof(be->only), "%s", cfg->usb_only);
		snprintf(be->quirks, sizeof(be->quirks), "%s", cfg->usb_quirks);
	}
	rc = libusb_init(&be->ctx);
	if (rc != LIBUSB_SUCCESS) {
		vnp_log(VNP_LOG_READER, "usb: libusb_init: %s", libusb_error_name(rc));
		free(be);
		return VNP_E_NO_SERVICE; /* no usbfs here (a container): no readers */
	}
	pthread_mutex_init(&be->scan, NULL);
	pthread_mutex_init(&be->lock, NULL);
	if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		int events = LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT;

		rc = libusb_hotplug_register_callback(be->ctx, events, 0, LIBUSB_HOTPLUG_MATCH_ANY,
						      LIBUSB_HOTPLUG_MATCH_ANY,
						      LIBUSB_HOTPLUG_MATCH_ANY, hotplug_cb, be,
						      &be->hotplug);
		be->have_hotplug = rc == LIBUSB_SUCCESS;
	}
	vnp_log(VNP_LOG_READER, "usb: libusb %s, hotplug %s",
		libusb_get_version()->describe ? libusb_get_version()->describe : "",
		be->have_hotplug ? "on" : "off (polling)");
	*ret = be;
	return VNP_OK;
}

static void usb_close(struct vnp_backend *be)
{
	struct usb_dev *d;

	if (!be)
		return;
	if (be->have_hotplug)
		libusb_hotplug_deregister_callback(be->ctx, be->hotplug);
	/* Readers still connected keep their device; the caller disconnects them first. */
	while ((d = be->devs)) {
		bool last;

		be->devs = d->next;
		last = --d->refs == 0;
		if (last)
			dev_close(d);
	}
	for (unsigned i = 0; i < be->n_skip; i++)
		libusb_unref_device(be->skip[i].dev);
	libusb_exit(be->ctx);
	pthread_mutex_destroy(&be->lock);
	pthread_mutex_destroy(&be->scan);
	free(be);
}

static int usb_list(struct vnp_backend *be, struct vnp_reader_state *out, size_t max,
		    size_t *ret_count)
{
	struct usb_dev *snap[64];
	size_t n = 0, count = 0;

	if (!be || !ret_count || (max && !out))
		return VNP_E_ARGS;
	pthread_mutex_lock(&be->scan);
	refresh(be);
	pthread_mutex_unlock(&be->scan);
	pthread_mutex_lock(&be->lock);
	for (struct usb_dev *d = be->devs; d && n < sizeof(snap) / sizeof(snap[0]); d = d->next) {
		d->refs++;
		snap[n++] = d;
	}
	pthread_mutex_unlock(&be->lock);
	/* Presence: ask the reader when its pipe is free; never wait for a card exchange. */
	for (size_t i = 0; i < n; i++) {
		struct usb_dev *d = snap[i];
		bool present, active;

		if (pthread_mutex_trylock(&d->io) != 0)
			continue;
		if (vnp_ccid_reader_slot_status(d->ccid, &present, &active) == VNP_OK)
			set_presence(d, present);
		pthread_mutex_unlock(&d->io);
	}
	pthread_mutex_lock(&be->lock);
	for (size_t i = 0; i < n; i++) {
		struct usb_dev *d = snap[i];
		struct vnp_reader_state *st;

		if (d->gone || count >= max)
			continue;
		st = &out[count++];
		memset(st, 0, sizeof(*st));
		snprintf(st->name, sizeof(st->name), "%s", d->name);
		st->card_present = d->present;
		st->atr_len = d->present ? d->atr_len : 0;
		memcpy(st->atr, d->atr, st->atr_len);
		st->event_count = d->events;
	}
	pthread_mutex_unlock(&be->lock);
	for (size_t i = 0; i < n; i++)
		dev_unref(snap[i]);
	*ret_count = count;
	return VNP_OK;
}

/* Power the card on (io held) and record its ATR. */
static int power_on_io(struct usb_dev *d)
{
	uint8_t atr[VNP_ATR_MAX + 32];
	size_t atr_len = sizeof(atr);
	int rv;

	rv = vnp_ccid_reader_power_on(d->ccid, atr, &atr_len);
	if (rv == VNP_E_NO_CARD)
		set_presence(d, false);
	if (rv != VNP_OK)
		return rv;
	if (atr_len > VNP_ATR_MAX)
		atr_len = VNP_ATR_MAX;
	pthread_mutex_lock(&d->be->lock);
	set_presence_locked(d, true, false);
	memcpy(d->atr, atr, atr_len);
	d->atr_len = atr_len;
	pthread_mutex_unlock(&d->be->lock);
	return VNP_OK;
}

static int usb_connect(struct vnp_backend *be, const char *name, struct vnp_reader **ret,
		       struct vnp_reader_caps *ret_caps)
{
	struct vnp_reader *r = NULL;
	struct usb_dev *d = NULL;
	int rv;

	if (!be || !name || !ret)
		return VNP_E_ARGS;
	pthread_mutex_lock(&be->lock);
	for (d = be->devs; d; d = d->next)
		if (!d->gone && !strcmp(d->name, name))
			break;
	if (d)
		d->refs++;
	pthread_mutex_unlock(&be->lock);
	if (!d)
		return VNP_E_NO_DEVICE;
	r = calloc(1, sizeof(*r));
	if (!r) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	r->be = be;
	r->d = d;
	pthread_mutex_lock(&d->io);
	rv = power_on_io(d);
	if (rv == VNP_OK) {
		d->powered++;
		if (ret_caps)
			vnp_ccid_reader_caps(d->ccid, ret_caps);
	}
	pthread_mutex_unlock(&d->io);
	if (rv != VNP_OK)
		goto out;
	pthread_mutex_lock(&be->lock);
	r->events = d->events;
	pthread_mutex_unlock(&be->lock);
	vnp_log(VNP_LOG_READER, "usb: %s: connected", name);
	*ret = r;
	r = NULL;
	d = NULL;
out:
	free(r);
	if (d)
		dev_unref(d);
	return rv;
}

static void usb_disconnect(struct vnp_reader *r)
{
	struct usb_dev *d;
	bool gone;

	if (!r)
		return;
	d = r->d;
	pthread_mutex_lock(&d->be->lock);
	gone = d->gone;
	pthread_mutex_unlock(&d->be->lock);
	pthread_mutex_lock(&d->io);
	if (--d->powered == 0 && !gone)
		(void)vnp_ccid_reader_power_off(d->ccid);
	pthread_mutex_unlock(&d->io);
	vnp_log(VNP_LOG_READER, "usb: %s: disconnected", d->name);
	dev_unref(d);
	free(r);
}

static int usb_atr(struct vnp_reader *r, uint8_t *atr, size_t *atr_len)
{
	int rv = VNP_OK;

	if (!r || !atr || !atr_len)
		return VNP_E_ARGS;
	pthread_mutex_lock(&r->be->lock);
	if (r->d->gone)
		rv = VNP_E_NO_DEVICE;
	else if (!r->d->present)
		rv = VNP_E_NO_CARD;
	else if (*atr_len < r->d->atr_len)
		rv = VNP_E_BUFFER_TOO_SMALL;
	if (rv == VNP_OK) {
		memcpy(atr, r->d->atr, r->d->atr_len);
		*atr_len = r->d->atr_len;
	}
	pthread_mutex_unlock(&r->be->lock);
	return rv;
}

/* We hold the interface exclusively: nobody else can reset the card. What begin() must
 * notice is a card pulled, or pulled and put back (then powered again here, and the caller
 * told with VNP_E_CARD_RESET). */
static int usb_begin(struct vnp_reader *r)
{
	struct timeval zero = {0, 0};
	struct usb_dev *d;
	bool present, changed, gone, active;
	int rv;

	if (!r)
		return VNP_E_ARGS;
	d = r->d;
	if (intr_live(d)) {
		libusb_handle_events_timeout_completed(r->be->ctx, &zero, NULL);
	} else {
		pthread_mutex_lock(&d->io);
		rv = vnp_ccid_reader_slot_status(d->ccid, &present, &active);
		pthread_mutex_unlock(&d->io);
		if (rv == VNP_OK)
			set_presence(d, present);
	}
	pthread_mutex_lock(&r->be->lock);
	gone = d->gone;
	present = d->present;
	changed = d->events != r->events;
	pthread_mutex_unlock(&r->be->lock);
	if (gone)
		return VNP_E_NO_DEVICE;
	if (!present)
		return VNP_E_NO_CARD;
	if (!changed)
		return VNP_OK;
	pthread_mutex_lock(&d->io);
	rv = power_on_io(d);
	pthread_mutex_unlock(&d->io);
	if (rv != VNP_OK)
		return rv;
	pthread_mutex_lock(&r->be->lock);
	r->events = d->events;
	pthread_mutex_unlock(&r->be->lock);
	return VNP_E_CARD_RESET;
}

static void usb_end(struct vnp_reader *r)
{
	(void)r;
}

static int usb_transmit(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
			size_t *resp_len)
{
	struct usb_dev *d;
	bool gone;
	int rv;

	if (!r || !cmd || !resp || !resp_len)
		return VNP_E_ARGS;
	d = r->d;
	pthread_mutex_lock(&r->be->lock);
	gone = d->gone;
	pthread_mutex_unlock(&r->be->lock);
	if (gone)
		return VNP_E_NO_DEVICE;
	pthread_mutex_lock(&d->io);
	rv = vnp_ccid_reader_transmit(d->ccid, cmd, cmd_len, resp, resp_len);
	/* The reader says the card is not powered (it was reset behind our back, or a power
	 * off of another connection): power it again; the caller re-selects. */
	if (rv == VNP_E_CARD_RESET && power_on_io(d) != VNP_OK)
		rv = VNP_E_NO_CARD;
	pthread_mutex_unlock(&d->io);
	if (rv == VNP_E_CARD_RESET) {
		pthread_mutex_lock(&r->be->lock);
		r->events = d->events;
		pthread_mutex_unlock(&r->be->lock);
	}
	if (rv == VNP_E_NO_CARD)
		set_presence(d, false);
	if (rv == VNP_E_NO_DEVICE)
		mark_gone(d);
	if (rv > 0)
		rv = VNP_E_TRANSPORT;
	return rv;
}

/* A cheap fingerprint of the attached devices, for wait_event without hotplug. */
static uintptr_t devlist_sig(struct vnp_backend *be)
{
	libusb_device **list = NULL;
	uintptr_t sig = 0;
	ssize_t n = libusb_get_device_list(be->ctx, &list);

	for (ssize_t k = 0; k < n; k++)
		sig = sig * 31 + (uintptr_t)list[k];
	if (n >= 0)
		libusb_free_device_list(list, 1);
	return sig ^ (uintptr_t)n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Card presence of the devices no interrupt transfer watches (no interrupt endpoint, the
 * no-interrupt quirk, or a transfer that ended with an error): GetSlotStatus when the pipe is
 * free, as list() does; a change moves be->gen. */
static void poll_slots(struct vnp_backend *be)
{
	struct usb_dev *snap[64];
	size_t n = 0;

	pthread_mutex_lock(&be->lock);
	for (struct usb_dev *d = be->devs; d && n < sizeof(snap) / sizeof(snap[0]); d = d->next) {
		if (d->gone || d->intr_busy)
			continue;
		d->refs++;
		snap[n++] = d;
	}
	pthread_mutex_unlock(&be->lock);
	for (size_t i = 0; i < n; i++) {
		struct usb_dev *d = snap[i];
		bool present, active;

		if (pthread_mutex_trylock(&d->io) == 0) {
			if (vnp_ccid_reader_slot_status(d->ccid, &present, &active) == VNP_OK)
				set_presence(d, present);
			pthread_mutex_unlock(&d->io);
		}
		dev_unref(d);
	}
}

/* Block in libusb event handling in slices: the interrupt endpoints' NotifySlotChange and the
 * hotplug callback move be->gen; cancel() sets be->cancelled and interrupts the handler.
 * Devices without a live interrupt transfer are asked every USB_POLL_MS. */
static int usb_wait_event(struct vnp_backend *be, unsigned timeout_ms, bool *cancelled)
{
	uint64_t end = now_ms() + timeout_ms, last_poll = 0;
	uintptr_t sig = 0;
	unsigned gen;
	int rv = VNP_E_TIMEOUT;

	if (!be || !cancelled)
		return VNP_E_ARGS;
	pthread_mutex_lock(&be->lock);
	gen = be->gen;
	pthread_mutex_unlock(&be->lock);
	if (!be->have_hotplug)
		sig = devlist_sig(be);
	for (;;) {
		uint64_t t = now_ms();
		unsigned slice;
		struct timeval tv;
		bool stop;

		pthread_mutex_lock(&be->lock);
		*cancelled = be->cancelled;
		if (!*cancelled && be->gen != gen)
			rv = VNP_OK;
		stop = *cancelled || rv == VNP_OK || t >= end;
		pthread_mutex_unlock(&be->lock);
		if (stop)
			break;
		if (t - last_poll >= USB_POLL_MS) {
			last_poll = t;
			if (!be->have_hotplug && devlist_sig(be) != sig) {
				rv = VNP_OK;
				break;
			}
			poll_slots(be);
			continue; /* a change shows in be->gen */
		}
		slice = end - t < USB_WAIT_SLICE_MS ? (unsigned)(end - t) : USB_WAIT_SLICE_MS;
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)slice * 1000;
		libusb_handle_events_timeout_completed(be->ctx, &tv, NULL);
	}
	return *cancelled ? VNP_OK : rv;
}

static void usb_cancel(struct vnp_backend *be)
{
	if (!be)
		return;
	pthread_mutex_lock(&be->lock);
	be->cancelled = true;
	pthread_mutex_unlock(&be->lock);
	libusb_interrupt_event_handler(be->ctx);
}

/* The usb reader backend (see transport.h for the contract of each member). */
const struct vnp_reader_ops vnp_reader_usb = {
	.name = "usb",
	.open = usb_open,
	.close = usb_close,
	.list = usb_list,
	.connect = usb_connect,
	.disconnect = usb_disconnect,
	.atr = usb_atr,
	.begin = usb_begin,
	.end = usb_end,
	.transmit = usb_transmit,
	.wait_event = usb_wait_event,
	.cancel = usb_cancel,
};
