/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration descriptor walking for the usb backend (see usb_desc.h). */
#include <stdbool.h>
#include <string.h>

#include "rv.h"
#include "usb_desc.h"

#define CFG_HDR_LEN 9
#define IF_DESC_LEN 9
#define EP_DESC_LEN 7

/* The interface being collected while walking. */
struct cand {
	bool open;       /* inside an interface block we may use */
	bool have_class; /* a 0x21 descriptor of 54 bytes seen */
	struct vnp_usb_ccid_if ifc;
};

static bool cand_ok(const struct cand *c)
{
	return c->open && c->have_class && c->ifc.ep_bulk_in && c->ifc.ep_bulk_out;
}

static void endpoint(struct cand *c, const uint8_t *d)
{
	uint8_t addr = d[2], type = d[3] & 0x03;
	uint16_t mps = (uint16_t)(d[4] | (d[5] << 8));

	if (type == 0x02 && (addr & 0x80) && !c->ifc.ep_bulk_in) {
		c->ifc.ep_bulk_in = addr;
		c->ifc.bulk_in_max_packet = mps & 0x7FF;
	} else if (type == 0x02 && !(addr & 0x80) && !c->ifc.ep_bulk_out) {
		c->ifc.ep_bulk_out = addr;
	} else if (type == 0x03 && (addr & 0x80) && !c->ifc.ep_intr_in) {
		c->ifc.ep_intr_in = addr;
	}
}

int vnp_usb_desc_find_ccid(const uint8_t *cfg, size_t len, unsigned flags, unsigned index,
			   struct vnp_usb_ccid_if *ret)
{
	struct cand c;
	size_t total, off;
	unsigned seen = 0;

	if (!cfg || !ret)
		return VNP_E_ARGS;
	if (len < CFG_HDR_LEN || cfg[0] < CFG_HDR_LEN || cfg[1] != VNP_USB_DT_CONFIG)
		return VNP_E_MALFORMED;
	total = (size_t)cfg[2] | ((size_t)cfg[3] << 8);
	if (total < CFG_HDR_LEN || total > len || cfg[0] > total)
		return VNP_E_MALFORMED;
	memset(&c, 0, sizeof(c));
	/* Walk every descriptor after the header; an interface block runs until the next
	 * interface descriptor or the end. A candidate is judged when its block ends. */
	for (off = cfg[0];; off += cfg[off]) {
		const uint8_t *d = cfg + off;
		bool end = off >= total;

		if (!end && (total - off < 2 || d[0] < 2 || d[0] > total - off))
			return VNP_E_MALFORMED;
		if (end || d[1] == VNP_USB_DT_INTERFACE) {
			if (cand_ok(&c) && seen++ == index) {
				*ret = c.ifc;
				return VNP_OK;
			}
			memset(&c, 0, sizeof(c));
			if (end)
				break;
			if (d[0] < IF_DESC_LEN)
				return VNP_E_MALFORMED;
			c.ifc.bInterfaceNumber = d[2];
			c.ifc.bAlternateSetting = d[3];
			c.ifc.bInterfaceClass = d[5];
			c.open = d[3] == 0 && (d[5] == VNP_USB_CLASS_CCID ||
					       (d[5] == VNP_USB_CLASS_VENDOR &&
						(flags & VNP_USB_FIND_VENDOR_CLASS)));
			continue;
		}
		if (!c.open)
			continue;
		if (d[1] == VNP_USB_DT_ENDPOINT) {
			if (d[0] < EP_DESC_LEN)
				return VNP_E_MALFORMED;
			endpoint(&c, d);
		} else if (d[1] == VNP_CCID_DESC_TYPE && d[0] == VNP_CCID_DESC_LEN &&
			   !c.have_class) {
			memcpy(c.ifc.class_desc, d, VNP_CCID_DESC_LEN);
			c.have_class = true;
		}
	}
	return VNP_E_NOT_FOUND;
}
