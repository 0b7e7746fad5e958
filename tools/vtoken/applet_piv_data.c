/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV: GET DATA and PUT DATA (SP 800-73-4 part 2 §3.1.2, §3.3.2). */
#include <string.h>

#include "applet_piv.h"
#include "applet_vntoken.h"
#include "rv.h"
#include "tlv.h"

/* The object named by a tag list 5C (1 to 3 tag bytes) at *p; advances *p. */
static uint16_t parse_tag_list(const uint8_t **p, const uint8_t *end,
			       const struct piv_obj_map **ret)
{
	struct vnp_tlv t;
	uint32_t tag;

	if (vnp_tlv_next(p, end, &t) != VNP_OK || t.tag != 0x5C || t.len < 1 || t.len > 3 ||
	    vnp_tlv_uint(&t, &tag) != VNP_OK)
		return 0x6A80;
	*ret = vnp_vt_piv_obj(tag);
	return *ret ? 0 : 0x6A82;
}

uint16_t vnp_vt_piv_get_data(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	const uint8_t *p = c->data;
	const struct piv_obj_map *m = NULL;
	const struct vnp_vt_obj *o;
	uint16_t sw;

	if (c->p1 != 0x3F || c->p2 != 0xFF)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	sw = parse_tag_list(&p, c->data + c->lc, &m);
	if (sw)
		return sw;
	if (p != c->data + c->lc)
		return 0x6A80;
	if (m->pin && !card->piv.pin_verified)
		return 0x6982;
	o = d->objs[m->ref];
	if (!o)
		return 0x6A82;
	vnp_tlv_put(out, m->wrap, o->value, o->value_len);
	return 0x9000;
}

/* Data field: 5C tag-list 53 {content}, or 7E {...} (discovery), or 7F61 {...} (BIT group
 * template). An empty 53 deletes the object. Needs the management key. */
uint16_t vnp_vt_piv_put_data(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	const uint8_t *p = c->data, *end = c->data + c->lc;
	const struct piv_obj_map *m = NULL;
	struct vnp_vt_data *d;
	struct vnp_tlv t;
	uint16_t sw;

	if (c->p1 != 0x3F || c->p2 != 0xFF)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	if (!card->piv.mgmt_ok)
		return 0x6982;
	if (c->data[0] == 0x5C) {
		sw = parse_tag_list(&p, end, &m);
		if (sw)
			return sw == 0x6A82 ? 0x6A80 : sw;
		if (vnp_tlv_next(&p, end, &t) != VNP_OK || t.tag != 0x53 || m->wrap != 0x53)
			return 0x6A80;
	} else {
		if (vnp_tlv_next(&p, end, &t) != VNP_OK || (t.tag != 0x7E && t.tag != 0x7F61))
			return 0x6A80;
		m = vnp_vt_piv_obj(t.tag);
	}
	if (p != end || !m)
		return 0x6A80;
	if (t.len > VNP_VT_VALUE_MAX)
		return 0x6A84;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		return sw;
	d = &card->st->d;
	if (t.len == 0) {
		vnp_vt_obj_free(d->objs[m->ref]);
		d->objs[m->ref] = NULL;
	} else if (vnp_vt_piv_store(d, m->ref, t.value, t.len) != VNP_OK) {
		sw = 0x6A84;
		goto unlock;
	}
	d->counter++;
	sw = vnp_vt_vnt_save(card);
	if (sw == 0)
		sw = 0x9000;
unlock:
	vnp_vt_state_unlock(card->st);
	return sw;
}
