/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The synthetic USB CCID token of tests/usb (see usb_testbed.h).
 *
 * How libusb (linux_usbfs.c) meets this file: it enumerates through libudev (umockdev's
 * sysfs: subsystem "usb", DEVTYPE usb_device, attributes busnum/devnum/speed/
 * bConfigurationValue, and "descriptors": the device descriptor then the configuration, as
 * the kernel serves them), opens /dev/bus/usb/BBB/DDD (a file in the testbed whose ioctls
 * umockdev forwards to us over a socket) and then only issues ioctls:
 * GET_CAPABILITIES, CLAIMINTERFACE/RELEASEINTERFACE, SUBMITURB, REAPURBNDELAY, DISCARDURB,
 * CLEAR_HALT. A submitted URB stays here until it completes; libusb polls its fd (a regular
 * file to poll(), so always ready) and reaps: completion is decided at reap time. */
#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ccid_dev.h"
#include "rv.h"
#include "usb_testbed.h"

#define EP_OUT 0x01
#define EP_IN 0x82
#define EP_INT 0x83
#define MSG_MAX (65536 + 64)

struct urb {
	UMockdevIoctlClient *client;
	UMockdevIoctlData *urb;    /* the client's struct usbdevfs_urb */
	UMockdevIoctlData *buf;    /* its buffer */
	gulong addr;               /* client address of the URB (DISCARDURB names it) */
	bool done;
};

struct usbtb_dev {
	UMockdevTestbed *tb;
	struct usbtb_dev_cfg cfg;
	struct vnp_vt_ccid_dev *eng;
	char syspath[64];
	char devnode[64];
	GList *urbs;       /* struct urb *, submit order; worker thread only */
	uint8_t acc[MSG_MAX]; /* a bulk-OUT message spread over several URBs */
	size_t acc_len;
	pthread_mutex_t stats_lock; /* and gone */
	unsigned n_urbs, n_out, n_in;
	bool gone; /* unplugged: every ioctl answers ENODEV, as usbfs does */
	UMockdevIoctlClient *owner; /* the client that claimed interface 0; worker thread */
	UMockdevIoctlBase *handler;
};

static void put_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)(v >> 8);
}

/* Device descriptor + configuration (bus-endian, as sysfs "descriptors" holds them). */
static size_t build_descriptors(const struct usbtb_dev *d, uint8_t *out, size_t cap)
{
	uint8_t cls[64];
	size_t n = 0, cfg_at, cls_len;
	uint8_t eps = d->cfg.no_interrupt ? 2 : 3;

	cls_len = vnp_vt_ccid_dev_class_desc(d->eng, cls);
	if (cap < 18 + 9 + 9 + cls_len + 3 * 7)
		return 0;
	/* device: USB 2.0, class at interface level, EP0 64 bytes, one configuration */
	const uint8_t dev[18] = {18, 0x01, 0x00, 0x02, 0, 0, 0, 64, 0, 0, 0, 0, 0x00, 0x01,
				 0, 0, 0, 1};
	memcpy(out, dev, 18);
	put_le16(out + 8, d->cfg.vid);
	put_le16(out + 10, d->cfg.pid);
	n = 18;
	cfg_at = n;
	const uint8_t cfg[9] = {9, 0x02, 0, 0, 1, 1, 0, 0x80, 50};
	memcpy(out + n, cfg, 9);
	n += 9;
	const uint8_t ifc[9] = {9, 0x04, 0, 0, eps, d->cfg.if_class, 0, 0, 0};
	memcpy(out + n, ifc, 9);
	n += 9;
	if (!d->cfg.desc_last) {
		memcpy(out + n, cls, cls_len);
		n += cls_len;
	}
	const uint8_t ep[3][7] = {
		{7, 0x05, EP_OUT, 0x02, 64, 0, 0},
		{7, 0x05, EP_IN, 0x02, 64, 0, 0},
		{7, 0x05, EP_INT, 0x03, 8, 0, 16},
	};
	for (unsigned i = 0; i < eps; i++) {
		memcpy(out + n, ep[i], 7);
		n += 7;
	}
	if (d->cfg.desc_last) {
		memcpy(out + n, cls, cls_len);
		n += cls_len;
	}
	put_le16(out + cfg_at + 2, (unsigned)(n - cfg_at));
	return n;
}

