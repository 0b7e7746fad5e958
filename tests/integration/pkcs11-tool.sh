#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# OpenSC's pkcs11-tool against the built module on a virtual token:
# list, keypairgen, sign with every mechanism (verified by openssl), write/read a
# certificate, --test. MODE: inprocess (vtoken backend) or pcsc (pcscd + vpcd).
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl p11tool
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}

new_token t "5654000000000001" "Nguyễn Văn An"
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

step "-L lists the slot and the token" p11 -L
# A PIV card (token model PIV) has no holder label outside PIN-protected objects: its token
# label is the card application's label (SELECT answer, tag 50).
if ! grep -q "token model *: PIV" "$W/step.out"; then
	grep -q "Nguyễn Văn An" "$W/step.out" || fail "token label missing in -L: $(cat "$W/step.out")"
fi
step "-T shows the token" p11 -T
grep -q "5654000000000001" "$W/step.out" || fail "serial missing in -T"
step "-M lists the mechanisms" p11 -M
for m in SHA256-RSA-PKCS RSA-PKCS-PSS ECDSA-SHA256 RSA-PKCS-KEY-PAIR-GEN ECDSA-KEY-PAIR-GEN; do
	grep -q -- "$m" "$W/step.out" || fail "-M lacks $m"
done
# P-384 only where the module says the token has it (the SIM PKI applet has RSA-2048 and
# P-256 only: its key generation reports keySize={256,256}).
p384=0
grep -q "ECDSA-KEY-PAIR-GEN, keySize={[0-9]*,384}" "$W/step.out" && p384=1
# only the SIM PKI applet lacks P-384: elsewhere its absence is a regression, not a skip
[ "$p384" = 1 ] || [ "$PROFILE" = sim ] || fail "-M reports no P-384 key generation: $(cat "$W/step.out")"
ec_keys="02:ec256"
[ "$p384" = 1 ] && ec_keys="02:ec256 03:ec384"

step "wrong PIN is refused" bash -c "! LD_PRELOAD=$san_preload pkcs11-tool --module '$MODULE' --login --pin 999999 -O"
grep -q "CKR_PIN_INCORRECT" "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"

step "RSA-2048 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "Ký cá nhân"
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "ec256"
if [ "$p384" = 1 ]; then
	step "EC P-384 key pair generated on the token" \
		p11 --login --pin "$PIN" --keypairgen --key-type EC:secp384r1 --id 03 --label "ec384"
else
	say "the token reports no P-384 key generation: P-384 steps left out"
	step_fails "EC P-384 key generation is refused" \
		p11 --login --pin "$PIN" --keypairgen --key-type EC:secp384r1 --id 03 --label "ec384"
fi

step "read the RSA public key" p11 --read-object --type pubkey --id 01 -o "$W/rsa.der"
openssl pkey -pubin -inform DER -in "$W/rsa.der" -out "$W/rsa.pem" || fail "RSA public key is not DER SPKI"
# pkcs11-tool 0.23 reads EC public keys with a use-after-free of its own (ASan shows it in
# pkcs11-tool; for P-384 it says "cannot create EVP_PKEY"). p11tool reads the same
# attributes (CKA_EC_PARAMS, CKA_EC_POINT) and exports the keys.
export GNUTLS_PIN=$PIN
for k in $ec_keys; do
	step "read the ${k#*:} public key (p11tool)" client p11tool --provider "$MODULE" --login \
		--export-pubkey "pkcs11:id=%${k%%:*};type=public" --outfile "$W/${k#*:}.pem"
	openssl pkey -pubin -in "$W/${k#*:}.pem" -noout || fail "${k#*:} public key does not parse"
done

head -c 1000 /dev/urandom >"$W/data"

# sign_check MECH KEYID PEM OPENSSL-DGST-ARGS...: sign $W/data on the token, verify with openssl.
sign_check() {
	local mech=$1 id=$2 pem=$3
	shift 3
	step "sign $mech (key $id) and verify with openssl" \
		p11 --login --pin "$PIN" --sign -m "$mech" --id "$id" -i "$W/data" -o "$W/sig" "$@"
	if ! openssl dgst "${dgst_args[@]}" -verify "$pem" -signature "$W/sig" "$W/data" >"$W/verify.out" 2>&1; then
		fail "openssl does not verify $mech: $(cat "$W/verify.out")"
	fi
}

