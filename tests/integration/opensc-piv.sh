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

for i in $(seq 1 100); do
	osc -L 2>/dev/null | grep -q 'token label' && break
	sleep 0.1
done
n0=$(apdus)
step "-L: OpenSC's PIV driver finds the token" osc -L
grep -q "token label" "$W/step.out" || fail "no token in -L: $(cat "$W/step.out")"
grep -qi "PIV" "$W/step.out" || fail "not a PIV token for OpenSC: $(cat "$W/step.out")"
n_list=$(($(apdus) - n0))

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
n_rsa=$(($(apdus) - n0))
step "openssl verifies the 9A signature" openssl dgst -sha256 -verify "$W/pub01.pem" \
	-signature "$W/sig01" "$W/data"

n0=$(apdus)
step "P-256 (9C, PIN always) ECDSA-SHA256" osc --login --pin "$PIN" --sign --id 02 \
	-m ECDSA-SHA256 --signature-format openssl -i "$W/data" -o "$W/sig02"
n_ec=$(($(apdus) - n0))
step "openssl verifies the 9C signature" openssl dgst -sha256 -verify "$W/pub02.pem" \
	-signature "$W/sig02" "$W/data"

step "P-256 (9E, no PIN) ECDSA-SHA256" osc --login --pin "$PIN" --sign --id 04 \
	-m ECDSA-SHA256 --signature-format openssl -i "$W/data" -o "$W/sig04"
step "openssl verifies the 9E signature" openssl dgst -sha256 -verify "$W/pub04.pem" \
	-signature "$W/sig04" "$W/data"

step "pkcs11-tool --test --login" osc --test --login --pin "$PIN"
grep -q "No errors" "$W/step.out" || fail "--test reported errors: $(cat "$W/step.out")"

stop_pid "$SERVE_PID"
say "APDUs OpenSC sent: -L $n_list, login+RSA-2048 signature $n_rsa, login+P-256 (9C) signature $n_ec"
[ -s "$W/stats.json" ] && say "serve --stats: $(tr -d '\n' <"$W/stats.json")"
grep -c '' "$W/trace.log" >/dev/null || true