static void stat_add(struct usbtb_dev *d, unsigned *what)
{
	pthread_mutex_lock(&d->stats_lock);
	(*what)++;
	pthread_mutex_unlock(&d->stats_lock);
}

static void urb_free(struct urb *u)
{
	g_object_unref(u->urb);
	if (u->buf)
		g_object_unref(u->buf);
	g_free(u);
}

/* Bulk-OUT data: hand each complete CCID message (10-byte header + dwLength) to the engine. */
static void bulk_out(struct usbtb_dev *d, const uint8_t *p, size_t len)
{
	if (len > sizeof(d->acc) - d->acc_len) {
		fprintf(stderr, "usbtb: bulk-OUT message too long; dropped\n");
		d->acc_len = 0;
		return;
	}
	memcpy(d->acc + d->acc_len, p, len);
	d->acc_len += len;
	while (d->acc_len >= 10) {
		size_t need = 10 + ((size_t)d->acc[1] | (size_t)d->acc[2] << 8 |
				    (size_t)d->acc[3] << 16 | (size_t)d->acc[4] << 24);

		if (need > sizeof(d->acc)) {
			d->acc_len = 0;
			return;
		}
		if (d->acc_len < need)
			return;
		vnp_vt_ccid_dev_put(d->eng, d->acc, need);
		stat_add(d, &d->n_out);
		memmove(d->acc, d->acc + need, d->acc_len - need);
		d->acc_len -= need;
	}
}

/* Complete what can be completed now: the oldest pending bulk-IN URB with the engine's next
 * answer, a pending interrupt URB with a NotifySlotChange. */
static void progress(struct usbtb_dev *d)
{
	bool in_done = false, int_done = false;

	for (GList *l = d->urbs; l; l = l->next) {
		struct urb *u = l->data;
		struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->urb->data;

		if (u->done)
			continue;
		if (k->endpoint == EP_IN && !in_done) {
			static uint8_t msg[MSG_MAX];
			size_t n = 0;

			in_done = true;
			if (vnp_vt_ccid_dev_get(d->eng, msg, sizeof(msg), &n) != VNP_OK)
				continue;
			stat_add(d, &d->n_in);
			if (n > (size_t)k->buffer_length) {
				k->status = -EOVERFLOW;
				n = (size_t)k->buffer_length;
			} else {
				k->status = 0;
			}
			memcpy(u->buf->data, msg, n);
			k->actual_length = (int)n;
			u->done = true;
		} else if (k->endpoint == EP_INT && !int_done) {
			uint8_t msg[16];
			size_t n;

			int_done = true;
			n = vnp_vt_ccid_dev_interrupt(d->eng, msg, sizeof(msg));
			if (!n)
				continue;
			if (n > (size_t)k->buffer_length)
				n = (size_t)k->buffer_length;
			memcpy(u->buf->data, msg, n);
			k->actual_length = (int)n;
			k->status = 0;
			u->done = true;
		}
	}
}

static void complete_errno(UMockdevIoctlClient *c, int err)
{
	umockdev_ioctl_client_complete(c, err ? -1 : 0, err);
}

