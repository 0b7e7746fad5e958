#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside usb-umockdev-run (see umockdev.sh, variant nointr-wait): a token without an
# interrupt endpoint, and an application that does nothing but wait in C_WaitForSlotEvent
# (hotplug_client --wait-card). Pulling the card must wake it within seconds: the usb backend
# asks GetSlotStatus itself while it waits, since no NotifySlotChange will come.
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
wait_line() {
	local i
	for i in $(seq 1 "$2"); do
		grep -q "$1" "$W/client.out" && return 0
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/client.out" "$W/client.log" >&2
	fail "no '$1' from hotplug_client --wait-card"
}
run_client "$HC" "$MODULE" --wait-card >"$W/client.out" 2>"$W/client.log" &
CPID=$!
_pids+=($CPID)
wait_line '^ready' 300
sleep 1 # the waiter is blocked in the backend's wait
mv "$VNP_USB_STATE" "$VNP_USB_STATE.out"
# The module's own wait lasts 60 s: 15 s is far below it and far above the 0.5 s poll.
wait_line '^removed' 150
rc=0
wait "$CPID" || rc=$?
[ "$rc" -eq 0 ] || fail "hotplug_client --wait-card: exit $rc: $(cat "$W/client.log")"
echo "ok - card pulled from a token without an interrupt endpoint; the waiter saw it: $(grep '^removed' "$W/client.out")"
