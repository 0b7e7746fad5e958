#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A token's lockout and its Mẫu 06 recovery, end to end (RECOVERY.md): lock by wrong PINs,
# create a request, unplug the token, answer with vnpki-authority, unblock with vnpki-tool
# and again with plain pkcs11-tool, sign with the new PIN; a wrong response spends one
# unblock try and keeps the challenge; a second request makes the first answer useless;
# ten wrong responses terminate the token for good. MODE: pcsc (default) or inprocess.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl
mode=${1:-pcsc}
port=${VNP_TEST_PORT:-35963}
TOOL="$VNP_BUILD_DIR/tools/vnpki-tool/vnpki-tool"
AUTH="$VNP_BUILD_DIR/tools/authority/vnpki-authority"
[ -x "$TOOL" ] || fail "no $TOOL"
[ -x "$AUTH" ] || fail "no $AUTH"
export VNPKI_MODULE="$MODULE"

step "agency master key created (0600)" "$AUTH" keygen --out "$W/master.key"
[ "$(stat -c %a "$W/master.key")" = 600 ] || fail "master key file is not 0600"
step "a second keygen refuses to overwrite it" bash -c "! '$AUTH' keygen --out '$W/master.key'"
"$AUTH" keygen --out "$W/other.key" >/dev/null 2>&1 || fail "keygen other.key"
new_token t "5654000000000041" "Nguyễn Văn An"
step "agency personalises the token's recovery key" "$AUTH" personalise --master "$W/master.key" \
	--state "$W/t.state"

# plug / unplug the token
plug() {
	case "$mode" in
	inprocess) use_inprocess "$W/t.state" ;;
	pcsc)
		serve_token "$W/t.state" "$port"
		TOKEN_PID=$SERVE_PID
		wait_token 1
		;;
	esac
}
unplug() {
	case "$mode" in
	inprocess) use_inprocess ;;
	pcsc) stop_pid "$TOKEN_PID" ;;
	esac
}
case "$mode" in
inprocess) ;;
pcsc)
	start_pcscd "$port"
	use_pcsc
	;;
*) fail "unknown mode $mode" ;;
esac
plug

step "a signing key on the token" p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 01
head -c 100 /dev/urandom >"$W/data"

# lock LABEL: three wrong PINs: PIN_INCORRECT, PIN_INCORRECT, PIN_LOCKED; then even the
# right PIN is refused.
lock() {
	local i
	for i in 1 2; do
		step "$1: wrong PIN $i is refused" bash -c "! LD_PRELOAD=$san_preload pkcs11-tool --module '$MODULE' --login --pin 999999 -O"
		grep -q CKR_PIN_INCORRECT "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"
	done
	step "$1: the third wrong PIN locks the token" bash -c "! LD_PRELOAD=$san_preload pkcs11-tool --module '$MODULE' --login --pin 999999 -O"
	grep -q CKR_PIN_LOCKED "$W/step.out" || fail "expected CKR_PIN_LOCKED: $(cat "$W/step.out")"
	step "$1: the right PIN is refused on a locked token" bash -c "! LD_PRELOAD=$san_preload pkcs11-tool --module '$MODULE' --login --pin '$2' -O"
	grep -q CKR_PIN_LOCKED "$W/step.out" || fail "expected CKR_PIN_LOCKED: $(cat "$W/step.out")"
}
# request FILE: vnpki-tool unblock-request; sets $req to the request code.
request() {
	step "unblock request created" client "$TOOL" unblock-request --out "$1"
	req=$(sed -n 's/.*"request_code": *"\([^"]*\)".*/\1/p' "$1")
	[ -n "$req" ] || fail "no request code in $1: $(cat "$1")"
	grep -qF -- "$req" "$W/step.out" || fail "vnpki-tool did not print the request code"
}
# respond KEYFILE REQFILE: the agency's answer, in $resp.
respond() {
	resp=$("$AUTH" respond --master "$1" --request "$2" --audit-log "$W/audit.log" --operator "test operator") ||
		fail "vnpki-authority respond failed"
}
# unblock CODE NEWPIN: vnpki-tool unblock, with the code and PIN from the environment.
unblock() {
	VNPKI_RESPONSE_CODE="$1" VNPKI_NEW_PIN="$2" client "$TOOL" unblock
}
sign_with() {
	p11 --login --pin "$1" --sign -m ECDSA-SHA256 --id 01 -i "$W/data" -o "$W/sig"
}

