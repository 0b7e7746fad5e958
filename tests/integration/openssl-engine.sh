#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# OpenSSL 3 through libp11's pkcs11 engine (libengine-pkcs11-openssl) and the built module,
# keys addressed by RFC 7512 pkcs11: URIs: openssl dgst / pkeyutl sign (RSA-2048 and
# P-256, verified with the exported public keys), a self-signed certificate made by
# openssl req with the token key, and no PIN try spent by any of it.
# MODE: inprocess (vtoken backend) or pcsc (pcscd + vpcd).
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}
ENGINE_SO=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n 1)
[ -n "$ENGINE_SO" ] || skip "the libp11 engine is not installed (Debian: libengine-pkcs11-openssl)"
VNPKI_TOOL="$VNP_BUILD_DIR/tools/vnpki-tool/vnpki-tool"

label="Nguyễn Văn An"
new_token t "5654000000000041" "$label"
case "$mode" in
inprocess)
	use_inprocess "$W/t.state"
	;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/t.state" "$port"
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac

# The engine is configured by a file of our own, nothing from /etc: MODULE_PATH is the
# built module, init = 0 leaves the engine to be initialised by -engine.
cat >"$W/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $MODULE
init = 0
EOF
export OPENSSL_CONF="$W/openssl.cnf"
# openssl loads the module (through the engine): it is a client. Verification runs
# without the engine, with the public keys in files.
eng() { client openssl "$@"; }
plain() { OPENSSL_CONF=/dev/null openssl "$@"; }

step "the engine loads the module" eng engine -t -c pkcs11
grep -q "available" "$W/step.out" || fail "engine not available: $(cat "$W/step.out")"

step "RSA-2048 key pair generated on the token (id 01)" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "Ký cá nhân"
step "EC P-256 key pair generated on the token (id 02)" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "ec256"

