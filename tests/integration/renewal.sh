#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Certificate renewal on the token: `vnpki-tool import-cert` writes the renewal data file
# (a new certificate for the same key) with the same CKA_ID and label, then removes the old
# certificate; every client — pkcs11-tool, p11tool, NSS — sees the new one at once.
# A PKCS#7 bundle brings the CA certificate along (written as an authority certificate);
# a certificate for a key the token does not hold is refused without touching the token.
# MODE: pcsc (default) or inprocess.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool p11tool certutil modutil openssl
mode=${1:-pcsc}
port=${VNP_TEST_PORT:-35963}
TOOL="$VNP_BUILD_DIR/tools/vnpki-tool/vnpki-tool"
[ -x "$TOOL" ] || fail "no $TOOL"
export VNPKI_MODULE="$MODULE" VNPKI_PIN="$PIN" GNUTLS_PIN="$PIN"

new_token t "5654000000000051" "Nguyễn Văn An"
case "$mode" in
inprocess) use_inprocess "$W/t.state" ;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/t.state" "$port"
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac

step "key pair on the token" p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 \
	--label "Chữ ký cá nhân"
p11 --read-object --type pubkey --id 01 -o "$W/pub.der" >/dev/null 2>&1
openssl pkey -pubin -inform DER -in "$W/pub.der" -out "$W/pub.pem" || fail "public key"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 3650 \
	-subj "/CN=vnpki test CA/C=VN" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
# cert NAME SERIAL DAYS [PUBKEY]: a certificate for the token's key (or PUBKEY)
cert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -utf8 \
		-subj "/CN=Nguyễn Văn An/O=Sở Khoa học và Công nghệ/C=VN" -out "$W/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$W/$1.csr" -force_pubkey "${4:-$W/pub.pem}" -CA "$W/ca.pem" \
			-CAkey "$W/ca.key" -set_serial "$2" -days "$3" -out "$W/$1.pem" 2>/dev/null &&
		openssl x509 -in "$W/$1.pem" -outform DER -out "$W/$1.der"
}
cert old 4097 40 || fail "old certificate"
cert new 4098 1095 || fail "renewal certificate"
step "the old certificate is on the token" p11 --login --pin "$PIN" --write-object "$W/old.der" \
	--type cert --id 01 --label "Chữ ký cá nhân"

db="$W/nssdb"
mkdir -p "$db"
client certutil -N -d "sql:$db" --empty-password >/dev/null 2>&1 || fail "certutil -N"
client modutil -force -dbdir "sql:$db" -add vnpki -libfile "$MODULE" -mechanisms FRIENDLY \
	>/dev/null 2>&1 || fail "modutil -add"
nick="Nguyễn Văn An:Chữ ký cá nhân"
step "NSS sees the old certificate" client certutil -L -d "sql:$db" -n "$nick" -r
cmp -s "$W/step.out" "$W/old.der" || fail "NSS shows another certificate"

step "vnpki-tool import-cert: the renewal data file" client "$TOOL" import-cert "$W/new.pem"

# Every client, each a new process, sees the new certificate and only it.
step "pkcs11-tool reads the new certificate" p11 --read-object --type cert --id 01 -o "$W/back.der"
cmp -s "$W/back.der" "$W/new.der" || fail "pkcs11-tool reads another certificate"
step "pkcs11-tool lists one certificate" p11 -O --type cert
[ "$(grep -c 'Certificate Object' "$W/step.out")" -eq 1 ] || fail "not one certificate: $(cat "$W/step.out")"
grep -q "Chữ ký cá nhân" "$W/step.out" || fail "the label was not kept: $(cat "$W/step.out")"
step "p11tool exports the new certificate" client p11tool --provider "$MODULE" \
	--export "pkcs11:id=%01;type=cert" --outfile "$W/p11tool.pem"
openssl x509 -in "$W/p11tool.pem" -outform DER | cmp -s - "$W/new.der" || fail "p11tool shows another certificate"
step "NSS sees the new certificate" client certutil -L -d "sql:$db" -n "$nick" -r
cmp -s "$W/step.out" "$W/new.der" || fail "NSS shows a stale certificate"
step "certutil -L -h all lists it once" client certutil -L -d "sql:$db" -h all
[ "$(grep -c "$nick" "$W/step.out")" -eq 1 ] || fail "certutil lists it $(grep -c "$nick" "$W/step.out") times"

# A PKCS#7 bundle: the next renewal with its CA.
cert newer 4099 1095 || fail "second renewal"
openssl crl2pkcs7 -nocrl -certfile "$W/newer.pem" -certfile "$W/ca.pem" -outform DER -out "$W/bundle.p7b"
step "vnpki-tool import-cert: a PKCS#7 bundle with the CA" client "$TOOL" import-cert "$W/bundle.p7b"
step "the bundle's certificate replaced the previous one" p11 --read-object --type cert --id 01 -o "$W/back.der"
cmp -s "$W/back.der" "$W/newer.der" || fail "the bundle's certificate is not the one read"
step "the CA certificate is on the token, as an authority certificate" client p11tool --provider "$MODULE" --list-all-certs
grep -q "vnpki test CA" "$W/step.out" || fail "no CA certificate listed: $(cat "$W/step.out")"
grep -A3 "Label: vnpki test CA" "$W/step.out" | grep -q "CKA_CERTIFICATE_CATEGORY=CA" ||
	fail "the CA certificate is not an authority certificate: $(cat "$W/step.out")"

# A certificate for a key the token does not hold: refused, nothing written.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/stranger.key" 2>/dev/null
openssl pkey -in "$W/stranger.key" -pubout -out "$W/stranger.pub"
cert stranger 5000 365 "$W/stranger.pub" || fail "stranger certificate"
# The token's content, counters and objects (not "generation", which counts state-file
# saves, a correct VERIFY included).
token_state() { "$VTOKEN" show --state "$W/t.state" --json 2>&1 | sed 's/"generation": *[0-9]*, *//'; }
token_state >"$W/before.json"
step "a certificate for another key is refused" bash -c "! LD_PRELOAD=$san_preload '$TOOL' import-cert '$W/stranger.pem'"
grep -qi "no key\|matches no\|does not match" "$W/step.out" || fail "no clear reason given: $(cat "$W/step.out")"
token_state >"$W/after.json"
cmp -s "$W/before.json" "$W/after.json" || fail "the token changed: $(diff "$W/before.json" "$W/after.json")"
echo "1..$step_no"
