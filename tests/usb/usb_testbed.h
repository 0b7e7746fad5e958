/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A synthetic USB CCID token in a umockdev testbed: sysfs attributes and USB descriptors
 * written here (device, configuration with one CCID interface, the class descriptor from the
 * virtual token's CCID engine, bulk-OUT/bulk-IN/interrupt-IN endpoints), and an ioctl handler
 * that answers libusb's usbdevfs calls (SUBMITURB, REAPURB[NDELAY], DISCARDURB,
 * CLAIMINTERFACE, ...) from tools/vtoken's CCID device engine (ccid_dev.h). A process running
 * with libumockdev-preload and this testbed's UMOCKDEV_DIR sees the token as real USB. */
#ifndef VNP_TESTS_USB_TESTBED_H
#define VNP_TESTS_USB_TESTBED_H

#include <stdbool.h>
#include <stdint.h>
#include <umockdev.h>

struct vnp_vt_ccid_dev;
struct usbtb_dev;

struct usbtb_dev_cfg {
	uint16_t vid, pid;
	uint8_t if_class;    /* 0x0B, or 0xFF for a vendor-class token */
	unsigned bus, devnum, port; /* sysfs name "<bus>-<port>", node /dev/bus/usb/BBB/DDD */
	bool busy;           /* CLAIMINTERFACE answers EBUSY (another program holds it) */
	bool no_interrupt;   /* no interrupt endpoint in the descriptors */
	bool desc_last;      /* the class descriptor after the endpoints */
	bool reset_engine;   /* plugged back: the engine starts afresh (card off, no answer
			      * queued), done in umockdev's worker thread at the first ioctl,
			      * where the engine's OpenSSL state lives */
};

/* Add the device to tb and attach its ioctl handler. eng answers the CCID messages (the
 * testbed keeps using it from umockdev's worker thread until usbtb_dev_free; do not touch eng
 * from another thread meanwhile). Returns NULL (message on stderr) on failure. */
struct usbtb_dev *usbtb_dev_add(UMockdevTestbed *tb, const struct usbtb_dev_cfg *cfg,
				struct vnp_vt_ccid_dev *eng);
/* Unplug: remove the device from the testbed (umockdev sends the "remove" uevent); from then
 * on every ioctl on its node answers ENODEV, as usbfs does for a disconnected device. Plug
 * it back with usbtb_dev_add (same port, another devnum: a new device to libusb). */
void usbtb_dev_unplug(struct usbtb_dev *d);
/* Statistics of the handler: URBs submitted and reaped, CCID messages in and out. */
void usbtb_dev_stats(const struct usbtb_dev *d, unsigned *urbs, unsigned *msgs_out,
		     unsigned *msgs_in);
void usbtb_dev_free(struct usbtb_dev *d);

#endif
