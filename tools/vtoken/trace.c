/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* APDU counting and tracing for `vnpki-vtoken serve`. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "capdu.h"
#include "rv.h"
#include "trace.h"

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *trace_file;
static uint64_t count_total;
static uint64_t count_by_ins[256];

int vnp_vt_trace_open(const char *path)
{
	FILE *f;

	if (!path)
		return VNP_OK;
	f = fopen(path, "ae");
	if (!f)
		return VNP_E_IO;
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&trace_lock);
	trace_file = f;
	pthread_mutex_unlock(&trace_lock);
	return VNP_OK;
}

void vnp_vt_trace_close(void)
{
	pthread_mutex_lock(&trace_lock);
	if (trace_file)
		fclose(trace_file);
	trace_file = NULL;
	pthread_mutex_unlock(&trace_lock);
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s%02X", i ? " " : "", p[i]);
}

static bool is_secret_ins(uint8_t ins)
{
	return ins == 0x20 || ins == 0x24 || ins == 0x2C;
}

void vnp_vt_trace_format_cmd(FILE *f, const uint8_t *cmd, size_t len)
{
	struct vnp_vt_capdu a;
	size_t head;

	if (len < 4 || !is_secret_ins(cmd[1])) {
		hex(f, cmd, len);
		return;
	}
	if (vnp_vt_capdu_parse(cmd, len, &a) == VNP_OK && a.lc == 0) {
		hex(f, cmd, len);
		return;
	}
	if (vnp_vt_capdu_parse(cmd, len, &a) != VNP_OK) {
		hex(f, cmd, 4);
		if (len > 4)
			fprintf(f, " <redacted %zu bytes>", len - 4);
		return;
	}
	head = (size_t)(a.data - cmd);
	hex(f, cmd, head);
	fprintf(f, " <redacted %zu bytes>", a.lc);
	if (len > head + a.lc) {
		fputc(' ', f);
		hex(f, cmd + head + a.lc, len - head - a.lc);
	}
}

static void stamp(FILE *f, const char *who)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	fprintf(f, "vtoken[%ld] %ld.%06ld %s ", (long)getpid(), (long)tv.tv_sec,
		(long)tv.tv_usec, who);
}

void vnp_vt_trace_cmd(const char *who, const uint8_t *cmd, size_t len)
{
	pthread_mutex_lock(&trace_lock);
	count_total++;
	if (len >= 2)
		count_by_ins[cmd[1]]++;
	if (trace_file) {
		stamp(trace_file, who);
		fputs("-> ", trace_file);
		vnp_vt_trace_format_cmd(trace_file, cmd, len);
		fputc('\n', trace_file);
	}
	pthread_mutex_unlock(&trace_lock);
}

void vnp_vt_trace_resp(const char *who, const uint8_t *resp, size_t len)
{
	pthread_mutex_lock(&trace_lock);
	if (trace_file) {
		stamp(trace_file, who);
		fputs("<- ", trace_file);
		hex(trace_file, resp, len);
		fputc('\n', trace_file);
	}
	pthread_mutex_unlock(&trace_lock);
}

void vnp_vt_trace_event(const char *who, const char *what)
{
	pthread_mutex_lock(&trace_lock);
	if (trace_file) {
		stamp(trace_file, who);
		fprintf(trace_file, "%s\n", what);
	}
	pthread_mutex_unlock(&trace_lock);
}

uint64_t vnp_vt_stats_total(void)
{
	uint64_t n;

	pthread_mutex_lock(&trace_lock);
	n = count_total;
	pthread_mutex_unlock(&trace_lock);
	return n;
}

int vnp_vt_stats_write(const char *path)
{
	char *tmp;
	FILE *f;
	unsigned i;
	bool first = true;
	int rv = VNP_E_IO;

	if (!path)
		return VNP_OK;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return VNP_E_NOMEM;
	f = fopen(tmp, "we");
	if (!f)
		goto out;
	pthread_mutex_lock(&trace_lock);
	fprintf(f, "{\"apdus\": %llu, \"by_ins\": {", (unsigned long long)count_total);
	for (i = 0; i < 256; i++) {
		if (!count_by_ins[i])
			continue;
		fprintf(f, "%s\"%02X\": %llu", first ? "" : ", ", i,
			(unsigned long long)count_by_ins[i]);
		first = false;
	}
	fprintf(f, "}}\n");
	pthread_mutex_unlock(&trace_lock);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rv = VNP_OK;
out:
	free(tmp);
	return rv;
}
