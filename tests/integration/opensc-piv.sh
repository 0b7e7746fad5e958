#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Cross-check of the virtual PIV card (tools/vtoken/PIV.md) with OpenSC's own PKCS#11
# module and PIV driver: pcscd + vpcd + `vnpki-vtoken serve` of a PIV card with RSA-2048
# in 9A, ECDSA P-256 in 9C (PIN always) and 9E (no PIN). OpenSC lists the token and its
# objects, logs in, signs with each key (openssl verifies against the certificate), and
# runs `pkcs11-tool --test`. MODE: pcsc only (OpenSC talks to pcscd, never in-process).
# The APDU counts OpenSC needs are printed from `serve --stats`.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl
OSC=${VNP_OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
[ -f "$OSC" ] || skip "OpenSC's PKCS#11 module is not installed ($OSC)"
mode=${1:-pcsc}
[ "$mode" = pcsc ] || fail "OpenSC only talks to pcscd: mode pcsc only"
port=${VNP_TEST_PORT:-35971}

# OpenSC's own configuration: no file cache (the card is new each run), the PIV driver only.
cat >"$W/opensc.conf" <<CONF
app default {
	debug = 0;
	card_drivers = PIV-II;
	framework pkcs15 {
		use_file_caching = no;
	}
}
CONF
export OPENSC_CONF="$W/opensc.conf"
# Keep OpenSC's cache directory inside the work directory in any case.
export HOME="$W"

"$VTOKEN" init --state "$W/piv.state" --serial 5654000000000042 --label "Nguyen Van PIV" \
	--pin "$PIN" --profile piv --piv-key 9a:rsa2048 --piv-key 9c:p256 --piv-key 9e:p256 \
	>"$W/init.log" 2>&1 || fail "vnpki-vtoken init: $(cat "$W/init.log")"

start_pcscd "$port"
serve_token "$W/piv.state" "$port" --stats "$W/stats.json" --trace "$W/trace.log"

osc() { pkcs11-tool --module "$OSC" "$@"; }
# apdus: the number of APDUs the card answered so far (the trace has one line per C-APDU).
apdus() { grep -c ' -> ' "$W/trace.log" 2>/dev/null || echo 0; }
# by_ins FROM: "INS:count ..." of the C-APDUs after the first FROM ones.
by_ins() {
	grep ' -> ' "$W/trace.log" | tail -n +$(($1 + 1)) |
		awk '{ for (i = 1; i <= NF; i++) if ($i == "->") { n[$(i + 2)]++; break } }
		     END { for (k in n) printf "%s:%d ", k, n[k] }'
}

for i in $(seq 1 100); do
	osc -L 2>/dev/null | grep -q 'token label' && break
	sleep 0.1
done
n0=$(apdus)
step "-L: OpenSC's PIV driver finds the token" osc -L
grep -q "token label" "$W/step.out" || fail "no token in -L: $(cat "$W/step.out")"
grep -qi "PIV" "$W/step.out" || fail "not a PIV token for OpenSC: $(cat "$W/step.out")"
n_list=$(($(apdus) - n0)); ins_list=$(by_ins "$n0")

step "-O: certificates and keys with their PIV IDs" osc -O
for id in 01 02 04; do
	grep -q "ID: *$id" "$W/step.out" || fail "-O lacks ID $id: $(cat "$W/step.out")"
done
grep -q "Certificate Object" "$W/step.out" || fail "-O lists no certificate"
# Before login only the card authentication key (9E, no PIN by SP 800-73-4) is visible.
[ "$(grep -c "Private Key Object" "$W/step.out")" = 1 ] && grep -q "CARD AUTH key" "$W/step.out" ||
	fail "before login OpenSC should show the 9E private key only: $(cat "$W/step.out")"

step "-O --login: the 9A and 9C private keys after login" osc --login --pin "$PIN" -O
[ "$(grep -c "Private Key Object" "$W/step.out")" = 3 ] ||
	fail "expected 3 private keys after login: $(cat "$W/step.out")"

step_fails "a wrong PIN is refused" osc --login --pin 999999 -O
grep -q "CKR_PIN_INCORRECT" "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"
step "the right PIN resets the counter" osc --login --pin "$PIN" -O

head -c 1000 /dev/urandom >"$W/data"
# cert_pub ID: the public key of certificate ID as PEM.
cert_pub() {
	osc --read-object --type cert --id "$1" -o "$W/cert$1.der" &&
		openssl x509 -inform DER -in "$W/cert$1.der" -noout -pubkey >"$W/pub$1.pem"
}
for id in 01 02 04; do
	step "read certificate $id" cert_pub "$id"
done

n0=$(apdus)
step "RSA-2048 (9A) SHA256-RSA-PKCS" osc --login --pin "$PIN" --sign --id 01 \
	-m SHA256-RSA-PKCS -i "$W/data" -o "$W/sig01"
n_rsa=$(($(apdus) - n0)); ins_rsa=$(by_ins "$n0")
step "openssl verifies the 9A signature" openssl dgst -sha256 -verify "$W/pub01.pem" \
	-signature "$W/sig01" "$W/data"

n0=$(apdus)
step "P-256 (9C, PIN always) ECDSA-SHA256" osc --login --pin "$PIN" --sign --id 02 \
	-m ECDSA-SHA256 --signature-format openssl -i "$W/data" -o "$W/sig02"
n_ec=$(($(apdus) - n0)); ins_ec=$(by_ins "$n0")
step "openssl verifies the 9C signature" openssl dgst -sha256 -verify "$W/pub02.pem" \
	-signature "$W/sig02" "$W/data"

step "P-256 (9E, no PIN) ECDSA-SHA256" osc --login --pin "$PIN" --sign --id 04 \
	-m ECDSA-SHA256 --signature-format openssl -i "$W/data" -o "$W/sig04"
step "openssl verifies the 9E signature" openssl dgst -sha256 -verify "$W/pub04.pem" \
	-signature "$W/sig04" "$W/data"

step "pkcs11-tool --test --login" osc --test --login --pin "$PIN"
grep -q "No errors" "$W/step.out" || fail "--test reported errors: $(cat "$W/step.out")"

# The card management key through OpenSC's piv-tool: mutual authentication (M) with the
# default 3DES key, GENERATE into 9D, PUT DATA of its certificate. OpenSC 0.23 quirks:
# external authentication (-A A:9B:03) fails inside piv-tool before it answers ("Allocated and
# computed lengths do not match", OpenSC issue #2658, fixed after 0.23.0), and `piv-tool -G`
# cannot turn the card's answer into an OpenSSL 3 key (RSA: issue #3156; EC: "invalid curve")
# although the card generated it, and `piv-tool -C` exits non-zero after a successful load.
# So GENERATE goes as a raw APDU (-s) after the mutual authentication, and the test builds
# the P-256 SubjectPublicKeyInfo from the 86 point; the unit tests cover external
# authentication (tests/vtoken/test_vtoken_piv.c).
echo "01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08" >"$W/mgmt.key"
# the wrong key differs in more than a parity bit (which DES ignores)
echo "01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:10" >"$W/bad.key"
export PIV_EXT_AUTH_KEY="$W/mgmt.key"
step "piv-tool: mutual authentication, GENERATE P-256 in 9D" \
	piv-tool -A M:9B:03 -s 00:47:00:9D:05:AC:03:80:01:11:00
# piv-tool prints the answer as a hex dump: 7F49 41 86 41 04 X Y
point=$(grep -E '^([0-9A-F]{2} )+' "$W/step.out" | cut -c1-48 | tr -d ' \n' |
	sed -n 's/^7F49438641\(04[0-9A-F]\{128\}\).*/\1/p')
[ -n "$point" ] || fail "no P-256 point in piv-tool's GENERATE answer: $(cat "$W/step.out")"
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200$point" | xxd -r -p >"$W/pub9d.der"
openssl pkey -pubin -inform DER -in "$W/pub9d.der" -out "$W/pub9d.pem" ||
	fail "the 9D public key does not parse"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca.key" \
	-subj "/CN=test CA" -days 2 -out "$W/ca.pem" 2>/dev/null || fail "openssl: no test CA"
openssl req -new -key "$W/ca.key" -subj "/CN=Nguyen Van PIV Key Management" 2>/dev/null |
	openssl x509 -req -CA "$W/ca.pem" -CAkey "$W/ca.key" -force_pubkey "$W/pub9d.pem" \
		-days 2 -out "$W/cert9d.pem" 2>/dev/null || fail "openssl: no 9D certificate"
# piv-tool 0.23 -C exits with the byte count of sc_write_binary (non-zero) after a success:
# its status says nothing; the listing below shows whether the certificate arrived.
step "piv-tool: mutual authentication, PUT DATA of the 9D certificate" \
	bash -c 'piv-tool -A M:9B:03 -C 9D -i "$0" || true' "$W/cert9d.pem"
PIV_EXT_AUTH_KEY="$W/bad.key" step_fails "piv-tool: a wrong management key is refused" \
	piv-tool -A M:9B:03 -s 00:47:00:9D:05:AC:03:80:01:11:00
step "the new 9D key (ID 03) is listed with its certificate" osc -O
grep -q "Nguyen Van PIV Key Management" "$W/step.out" ||
	fail "no 9D certificate: $(cat "$W/step.out")"
step "read certificate 03" cert_pub 03
cmp -s <(openssl pkey -pubin -in "$W/pub03.pem" -outform DER) \
	<(openssl pkey -pubin -in "$W/pub9d.pem" -outform DER) ||
	fail "the 9D certificate does not hold the generated key"


# ECDH with the 9D key (GENERAL AUTHENTICATE tag 85): the same secret as openssl computes.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/peer.key" 2>/dev/null &&
	openssl pkey -in "$W/peer.key" -pubout -outform DER -out "$W/peer.der" ||
	fail "openssl: no peer key"
step "ECDH1-DERIVE with the 9D key" osc --login --pin "$PIN" --derive -m ECDH1-DERIVE --id 03 \
	-i "$W/peer.der" -o "$W/ecdh.card"
openssl pkeyutl -derive -inkey "$W/peer.key" -peerkey "$W/pub9d.pem" -out "$W/ecdh.ossl" ||
	fail "openssl: derive"
cmp -s "$W/ecdh.card" "$W/ecdh.ossl" || fail "the card's ECDH secret differs from openssl's"

stop_pid "$SERVE_PID"
# One pkcs11-tool process each, OpenSC's file cache off: every process binds afresh.
say "APDUs OpenSC sent (INS:count): -L $n_list ($ins_list)"
say "  login + RSA-2048 (9A) signature: $n_rsa ($ins_rsa)"
say "  login + P-256 (9C) signature: $n_ec ($ins_ec)"
if [ -s "$W/stats.json" ]; then
	say "serve --stats, whole test: $(tr -d '\n' <"$W/stats.json")"
fi
