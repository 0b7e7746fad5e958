#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-authority end to end: keygen, respond (RECOVERY.md worked example), audit log,
# personalise on a vnpki-vtoken state. Env: AUTHORITY (program), VTOKEN (vnpki-vtoken).
set -u
AUTHORITY=${AUTHORITY:?AUTHORITY is not set}
VTOKEN=${VTOKEN:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if [ "$1" ]; then ok "$2"; else bad "$2"; fi; }
REQ=ASA0-0000-0000-2093-8NKR-KAYD-T
RESP=BE78-QKEW-WV2A-14HP-T
M=$T/master.hex
printf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' > "$M"
chmod 600 "$M"
A() { "$AUTHORITY" "$@"; }

# keygen
A keygen --out "$T/k1" 2>/dev/null; rc=$?
check "$([ $rc = 0 ] && echo y)" "keygen exits 0"
check "$([ "$(stat -c %a "$T/k1")" = 600 ] && echo y)" "keygen file mode 0600"
check "$(grep -Eqx '[0-9a-f]{64}' "$T/k1" && echo y)" "keygen writes 64 hex digits"
cp "$T/k1" "$T/k1.before"
A keygen --out "$T/k1" 2>"$T/err"; rc=$?
check "$([ $rc = 3 ] && cmp -s "$T/k1" "$T/k1.before" && echo y)" "keygen refuses to overwrite (exit 3)"
check "$([ "$(wc -l < "$T/err")" = 1 ] && echo y)" "keygen refusal is one line"
A keygen --out "$T/k2" 2>/dev/null
check "$(! cmp -s "$T/k1" "$T/k2" && echo y)" "two keygens differ"
A keygen 2>/dev/null; check "$([ $? = 2 ] && echo y)" "keygen without --out exits 2"
A keygen --help | grep -q '^Usage: vnpki-authority keygen'; check "$([ $? = 0 ] && echo y)" "keygen --help"

# respond, every accepted spelling of the request code
NODASH=$(printf '%s' "$REQ" | tr -d -)
LOWER=$(printf '%s' "$NODASH" | tr A-Z a-z)
for code in "$REQ" asa0-0000-0000-2093-8nkr-kayd-t ASA0000000002093 "$NODASH" "$LOWER" \
	"ASA0 0000 0000 2093 8NKR KAYD T" asao-oooo-oooo-2o93-8nkr-kayd-t; do
	out=$(A respond --master "$M" --operator tester "$code" 2>"$T/err")
	rc=$?
	if [ "$code" = ASA0000000002093 ]; then
		check "$([ $rc = 2 ] && [ -z "$out" ] && [ "$(wc -l < "$T/err")" = 1 ] && echo y)" \
			"respond refuses a short code '$code'"
	else
		check "$([ $rc = 0 ] && [ "$out" = "$RESP" ] && echo y)" "respond '$code' -> $RESP"
	fi
done
out=$(A respond --master "$M" ASA0 0000 0000 2093 8NKR KAYD T 2>/dev/null)
check "$([ "$out" = "$RESP" ] && echo y)" "respond with the code in several arguments"
printf '\000\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037' > "$T/master.raw"
chmod 600 "$T/master.raw"
out=$(A respond --master "$T/master.raw" "$REQ" 2>/dev/null)
check "$([ "$out" = "$RESP" ] && echo y)" "respond with a raw 32-byte master key"
out=$(A respond --master "$M" --json "$REQ" 2>/dev/null)
check "$([ "$out" = '{"serial": "5654000000000001", "request_code": "'$REQ'", "response_code": "'$RESP'"}' ] && echo y)" "respond --json"

