#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-vtoken init --recovery-key stores the RECOVERY.md K_token; `apdu` draws an unblock
# challenge that a second `apdu` run (a new card) still sees; `show` and `show --json`
# report the unblock counter, the pending request, termination and the recovery key.
# Usage: cli-recovery.sh /path/to/vnpki-vtoken
set -u
VT=${1:?usage: cli-recovery.sh VNPKI_VTOKEN}
tmp=$(mktemp -d /tmp/vtoken-cli-recovery-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SELECT=00A4040008F0564E504B49544B00

printf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' >"$tmp/master"
"$VT" init --state "$tmp/k.state" --serial 5654000000000001 --label Rec --pin 123456 \
	--recovery-key "$tmp/master" || fail "init --recovery-key"
grep -qx 'unblock_key=a9e0e8e86ca7101f4658d11f20f16f428b5abea777e4cc49574aa5e2418b8002' \
	"$tmp/k.state" || fail "K_token is not the RECOVERY.md vector"
"$VT" show --state "$tmp/k.state" --json | grep -q '"unblock": {"tries_left": 10, "max_tries": 10, "key": true, "challenge_pending": false, "terminated": false}' ||
	fail "show --json before the request"
out=$("$VT" apdu --state "$tmp/k.state" "$SELECT" 8050000007) || fail "apdu"
ch=$(echo "$out" | sed -n 2p)
echo "$ch" | grep -qE '^[0-9A-F]{14}9000$' || fail "GET UNBLOCK CHALLENGE answered '$ch'"
ch=$(echo "$ch" | cut -c1-14 | tr 'A-F' 'a-f')
grep -qx "unblock_challenge=$ch" "$tmp/k.state" || fail "challenge not saved"
"$VT" show --state "$tmp/k.state" --json | grep -q '"challenge_pending": true' ||
	fail "show --json: no pending challenge"
"$VT" show --state "$tmp/k.state" | grep -q '^unblock: .*10 of 10 tries left, recovery key present, challenge pending$' ||
	fail "show: unblock line"
# a new card (another process) sees the request: SELECT flags 84 01 37
"$VT" apdu --state "$tmp/k.state" "$SELECT" | grep -q '840137' || fail "flag bit 4 after restart"
# a wrong response spends an unblock try and keeps the request
out=$("$VT" apdu --state "$tmp/k.state" "$SELECT" \
	002C0081100000000000000000000036353433323100 0020008200) || fail "apdu RRC"
[ "$(echo "$out" | sed -n 2p)" = 63C9 ] || fail "wrong response: $(echo "$out" | sed -n 2p)"
[ "$(echo "$out" | sed -n 3p)" = 63C9 ] || fail "unblock status"
"$VT" show --state "$tmp/k.state" | grep -q '9 of 10 tries left, recovery key present, challenge pending' ||
	fail "show after a wrong response"

"$VT" init --state "$tmp/n.state" --serial 5654000000000002 --label NoRec --pin 123456 ||
	fail "init"
"$VT" show --state "$tmp/n.state" --json | grep -q '"key": false' || fail "show --json: key"
"$VT" show --state "$tmp/n.state" | grep -q 'no recovery key' || fail "show: no key"
out=$("$VT" apdu --state "$tmp/n.state" "$SELECT" 8050000007 \
	002C0081100000000000000000000036353433323100) || fail "apdu"
[ "$(echo "$out" | sed -n 2,3p | tr '\n' ' ')" = "6985 6985 " ] || fail "no key: $out"
grep -q unblock_key "$tmp/n.state" && fail "unblock_key without --recovery-key"
echo "ok"
