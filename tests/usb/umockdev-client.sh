#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside usb-umockdev-run (see umockdev.sh): the module's usb backend sees the synthetic
# token through libusb. Environment from umockdev.sh: VNPKI_CONF, VNP_USB_STATE,
# VNP_USB_VARIANT, VNP_USB_CONTROL.
. "$(dirname "$0")/../integration/lib.sh"

# Never go near real USB devices: the testbed's mark must be what /sys shows us.
[ -n "${UMOCKDEV_DIR:-}" ] || fail "not inside a umockdev testbed"
mark=$(cat /sys/bus/usb/devices/1-1/vnpki_mark 2>/dev/null || true)
[ -n "$mark" ] && [ "$mark" = "${VNPKI_TESTBED_MARK:-}" ] ||
	fail "the umockdev preload is not active (mark '$mark'): refusing to touch USB"

# The sanitizer runtimes (when the module is sanitized) must come before umockdev's preload.
run_client() {
	if [ -n "$san_preload" ]; then
		LD_PRELOAD="$san_preload:$LD_PRELOAD" "$@"
	else
		"$@"
	fi
}
# USB_SLOT (set below when the pcscd token is listed too): the USB token's slot.
p11() {
	if [ -n "${USB_SLOT:-}" ]; then
		run_client pkcs11-tool --module "$MODULE" --slot "$USB_SLOT" "$@"
	else
		run_client pkcs11-tool --module "$MODULE" "$@"
	fi
}
reader="USB CCID 1209:0001 1-1"

step "-L lists the USB token" p11 -L
grep -q "5654000000000042" "$W/step.out" || fail "token serial missing: $(cat "$W/step.out")"
# A PIV card keeps no token label of ours (the module shows the card's own).
grep -q "token model *: PIV" "$W/step.out" || grep -q "Token USB" "$W/step.out" ||
	fail "token label missing: $(cat "$W/step.out")"
grep -q "$reader" "$W/step.out" || fail "reader name '$reader' missing: $(cat "$W/step.out")"
if [ "$VNP_USB_VARIANT" = busy ]; then
	! grep -q "1-2" "$W/step.out" || fail "the busy twin (1-2) was used: $(cat "$W/step.out")"
	grep -q "USB CCID 1209:0001 1-2: interface held by another program" "$(sed -n 's/^log.file = //p' "$VNPKI_CONF")" ||
		fail "no log line for the busy twin"
fi

if [ "$VNP_USB_VARIANT" = pcsc ]; then
	grep -q "Token PCSC" "$W/step.out" || fail "the pcscd token is not listed: $(cat "$W/step.out")"
	grep -q "Virtual PCD" "$W/step.out" || fail "no pcsc reader: $(cat "$W/step.out")"
	pslot=$(awk '/^Slot [0-9]+ .*Virtual PCD/ { print $2; exit }' "$W/step.out")
	USB_SLOT=$(awk -v r="$reader" 'index($0, r) && /^Slot / { print $2; exit }' "$W/step.out")
	[ -n "$pslot" ] && [ -n "$USB_SLOT" ] || fail "no slot numbers: $(cat "$W/step.out")"
	export USB_SLOT
	step "EC key pair on the pcscd token" run_client pkcs11-tool --module "$MODULE" \
		--slot "$pslot" --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 09
	step "sign ECDSA on the pcscd token" run_client pkcs11-tool --module "$MODULE" \
		--slot "$pslot" --login --pin "$PIN" --sign -m ECDSA-SHA256 --id 09 \
		-i "$VNPKI_CONF" -o "$W/psig"
fi

step_fails "wrong PIN is refused" p11 --login --pin 999999 -O
grep -q "CKR_PIN_INCORRECT" "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"

step "RSA-2048 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "rsa"
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "ec"
step "read the RSA public key" p11 --read-object --type pubkey --id 01 -o "$W/rsa.der"
openssl pkey -pubin -inform DER -in "$W/rsa.der" -out "$W/rsa.pem" || fail "RSA public key is not DER SPKI"
head -c 3000 /dev/urandom >"$W/data"
step "sign SHA256-RSA-PKCS" p11 --login --pin "$PIN" --sign -m SHA256-RSA-PKCS --id 01 \
	-i "$W/data" -o "$W/sig"
openssl dgst -sha256 -verify "$W/rsa.pem" -signature "$W/sig" "$W/data" >/dev/null ||
	fail "openssl does not verify the RSA signature"
step "sign SHA256-RSA-PKCS-PSS" p11 --login --pin "$PIN" --sign -m SHA256-RSA-PKCS-PSS --id 01 \
	-i "$W/data" -o "$W/sig"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
	-verify "$W/rsa.pem" -signature "$W/sig" "$W/data" >/dev/null ||
	fail "openssl does not verify the RSA-PSS signature"
step "sign ECDSA-SHA256" p11 --login --pin "$PIN" --sign -m ECDSA-SHA256 --id 02 \
	-i "$W/data" -o "$W/sig" --signature-format openssl
# pkcs11-tool 0.23 cannot export EC public keys (see tests/integration/pkcs11-tool.sh): p11tool.
export GNUTLS_PIN=$PIN
step "read the EC public key (p11tool)" run_client p11tool --provider "$MODULE" --login \
	--export-pubkey "pkcs11:serial=5654000000000042;id=%02;type=public" --outfile "$W/ec.pem"
openssl dgst -sha256 -verify "$W/ec.pem" -signature "$W/sig" "$W/data" >/dev/null ||
	fail "openssl does not verify the ECDSA signature"

# The card pulled (the state file gone: the token's slot reports NotifySlotChange) and put back.
mv "$VNP_USB_STATE" "$VNP_USB_STATE.out"
step "card pulled: the reader stays, the token is gone" p11 -L
grep -q "$reader" "$W/step.out" || fail "reader gone with the card: $(cat "$W/step.out")"
! grep -q "5654000000000042" "$W/step.out" || fail "token still listed without a card: $(cat "$W/step.out")"
mv "$VNP_USB_STATE.out" "$VNP_USB_STATE"
step "card back: the token is listed again" p11 -L
grep -q "5654000000000042" "$W/step.out" || fail "token not back: $(cat "$W/step.out")"
step "sign after re-insertion" p11 --login --pin "$PIN" --sign -m SHA256-RSA-PKCS --id 01 \
	-i "$W/data" -o "$W/sig"
openssl dgst -sha256 -verify "$W/rsa.pem" -signature "$W/sig" "$W/data" >/dev/null ||
	fail "openssl does not verify the RSA signature after re-insertion"

# The device unplugged: the reader goes away.
echo unplug >"$VNP_USB_CONTROL"
for i in $(seq 1 100); do [ -e "$VNP_USB_CONTROL" ] || break; sleep 0.05; done
step "device unplugged: no reader left" bash -c "$(declare -f run_client); MODULE='$MODULE' san_preload='$san_preload'; run_client pkcs11-tool --module \"\$MODULE\" -L || true"
! grep -q "$reader" "$W/step.out" || fail "reader still listed after unplug: $(cat "$W/step.out")"
echo "1..$step_no"
