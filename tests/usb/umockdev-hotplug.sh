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
mv "$VNP_USB_STATE" "$VNP_USB_STATE.out"
wait_line '^sign-failed'
wait_line '^event slot=0 present=0'
echo "ok - card pulled: $(grep '^sign-failed' "$W/client.out"); the waiter saw the removal"
mv "$VNP_USB_STATE.out" "$VNP_USB_STATE"
wait_line '^resigned'
wait_line '^finalize-wake'
rc=0
wait "$CPID" || rc=$?
sed 's/^/#   /' "$W/client.out"
[ "$rc" -eq 0 ] || fail "hotplug_client: exit $rc: $(cat "$W/client.log")"
grep -q '^event slot=0 present=1' "$W/client.out" || fail "the waiter did not report the re-insertion"
grep -q '^resigned rv=0x0$' "$W/client.out" || fail "no signature after re-insertion"
grep -q 'rv=0x190$' "$W/client.out" || fail "waiter not woken with CKR_CRYPTOKI_NOT_INITIALIZED"
echo "ok - re-inserted card signs in a new session; C_Finalize woke the waiter: $(grep '^finalize-wake' "$W/client.out")"
