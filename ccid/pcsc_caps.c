/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reader capabilities from pcscd's facts (see pcsc_caps.h for the rules). */
#include <string.h>

#include "pcsc_caps.h"

#define VPCD_NAME "Virtual PCD"

bool vnp_pcsc_is_vpcd(const char *reader_name)
{
	return reader_name && strstr(reader_name, VPCD_NAME) != NULL;
}

void vnp_pcsc_caps(const char *reader_name, bool t0, bool have_maxin, unsigned long maxin,
		   struct vnp_reader_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->t0 = t0;
	caps->max_cmd = VNP_PCSC_SHORT_CMD_MAX;
	caps->max_resp = VNP_PCSC_SHORT_RESP_MAX;
	if (t0)
		return;
	if (vnp_pcsc_is_vpcd(reader_name)) {
		caps->extended = true;
		caps->max_cmd = VNP_PCSC_VPCD_MSG_MAX;
		caps->max_resp = VNP_PCSC_VPCD_MSG_MAX;
		return;
	}
	if (have_maxin && maxin > VNP_PCSC_SHORT_CMD_MAX) {
		caps->extended = true;
		caps->max_cmd = maxin < VNP_PCSC_EXT_CMD_MAX ? maxin : VNP_PCSC_EXT_CMD_MAX;
		caps->max_resp = VNP_PCSC_EXT_RESP_MAX;
	}
}
