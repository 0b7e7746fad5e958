/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading PINs and response codes: --pin (with a warning: it shows in `ps`), --pin-file,
 * an environment variable, or the terminal without echo. Every buffer that held a secret
 * is a vnp_secret or is wiped. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tool.h"
#include "messages.h"
#include "rv.h"

#define SECRET_CAP 256

static bool warned;

void vnp_pin_warn_cmdline(const char *option)
{
	if (warned)
		return;
	warned = true;
	vnp_err(MSG_PIN_ON_CMDLINE, option);
}

static const char *env_name(enum pin_kind kind)
{
	switch (kind) {
	case PIN_USER: return "VNPKI_PIN";
	case PIN_NEW: return "VNPKI_NEW_PIN";
	case PIN_RESPONSE_CODE: return "VNPKI_RESPONSE_CODE";
	case PIN_PUK: return "VNPKI_PUK";
	}
	return "VNPKI_PIN";
}

/* Drop a trailing "\n" or "\r\n". */
static void chomp(struct vnp_secret *s)
{
	while (s->len && (s->p[s->len - 1] == '\n' || s->p[s->len - 1] == '\r'))
		s->p[--s->len] = 0;
}

static int from_text(const char *text, struct vnp_secret *ret)
{
	size_t n = strlen(text);

	if (n >= SECRET_CAP)
		return EXIT_USAGE;
	if (vnp_secret_new(SECRET_CAP, ret) != VNP_OK)
		return EXIT_FAILED;
	memcpy(ret->p, text, n);
	ret->len = n;
	ret->p[n] = 0;
	return EXIT_OK;
}

/* The first line of a file. */
static int from_file(const char *path, struct vnp_secret *ret)
{
	struct vnp_secret s = { 0 };
	ssize_t r;
	int fd, rc = EXIT_FAILED;
	char *nl;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vnp_err(MSG_CANNOT_READ, path, strerror(errno));
		return EXIT_USAGE;
	}
	if (vnp_secret_new(SECRET_CAP, &s) != VNP_OK)
		goto out;
	while (s.len < SECRET_CAP - 1) {
		r = read(fd, s.p + s.len, SECRET_CAP - 1 - s.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			vnp_err(MSG_CANNOT_READ, path, strerror(errno));
			rc = EXIT_USAGE;
			goto out;
		}
		if (r == 0)
			break;
		s.len += (size_t)r;
	}
	s.p[s.len] = 0;
	nl = memchr(s.p, '\n', s.len);
	if (nl) {
		vnp_wipe(nl, s.len - (size_t)((uint8_t *)nl - s.p));
		s.len = (size_t)((uint8_t *)nl - s.p);
	}
	chomp(&s);
	*ret = s;
	s.p = NULL;
	rc = EXIT_OK;
out:
	vnp_secret_free(&s);
	close(fd);
	return rc;
}

/* Ask on /dev/tty with echo off. */
static int from_tty(int tty, const char *prompt, struct vnp_secret *ret)
{
	struct vnp_secret s = { 0 };
	struct termios old, quiet;
	bool restore = false;
	int rc = EXIT_FAILED;
	char c;
	ssize_t r;

	if (vnp_secret_new(SECRET_CAP, &s) != VNP_OK)
		return EXIT_FAILED;
	/* Echo off before the prompt shows: an answer typed after it is never flushed. */
	if (tcgetattr(tty, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(tty, TCSAFLUSH, &quiet) == 0;
	}
	if (write(tty, prompt, strlen(prompt)) < 0)
		goto out;
	for (;;) {
		r = read(tty, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (s.len < SECRET_CAP - 1)
			s.p[s.len++] = (uint8_t)c;
	}
	vnp_wipe(&c, sizeof(c));
	s.p[s.len] = 0;
	chomp(&s);
	*ret = s;
	s.p = NULL;
	rc = EXIT_OK;
out:
	if (restore)
		tcsetattr(tty, TCSANOW, &old);
	if (write(tty, "\n", 1) < 0) {
		/* nothing to do: the terminal is going away */
	}
	vnp_secret_free(&s);
	return rc;
}

static int ask(enum pin_kind kind, bool confirm, struct vnp_secret *ret)
{
	struct vnp_secret a = { 0 }, b = { 0 };
	enum vnp_msg_id prompt = kind == PIN_USER ? MSG_PROMPT_PIN :
				 kind == PIN_NEW ? MSG_PROMPT_NEW_PIN :
				 kind == PIN_PUK ? MSG_PROMPT_PUK : MSG_PROMPT_CODE;
	int tty, rc;

	tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0) {
		vnp_err(MSG_NO_TTY, env_name(kind));
		return EXIT_USAGE;
	}
	rc = from_tty(tty, vnp_msg(prompt), &a);
	if (rc == EXIT_OK && confirm) {
		rc = from_tty(tty, vnp_msg(MSG_PROMPT_AGAIN), &b);
		if (rc == EXIT_OK && (a.len != b.len || vnp_memcmp_ct(a.p, b.p, a.len) != 0)) {
			vnp_err(MSG_PIN_MISMATCH);
			rc = EXIT_USAGE;
		}
	}
	close(tty);
	if (rc == EXIT_OK) {
		*ret = a;
		a.p = NULL;
	}
	vnp_secret_free(&a);
	vnp_secret_free(&b);
	return rc;
}

int vnp_pin_read(enum pin_kind kind, const struct pin_opts *po, bool confirm,
		 struct vnp_secret *ret)
{
	const char *env;
	int rc;

	if (po && po->value) {
		rc = from_text(po->value, ret);
	} else if (po && po->file) {
		rc = from_file(po->file, ret);
	} else if ((env = secure_getenv(env_name(kind))) != NULL) {
		rc = from_text(env, ret);
	} else {
		return ask(kind, confirm, ret);
	}
	if (rc == EXIT_OK && ret->len == 0) {
		vnp_secret_free(ret);
		vnp_err(MSG_EMPTY_SECRET);
		rc = EXIT_USAGE;
	}
	return rc;
}
