#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-tool import-cert: a renewal certificate (same key, new serial) replaces the old one;
# a PEM bundle with its CA writes the CA as an authority certificate; PKCS#7 and DER input;
# a certificate for another key is refused (exit 6) and the token is left unchanged; an
# expired one is written with a warning.
. "$(dirname "$0")/common.sh"

token_with_cert c 5654000000000051 "Gia hạn" "/CN=Lê Văn Cường/O=Sở KH&CN Đồng Nai/C=VN"
export VNPKI_PIN=$PIN
certs() { p11 --list-objects --type cert 2>/dev/null; }

# renewal: same key, new serial, DER
issue_for c 700 "$W/renew.pem" 0B01
openssl x509 -in "$W/renew.pem" -outform DER -out "$W/renew.der"
step "import the renewal certificate (DER)" tool import-cert "$W/renew.der"
grep -q "Removed the old certificate" "$W/step.out" || fail "$(cat "$W/step.out")"
certs >"$W/objs.txt"
grep -qi "serial: *0B01" "$W/objs.txt" || fail "new certificate missing: $(cat "$W/objs.txt")"
if grep -qi "serial: *0A01" "$W/objs.txt"; then fail "the old certificate is still there"; fi
[ "$(grep -c 'Certificate Object' "$W/objs.txt")" -eq 1 ] || fail "not one certificate: $(cat "$W/objs.txt")"
grep -q "label: *Chữ ký số" "$W/objs.txt" || fail "label not kept: $(cat "$W/objs.txt")"
grep -qi "ID: *01" "$W/objs.txt" || fail "CKA_ID not kept: $(cat "$W/objs.txt")"
step "the key still signs with the new certificate's key" \
	p11 --login --pin "$PIN" --sign --id 01 -m SHA256-RSA-PKCS --input-file "$W/renew.der" \
	--output-file "$W/sig.bin"
openssl dgst -sha256 -verify <(openssl x509 -in "$W/renew.pem" -pubkey -noout) \
	-signature "$W/sig.bin" "$W/renew.der" >/dev/null || fail "signature does not verify with the new certificate"

# bundle: end-entity + CA, PEM, with --label
issue_for c 730 "$W/renew2.pem" 0B02
cat "$W/renew2.pem" "$W/ca.pem" >"$W/bundle.pem"
step "import a PEM bundle with the CA" tool import-cert "$W/bundle.pem" --label "Chữ ký 2026"
grep -q "Written as a CA certificate: .*vnpki test CA" "$W/step.out" || fail "$(cat "$W/step.out")"
step "status --json lists the authority certificate" tool status --json
cp "$W/step.out" "$W/st.json"
json_ok "$W/st.json" || fail "status json"
if have_python; then
	[ "$(json_get "$W/st.json" 'sorted(c["serial"] for c in d["devices"][0]["certificates"])')" = \
		"$(/usr/bin/python3 -c 'import sys; print(sorted([sys.argv[1], "0B02"]))' \
			"$(openssl x509 -in "$W/ca.pem" -noout -serial | sed 's/serial=//')")" ] ||
		fail "certificates: $(cat "$W/st.json")"
	[ "$(json_get "$W/st.json" '[c["ca"] for c in d["devices"][0]["certificates"] if c["serial"] != "0B02"][0]')" = True ] ||
		fail "the CA is not a CA certificate"
	[ "$(json_get "$W/st.json" '[c["label"] for c in d["devices"][0]["certificates"] if c["serial"] == "0B02"][0]')" = "Chữ ký 2026" ] ||
		fail "--label not used"
fi
certs >"$W/objs.txt"
[ "$(grep -c 'Certificate Object' "$W/objs.txt")" -eq 2 ] || fail "want 2 certificates: $(cat "$W/objs.txt")"
step "the same bundle again writes nothing" tool import-cert "$W/bundle.pem"
[ "$(grep -c 'Already on the token' "$W/step.out")" -eq 2 ] || fail "$(cat "$W/step.out")"

# PKCS#7 (PEM and DER)
issue_for c 731 "$W/renew3.pem" 0B03
openssl crl2pkcs7 -nocrl -certfile "$W/renew3.pem" -certfile "$W/ca.pem" -out "$W/chain.p7b"
step "import a PKCS#7 PEM bundle" tool import-cert "$W/chain.p7b"
certs | grep -qi "serial: *0B03" || fail "PKCS#7 certificate missing"
issue_for c 732 "$W/renew4.pem" 0B04
openssl crl2pkcs7 -nocrl -certfile "$W/renew4.pem" -outform DER -out "$W/chain.p7c"
step "import a PKCS#7 DER file" tool import-cert "$W/chain.p7c"
certs | grep -qi "serial: *0B04" || fail "PKCS#7 DER certificate missing"

# a certificate for another key: refused, token unchanged (checked before any write)
openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null -subj "/CN=Người khác" \
	-utf8 -out "$W/other.csr" 2>/dev/null
openssl x509 -req -in "$W/other.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -days 100 \
	-extfile "$W/ee.cnf" -out "$W/other.pem" 2>/dev/null
issue_for c 733 "$W/renew5.pem" 0B05
cat "$W/renew5.pem" "$W/other.pem" >"$W/mixed.pem"
token_state c >"$W/before.json"
expect_rc 6 "a certificate for another key is refused" tool import-cert "$W/other.pem"
grep -q "matches no key" "$W/step.out" || fail "$(cat "$W/step.out")"
expect_rc 6 "a bundle with one foreign certificate is refused whole" tool import-cert "$W/mixed.pem"
token_state c >"$W/after.json"
cmp -s "$W/before.json" "$W/after.json" || fail "the token changed: $(diff "$W/before.json" "$W/after.json")"

# expired: written, with a warning
openssl x509 -req -in "$W/c.csr" -force_pubkey "$W/c.pub.pem" -CA "$W/ca.pem" -CAkey "$W/ca.key" \
	-days -1 -set_serial 0x0B06 -extfile "$W/ee.cnf" -out "$W/expired.pem" 2>/dev/null
step "an expired certificate is written with a warning" tool import-cert "$W/expired.pem"
grep -q "warning: .*has expired" "$W/step.out" || fail "no warning: $(cat "$W/step.out")"

expect_rc 4 "a wrong PIN" env VNPKI_PIN=000000 "$TOOL" import-cert "$W/renew.pem"
expect_rc 2 "a file without certificates" tool import-cert "$W/c.csr"
expect_rc 2 "no file" tool import-cert
echo "1..$step_no"