static void submit(struct usbtb_dev *d, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
	struct urb *u = g_new0(struct urb, 1);
	struct usbdevfs_urb *k;
	GError *err = NULL;

	u->client = c;
	u->addr = *(gulong *)arg->data;
	u->urb = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
	if (!u->urb) {
		fprintf(stderr, "usbtb: SUBMITURB: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		g_free(u);
		complete_errno(c, EFAULT);
		return;
	}
	k = (struct usbdevfs_urb *)u->urb->data;
	if (k->buffer_length > 0) {
		u->buf = umockdev_ioctl_data_resolve(u->urb, offsetof(struct usbdevfs_urb, buffer),
						     (gsize)k->buffer_length, &err);
		if (!u->buf) {
			fprintf(stderr, "usbtb: SUBMITURB buffer: %s\n", err ? err->message : "?");
			g_clear_error(&err);
			urb_free(u);
			complete_errno(c, EFAULT);
			return;
		}
	}
	stat_add(d, &d->n_urbs);
	if (getenv("USBTB_TRACE"))
		fprintf(stderr, "usbtb %s: submit ep %02x len %d [%02x]\n", d->devnode, k->endpoint,
			k->buffer_length, u->buf && k->buffer_length ? u->buf->data[0] : 0);
	k->status = 0;
	k->actual_length = 0;
	switch (k->endpoint) {
	case EP_OUT:
		if (k->type != USBDEVFS_URB_TYPE_BULK)
			goto bad;
		bulk_out(d, u->buf ? u->buf->data : NULL, u->buf ? (size_t)u->buf->data_len : 0);
		k->actual_length = k->buffer_length;
		u->done = true;
		break;
	case EP_IN:
		if (k->type != USBDEVFS_URB_TYPE_BULK)
			goto bad;
		break;
	case EP_INT:
		if (k->type != USBDEVFS_URB_TYPE_INTERRUPT || d->cfg.no_interrupt)
			goto bad;
		break;
	default:
		/* control requests (endpoint 0) are not needed: the descriptors come from sysfs;
		 * answer them with a stall */
		if (k->endpoint != 0)
			goto bad;
		k->status = -EPIPE;
		u->done = true;
		break;
	}
	d->urbs = g_list_append(d->urbs, u);
	complete_errno(c, 0);
	return;
bad:
	urb_free(u);
	complete_errno(c, EINVAL);
}

/* Hand the client its oldest completed URB; else answer err_none (EAGAIN, or ENODEV once the
 * device is gone). */
static void reap(struct usbtb_dev *d, UMockdevIoctlClient *c, UMockdevIoctlData *arg,
		 int err_none)
{
	UMockdevIoctlData *ptr;
	GError *err = NULL;

	if (err_none == EAGAIN)
		progress(d);
	for (GList *l = d->urbs; l; l = l->next) {
		struct urb *u = l->data;

		if (u->client != c || !u->done)
			continue;
		ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
		if (!ptr) {
			g_clear_error(&err);
			complete_errno(c, EFAULT);
			return;
		}
		if (getenv("USBTB_TRACE")) {
			struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->urb->data;

			fprintf(stderr, "usbtb %s: reap ep %02x status %d len %d [%02x]\n",
				d->devnode, k->endpoint, k->status, k->actual_length,
				u->buf && k->actual_length ? u->buf->data[0] : 0);
		}
		/* *arg = the client's URB; completing writes the URB and its buffer back */
		umockdev_ioctl_data_set_ptr(ptr, 0, u->urb);
		d->urbs = g_list_delete_link(d->urbs, l);
		complete_errno(c, 0);
		g_object_unref(ptr);
		urb_free(u);
		return;
	}
	complete_errno(c, err_none);
}

/* The device was unplugged: the kernel kills the URBs in flight (status -ESHUTDOWN) and, with
 * USBDEVFS_CAP_REAP_AFTER_DISCONNECT, lets them be reaped before answering ENODEV. A real
 * usbfs fd also reports POLLERR, which a umockdev node (a regular file) cannot: libusb
 * learns of the disconnect from these reaps instead. */
static void kill_urbs(struct usbtb_dev *d, UMockdevIoctlClient *c)
{
	for (GList *l = d->urbs; l; l = l->next) {
		struct urb *u = l->data;
		struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->urb->data;

		if (u->client != c || u->done)
			continue;
		k->status = -ESHUTDOWN;
		k->actual_length = 0;
		u->done = true;
	}
}

static void discard(struct usbtb_dev *d, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
	gulong addr = *(gulong *)arg->data; /* _IO: the argument is the URB address itself */

	for (GList *l = d->urbs; l; l = l->next) {
		struct urb *u = l->data;
		struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->urb->data;

		if (u->client != c || u->addr != addr || u->done)
			continue;
		k->status = -ENOENT; /* reaped later as discarded */
		k->actual_length = 0;
		u->done = true;
		complete_errno(c, 0);
		return;
	}
	complete_errno(c, EINVAL);
}

static gboolean on_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
	struct usbtb_dev *d = user;
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
	gulong req = umockdev_ioctl_client_get_request(c);
	UMockdevIoctlData *v;
	GError *err = NULL;
	bool gone;

	(void)h;
	if (getenv("USBTB_TRACE") && req != USBDEVFS_REAPURBNDELAY)
		fprintf(stderr, "usbtb %s: client %p ioctl 0x%lx\n", d->devnode, (void *)c, req);
	pthread_mutex_lock(&d->stats_lock);
	gone = d->gone;
	pthread_mutex_unlock(&d->stats_lock);
	if (d->cfg.reset_engine) {
		vnp_vt_ccid_dev_power_off(d->eng);
		d->cfg.reset_engine = false;
	}
	if (gone) {
		if (req == USBDEVFS_REAPURB || req == USBDEVFS_REAPURBNDELAY) {
			kill_urbs(d, c);
			reap(d, c, arg, ENODEV);
		} else {
			complete_errno(c, ENODEV);
		}
		return TRUE;
	}
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES:
		v = umockdev_ioctl_data_resolve(arg, 0, sizeof(uint32_t), &err);
		if (!v) {
			g_clear_error(&err);
			complete_errno(c, EFAULT);
			break;
		}
		/* one URB per transfer, any length (what a modern xHCI host says) */
		*(uint32_t *)v->data = USBDEVFS_CAP_BULK_SCATTER_GATHER |
				       USBDEVFS_CAP_BULK_CONTINUATION |
				       USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_ZERO_PACKET |
				       USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
		g_object_unref(v);
		complete_errno(c, 0);
		break;
	case USBDEVFS_CLAIMINTERFACE:
		/* one owner at a time, as usbfs: another fd (another program, or the same
		 * program opening the device twice) gets EBUSY */
		if (d->cfg.busy || (d->owner && d->owner != c)) {
			complete_errno(c, EBUSY);
			break;
		}
		d->owner = c;
		complete_errno(c, 0);
		break;
	case USBDEVFS_RELEASEINTERFACE:
		if (d->owner == c)
			d->owner = NULL;
		complete_errno(c, 0);
		break;
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
		complete_errno(c, 0);
		break;
	case USBDEVFS_SUBMITURB:
		submit(d, c, arg);
		break;
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		reap(d, c, arg, EAGAIN);
		break;
	case USBDEVFS_DISCARDURB:
		discard(d, c, arg);
		break;
	default:
		/* USBDEVFS_RESET, DISCONNECT/CONNECT (kernel drivers), GETDRIVER...: a test that
		 * needs one fails loudly here instead of being faked */
		fprintf(stderr, "usbtb: unhandled ioctl 0x%lx\n", req);
		complete_errno(c, ENOTTY);
		break;
	}
	return TRUE;
}

