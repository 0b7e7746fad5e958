#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside usb-umockdev-run (see umockdev.sh, variant hotplug): one application keeps the
# module loaded (tests/integration/hotplug_client: a thread blocked in C_WaitForSlotEvent, the
# main thread signing in a loop) while the card is pulled from the USB token and put back.
# The waiter learns it from the interrupt endpoint (NotifySlotChange), the signing thread from
# the failing XfrBlock; C_Finalize must wake the waiter (libusb_interrupt_event_handler).
. "$(dirname "$0")/../integration/lib.sh"
[ -n "${UMOCKDEV_DIR:-}" ] || fail "not inside a umockdev testbed"
mark=$(cat /sys/bus/usb/devices/1-1/vnpki_mark 2>/dev/null || true)
[ -n "$mark" ] && [ "$mark" = "${VNPKI_TESTBED_MARK:-}" ] ||
	fail "the umockdev preload is not active (mark '$mark'): refusing to touch USB"
HC="$VNP_BUILD_DIR/tests/integration/hotplug_client"
[ -x "$HC" ] || fail "no $HC: build first"
run_client() {
	if [ -n "$san_preload" ]; then
		LD_PRELOAD="$san_preload:$LD_PRELOAD" "$@"
	else
		"$@"
	fi
}
step "EC P-256 key pair generated on the token" run_client pkcs11-tool --module "$MODULE" \
	--login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "ec"

wait_line() {
	local i
	for i in $(seq 1 300); do
		grep -q "$1" "$W/client.out" && return 0
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/client.out" "$W/client.log" >&2
	fail "no '$1' from hotplug_client"
}
run_client "$HC" "$MODULE" "$PIN" >"$W/client.out" 2>"$W/client.log" &
CPID=$!
_pids+=($CPID)
wait_line '^signing'
# VNP_USB_PULL: card (the state file goes away: NotifySlotChange) or device (unplugged:
# hotplug "left" and ENODEV; plugged back into the same port as a new device).
control() {
	local i
	echo "$1" >"$VNP_USB_CONTROL"
	for i in $(seq 1 100); do [ -e "$VNP_USB_CONTROL" ] || return 0; sleep 0.05; done
	fail "usb-umockdev-run did not $1"
}
pull() {
	case "${VNP_USB_PULL:-card}" in
	card) mv "$VNP_USB_STATE" "$VNP_USB_STATE.out" ;;
	device) control unplug ;;
	esac
}
plug() {
	case "${VNP_USB_PULL:-card}" in
	card) mv "$VNP_USB_STATE.out" "$VNP_USB_STATE" ;;
	device) control plug ;;
	esac
}
pull
wait_line '^sign-failed'
wait_line '^event slot=0 present=0'
echo "ok - ${VNP_USB_PULL:-card} pulled: $(grep '^sign-failed' "$W/client.out"); the waiter saw the removal"
plug
wait_line '^resigned'
wait_line '^finalize-wake'
rc=0
wait "$CPID" || rc=$?
sed 's/^/#   /' "$W/client.out"
[ "$rc" -eq 0 ] || fail "hotplug_client: exit $rc: $(cat "$W/client.log")"
grep -q '^event slot=0 present=1' "$W/client.out" || fail "the waiter did not report the re-insertion"
grep -q '^resigned rv=0x0$' "$W/client.out" || fail "no signature after re-insertion"
grep -q 'rv=0x190$' "$W/client.out" || fail "waiter not woken with CKR_CRYPTOKI_NOT_INITIALIZED"
echo "ok - re-inserted ${VNP_USB_PULL:-card} signs in a new session; C_Finalize woke the waiter: $(grep '^finalize-wake' "$W/client.out")"
