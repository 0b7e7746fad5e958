#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The usb backend, unmodified, against the virtual token presented as a USB CCID device by
# umockdev (usb-umockdev-run): no pcscd, no real USB device. pkcs11-tool lists, generates keys,
# signs (openssl verifies); the card is pulled and put back; the device is unplugged.
# LEVEL: apdu (short APDU, 271-byte messages), ext (extended APDU) or t1 (TPDU, T=1).
# VARIANT: plain, vendor (interface class 0xFF, taken thanks to the quirks table),
# busy (a second token whose interface another program holds: skipped with a log line),
# nointr (no interrupt endpoint: presence by GetSlotStatus; class descriptor last),
# nointr-wait (no interrupt endpoint: C_WaitForSlotEvent alone notices a card pulled),
# hotplug (one application waits in C_WaitForSlotEvent and signs while the card is pulled),
# unplug (the same while the whole device is unplugged and plugged back),
# pcsc (`readers = pcsc, usb`: a second token behind our own pcscd + vpcd is listed and signs
# too; needs root for pcscd, like the integration pcsc tests).
. "$(dirname "$0")/../integration/lib.sh"
need pkcs11-tool openssl p11tool
level=${1:-ext}
variant=${2:-plain}
HARNESS="$VNP_BUILD_DIR/tests/usb/usb-umockdev-run"
[ -x "$HARNESS" ] || skip "usb-umockdev-run not built (libumockdev-dev missing)"
[ -e /usr/lib/x86_64-linux-gnu/libumockdev-preload.so.0 ] || ldconfig -p | grep -q libumockdev-preload ||
	skip "libumockdev-preload is not installed (Debian package umockdev)"

new_token t "5654000000000042" "Token USB"
readers=usb
if [ "$variant" = pcsc ]; then
	# A second token behind our own pcscd (vpcd): `readers = pcsc, usb` shows both.
	new_token p "5654000000000043" "Token PCSC"
	start_pcscd "${VNP_TEST_PORT:-35971}"
	serve_token "$W/p.state" "${VNP_TEST_PORT:-35971}"
	wait_token 1 # through pcscd only (no VNPKI_CONF yet: the default, readers = pcsc)
	readers="pcsc, usb"
fi
{
	echo "readers = $readers"
	echo "usb.only = 1209:0001"
	echo "log = reader"
	echo "log.file = $W/module.log"
	profile_conf
} >"$W/vnpki.conf"
export VNPKI_CONF="$W/vnpki.conf"
export VNP_USB_STATE="$W/t.state" VNP_USB_VARIANT="$variant" VNP_USB_CONTROL="$W/control"
args=(--state "$W/t.state" --level "$level" --control "$W/control")
inner=umockdev-client.sh
case "$variant" in
plain) ;;
vendor) args+=(--vendor-class) ;;
busy) args+=(--busy-twin) ;;
nointr) args+=(--no-interrupt --desc-last) ;;
nointr-wait) args+=(--no-interrupt); inner=umockdev-wait.sh ;;
hotplug) inner=umockdev-hotplug.sh ;;
unplug) inner=umockdev-hotplug.sh; export VNP_USB_PULL=device ;;
pcsc) ;;
*) fail "unknown variant $variant" ;;
esac
# The inner script runs under the preload (every process it starts sees only the testbed).
rc=0
"$HARNESS" "${args[@]}" -- bash "$(dirname "$0")/$inner" || rc=$?
[ "$rc" -eq 0 ] || { echo "# module log:"; tail -n 30 "$W/module.log" | sed 's/^/#   /'; exit "$rc"; }
