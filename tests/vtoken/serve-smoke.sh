#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `vnpki-vtoken serve` behind a real pcscd + vsmartcard vpcd: the card shows up in
# opensc-tool, answers SELECT with 9000, the trace redacts the PIN, SIGTERM writes stats.
# Usage: serve-smoke.sh /path/to/vnpki-vtoken. Exit 77 (skip) without pcscd/vpcd/opensc-tool.
set -u
VT=${1:?usage: serve-smoke.sh VNPKI_VTOKEN}
command -v pcscd >/dev/null 2>&1 || { echo "skip: no pcscd"; exit 77; }
command -v opensc-tool >/dev/null 2>&1 || { echo "skip: no opensc-tool"; exit 77; }
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || { echo "skip: no vpcd driver"; exit 77; }

tmp=$(mktemp -d /tmp/vtoken-serve-XXXXXX)
pcscd_pid=""
serve_pid=""
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
	[ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# One test pcscd on the machine at a time (tests/integration/lib.sh start_pcscd): without
# the lock this test would talk to another test's pcscd and card.
exec 9>/tmp/vnpki-pcscd-test.lock
flock -w 1200 9 || fail "waited 20 minutes for another test's pcscd"
if ! pidof pcscd >/dev/null 2>&1; then
	pcscd -f >"$tmp/pcscd.log" 2>&1 &
	pcscd_pid=$!
	sleep 1
	kill -0 "$pcscd_pid" 2>/dev/null || { echo "skip: pcscd does not start"; cat "$tmp/pcscd.log"; exit 77; }
fi

"$VT" init --state "$tmp/t.state" --serial 5654000000000042 --label "Serve smoke" --pin 123456 ||
	fail "init"
"$VT" serve --state "$tmp/t.state" --trace "$tmp/trace" --stats "$tmp/stats.json" &
serve_pid=$!

ok=""
for i in $(seq 1 50); do
	if opensc-tool -l 2>/dev/null | grep -q "Virtual PCD.*" &&
	   opensc-tool -a 2>/dev/null | grep -qi "3b:88:80:01\|3B 88 80 01"; then ok=1; break; fi
	sleep 0.2
done
[ -n "$ok" ] || { opensc-tool -l; opensc-tool -a; fail "no card in the vpcd reader"; }

out=$(opensc-tool -s 00A4040008F0564E504B49544B00 -s 0020008106313233343536 -s 0020008100 2>&1)
echo "$out"
echo "$out" | grep -q "SW1=0x90, SW2=0x00" || fail "SELECT did not answer 9000"
[ "$(echo "$out" | grep -c 'SW1=0x90, SW2=0x00')" -ge 3 ] || fail "VERIFY did not answer 9000"

kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exit status"
serve_pid=""
cat "$tmp/stats.json"
grep -q '"A4": [1-9]' "$tmp/stats.json" || fail "stats lack SELECT"
grep -q '"20": 2' "$tmp/stats.json" || fail "stats lack VERIFY"
grep -q "redacted 6 bytes" "$tmp/trace" || fail "trace lacks the redaction"
if grep -q "31 32 33 34 35 36" "$tmp/trace"; then fail "the PIN is in the trace"; fi
echo "serve-smoke: ok"
