#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The PUK as the SO secret of a PIV card, through pkcs11-tool: the PIN blocked by wrong
# tries, a wrong PUK refused (one PUK try spent, the PIN still blocked), the right PUK with
# C_InitPIN sets a new PIN (RESET RETRY COUNTER), which then logs in. MODE: inprocess or pcsc.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35971}

new_token t "56540000000000B1" "piv puk" --puk 87654321 --piv-key 9a:p256
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

for i in 1 2 3; do
	step_fails "wrong PIN $i" p11 --login --pin 000000 -O
done
grep -q "CKR_PIN_LOCKED" "$W/step.out" || fail "the third wrong PIN should block: $(cat "$W/step.out")"
step "the token shows the PIN locked" p11 -T
grep -q "user PIN locked" "$W/step.out" || fail "no lock flag: $(cat "$W/step.out")"
step_fails "a wrong PUK does not unblock" p11 --login --login-type so --so-pin 11111111 \
	--init-pin --new-pin 654321
grep -q "CKR_PIN_INCORRECT" "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"
step_fails "a PUK of 5 characters is refused" p11 --login --login-type so --so-pin 12345 \
	--init-pin --new-pin 654321
step_fails "the PIN is still blocked" p11 --login --pin "$PIN" -O
step "the right PUK sets a new PIN" p11 --login --login-type so --so-pin 87654321 \
	--init-pin --new-pin 654321
step "the new PIN logs in" p11 --login --pin 654321 -O
grep -q "Private Key Object" "$W/step.out" || fail "no private key after login: $(cat "$W/step.out")"
step "the PIN is no longer locked" p11 -T
grep -q "user PIN locked" "$W/step.out" && fail "still locked: $(cat "$W/step.out")"
echo "1..$step_no"