for h in SHA1 SHA256 SHA384 SHA512; do
	dgst_args=("-$(echo $h | tr A-Z a-z)")
	sign_check "$h-RSA-PKCS" 01 "$W/rsa.pem"
	dgst_args=("-$(echo $h | tr A-Z a-z)" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
	sign_check "$h-RSA-PKCS-PSS" 01 "$W/rsa.pem"
done
for h in SHA256 SHA384; do
	dgst_args=("-$(echo $h | tr A-Z a-z)")
	sign_check "ECDSA-$h" 02 "$W/ec256.pem" --signature-format openssl
	[ "$p384" = 1 ] && sign_check "ECDSA-$h" 03 "$W/ec384.pem" --signature-format openssl
done

# Raw mechanisms: the input is the hash (ECDSA, PSS) or the DigestInfo (RSA-PKCS).
openssl dgst -sha256 -binary "$W/data" >"$W/hash"
step "sign ECDSA (raw hash)" p11 --login --pin "$PIN" --sign -m ECDSA --id 02 -i "$W/hash" \
	-o "$W/sig" --signature-format openssl
openssl pkeyutl -verify -pubin -inkey "$W/ec256.pem" -in "$W/hash" -sigfile "$W/sig" >/dev/null ||
	fail "openssl does not verify raw ECDSA"
step "sign RSA-PKCS-PSS (raw hash)" p11 --login --pin "$PIN" --sign -m RSA-PKCS-PSS --id 01 \
	--hash-algorithm SHA256 --mgf MGF1-SHA256 -i "$W/hash" -o "$W/sig"
openssl pkeyutl -verify -pubin -inkey "$W/rsa.pem" -in "$W/hash" -sigfile "$W/sig" \
	-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest >/dev/null ||
	fail "openssl does not verify raw RSA-PSS"
printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20' >"$W/di"
cat "$W/hash" >>"$W/di"
step "sign RSA-PKCS (DigestInfo)" p11 --login --pin "$PIN" --sign -m RSA-PKCS --id 01 -i "$W/di" -o "$W/sig"
openssl dgst -sha256 -verify "$W/rsa.pem" -signature "$W/sig" "$W/data" >/dev/null ||
	fail "openssl does not verify raw RSA-PKCS over a DigestInfo"

# A certificate for the RSA key, written to the token and read back.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 30 \
	-subj "/CN=vnpki test CA" 2>/dev/null
openssl x509 -new -force_pubkey "$W/rsa.pem" -subj "/CN=Nguyen Van An/O=So KH&CN/C=VN" \
	-CA "$W/ca.pem" -CAkey "$W/ca.key" -days 30 -outform DER -out "$W/cert.der" 2>/dev/null ||
	fail "openssl could not make a certificate"
step "write a certificate" p11 --login --pin "$PIN" --write-object "$W/cert.der" --type cert \
	--id 01 --label "Ký cá nhân"
step "read the certificate back" p11 --read-object --type cert --id 01 -o "$W/cert.back"
cmp -s "$W/cert.der" "$W/cert.back" || fail "certificate read back differs"
step "-O lists the certificate" p11 -O
grep -q "Certificate Object" "$W/step.out" || fail "no certificate object listed"

step "--test --login" p11 --test --login --pin "$PIN"
grep -qi "no errors" "$W/step.out" || fail "pkcs11-tool --test reported errors"

# delete the last EC key pair (P-384, or P-256 on a token without P-384). A token whose
# private keys have CKA_DESTROYABLE false (PIV: no command deletes a key) refuses with
# CKR_ACTION_PROHIBITED, and the key stays listed.
del=03 keep=02
[ "$p384" = 1 ] || { del=02; keep=01; }
step_no=$((step_no + 1))
if p11 --login --pin "$PIN" --delete-object --type privkey --id $del >"$W/del.out" 2>&1; then
	echo "ok $step_no - delete the key pair $del"
	step "list the objects after the deletion" p11 --login --pin "$PIN" -O
	grep -q "ID: *$keep" "$W/step.out" || fail "the key $keep should still be listed"
	! grep -q "ID: *$del" "$W/step.out" || fail "the key pair $del is still listed: $(cat "$W/step.out")"
elif [ "$PROFILE" = piv ] && grep -q "CKR_ACTION_PROHIBITED\|(0x1b)" "$W/del.out"; then # 0x1b: pkcs11-tool 0.23 has no name for it
	echo "ok $step_no - delete the key pair $del: refused, the token's keys are not destroyable"
	step "list the objects after the refusal" p11 --login --pin "$PIN" -O
	grep -q "ID: *$del" "$W/step.out" || fail "an undeletable key vanished: $(cat "$W/step.out")"
else
	fail "delete the key pair $del: $(cat "$W/del.out")"
fi
echo "1..$step_no"
