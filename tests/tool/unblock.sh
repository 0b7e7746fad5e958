#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole Mẫu 06 walk-through: lock the PIN, unblock-request, the agency answers with
# vnpki-authority, vnpki-tool unblock with the response code and a new PIN. A typo in the
# code is caught on the host (exit 2, no try spent); a well-formed code for another request
# exits 4 and says how many unblock tries are left.
. "$(dirname "$0")/common.sh"

[ -x "$AUTHORITY" ] || fail "no $AUTHORITY: build first"
echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$W/master.hex"
echo 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 >"$W/other.hex"
token_with_cert u 5654000000000061 "Khôi phục" "/CN=Phạm Thị Dung/O=Sở KH&CN Hưng Yên/C=VN" \
	--recovery-key "$W/master.hex"
lock_pin list

step "unblock-request" tool unblock-request --out "$W/req.json"
"$AUTHORITY" respond --master "$W/master.hex" --request "$W/req.json" --audit-log "$W/audit.log" \
	>"$W/resp.txt" 2>"$W/resp.err" || fail "vnpki-authority respond: $(cat "$W/resp.err")"
code=$(tr -d '[:space:]' <"$W/resp.txt")
[[ "$code" =~ ^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-.$ ]] || fail "response code: $code"
"$AUTHORITY" respond --master "$W/other.hex" --request "$W/req.json" --audit-log "$W/audit.log" \
	>"$W/wrong.txt" 2>/dev/null || fail "respond (other key)"
wrong=$(tr -d '[:space:]' <"$W/wrong.txt")
# a typo: change one character of the first group (the check character catches it)
c0=${code:0:1}
if [ "$c0" = 7 ]; then t0=8; else t0=7; fi
typo="$t0${code:1}"

expect_rc 2 "a mistyped response code is caught on the host" \
	env VNPKI_RESPONSE_CODE="$typo" VNPKI_NEW_PIN=24682468 "$TOOL" unblock
grep -q "typo" "$W/step.out" || fail "$(cat "$W/step.out")"
step "no unblock try spent" tool list
grep -q "Unblock: *10 of 10 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
expect_rc 2 "not a code at all" env VNPKI_RESPONSE_CODE="hello" VNPKI_NEW_PIN=24682468 "$TOOL" unblock

expect_rc 4 "a code for another request" \
	env VNPKI_RESPONSE_CODE="$wrong" VNPKI_NEW_PIN=24682468 "$TOOL" unblock
grep -q "does not match the pending request (9 unblock tries left)" "$W/step.out" ||
	fail "$(cat "$W/step.out")"

expect_rc 2 "a new PIN outside the policy (nothing sent)" \
	env VNPKI_RESPONSE_CODE="$code" VNPKI_NEW_PIN=123 "$TOOL" unblock
# lower case and without dashes: read the same
lc=$(echo "$code" | tr 'A-Z' 'a-z' | tr -d '-')
printf '%s\n' "$lc" >"$W/code.txt"
expect_rc 0 "unblock with the response code" env VNPKI_NEW_PIN=24682468 "$TOOL" unblock --code-file "$W/code.txt"
step "the new PIN logs in" p11 --login --pin 24682468 --list-objects
step "status: PIN 3 of 3, no pending request" tool status
grep -q "PIN: *3 of 3 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
if grep -q "Unblock request: pending" "$W/step.out"; then fail "the request is still pending"; fi
rc=0
VNPKI_RESPONSE_CODE="$code" VNPKI_NEW_PIN=13571357 "$TOOL" unblock >"$W/again.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a response code worked twice"
grep -q "no pending unblock request" "$W/again.out" || fail "$(cat "$W/again.out")"
echo "ok - a response code works once (exit $rc)"
echo "1..$step_no"
