/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* C-APDU encoding (ISO/IEC 7816-4 §5.1) and the exchange loop: command chaining (§5.1.1),
 * extended length, 61xx + GET RESPONSE and 6Cxx (§5.1.3, §5.6). */
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "compiler.h"
#include "log.h"
#include "rv.h"
#include "secret.h"
#include "sw.h"

#define INS_GET_RESPONSE 0xC0
#define CLA_CHAIN 0x10
#define SHORT_LC_MAX 255u
#define SHORT_LE_MAX 256u
#define EXT_LC_MAX 65535u
/* Extended case 4: header 4, Lc 3, Le 2. */
#define EXT_OVERHEAD 9u

int vnp_apdu_encode(const struct vnp_apdu *apdu, bool extended, uint8_t *out, size_t cap,
		    size_t *ret_len)
{
	size_t lc, le, need;
	bool ext;
	size_t o = 0;

	if (!apdu || !out || !ret_len)
		return VNP_E_ARGS;
	lc = apdu->lc;
	le = apdu->le;
	if (lc > 0 && !apdu->data)
		return VNP_E_ARGS;
	if (lc > EXT_LC_MAX || le > VNP_LE_MAX)
		return VNP_E_RANGE;
	ext = lc > SHORT_LC_MAX || le > SHORT_LE_MAX;
	if (ext && !extended)
		return VNP_E_RANGE;

	need = 4;
	if (lc)
		need += (ext ? 3 : 1) + lc;
	if (le)
		need += ext ? (lc ? 2 : 3) : 1;
	if (need > cap)
		return VNP_E_BUFFER_TOO_SMALL;

	out[o++] = apdu->cla;
	out[o++] = apdu->ins;
	out[o++] = apdu->p1;
	out[o++] = apdu->p2;
	if (lc) {
		if (ext) { /* Lc = 00 Lc1 Lc2 */
			out[o++] = 0x00;
			out[o++] = (uint8_t)(lc >> 8);
			out[o++] = (uint8_t)lc;
		} else {
			out[o++] = (uint8_t)lc;
		}
		memcpy(out + o, apdu->data, lc);
		o += lc;
	}
	if (le) {
		if (ext) {
			/* Case 2E: Le = 00 Le1 Le2; case 4E: Le1 Le2 after the data.
			 * 65536 is encoded as 0000. */
			if (!lc)
				out[o++] = 0x00;
			out[o++] = (uint8_t)((le >> 8) & 0xFF);
			out[o++] = (uint8_t)(le & 0xFF);
		} else {
			out[o++] = (uint8_t)(le & 0xFF); /* 256 -> 00 */
		}
	}
	*ret_len = o;
	return VNP_OK;
}

struct xchg {
	struct vnp_card_io *io;
	struct vnp_apdu *apdu;
	bool ext;
	bool sensitive;
	uint8_t *cmd, *rsp;
	size_t cmd_len, rsp_len;
	size_t total;   /* response data bytes received */
	bool overflow;  /* more data than resp_cap */
};

/* Encode one APDU into x->cmd, send it, count and trace it. Leaves the answer in x->rsp. */
static int send_one(struct xchg *x, const struct vnp_apdu *a)
{
	struct vnp_card_io *io = x->io;
	size_t rlen = VNP_APDU_BUF_MAX;
	int rv;

	if (x->sensitive && x->cmd_len)
		vnp_wipe(x->cmd, x->cmd_len);
	rv = vnp_apdu_encode(a, x->ext, x->cmd, VNP_APDU_BUF_MAX, &x->cmd_len);
	if (rv)
		return rv;
	io->stats.apdus++;
	io->stats.reader_calls++;
	io->stats.by_ins[a->ins]++;
	io->stats.bytes_out += x->cmd_len;
	vnp_log_apdu(io->who, true, x->cmd, x->cmd_len, x->sensitive);
	rv = io->ops->transmit(io->reader, x->cmd, x->cmd_len, x->rsp, &rlen);
	if (rv)
		return rv;
	if (rlen < 2 || rlen > VNP_APDU_BUF_MAX)
		return VNP_E_TRANSPORT;
	io->stats.bytes_in += rlen;
	x->rsp_len = rlen;
	vnp_log_apdu(io->who, false, x->rsp, rlen, x->sensitive);
	return VNP_OK;
}

static uint16_t last_sw(const struct xchg *x)
{
	return (uint16_t)(x->rsp[x->rsp_len - 2] << 8 | x->rsp[x->rsp_len - 1]);
}

/* Append the data part of the last answer to the caller's buffer. */
static void collect(struct xchg *x)
{
	struct vnp_apdu *apdu = x->apdu;
	size_t n = x->rsp_len - 2, room;

	if (n == 0)
		return;
	room = x->total < apdu->resp_cap ? apdu->resp_cap - x->total : 0;
	if (n > room)
		x->overflow = true;
	if (room && apdu->resp)
		memcpy(apdu->resp + x->total, x->rsp, VNP_MIN(n, room));
	x->total += n;
}

