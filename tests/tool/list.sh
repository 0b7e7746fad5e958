#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-tool list / status (text and --json) on a token whose certificate subject has
# Vietnamese diacritics; inventory in JSON and CSV with a second token without certificates.
. "$(dirname "$0")/common.sh"

subject="/CN=Nguyễn Văn An/O=Sở Khoa học và Công nghệ/L=Hưng Yên/C=VN"
token_with_cert an 5654000000000031 "Nguyễn Văn An" "$subject"

step "list" tool list
out=$W/step.out
grep -q 'PKI token "Nguyễn Văn An"' "$out" || fail "no device line: $(cat "$out")"
grep -q "Serial: *5654000000000031" "$out" || fail "no serial"
grep -q "PIN: *3 of 3 tries left" "$out" || fail "no PIN counts: $(cat "$out")"
grep -q "Unblock: *10 of 10 tries left" "$out" || fail "no unblock counts"
grep -q "to be changed" "$out" || fail "the initial PIN is not flagged"
grep -q "CN=Nguyễn Văn An" "$out" || fail "subject without diacritics: $(cat "$out")"
grep -q "O=Sở Khoa học và Công nghệ" "$out" || fail "organisation not UTF-8"
grep -q "Serial: *0A01" "$out" || fail "certificate serial"
grep -q "Days left: *\(199\|200\)" "$out" || fail "days left: $(cat "$out")"
grep -q "Renew by:" "$out" || fail "no renewal deadline"

step "list --json" tool list --json
cp "$W/step.out" "$W/list.json"
json_ok "$W/list.json" || fail "list --json is not JSON: $(cat "$W/list.json")"
if have_python; then
	[ "$(json_get "$W/list.json" 'd["devices"][0]["certificates"][0]["common_name"]')" = "Nguyễn Văn An" ] ||
		fail "common_name"
	[ "$(json_get "$W/list.json" 'd["devices"][0]["pin_tries_left"]')" = 3 ] || fail "pin_tries_left"
	[ "$(json_get "$W/list.json" 'd["devices"][0]["device_type"]')" = pki-token ] || fail "device_type"
	[ "$(json_get "$W/list.json" 'd["devices"][0]["certificates"][0]["renewal_window_open"]')" = True ] ||
		fail "renewal window"
fi

# A wrong PIN shows in the counts (and spends exactly one try).
step_fails "a wrong PIN is refused" p11 --login --pin 999999 --list-objects
step "status after a wrong PIN" tool status
grep -q "PIN: *2 of 3 tries left" "$W/step.out" || fail "status: $(cat "$W/step.out")"
grep -q "PIN length: *6 to 16" "$W/step.out" || fail "status: no PIN policy"
grep -q "Label: *Chữ ký số" "$W/step.out" || fail "status: no label"
step "status --json" tool status --json
cp "$W/step.out" "$W/status.json"
json_ok "$W/status.json" || fail "status --json is not JSON"

# A certificate that expires in 20 days: the renewal window is closed.
issue_for an 20 "$W/short.pem" 0A02
step "a short-lived certificate imported" env VNPKI_PIN=$PIN "$TOOL" import-cert "$W/short.pem"
step "list shows the renewal window closed" tool list
grep -q "renewal window closed" "$W/step.out" || fail "no 'renewal window closed': $(cat "$W/step.out")"

# A second token, without certificates: two devices, --slot/--serial needed for status.
"$VTOKEN" init --state "$W/empty.state" --serial 5654000000000032 --label "Văn thư" --pin "$PIN" \
	>/dev/null 2>&1 || fail "init empty"
use_inprocess "$W/an.state" "$W/empty.state"
expect_rc 2 "status with two tokens asks which" tool status
step "status --serial picks one" tool status --serial 5654000000000032
grep -q "No certificate" "$W/step.out" || fail "empty token: $(cat "$W/step.out")"
expect_rc 3 "status --serial of a missing token" tool status --serial 5654000000000099

step "inventory --format json" tool inventory --format json
cp "$W/step.out" "$W/inv.json"
json_ok "$W/inv.json" || fail "inventory json: $(cat "$W/inv.json")"
if have_python; then
	[ "$(json_get "$W/inv.json" 'len(d["devices"])')" = 2 ] || fail "inventory: not 2 devices"
fi
step "inventory --format csv" tool inventory --format csv
cp "$W/step.out" "$W/inv.csv"
head -1 "$W/inv.csv" | grep -q '^slot,device_type,label,serial,pin_state' || fail "csv header"
[ "$(wc -l <"$W/inv.csv")" -eq 3 ] || fail "csv: want header + 2 rows: $(cat "$W/inv.csv")"
grep -q ',Nguyễn Văn An,5654000000000031,.*,Nguyễn Văn An,0A02,' "$W/inv.csv" || fail "csv row: $(cat "$W/inv.csv")"
grep -q ',Văn thư,5654000000000032,ok\?.*,,,,,$' "$W/inv.csv" ||
	grep -q ',Văn thư,5654000000000032,' "$W/inv.csv" || fail "csv: no row for the empty token"
if have_python; then
	/usr/bin/python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], encoding="utf-8"))); assert all(len(x)==len(r[0]) for x in r), r' \
		"$W/inv.csv" || fail "csv rows of different widths"
fi
expect_rc 2 "inventory --format xml" tool inventory --format xml
expect_rc 0 "list --help" tool list --help
expect_rc 2 "unknown command" tool frobnicate
echo "1..$step_no"