# typos and malformed input: exit 2, one line, no response
for code in ASA0-0000-0000-2093-8NKR-KAYD-V ASA0-0000-0000-2093-8NKR-KAYO-T \
	ASA0-0000-0000-2039-8NKR-KAYD-T ASA0-0000-0000-2093-8NKR-KAYD ASA0-0000-0000-2093-8NKR-KAYD-T-T \
	ASA0-0000-0000-2093-8NKR-KAYU-T 'ASA0-0000-0000-2093-8NKR-KAY!-T' "$RESP"; do
	out=$(A respond --master "$M" "$code" 2>"$T/err")
	rc=$?
	check "$([ $rc = 2 ] && [ -z "$out" ] && [ "$(wc -l < "$T/err")" = 1 ] && echo y)" \
		"respond refuses '$code' ($(cat "$T/err"))"
done
A respond --master "$M" 2>/dev/null; check "$([ $? = 2 ] && echo y)" "respond without a code exits 2"
A respond "$REQ" 2>/dev/null; check "$([ $? = 2 ] && echo y)" "respond without --master exits 2"
A respond --master "$T/none" "$REQ" >/dev/null 2>&1; check "$([ $? = 1 ] && echo y)" "missing master key exits 1"
printf 'not a key\n' > "$T/badkey"
A respond --master "$T/badkey" "$REQ" >/dev/null 2>&1; check "$([ $? = 2 ] && echo y)" "malformed master key exits 2"
chmod 644 "$M"
out=$(A respond --master "$M" "$REQ" 2>"$T/err")
check "$([ "$out" = "$RESP" ] && grep -q warning "$T/err" && echo y)" "world-readable master key: warning only"
chmod 600 "$M"

# audit log
log=$T/vnpki-authority-audit.log
check "$([ -f "$log" ] && [ "$(stat -c %a "$log")" = 600 ] && echo y)" "default audit log created 0600"
check "$(grep -q "$(printf '\t5654000000000001\t%s\ttester$' "$REQ")" "$log" && echo y)" "audit line: serial, request code, operator"
check "$(grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z	' "$log" && echo y)" "audit line starts with ISO-8601 UTC time"
check "$(! grep -q "$RESP" "$log" && ! grep -qi be78qkew "$log" && echo y)" "audit log never holds the response code"
lines=$(wc -l < "$log")
A respond --master "$M" ASA0-0000-0000-2093-8NKR-KAYD-V >/dev/null 2>&1
check "$([ "$(wc -l < "$log")" = "$lines" ] && echo y)" "a refused request is not logged as answered"
USER=clerk A respond --master "$M" --audit-log "$T/a2.log" "$REQ" >/dev/null 2>&1
check "$(grep -q '	clerk$' "$T/a2.log" && echo y)" "operator defaults to \$USER"
out=$(A respond --master "$M" --operator "$(printf 'a\tb')" "$REQ" 2>/dev/null); rc=$?
check "$([ $rc = 2 ] && [ -z "$out" ] && echo y)" "an operator with a tab is refused"
for badlog in "$T/nodir/audit.log" "$T" /dev/full; do
	out=$(A respond --master "$M" --audit-log "$badlog" "$REQ" 2>"$T/err"); rc=$?
	check "$([ $rc = 1 ] && [ -z "$out" ] && [ "$(wc -l < "$T/err")" = 1 ] && ! grep -q "$RESP" "$T/err" && echo y)" \
		"unwritable audit log $badlog: exit 1, no response"
done

# request files
cat > "$T/req.json" <<JSON
{"device_type": "pki-token", "serial": "5654000000000001", "request_code": "$REQ",
 "subject": "CN=Nguy\u1ec5n V\u0103n An, O=S\u1edf KH&CN", "certificate_serial": "0a1b",
 "not_after": "2030-01-01T00:00:00Z", "created": "2026-01-01T00:00:00Z", "extra": [1, 2.5e3, {"x": null}, true]}