/* A client closed the device (or died): forget its URBs. */
static void on_vanished(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
	struct usbtb_dev *d = user;

	(void)h;
	if (d->owner == c)
		d->owner = NULL; /* the kernel releases what a closed fd claimed */
	for (GList *l = d->urbs; l;) {
		GList *next = l->next;
		struct urb *u = l->data;

		if (u->client == c) {
			urb_free(u);
			d->urbs = g_list_delete_link(d->urbs, l);
		}
		l = next;
	}
}

struct usbtb_dev *usbtb_dev_add(UMockdevTestbed *tb, const struct usbtb_dev_cfg *cfg,
				struct vnp_vt_ccid_dev *eng)
{
	struct usbtb_dev *d = g_new0(struct usbtb_dev, 1);
	UMockdevIoctlBase *handler = NULL;
	uint8_t desc[512];
	GString *rec = NULL;
	GError *err = NULL;
	size_t n;

	d->tb = g_object_ref(tb);
	d->cfg = *cfg;
	d->eng = eng;
	pthread_mutex_init(&d->stats_lock, NULL);
	snprintf(d->syspath, sizeof(d->syspath), "/sys/devices/%u-%u", cfg->bus, cfg->port);
	snprintf(d->devnode, sizeof(d->devnode), "/dev/bus/usb/%03u/%03u", cfg->bus, cfg->devnum);
	n = build_descriptors(d, desc, sizeof(desc));
	if (!n)
		goto fail;
	/* umockdev's text format: P path, N device node, E property, A attribute, H binary
	 * attribute in hex */
	rec = g_string_new(NULL);
	g_string_append_printf(rec,
			       "P: /devices/%u-%u\nN: bus/usb/%03u/%03u\nE: SUBSYSTEM=usb\n"
			       "E: DEVTYPE=usb_device\nE: DEVNAME=%s\nE: BUSNUM=%03u\n"
			       "E: DEVNUM=%03u\nE: PRODUCT=%x/%x/100\nA: busnum=%u\nA: devnum=%u\n"
			       "A: speed=12\nA: bConfigurationValue=1\nA: bNumConfigurations=1\n"
			       "A: idVendor=%04x\nA: idProduct=%04x\nA: dev=189:%u\n"
			       "H: descriptors=",
			       cfg->bus, cfg->port, cfg->bus, cfg->devnum, d->devnode, cfg->bus,
			       cfg->devnum, cfg->vid, cfg->pid, cfg->bus, cfg->devnum, cfg->vid,
			       cfg->pid, (cfg->bus - 1) * 128 + cfg->devnum - 1);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(rec, "%02X", desc[i]);
	g_string_append(rec, "\n");
	/* The handler first: adding the device announces it ("add" uevent), and a client that
	 * opens the node before its handler exists would get umockdev's default one. */
	handler = umockdev_ioctl_base_new();
	g_signal_connect(handler, "handle-ioctl", G_CALLBACK(on_ioctl), d);
	g_signal_connect(handler, "client-vanished", G_CALLBACK(on_vanished), d);
	if (!umockdev_testbed_attach_ioctl(tb, d->devnode, handler, &err)) {
		fprintf(stderr, "usbtb: attach ioctl handler: %s\n", err->message);
		goto fail;
	}
	d->handler = handler;
	handler = NULL;
	if (!umockdev_testbed_add_from_string(tb, rec->str, &err)) {
		fprintf(stderr, "usbtb: add device: %s\n", err->message);
		goto fail;
	}
	g_string_free(rec, TRUE);
	return d;
fail:
	g_clear_error(&err);
	if (handler)
		g_object_unref(handler);
	if (d->handler) {
		g_signal_handlers_disconnect_by_data(d->handler, d);
		umockdev_testbed_detach_ioctl(tb, d->devnode, NULL);
		g_object_unref(d->handler);
	}
	if (rec)
		g_string_free(rec, TRUE);
	g_object_unref(d->tb);
	pthread_mutex_destroy(&d->stats_lock);
	g_free(d);
	return NULL;
}