# RFC 7512: the label's UTF-8 bytes and its spaces percent-encoded.
tok=$(printf '%s' "$label" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g')
uri="pkcs11:token=$tok"
say "token URI: $uri"

step "export the RSA public key through the engine" \
	eng pkey -engine pkcs11 -inform engine -pubin -in "$uri;id=%01;type=public" -pubout -out "$W/rsa.pem"
step "export the P-256 public key through the engine" \
	eng pkey -engine pkcs11 -inform engine -pubin -in "$uri;id=%02;type=public" -pubout -out "$W/ec.pem"
plain pkey -pubin -in "$W/rsa.pem" -noout -text | grep -q "(2048 bit)" || fail "RSA public key is not 2048-bit"
plain pkey -pubin -in "$W/ec.pem" -noout -text | grep -q "prime256v1" || fail "EC public key is not on P-256"
# The same RSA key as pkcs11-tool reads it without the engine.
step "read the RSA public key with pkcs11-tool" p11 --read-object --type pubkey --id 01 -o "$W/rsa.der"
plain pkey -pubin -inform DER -in "$W/rsa.der" -pubout -out "$W/rsa-p11.pem" || fail "RSA DER SPKI does not parse"
cmp -s "$W/rsa.pem" "$W/rsa-p11.pem" || fail "the engine and pkcs11-tool export different RSA public keys"

head -c 4000 /dev/urandom >"$W/data"
plain dgst -sha256 -binary "$W/data" >"$W/hash"

# dgst -sign, PIN in the URI.
for k in 01:rsa 02:ec; do
	id=${k%%:*} kt=${k#*:}
	rm -f "$W/sig"
	step "openssl dgst -sha256 -sign $kt (id $id, pin-value in the URI)" \
		eng dgst -sha256 -engine pkcs11 -keyform engine \
		-sign "$uri;id=%$id;type=private;pin-value=$PIN" -out "$W/sig" "$W/data"
	step "the $kt dgst signature verifies with the public key" \
		plain dgst -sha256 -verify "$W/$kt.pem" -signature "$W/sig" "$W/data"
	grep -q "Verified OK" "$W/step.out" || fail "dgst -verify did not say Verified OK"
	step_fails "the $kt signature does not verify over other data" \
		plain dgst -sha256 -verify "$W/$kt.pem" -signature "$W/sig" "$W/hash"
done

# pkeyutl -sign over a hash, PIN with -passin.
printf '%s\n' "$PIN" >"$W/pin.txt"
rm -f "$W/sig"
step "openssl pkeyutl -sign RSA over a SHA-256 hash (-passin file:)" \
	eng pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$uri;id=%01;type=private" \
	-passin "file:$W/pin.txt" -pkeyopt digest:sha256 -in "$W/hash" -out "$W/sig"
[ "$(stat -c %s "$W/sig")" -eq 256 ] || fail "RSA-2048 signature is not 256 bytes"
step "the RSA pkeyutl signature verifies" \
	plain pkeyutl -verify -pubin -inkey "$W/rsa.pem" -pkeyopt digest:sha256 -in "$W/hash" -sigfile "$W/sig"
grep -q "Signature Verified Successfully" "$W/step.out" || fail "pkeyutl -verify (RSA) did not succeed"
# The same signature, as PKCS#1 v1.5 over the whole data.
plain dgst -sha256 -verify "$W/rsa.pem" -signature "$W/sig" "$W/data" >/dev/null ||
	fail "the RSA pkeyutl signature is not PKCS#1 v1.5 SHA-256 over the data"
rm -f "$W/sig"
step "openssl pkeyutl -sign ECDSA over a SHA-256 hash (-passin pass:)" \
	eng pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$uri;id=%02;type=private" \
	-passin "pass:$PIN" -in "$W/hash" -out "$W/sig"
plain asn1parse -inform DER -in "$W/sig" >"$W/asn1.out" 2>&1 || fail "ECDSA signature is not DER: $(cat "$W/asn1.out")"
[ "$(grep -c INTEGER "$W/asn1.out")" -eq 2 ] || fail "ECDSA signature is not a SEQUENCE of r, s"
step "the ECDSA pkeyutl signature verifies" \
	plain pkeyutl -verify -pubin -inkey "$W/ec.pem" -in "$W/hash" -sigfile "$W/sig"
grep -q "Signature Verified Successfully" "$W/step.out" || fail "pkeyutl -verify (ECDSA) did not succeed"
head -c 32 /dev/zero >"$W/zero-hash"
step_fails "the ECDSA signature does not verify over another hash" \
	plain pkeyutl -verify -pubin -inkey "$W/ec.pem" -in "$W/zero-hash" -sigfile "$W/sig"

# A self-signed certificate, signed by the token key, subject in UTF-8.
for k in 01:rsa:sha256WithRSAEncryption 02:ec:ecdsa-with-SHA256; do
	IFS=: read -r id kt alg <<<"$k"
	step "openssl req -new -x509 with the $kt token key" \
		eng req -new -x509 -engine pkcs11 -keyform engine \
		-key "$uri;id=%$id;type=private;pin-value=$PIN" -sha256 -days 30 \
		-subj "/CN=$label" -utf8 -out "$W/cert-$kt.pem"
	step "x509 -text shows the $kt certificate" plain x509 -in "$W/cert-$kt.pem" -noout -text
	grep -q "Signature Algorithm: $alg" "$W/step.out" || fail "$kt certificate: not signed with $alg"
	subj=$(plain x509 -in "$W/cert-$kt.pem" -noout -subject -nameopt utf8,sep_comma_plus)
	[ "$subj" = "subject=CN=$label" ] || fail "$kt certificate subject is '$subj'"
	plain x509 -in "$W/cert-$kt.pem" -noout -pubkey >"$W/cert-$kt.pub"
	cmp -s "$W/cert-$kt.pub" "$W/$kt.pem" || fail "$kt certificate does not carry the token's public key"
	step "openssl verify: the $kt certificate is self-signed by the token key" \
		plain verify -CAfile "$W/cert-$kt.pem" "$W/cert-$kt.pem"
	grep -q ": OK" "$W/step.out" || fail "openssl verify did not say OK"
done

# Failures the engine must report without spending a PIN try.
step_fails "a PIN of 5 digits is refused (on the host)" \
	eng dgst -sha256 -engine pkcs11 -keyform engine \
	-sign "$uri;id=%01;type=private;pin-value=12345" -out "$W/sig.bad" "$W/data"
grep -q "Invalid PIN length" "$W/step.out" || fail "expected CKR_PIN_LEN_RANGE: $(cat "$W/step.out")"
step_fails "no PIN and no terminal: no login" \
	setsid -w env LD_PRELOAD="$san_preload" openssl dgst -sha256 -engine pkcs11 -keyform engine \
	-sign "$uri;id=%01;type=private" -out "$W/sig.bad" "$W/data" </dev/null
grep -qi "PIN" "$W/step.out" || fail "expected a missing-PIN error: $(cat "$W/step.out")"
step_fails "an unknown token label matches nothing" \
	eng dgst -sha256 -engine pkcs11 -keyform engine \
	-sign "pkcs11:token=Nobody;id=%01;type=private;pin-value=$PIN" -out "$W/sig.bad" "$W/data"

# No PIN try was spent by any of the above.
step "pkcs11-tool -T" p11 -T
grep -qi "user PIN count low\|user PIN final try\|user PIN locked" "$W/step.out" &&
	fail "a PIN try was spent: $(grep -i 'token flags' "$W/step.out")"
grep -qi "token flags" "$W/step.out" || fail "pkcs11-tool -T shows no token flags"
step "vnpki-tool status --json" env VNPKI_MODULE="$MODULE" LD_PRELOAD="$san_preload" \
	"$VNPKI_TOOL" status --json
tries=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["pin_tries_left"])' <"$W/step.out") ||
	fail "vnpki-tool status --json does not parse: $(cat "$W/step.out")"
[ "$tries" = 3 ] || fail "pin_tries_left is $tries, expected 3"
echo "1..$step_no"
