/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vnpki-vtoken serve` without pcscd: it stops promptly on SIGTERM while vpcd is down or
 * does not answer a connect, does not reconnect in a tight loop to a port that hangs up,
 * and exits with an error when its card thread ends on its own (bad host). */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[] = "/tmp/vt-serve-XXXXXX";
static char state_path[64];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A listening socket on 127.0.0.1, port in *port. */
static int listener(unsigned *port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000001) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A port with nothing listening (bound once, then closed). */
static unsigned free_port(void)
{
	unsigned port;
	int fd = listener(&port, 1);

	close(fd);
	return port;
}

static pid_t spawn_serve(const char *host, unsigned port)
{
	char portstr[16];
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%u", port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(VTOKEN_EXE, VTOKEN_EXE, "serve", "--state", state_path, "--host", host,
		      "--port", portstr, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Wait up to ms for pid; its wait status, or -1 after killing it on timeout. */
static int wait_exit(pid_t pid, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(10);
	}
}

static int setup(void **state)
{
	char cmd[256];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(state_path, sizeof(state_path), "%s/t.state", dir);
	snprintf(cmd, sizeof(cmd), "%s init --state %s --serial 5654000000000001 --label serve --pin 123456 >/dev/null", VTOKEN_EXE,
		 state_path);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_sigterm_while_vpcd_down(void **state)
{
	pid_t pid = spawn_serve("127.0.0.1", free_port());
	uint64_t t0;
	int st;

	(void)state;
	sleep_ms(400);
	t0 = now_ms();
	kill(pid, SIGTERM);
	st = wait_exit(pid, 3000);
	assert_true(st != -1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(now_ms() - t0 < 1000);
}

/* The listener's backlog is full and nobody accepts: the kernel drops the SYN and a
 * blocking connect() would wait for minutes. */
static void test_sigterm_during_connect(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000001) };
	unsigned port;
	int lfd = listener(&port, 0), fill[4];
	uint64_t t0;
	pid_t pid;
	int st;

	(void)state;
	sa.sin_port = htons((uint16_t)port);
	for (size_t i = 0; i < 4; i++) { /* fill the accept queue */
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fill[i] >= 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	sleep_ms(100);
	pid = spawn_serve("127.0.0.1", port);
	sleep_ms(500);
	t0 = now_ms();
	kill(pid, SIGTERM);
	st = wait_exit(pid, 5000);
	for (size_t i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	assert_true(st != -1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(now_ms() - t0 < 1000);
}

/* Something on the port accepts and hangs up at once: serve must back off. */
static void test_no_busy_reconnect(void **state)
{
	unsigned port, accepted = 0;
	int lfd = listener(&port, 16), st;
	uint64_t end;
	pid_t pid;

	(void)state;
	pid = spawn_serve("127.0.0.1", port);
	end = now_ms() + 1500;
	while (now_ms() < end) {
		int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c >= 0) {
			accepted++;
			close(c);
		} else {
			sleep_ms(5);
		}
	}
	kill(pid, SIGTERM);
	st = wait_exit(pid, 3000);
	close(lfd);
	print_message("# %u connections in 1.5 s\n", accepted);
	assert_true(accepted >= 1);
	assert_true(accepted <= 15);
	assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The card thread ends on its own (the host does not resolve): the process exits 1. */
static void test_worker_end_exits(void **state)
{
	pid_t pid = spawn_serve("no-such-host.invalid", free_port());
	int st;

	(void)state;
	st = wait_exit(pid, 20000);
	assert_true(st != -1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_while_vpcd_down),
		cmocka_unit_test(test_sigterm_during_connect),
		cmocka_unit_test(test_no_busy_reconnect),
		cmocka_unit_test(test_worker_end_exits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