void usbtb_dev_unplug(struct usbtb_dev *d)
{
	pthread_mutex_lock(&d->stats_lock);
	d->gone = true;
	pthread_mutex_unlock(&d->stats_lock);
	umockdev_testbed_remove_device(d->tb, d->syspath); /* sends the "remove" uevent */
}

void usbtb_dev_stats(const struct usbtb_dev *d, unsigned *urbs, unsigned *msgs_out,
		     unsigned *msgs_in)
{
	pthread_mutex_lock((pthread_mutex_t *)&d->stats_lock);
	*urbs = d->n_urbs;
	*msgs_out = d->n_out;
	*msgs_in = d->n_in;
	pthread_mutex_unlock((pthread_mutex_t *)&d->stats_lock);
}

void usbtb_dev_free(struct usbtb_dev *d)
{
	if (!d)
		return;
	/* no signal may reach d any more (a client vanishing late), then stop the handler */
	g_signal_handlers_disconnect_by_data(d->handler, d);
	umockdev_testbed_detach_ioctl(d->tb, d->devnode, NULL);
	g_object_unref(d->handler);
	g_list_free_full(d->urbs, (GDestroyNotify)urb_free);
	g_object_unref(d->tb);
	pthread_mutex_destroy(&d->stats_lock);
	g_free(d);
}