lock "first lockout" "$PIN"
step "vnpki-tool status shows the lock" client "$TOOL" status
grep -qi "locked" "$W/step.out" || fail "status does not say locked: $(cat "$W/step.out")"
request "$W/req1.json"
say "request code $req"

unplug
say "token unplugged; the request travels on form Mẫu 06 to the agency"
respond "$W/master.key" "$W/req1.json"
say "response code $resp"
grep -q "5654000000000041" "$W/audit.log" || fail "audit log lacks the answer"
! grep -qF -- "$resp" "$W/audit.log" || fail "the audit log must not hold the response code"
respond "$W/other.key" "$W/req1.json"
wrong=$resp
respond "$W/master.key" "$W/req1.json"
plug

typo=${resp:0:3}$([ "${resp:3:1}" = 0 ] && echo 1 || echo 0)${resp:4}
step "a mistyped response code is caught on the host" bash -c "! VNPKI_RESPONSE_CODE='$typo' VNPKI_NEW_PIN=24681357 LD_PRELOAD=$san_preload '$TOOL' unblock"
step "... and spends no unblock try" client "$TOOL" status --json
grep -q '"unblock_tries_left": *10' "$W/step.out" || fail "unblock tries changed: $(cat "$W/step.out")"
step "a wrong response code is refused" bash -c "! VNPKI_RESPONSE_CODE='$wrong' VNPKI_NEW_PIN=24681357 LD_PRELOAD=$san_preload '$TOOL' unblock"
step "... and spends one unblock try" client "$TOOL" status --json
grep -q '"unblock_tries_left": *9' "$W/step.out" || fail "expected 9 unblock tries left: $(cat "$W/step.out")"
step "vnpki-tool unblock with the agency's response code" unblock "$resp" 24681357
step "sign with the new PIN" sign_with 24681357
step "the response code works once only" bash -c "! VNPKI_RESPONSE_CODE='$resp' VNPKI_NEW_PIN=13572468 LD_PRELOAD=$san_preload '$TOOL' unblock"

lock "second lockout" 24681357
request "$W/req2.json"
respond "$W/master.key" "$W/req2.json"
step "plain pkcs11-tool unblocks: SO login with the response code, C_InitPIN" \
	p11 --login --login-type so --so-pin "$resp" --init-pin --new-pin 11223344
step "sign with the PIN set by pkcs11-tool" sign_with 11223344

lock "third lockout" 11223344
request "$W/req3a.json"
respond "$W/master.key" "$W/req3a.json"
first=$resp
request "$W/req3b.json"
step "a second request makes the first answer useless" bash -c "! VNPKI_RESPONSE_CODE='$first' VNPKI_NEW_PIN=55667788 LD_PRELOAD=$san_preload '$TOOL' unblock"
respond "$W/master.key" "$W/req3b.json"
step "the second request's answer unblocks" unblock "$resp" 55667788
step "sign after the third recovery" sign_with 55667788

lock "last lockout" 55667788
request "$W/req4.json"
respond "$W/other.key" "$W/req4.json"
for i in $(seq 1 10); do
	step "wrong response $i of 10" bash -c "! VNPKI_RESPONSE_CODE='$resp' VNPKI_NEW_PIN=99887766 LD_PRELOAD=$san_preload '$TOOL' unblock"
done
step "status after ten wrong responses" client "$TOOL" status --json
grep -q '"terminated": *true' "$W/step.out" || fail "token not terminated: $(cat "$W/step.out")"
respond "$W/master.key" "$W/req4.json"
step "a terminated token refuses even the right response" bash -c "! VNPKI_RESPONSE_CODE='$resp' VNPKI_NEW_PIN=99887766 LD_PRELOAD=$san_preload '$TOOL' unblock"
step "a terminated token refuses a new request" bash -c "! LD_PRELOAD=$san_preload '$TOOL' unblock-request --out '$W/req5.json'"
step "a terminated token is still listed with its state" client "$TOOL" list
grep -qi "terminated" "$W/step.out" || fail "list does not say terminated: $(cat "$W/step.out")"
echo "1..$step_no"
