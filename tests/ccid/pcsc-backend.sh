#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end test of the pcsc reader backend: the virtual token served through pcscd + vpcd.
# Usage: pcsc-backend.sh VNPKI_VTOKEN PCSC_PROBE
# Starts its own pcscd when none runs (root only; stopped by PID on exit).
# Exit 77 (skip) when pcscd, vpcd or the vtoken tool is missing.
set -u

VTOKEN=$1
PROBE=$2
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

skip() { echo "SKIP: $*"; exit 77; }

PCSCD=$(command -v pcscd || { [ -x /usr/sbin/pcscd ] && echo /usr/sbin/pcscd; })
[ -n "$PCSCD" ] || skip "pcscd not installed"
[ -e "$VPCD_DRIVER" ] || skip "vpcd (vsmartcard-vpcd) not installed"
[ -x "$VTOKEN" ] || skip "$VTOKEN not built"
[ -x "$PROBE" ] || skip "$PROBE not built"

TMP=$(mktemp -d /tmp/vnp-pcsc-backend-XXXXXX)
PCSCD_PID=
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	[ -n "$PCSCD_PID" ] && kill "$PCSCD_PID" 2>/dev/null && wait "$PCSCD_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# One test pcscd on the machine at a time (tests/integration/lib.sh takes the same lock).
exec 9>/tmp/vnpki-pcscd-test.lock
flock -w 1200 9 || { echo "FAIL: waited 20 minutes for another test's pcscd"; exit 1; }
if ! pidof pcscd >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || skip "pcscd not running and not root to start it"
	"$PCSCD" -f >"$TMP/pcscd.log" 2>&1 &
	PCSCD_PID=$!
fi
if ! "$PROBE" --wait-reader "Virtual PCD"; then
	# our own pcscd with vpcd installed must show its reader; another pcscd may lack it
	[ -z "$PCSCD_PID" ] || { echo "FAIL: our pcscd shows no vpcd reader"; cat "$TMP/pcscd.log"; exit 1; }
	skip "no vpcd reader in the running pcscd"
fi

# The vtoken tool is a fixture here (it has its own tests): no leak checking of it.
STATE=$TMP/token.state
ASAN_OPTIONS=detect_leaks=0 "$VTOKEN" init --state "$STATE" --serial 5654000000000001 --label T --pin 123456 ||
	{ echo "FAIL: vnpki-vtoken init"; exit 1; }
ASAN_OPTIONS=detect_leaks=0 "$VTOKEN" serve --state "$STATE" >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
if ! "$PROBE" --wait-card "Virtual PCD"; then
	echo "FAIL: the virtual card did not appear"; cat "$TMP/serve.log"; exit 1
fi
VNP_DEBUG=reader "$PROBE" "Virtual PCD"
rc=$?
[ $rc = 0 ] || { echo "--- serve.log"; cat "$TMP/serve.log"; }
exit $rc
