/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the tool knows about one token: CK_TOKEN_INFO, the vendor details and PIN counters
 * (when the module has them), and every certificate with its facts. No login: certificates
 * are public objects. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"

static void load_certs(struct tool *t, CK_SESSION_HANDLE s, struct device *d)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *h = NULL;
	CK_ULONG n = 0, i, len;
	uint8_t *v;

	if (vnp_tool_find(t, s, tmpl, 1, &h, &n) != CKR_OK || n == 0)
		goto out;
	d->certs = calloc(n, sizeof(*d->certs));
	if (!d->certs)
		goto out;
	for (i = 0; i < n; i++) {
		struct device_cert *c = &d->certs[d->ncerts];

		if (vnp_tool_attr(t, s, h[i], CKA_VALUE, &c->der, &c->der_len) != CKR_OK)
			continue;
		d->ncerts++;
		if (vnp_tool_attr(t, s, h[i], CKA_ID, &c->id, &c->id_len) != CKR_OK)
			c->id = NULL;
		if (vnp_tool_attr(t, s, h[i], CKA_LABEL, &v, &len) == CKR_OK)
			c->label = (char *)v;
		if (vnp_tool_attr(t, s, h[i], CKA_CERTIFICATE_CATEGORY, &v, &len) == CKR_OK) {
			if (len == sizeof(CK_ULONG))
				memcpy(&c->category, v, sizeof(CK_ULONG));
			free(v);
		}
		c->parsed = vnp_cert_facts(c->der, c->der_len, &c->facts);
	}
out:
	free(h);
}

int vnp_device_load(struct tool *t, CK_SLOT_ID slot, struct device *d)
{
	CK_SESSION_HANDLE s;
	char name[32];
	CK_RV rv;

	memset(d, 0, sizeof(*d));
	d->slot = slot;
	rv = t->f->C_GetTokenInfo(slot, &d->ti);
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_GetTokenInfo", vnp_tool_rv_name(rv, name));
		return vnp_tool_rv_exit(rv);
	}
	vnp_tool_unpad(d->ti.label, sizeof(d->ti.label), d->label);
	vnp_tool_unpad(d->ti.model, sizeof(d->ti.model), d->model);
	if (t->ext && t->ext->get_token_details &&
	    t->ext->get_token_details(slot, &d->details) == CKR_OK)
		d->have_details = true;
	if (t->ext && t->ext->get_pin_counters &&
	    t->ext->get_pin_counters(slot, &d->counters) == CKR_OK)
		d->have_counters = true;
	vnp_tool_serial(t, slot, &d->ti, d->serial);
	rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_OpenSession", vnp_tool_rv_name(rv, name));
		return vnp_tool_rv_exit(rv);
	}
	load_certs(t, s, d);
	t->f->C_CloseSession(s);
	return EXIT_OK;
}

void vnp_device_clear(struct device *d)
{
	for (size_t i = 0; i < d->ncerts; i++) {
		free(d->certs[i].der);
		free(d->certs[i].id);
		free(d->certs[i].label);
		vnp_cert_facts_clear(&d->certs[i].facts);
	}
	free(d->certs);
	memset(d, 0, sizeof(*d));
}

const char *vnp_device_type_word(const struct device *d)
{
	if (!d->have_details)
		return "unknown";
	switch (d->details.device_type) {
	case VNPKI_DEVICE_PKI_TOKEN: return "pki-token";
	case VNPKI_DEVICE_SIM_PKI: return "sim-pki";
	case VNPKI_DEVICE_PIV: return "piv";
	default: return "unknown";
	}
}

bool vnp_device_pin_locked(const struct device *d)
{
	if (d->ti.flags & CKF_USER_PIN_LOCKED)
		return true;
	return d->have_counters && d->counters.user_tries_left == 0;
}

bool vnp_device_terminated(const struct device *d)
{
	if (d->have_details && d->details.terminated)
		return true;
	if (d->ti.flags & CKF_SO_PIN_LOCKED)
		return true;
	return d->have_counters && d->counters.unblock_tries_left == 0;
}

const char *vnp_device_pin_word(const struct device *d)
{
	if (vnp_device_pin_locked(d))
		return "locked";
	if ((d->have_details && d->details.pin_initial) || (d->ti.flags & CKF_USER_PIN_TO_BE_CHANGED))
		return "to-be-changed";
	return "ok";
}

const char *vnp_device_unblock_word(const struct device *d)
{
	if (vnp_device_terminated(d))
		return "terminated";
	if (d->have_details && d->details.unblock_pending)
		return "pending";
	return "none";
}
