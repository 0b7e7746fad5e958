/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging and APDU tracing (STYLE.md §7). Process-wide state guarded by one mutex:
 * the log destination is a property of the process, set by C_Initialize or a tool. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_STACK 1024

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned log_cats;
static _Atomic int log_configured;
static int log_fd = -1;        /* -1: stderr */
static uint64_t log_last_us;   /* time of the previous line, 0 before the first */

static const struct {
	const char *name;
	unsigned bits;
} cat_names[] = {
	{ "p11", VNP_LOG_P11 },
	{ "apdu", VNP_LOG_APDU },
	{ "reader", VNP_LOG_READER },
	{ "card", VNP_LOG_CARD },
	{ "warn", VNP_LOG_WARN },
	{ "all", VNP_LOG_P11 | VNP_LOG_APDU | VNP_LOG_READER | VNP_LOG_CARD | VNP_LOG_WARN },
};

static unsigned parse_categories(const char *s)
{
	unsigned bits = 0;

	while (s && *s) {
		size_t n = strcspn(s, ", \t");

		for (size_t i = 0; i < VNP_ARRAY_SIZE(cat_names); i++)
			if (n == strlen(cat_names[i].name) && !strncasecmp(s, cat_names[i].name, n))
				bits |= cat_names[i].bits;
		s += n;
		s += strspn(s, ", \t");
	}
	if (bits)
		bits |= VNP_LOG_WARN;
	return bits;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void setup_locked(const char *categories, const char *file)
{
	const char *env_cats = secure_getenv("VNP_DEBUG");
	const char *env_file = secure_getenv("VNP_DEBUG_FILE");

	if (env_cats && *env_cats)
		categories = env_cats;
	if (env_file && *env_file)
		file = env_file;
	if (log_fd >= 0) {
		close(log_fd);
		log_fd = -1;
	}
	log_cats = parse_categories(categories);
	if (log_cats && file && *file)
		log_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	/* On open failure the log goes to stderr. */
	log_configured = 1;
}

/* Lazily read the environment when nobody called vnp_log_setup() yet. */
static void ensure_configured(void)
{
	if (log_configured)
		return;
	pthread_mutex_lock(&log_lock);
	if (!log_configured)
		setup_locked(NULL, NULL);
	pthread_mutex_unlock(&log_lock);
}

/* (Re)configure from VNP_DEBUG / VNP_DEBUG_FILE, which win over the config values categories and
 * file (either may be NULL). Thread-safe. */
void vnp_log_setup(const char *categories, const char *file)
{
	pthread_mutex_lock(&log_lock);
	setup_locked(categories, file);
	pthread_mutex_unlock(&log_lock);
}

/* Close the log file, if any, and turn logging off until the next vnp_log_setup(). Thread-safe. */
void vnp_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	log_cats = 0;
	log_last_us = 0;
	log_configured = 1;
	pthread_mutex_unlock(&log_lock);
}

/* True when any bit of cat is enabled. Thread-safe. */
bool vnp_log_enabled(unsigned cat)
{
	ensure_configured();
	return (log_cats & cat) != 0;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Prefix body with "vnpki[pid/tid] +NNNNNNus " and write it as one line under the lock. */
static void emit(const char *body)
{
	char prefix[64];
	uint64_t t, delta;
	int n;

	pthread_mutex_lock(&log_lock);
	t = now_us();
	delta = log_last_us ? t - log_last_us : 0;
	log_last_us = t;
	n = snprintf(prefix, sizeof(prefix), "vnpki[%ld/%ld] +%06lluus ", (long)getpid(),
		     (long)syscall(SYS_gettid), (unsigned long long)delta);
	if (n > 0) {
		int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
		size_t blen = strlen(body);

		write_all(fd, prefix, (size_t)n);
		write_all(fd, body, blen);
		if (!blen || body[blen - 1] != '\n')
			write_all(fd, "\n", 1);
	}
	pthread_mutex_unlock(&log_lock);
}

/* Log one printf-formatted line when category cat is on. Thread-safe. */
void vnp_log(unsigned cat, const char *fmt, ...)
{
	char stack[LINE_MAX_STACK];
	char *heap = NULL;
	va_list ap;
	int n;

	if (!vnp_log_enabled(cat))
		return;
	va_start(ap, fmt);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(stack)) {
		heap = malloc((size_t)n + 1);
		if (heap) {
			va_start(ap, fmt);
			vsnprintf(heap, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	emit(heap ? heap : stack);
	free(heap);
}

static char *append_hex(char *o, const uint8_t *b, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		*o++ = ' ';
		*o++ = hx[b[i] >> 4];
		*o++ = hx[b[i] & 15];
	}
	return o;
}

/* Bytes of a command APDU shown when its data is sensitive: CLA INS P1 P2 and the Lc field
 * (ISO 7816-4 §5.1: one byte, or 00 and two bytes for extended length). */
static size_t command_header_len(const uint8_t *buf, size_t len)
{
	if (len <= 4)
		return 0;
	if (len == 5)
		return 5;                /* case 2S: CLA INS P1 P2 Le */
	if (buf[4] != 0)
		return 5;                /* short Lc */
	return len >= 7 ? 7 : len;       /* extended: 00 Lc1 Lc2 */
}

/* One APDU trace line at VNP_LOG_APDU: "<who> -> hex" for a command, "<who> <- hex" for a
 * response. When sensitive, a command shows its header and Lc and a response only its SW1 SW2;
 * the rest is replaced by "<redacted N bytes>". Thread-safe. */
void vnp_log_apdu(const char *who, bool to_card, const uint8_t *buf, size_t len, bool sensitive)
{
	size_t shown_head = len, shown_tail = 0, hidden = 0;
	size_t cap;
	char *line, *o;

	if (!vnp_log_enabled(VNP_LOG_APDU))
		return;
	if (!buf)
		len = 0;
	if (sensitive) {
		if (to_card) {
			shown_head = command_header_len(buf, len);
		} else {
			shown_head = 0;
			shown_tail = len >= 2 ? 2 : 0;
		}
		hidden = len - shown_head - shown_tail;
	}
	cap = strlen(who ? who : "") + 3 * len + 64;
	line = malloc(cap);
	if (!line)
		return;
	o = line + snprintf(line, cap, "%s %s", who ? who : "", to_card ? "->" : "<-");
	o = append_hex(o, buf, shown_head);
	if (hidden)
		o += snprintf(o, cap - (size_t)(o - line), " <redacted %zu bytes>", hidden);
	if (shown_tail)
		o = append_hex(o, buf + len - shown_tail, shown_tail);
	if (!to_card && len >= 2)
		o += snprintf(o, cap - (size_t)(o - line), " (SW %02X%02X)", buf[len - 2],
			      buf[len - 1]);
	*o = '\0';
	emit(line);
	free(line);
}
