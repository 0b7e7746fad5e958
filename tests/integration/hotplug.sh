#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hot plug (issue 5): one application (hotplug_client) signs in a loop while another thread
# of it waits in C_WaitForSlotEvent (blocking). The token is pulled during the signatures:
# C_Sign returns CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT, the session is closed, the
# waiter reports the removal. The token is plugged back: the waiter reports it and a new
# session signs again, without restarting the application. C_Finalize from the main thread
# wakes the waiter (CKR_CRYPTOKI_NOT_INITIALIZED) within 2 s.
# pcsc: pull = stop `vnpki-vtoken serve`, plug = start it again; then a second vpcd reader
# is added at run time (a reader.conf.d entry + `pcscd --hotplug`) and must show up as a
# new slot. inprocess: pull = move the state file away, plug = move it back.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35964}
HC="$VNP_BUILD_DIR/tests/integration/hotplug_client"
[ -x "$HC" ] || fail "no $HC: build first"

new_token t "5654000000000071" "Hotplug"
case "$mode" in
inprocess) use_inprocess "$W/t.state" ;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/t.state" "$port"
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac
# the module's reader log, shown on failure (lib.sh prints $W/*.log)
printf 'log = reader,card,p11\nlog.file = %s\n' "$W/module.log" >>"$W/vnpki.conf"
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "Ký EC"

pull() {
	case "$mode" in
	inprocess) mv "$W/t.state" "$W/t.away" ;;
	pcsc) stop_pid "$SERVE_PID" ;;
	esac
}
plug() {
	case "$mode" in
	inprocess) mv "$W/t.away" "$W/t.state" ;;
	pcsc) serve_token "$W/t.state" "$port" ;;
	esac
}
# wait_line PATTERN: wait (20 s at most) for a line of the client's output.
wait_line() {
	local i
	for i in $(seq 1 200); do
		grep -q "$1" "$W/client.out" && return 0
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/client.out" "$W/client.log" >&2
	fail "no '$1' from hotplug_client"
}

client "$HC" "$MODULE" "$PIN" >"$W/client.out" 2>"$W/client.log" &
CPID=$!
_pids+=($CPID)
wait_line '^signing'
say "token pulled during the signature loop"
pull
wait_line '^sign-failed'
wait_line '^event slot=0 present=0'
echo "ok - C_Sign: $(grep '^sign-failed' "$W/client.out"); waiter: removal seen"
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
echo "ok - re-inserted token signs in a new session; C_Finalize woke the waiter: $(grep '^finalize-wake' "$W/client.out")"

if [ "$mode" = pcsc ]; then
	# A second vpcd reader at run time: a new reader.conf.d entry, then pcscd --hotplug.
	port2=$((port + 1))
	new_token u "5654000000000072" "Hotplug 2"
	printf 'FRIENDLYNAME "Virtual PCD 2"\nDEVICENAME /dev/null:%d\nLIBPATH %s\nCHANNELID %d\n' \
		"$port2" "$VPCD_DRIVER" "$port2" >"$W/reader.conf.d/vpcd2"
	# A running application blocked in C_WaitForSlotEvent must see the new reader.
	client "$HC" "$MODULE" --wait-slots 2 >"$W/client.out" 2>"$W/client.log" &
	CPID=$!
	_pids+=($CPID)
	wait_line '^ready'
	sleep 0.5
	pcscd --hotplug >"$W/hotplug.log" 2>&1 || true
	serve_token "$W/u.state" "$port2"
	added=0
	for i in $(seq 1 50); do
		if [ "$(client pkcs11-tool --module "$MODULE" -L 2>/dev/null | grep -c 'token label')" -ge 2 ]; then
			added=1
			break
		fi
		sleep 0.1
	done
	if [ "$added" = 1 ]; then
		echo "ok - a vpcd reader added at run time shows up as a second slot"
		wait_line '^slots='
		rc=0
		wait "$CPID" || rc=$?
		[ "$rc" -eq 0 ] || fail "the waiting application did not see the new reader: $(cat "$W/client.out" "$W/client.log")"
		echo "ok - a blocked C_WaitForSlotEvent reports the new reader: $(grep '^slots=' "$W/client.out")"
	else
		# pcscd rescans only USB on --hotplug; serial (reader.conf.d) readers are read at
		# start-up. Record it, do not fail: nothing in the module can make it appear.
		echo "ok - # SKIP pcscd --hotplug does not add reader.conf.d (serial/vpcd) readers at run time"
	fi
fi