/* Send the last (or only) command of a chain, then follow 61xx and 6Cxx. */
static int exchange(struct xchg *x, struct vnp_apdu *cur)
{
	struct vnp_apdu *apdu = x->apdu;
	bool resent = false;
	uint16_t sw;
	int rv;

	for (;;) {
		rv = send_one(x, cur);
		if (rv)
			return rv;
		sw = last_sw(x);
		if ((sw & 0xFF00) == 0x6C00 && !resent) {
			/* Wrong Le: the same command once more with Le = SW2 (00 = 256). */
			resent = true;
			cur->le = (sw & 0xFF) ? (sw & 0xFF) : SHORT_LE_MAX;
			continue;
		}
		collect(x);
		if ((sw & 0xFF00) == 0x6100 && cur->ins == INS_GET_RESPONSE && x->rsp_len == 2)
			return VNP_E_MALFORMED; /* GET RESPONSE gave nothing yet promises more */
		if ((sw & 0xFF00) == 0x6100 && x->total < apdu->le) {
			size_t avail = (sw & 0xFF) ? (sw & 0xFF) : SHORT_LE_MAX;

			/* GET RESPONSE: 00 C0 00 00 Le, Le capped at what is still wanted. */
			memset(cur, 0, sizeof(*cur));
			cur->cla = 0x00;
			cur->ins = INS_GET_RESPONSE;
			cur->le = VNP_MIN(avail, apdu->le - x->total);
			resent = false;
			continue;
		}
		apdu->sw = sw;
		return VNP_OK;
	}
}

int vnp_apdu_transmit(struct vnp_card_io *io, struct vnp_apdu *apdu)
{
	struct xchg x;
	struct vnp_apdu part;
	size_t chunk, off = 0;
	bool need_ext;
	int rv;

	if (!io || !io->ops || !io->ops->transmit || !apdu)
		return VNP_E_ARGS;
	if ((apdu->lc && !apdu->data) || apdu->lc > EXT_LC_MAX || apdu->le > VNP_LE_MAX ||
	    (apdu->resp_cap && !apdu->resp))
		return VNP_E_ARGS;

	memset(&x, 0, sizeof(x));
	x.io = io;
	x.apdu = apdu;
	x.sensitive = (apdu->flags & VNP_APDU_SENSITIVE) != 0;
	apdu->sw = 0;
	apdu->resp_len = 0;

	need_ext = apdu->lc > SHORT_LC_MAX || apdu->le > SHORT_LE_MAX;
	x.ext = need_ext && io->caps.extended && io->card_extended;
	if (x.ext) {
		chunk = EXT_LC_MAX;
		if (io->caps.max_cmd > EXT_OVERHEAD)
			chunk = VNP_MIN(chunk, io->caps.max_cmd - EXT_OVERHEAD);
	} else {
		chunk = SHORT_LC_MAX;
	}
	if (io->card_max_cmd_data)
		chunk = VNP_MIN(chunk, io->card_max_cmd_data);
	if (apdu->lc > chunk && (apdu->flags & VNP_APDU_NO_CHAIN))
		return VNP_E_RANGE;

	x.cmd = malloc(VNP_APDU_BUF_MAX);
	x.rsp = malloc(VNP_APDU_BUF_MAX);
	if (!x.cmd || !x.rsp) {
		rv = VNP_E_NOMEM;
		goto out;
	}

	/* Command chaining (§5.1.1.1): every part but the last has CLA b5 set and no Le. */
	while (apdu->lc - off > chunk) {
		uint16_t sw;

		memset(&part, 0, sizeof(part));
		part.cla = apdu->cla | CLA_CHAIN;
		part.ins = apdu->ins;
		part.p1 = apdu->p1;
		part.p2 = apdu->p2;
		part.data = apdu->data + off;
		part.lc = chunk;
		rv = send_one(&x, &part);
		if (rv)
			goto out;
		sw = last_sw(&x);
		if (sw != 0x9000) {
			apdu->sw = sw;
			goto out;
		}
		off += chunk;
	}

	memset(&part, 0, sizeof(part));
	part.cla = apdu->cla;
	part.ins = apdu->ins;
	part.p1 = apdu->p1;
	part.p2 = apdu->p2;
	part.data = apdu->lc ? apdu->data + off : NULL;
	part.lc = apdu->lc - off;
	/* Without extended length, ask for 256 and let 61xx bring the rest. */
	part.le = x.ext ? apdu->le : VNP_MIN(apdu->le, SHORT_LE_MAX);
	/* Ask no more than the reader moves (vpcd frames a response in 16 bits: at most
	 * 65535 bytes with the SW) or the card gives in one answer; 61xx brings the rest. */
	if (x.ext && io->caps.max_resp > 2)
		part.le = VNP_MIN(part.le, io->caps.max_resp - 2);
	if (x.ext && io->card_max_resp_data)
		part.le = VNP_MIN(part.le, io->card_max_resp_data);
	rv = exchange(&x, &part);
	if (rv)
		goto out;
	apdu->resp_len = x.total;
	if (x.overflow)
		rv = VNP_E_BUFFER_TOO_SMALL;
out:
	if (x.cmd) {
		if (x.sensitive)
			vnp_wipe(x.cmd, VNP_APDU_BUF_MAX);
		free(x.cmd);
	}
	if (x.rsp) {
		if (x.sensitive)
			vnp_wipe(x.rsp, VNP_APDU_BUF_MAX);
		free(x.rsp);
	}
	return rv;
}

int vnp_apdu_run(struct vnp_card_io *io, struct vnp_apdu *apdu,
		 const struct vnp_sw_entry *applet_sw)
{
	int rv = vnp_apdu_transmit(io, apdu);

	if (rv)
		return rv;
	return vnp_sw_to_rv(apdu->sw, applet_sw);
}