JSON
out=$(A respond --master "$M" --request "$T/req.json" 2>"$T/err"); rc=$?
check "$([ $rc = 0 ] && [ "$out" = "$RESP" ] && echo y)" "respond --request FILE.json"
printf '{"request_code": "asa0 0000 0000 2093 8nkr kayd t"}' > "$T/req2.json"
out=$(A respond --master "$M" --request "$T/req2.json" 2>/dev/null)
check "$([ "$out" = "$RESP" ] && echo y)" "request file with a lower-case code"
i=0
for body in '' '[]' '{"request_code": "'$REQ'"' '{"request_code": "'$REQ'",}' \
	'{"request_code": "'$REQ'"} x' '{"request_code": 5}' '{"subject": "x"}' \
	'{"request_code": "'$REQ'", "request_code": "'$REQ'"}' '{request_code: "'$REQ'"}' \
	'{"request_code": "ASA0-0000-0000-2093-8NKR-KAYD-V"}' \
	'{"device_type": "sim-pki", "request_code": "'$REQ'"}' \
	'{"serial": "5654000000000002", "request_code": "'$REQ'"}' \
	'{"request_code": "'$REQ'", "x": "\q"}' '{"request_code": "'$REQ'", "x": 01}' \
	'{"device_type": "a\nb\u0000", "request_code": "'$REQ'"}' \
	'{"device_type": "a\nb\r", "request_code": "'$REQ'"}' \
	'{"request_code": "'$REQ'", "x": "\ud800"}' '{"request_code": "'$REQ'", "x": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}'; do
	i=$((i + 1))
	printf '%s' "$body" > "$T/bad$i.json"
	out=$(A respond --master "$M" --request "$T/bad$i.json" 2>"$T/err"); rc=$?
	check "$([ $rc = 2 ] && [ -z "$out" ] && [ "$(wc -l < "$T/err")" = 1 ] && echo y)" \
		"malformed request file $i refused ($(cat "$T/err"))"
done
A respond --master "$M" --request "$T/req.json" "$REQ" 2>/dev/null
check "$([ $? = 2 ] && echo y)" "code and --request together: exit 2"

# personalise a virtual token
if [ -n "$VTOKEN" ] && [ -x "$VTOKEN" ]; then
	S=$T/token.state
	"$VTOKEN" init --state "$S" --serial 5654000000000001 --label "Test token" --pin 123456 >/dev/null 2>&1
	"$VTOKEN" show --state "$S" --json | tr -d ' \n' | grep -q '"unblock":{[^}]*"key":false'
	check "$([ $? = 0 ] && echo y)" "fresh vtoken has no recovery key"
	out=$(A personalise --master "$M" --state "$S" 2>&1); rc=$?
	check "$([ $rc = 0 ] && echo y)" "personalise exits 0 ($out)"
	"$VTOKEN" show --state "$S" --json | tr -d ' \n' | grep -q '"unblock":{[^}]*"key":true'
	check "$([ $? = 0 ] && echo y)" "vtoken show: recovery key present"
	grep -qi '^unblock_key=a9e0e8e86ca7101f4658d11f20f16f428b5abea777e4cc49574aa5e2418b8002' "$S"
	check "$([ $? = 0 ] && echo y)" "the stored K_token is the worked example's"
	A personalise --master "$M" --state "$S" 2>/dev/null
	check "$([ $? = 3 ] && echo y)" "personalise refuses a token that has a key (exit 3)"
	A personalise --master "$T/k1" --state "$S" --force >/dev/null 2>&1
	check "$([ $? = 0 ] && ! grep -qi 'a9e0e8e86ca7101f' "$S" && echo y)" "personalise --force replaces it"
	A personalise --master "$M" --state "$T/none.state" 2>/dev/null
	check "$([ $? = 1 ] && echo y)" "personalise on a missing state exits 1"
else
	echo "ok $((n + 1)) # SKIP vnpki-vtoken not built"; n=$((n + 1))
fi
A personalise --help | grep -q '^Usage: vnpki-authority personalise'
check "$([ $? = 0 ] && echo y)" "personalise --help"
A frobnicate 2>/dev/null; check "$([ $? = 2 ] && echo y)" "unknown command exits 2"

echo "1..$n"
[ $fails = 0 ]
