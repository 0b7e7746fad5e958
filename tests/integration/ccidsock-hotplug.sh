#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hot plug over the CCID socket: hotplug_client signs in a loop while another thread waits in
# C_WaitForSlotEvent; the card is pulled out of the `serve-ccid` device (its state file moved
# away: the device reports it with NotifySlotChange) during the signatures, then put back.
# C_Sign fails with CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT, the waiter reports the
# removal and the re-insertion, a new session signs, C_Finalize wakes the waiter.
# LEVEL: t1 or apdu.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool
level=${1:-t1}
HC="$VNP_BUILD_DIR/tests/integration/hotplug_client"
[ -x "$HC" ] || fail "no $HC: build first"

new_token t "5654000000000073" "Hotplug CCID"
"$VTOKEN" serve-ccid --state "$W/t.state" --socket "$W/dev.sock" --level "$level" \
	>"$W/serve.log" 2>&1 &
_pids+=($!)
for i in $(seq 1 50); do
	[ -S "$W/dev.sock" ] && break
	sleep 0.1
done
[ -S "$W/dev.sock" ] || fail "serve-ccid did not start: $(cat "$W/serve.log")"
printf 'readers = ccidsock\nccidsock.path = %s\nlog = reader,card,p11\nlog.file = %s\n' \
	"$W/dev.sock" "$W/module.log" >"$W/vnpki.conf"
export VNPKI_CONF="$W/vnpki.conf"

step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "Ký EC"

wait_line() {
	local i
	for i in $(seq 1 200); do
		grep -q "$1" "$W/client.out" 2>/dev/null && return 0
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
mv "$W/t.state" "$W/t.away"
wait_line '^sign-failed'
wait_line '^event slot=0 present=0'
echo "ok - C_Sign: $(grep '^sign-failed' "$W/client.out"); waiter: removal seen"
mv "$W/t.away" "$W/t.state"
wait_line '^resigned'
wait_line '^finalize-wake'
rc=0
wait "$CPID" || rc=$?
sed 's/^/#   /' "$W/client.out"
[ "$rc" -eq 0 ] || fail "hotplug_client: exit $rc: $(cat "$W/client.log")"
grep -q '^event slot=0 present=1' "$W/client.out" || fail "the waiter did not report the re-insertion"
grep -q '^resigned rv=0x0$' "$W/client.out" || fail "no signature after re-insertion"
grep -q 'rv=0x190$' "$W/client.out" || fail "waiter not woken with CKR_CRYPTOKI_NOT_INITIALIZED"
echo "ok - re-inserted token signs in a new session; C_Finalize woke the waiter"
