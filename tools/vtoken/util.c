/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers of the virtual token: hex output, sleeping. */
#include <errno.h>
#include <time.h>

#include "rv.h"
#include "util.h"

void vnp_vt_hex_write(FILE *f, const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		fputc(digits[buf[i] >> 4], f);
		fputc(digits[buf[i] & 15], f);
	}
}

void vnp_vt_sleep_ms(unsigned ms, const _Atomic int *stop)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
		if (stop && *stop)
			break;
	}
}

uint64_t vnp_vt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vnp_vt_sleep_until_ms(uint64_t start_ns, unsigned ms, const _Atomic int *stop)
{
	uint64_t end = start_ns + (uint64_t)ms * 1000000u;
	struct timespec ts;

	for (;;) {
		uint64_t now = vnp_vt_now_ns();

		if (now >= end || (stop && *stop))
			return;
		ts.tv_sec = (time_t)((end - now) / 1000000000u);
		ts.tv_nsec = (long)((end - now) % 1000000000u);
		nanosleep(&ts, NULL);
	}
}
