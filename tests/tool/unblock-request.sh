#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-tool unblock-request on a locked PKI token with a recovery key: prints the request
# code, writes the request file (valid JSON with the certificate's facts); a token without
# a recovery key and a SIM PKI device are refused with an explanation.
. "$(dirname "$0")/common.sh"

echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$W/master.hex"
token_with_cert r 5654000000000001 "Mẫu 06" "/CN=Trần Thị Bình/O=UBND tỉnh Gia Lai/C=VN" \
	--recovery-key "$W/master.hex"
step "status" tool status --json
have_python && [ "$(json_get "$W/step.out" 'd["devices"][0]["unblock_state"]')" = none ] ||
	! have_python || fail "unblock state: $(cat "$W/step.out")"
lock_pin list

cd "$W"
step "unblock-request (default file name)" tool unblock-request
grep -q "^Request code: ASA0-0000-0000-" "$W/step.out" || fail "no request code: $(cat "$W/step.out")"
grep -q "Mẫu 06" "$W/step.out" || fail "no explanation"
grep -q "Department of Science and Technology" "$W/step.out" || fail "no agency"
code=$(sed -n 's/^Request code: //p' "$W/step.out")
f="$W/vnpki-unblock-5654000000000001.json"
[ -f "$f" ] || fail "no $f"
json_ok "$f" || fail "request file is not JSON: $(cat "$f")"
grep -qF -- "\"request_code\": \"$code\"" "$f" || fail "request code not in the file"
grep -q '"serial": "5654000000000001"' "$f" || fail "serial"
grep -q '"device_type": "pki-token"' "$f" || fail "device type"
grep -q '"subject": "C=VN,O=UBND tỉnh Gia Lai,CN=Trần Thị Bình"' "$f" || fail "subject: $(cat "$f")"
grep -q '"certificate_serial": "0A01"' "$f" || fail "certificate serial"
grep -Eq '"not_after": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' "$f" || fail "not_after"
grep -Eq '"created": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' "$f" || fail "created"
step "list shows the pending request" tool list
grep -q "Unblock request: pending" "$W/step.out" || fail "$(cat "$W/step.out")"
step "a second request (--out) replaces the first" tool unblock-request --out "$W/second.json"
json_ok "$W/second.json" || fail "second file"
code2=$(sed -n 's/^Request code: //p' "$W/step.out")
[ -n "$code2" ] && [ "$code2" != "$code" ] || fail "the new request has the same code"
step "vnpki-authority reads the request file" "$AUTHORITY" respond --master "$W/master.hex" \
	--request "$W/second.json" --audit-log "$W/audit.log"

new_token nokey 5654000000000002 "Không khóa"
use_inprocess "$W/nokey.state"
expect_rc 6 "a token without a recovery key" tool unblock-request --out "$W/x.json"
[ ! -e "$W/x.json" ] || fail "a file was written"

"$VTOKEN" init --state "$W/sim.state" --serial 5654000000000003 --label "SIM" --pin "$PIN" \
	--device sim-pki >/dev/null 2>&1 || fail "init sim"
use_inprocess "$W/sim.state"
step "the SIM is listed as SIM PKI" tool list
grep -q 'SIM PKI "SIM"' "$W/step.out" || fail "$(cat "$W/step.out")"
expect_rc 6 "SIM PKI: recovery goes to the central CA" tool unblock-request --out "$W/y.json"
grep -q "central CA" "$W/step.out" || fail "$(cat "$W/step.out")"
grep -q "PUK" "$W/step.out" || fail "no PUK in: $(cat "$W/step.out")"
echo "1..$step_no"
