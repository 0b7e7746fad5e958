#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-tool on a SIM PKI token (virtual UICC, profile sim): status says "SIM PKI";
# unblock-request explains that SIM PKI recovery goes to the central CA and writes no
# request; unblock takes the PUK (--puk-file, VNPKI_PUK) through C_Login(CKU_SO, PUK) +
# C_InitPIN; a wrong PUK spends one PUK try and says how many are left; a PUK of the wrong
# length is refused before the token is asked; --puk on a vntoken token is refused.
. "$(dirname "$0")/common.sh"
unset VNPKI_PUK

PROFILE=sim profile_args=(--profile sim)
new_token s 5654000000000071 "SIM PKI An" --puk 12345678
use_inprocess "$W/s.state"

step "status" tool status
grep -q "SIM PKI" "$W/step.out" || fail "no SIM PKI in status: $(cat "$W/step.out")"
grep -q "Unblock: *10 of 10 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
step "list --json" tool list --json
grep -q '"device_type": *"sim-pki"' "$W/step.out" || fail "$(cat "$W/step.out")"

lock_pin status

cd "$W"
expect_rc 6 "unblock-request on SIM PKI is refused" tool unblock-request
grep -q "central CA" "$W/step.out" || fail "no central CA explanation: $(cat "$W/step.out")"
! ls "$W"/vnpki-unblock-*.json >/dev/null 2>&1 || fail "a request file was written"

echo 87654321 >"$W/wrong.puk"
expect_rc 4 "a wrong PUK (--puk-file)" env VNPKI_NEW_PIN=24682468 \
	"$TOOL" unblock --puk-file "$W/wrong.puk"
grep -q "PUK is incorrect (tries left: 9)" "$W/step.out" || fail "$(cat "$W/step.out")"
expect_rc 2 "a 7-digit PUK is refused on the host" env VNPKI_PUK=1234567 VNPKI_NEW_PIN=24682468 \
	"$TOOL" unblock
step "no PUK try spent by it" tool status
grep -q "Unblock: *9 of 10 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
expect_rc 2 "a new PIN outside the policy" env VNPKI_PUK=12345678 VNPKI_NEW_PIN=123 \
	"$TOOL" unblock
expect_rc 0 "unblock with the right PUK (VNPKI_PUK)" env VNPKI_PUK=12345678 \
	VNPKI_NEW_PIN=24682468 "$TOOL" unblock
grep -q "unblocked" "$W/step.out" || fail "$(cat "$W/step.out")"
step "status after the unblock" tool status
grep -q "PIN: *3 of 3 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
grep -q "Unblock: *10 of 10 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
step "the new PIN logs in" p11 --login --pin 24682468 --list-objects

PROFILE=vntoken profile_args=()
new_token v 5654000000000072 "vntoken"
use_inprocess "$W/v.state"
expect_rc 2 "--puk on a vntoken token is refused" env VNPKI_NEW_PIN=24682468 \
	"$TOOL" unblock --puk-file "$W/wrong.puk"
grep -q "response code" "$W/step.out" || fail "$(cat "$W/step.out")"
echo "1..$step_no"
