/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Command APDU parsing on the card side (ISO/IEC 7816-4 §5.1). */
#include <string.h>

#include "capdu.h"
#include "rv.h"

int vnp_vt_capdu_parse(const uint8_t *buf, size_t len, struct vnp_vt_capdu *ret)
{
	struct vnp_vt_capdu a;
	size_t body, lc;

	if (len < 4)
		return VNP_E_WRONG_LENGTH;
	memset(&a, 0, sizeof(a));
	a.cla = buf[0];
	a.ins = buf[1];
	a.p1 = buf[2];
	a.p2 = buf[3];
	body = len - 4;
	buf += 4;
	if (body == 0)
		goto ok; /* case 1 */
	if (body == 1) { /* case 2S */
		a.has_le = true;
		a.ne = buf[0] ? buf[0] : 256;
		goto ok;
	}
	if (buf[0] != 0) { /* case 3S / 4S */
		lc = buf[0];
		if (body == 1 + lc) {
			a.data = buf + 1;
			a.lc = lc;
			goto ok;
		}
		if (body == 2 + lc) {
			a.data = buf + 1;
			a.lc = lc;
			a.has_le = true;
			a.ne = buf[1 + lc] ? buf[1 + lc] : 256;
			goto ok;
		}
		return VNP_E_WRONG_LENGTH;
	}
	/* extended: 00 then two bytes */
	a.extended = true;
	if (body < 3)
		return VNP_E_WRONG_LENGTH;
	if (body == 3) { /* case 2E */
		a.has_le = true;
		a.ne = ((size_t)buf[1] << 8 | buf[2]);
		if (a.ne == 0)
			a.ne = 65536;
		goto ok;
	}
	lc = (size_t)buf[1] << 8 | buf[2];
	if (lc == 0)
		return VNP_E_WRONG_LENGTH;
	if (body == 3 + lc) { /* case 3E */
		a.data = buf + 3;
		a.lc = lc;
		goto ok;
	}
	if (body == 5 + lc) { /* case 4E */
		a.data = buf + 3;
		a.lc = lc;
		a.has_le = true;
		a.ne = (size_t)buf[3 + lc] << 8 | buf[4 + lc];
		if (a.ne == 0)
			a.ne = 65536;
		goto ok;
	}
	return VNP_E_WRONG_LENGTH;
ok:
	*ret = a;
	return VNP_OK;
}
