/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usb-umockdev-run: put the virtual token on a synthetic USB bus (umockdev) and run a command
 * that sees it as a real USB CCID device.
 *
 *   usb-umockdev-run --state FILE [--level apdu|ext|t1] [--vendor-class] [--pid HEX]
 *                    [--busy-twin] [--no-interrupt] [--desc-last] [--control FILE] -- CMD...
 *
 * CMD runs with libumockdev-preload and UMOCKDEV_DIR: /sys and /dev are the testbed's, so
 * libusb sees the synthetic token (bus 1, address 2, port 1-1) and nothing of the machine.
 * VNPKI_TESTBED_MARK in CMD's environment equals the testbed attribute
 * /sys/bus/usb/devices/1-1/vnpki_mark: CMD checks it before it loads the module, so that a
 * preload that did not take never lets a test near real USB devices.
 * --busy-twin adds a second token (1-2, address 3) whose interface is held by "someone else"
 * (CLAIMINTERFACE answers EBUSY, as when pcscd's driver owns it).
 * --control FILE: when CMD writes "unplug" into FILE, the token is unplugged (sysfs entry
 * removed, "remove" uevent); "plug" plugs it back into the same port with the next device
 * address. FILE is deleted once done.
 * Exit status: CMD's (77 = skipped). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccid_dev.h"
#include "rv.h"
#include "usb_testbed.h"

#define PRELOAD "libumockdev-preload.so.0"

static int usage(void)
{
	fprintf(stderr, "usage: usb-umockdev-run --state FILE [--level apdu|ext|t1] "
			"[--vendor-class] [--pid HEX] [--busy-twin] [--no-interrupt] "
			"[--desc-last] [--control FILE] -- CMD...\n");
	return 2;
}

static bool control_says(const char *path, const char *what)
{
	char buf[32] = {0};
	int fd;
	ssize_t n;

	if (!path)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strncmp(buf, what, strlen(what));
}

int main(int argc, char **argv)
{
	struct vnp_vt_ccid_cfg ecfg = {.level = 1, .max_msg = 65544, .ifsc = 254};
	struct usbtb_dev_cfg dcfg = {.vid = 0x1209, .pid = 0x0001, .if_class = 0x0B, .bus = 1,
				     .devnum = 2, .port = 1};
	struct vnp_vt_ccid_dev *eng = NULL, *eng2 = NULL;
	struct usbtb_dev *dev = NULL, *dev2 = NULL, *old_dev[8] = {NULL};
	unsigned n_old = 0;
	const char *state = NULL, *control = NULL;
	UMockdevTestbed *tb = NULL;
	bool twin = false;
	char mark[32], preload[4096];
	const char *old;
	unsigned urbs, out, in;
	int i, status = 0, rc = 1;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--state") && v) {
			state = v;
			i++;
		} else if (!strcmp(a, "--level") && v) {
			if (!strcmp(v, "apdu")) {
				ecfg.level = 0;
				ecfg.max_msg = 271;
			} else if (!strcmp(v, "ext")) {
				ecfg.level = 1;
			} else if (!strcmp(v, "t1")) {
				ecfg.level = 2;
				ecfg.max_msg = 271;
			} else {
				return usage();
			}
			i++;
		} else if (!strcmp(a, "--pid") && v) {
			dcfg.pid = (uint16_t)strtoul(v, NULL, 16);
			i++;
		} else if (!strcmp(a, "--control") && v) {
			control = v;
			i++;
		} else if (!strcmp(a, "--vendor-class")) {
			dcfg.if_class = 0xFF;
		} else if (!strcmp(a, "--busy-twin")) {
			twin = true;
		} else if (!strcmp(a, "--no-interrupt")) {
			dcfg.no_interrupt = true;
		} else if (!strcmp(a, "--desc-last")) {
			dcfg.desc_last = true;
		} else {
			return usage();
		}
	}
	if (!state || i + 1 >= argc)
		return usage();
	/* The testbed sends uevents through libudev, which must see the testbed's /sys: the
	 * harness runs under the preload too (what umockdev-wrapper does). UMOCKDEV_DIR is not
	 * set yet, so until umockdev_testbed_new the preload passes everything through. */
	old = getenv("LD_PRELOAD");
	if (!old || !strstr(old, PRELOAD)) {
		snprintf(preload, sizeof(preload), "%s%s%s", old && *old ? old : "",
			 old && *old ? ":" : "", PRELOAD);
		setenv("LD_PRELOAD", preload, 1);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "usb-umockdev-run: re-exec under %s: %s\n", PRELOAD,
			strerror(errno));
		return 1;
	}
	if (getenv("UMOCKDEV_DIR")) {
		fprintf(stderr, "usb-umockdev-run: already inside a umockdev testbed\n");
		return 2;
	}
	if (vnp_vt_ccid_dev_new(&ecfg, state, &eng) != VNP_OK) {
		fprintf(stderr, "usb-umockdev-run: cannot start the CCID engine on %s\n", state);
		goto out;
	}
	tb = umockdev_testbed_new(); /* sets UMOCKDEV_DIR for us and our child */
	dev = usbtb_dev_add(tb, &dcfg, eng);
	if (!dev)
		goto out;
	if (twin) {
		struct usbtb_dev_cfg c2 = dcfg;

		c2.devnum = 3;
		c2.port = 2;
		c2.busy = true;
		if (vnp_vt_ccid_dev_new(&ecfg, state, &eng2) != VNP_OK ||
		    !(dev2 = usbtb_dev_add(tb, &c2, eng2)))
			goto out;
	}
	snprintf(mark, sizeof(mark), "%08x%08x", (unsigned)getpid(), (unsigned)time(NULL));
	umockdev_testbed_set_attribute(tb, "/sys/devices/1-1", "vnpki_mark", mark);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		/* the command goes with us if we are killed (a test timeout) */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("VNPKI_TESTBED_MARK", mark, 1); /* LD_PRELOAD is ours already */
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "usb-umockdev-run: %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			goto out;
		if (dev && control_says(control, "unplug") && n_old < 8) {
			usbtb_dev_unplug(dev);
			old_dev[n_old++] = dev;
			dev = NULL;
			unlink(control);
		} else if (!dev && control_says(control, "plug")) {
			/* a device plugged in starts afresh: no answer of its old life queued, the
			 * card not powered (the handler does it, in umockdev's thread) */
			dcfg.reset_engine = true;
			dcfg.devnum++;
			dev = usbtb_dev_add(tb, &dcfg, eng);
			if (!dev)
				fprintf(stderr, "usb-umockdev-run: plug failed\n");
			else {
				umockdev_testbed_set_attribute(tb, "/sys/devices/1-1", "vnpki_mark",
							       mark);
				/* a hot-plugged device announces itself (again: a second "add" is
				 * harmless, a missing one is not) */
				umockdev_testbed_uevent(tb, "/sys/devices/1-1", "add");
			}
			unlink(control);
		}
		g_usleep(20000);
	}
	if (dev || n_old) {
		usbtb_dev_stats(dev ? dev : old_dev[0], &urbs, &out, &in);
		fprintf(stderr,
			"# usb-umockdev-run: %u URBs, %u CCID messages to the token, %u back\n",
			urbs, out, in);
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	usbtb_dev_free(dev2);
	usbtb_dev_free(dev);
	for (unsigned k = 0; k < n_old; k++)
		usbtb_dev_free(old_dev[k]);
	if (tb) {
		umockdev_testbed_clear(tb);
		g_object_unref(tb);
	}
	vnp_vt_ccid_dev_free(eng2);
	vnp_vt_ccid_dev_free(eng);
	/* umockdev's worker thread (where the token's OpenSSL ran) may still be exiting, and
	 * nobody can join it: no library destructor (OpenSSL's cleanup) may run against its
	 * thread-local destructors. Everything is freed and written already. */
	fflush(NULL);
	_exit(rc);
}
