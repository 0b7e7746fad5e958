#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# GnuTLS's p11tool against the built module (--provider): tokens, objects, a signature
# test on a key generated through the module. MODE: inprocess or pcsc.
. "$(dirname "$0")/lib.sh"
need p11tool pkcs11-tool
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}

new_token t "5654000000000002" "p11tool token"
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
export GNUTLS_PIN=$PIN

step "p11tool --list-tokens" client p11tool --provider "$MODULE" --list-tokens
# A PIV card (Model: PIV) has no holder label outside PIN-protected objects: its token label
# is the card application's own.
grep -q "Model: PIV" "$W/step.out" || grep -q "p11tool token" "$W/step.out" ||
	fail "token not listed: $(cat "$W/step.out")"
url=$(grep -m1 'URL: pkcs11:.*serial=5654000000000002' "$W/step.out" | sed 's/.*URL: //')
[ -n "$url" ] || fail "no token URL"

step "p11tool --generate-privkey ECDSA" client p11tool --provider "$MODULE" --login \
	--generate-privkey ECDSA --curve secp256r1 --label p11key "$url"
step "p11tool --generate-privkey RSA" client p11tool --provider "$MODULE" --login \
	--generate-privkey RSA --bits 2048 --label p11rsa "$url"
step "p11tool --list-privkeys --login" client p11tool --provider "$MODULE" --login --list-privkeys "$url"
ec_url="$url;object=p11key;type=private"
rsa_url="$url;object=p11rsa;type=private"
if ! grep -q "p11key\|p11rsa" "$W/step.out"; then
	# A token that keeps no labels of its own (PIV: the slot names its key) lists the keys
	# under its names: find them by their type.
	[ "$PROFILE" = piv ] || fail "the generated keys lost their labels: $(cat "$W/step.out")"
	ec_url=$(awk '/URL:/ { u = $2 } /Type: Private key \(EC/ { print u; exit }' "$W/step.out")
	rsa_url=$(awk '/URL:/ { u = $2 } /Type: Private key \(RSA-2048/ { print u; exit }' "$W/step.out")
	say "the token keeps no key labels: keys $ec_url and $rsa_url"
fi
[ -n "$ec_url" ] || fail "generated EC key not listed: $(cat "$W/step.out")"
[ -n "$rsa_url" ] || fail "generated RSA key not listed: $(cat "$W/step.out")"
grep -q "p11key\|EC/ECDSA" "$W/step.out" || fail "generated EC key not listed"
grep -q "p11rsa\|RSA-2048" "$W/step.out" || fail "generated RSA key not listed"
step "p11tool --test-sign (ECDSA)" client p11tool --provider "$MODULE" --login --test-sign "$ec_url"
grep -q "Verifying against public key in the token... ok" "$W/step.out" || fail "p11tool did not verify its signature: $(cat "$W/step.out")"
step "p11tool --test-sign (RSA)" client p11tool --provider "$MODULE" --login --test-sign "$rsa_url"
grep -q "Verifying against public key in the token... ok" "$W/step.out" || fail "p11tool did not verify its RSA signature"
step "p11tool --list-all" client p11tool --provider "$MODULE" --list-all "$url"
grep -q "Public key" "$W/step.out" || fail "public key objects not listed"
echo "1..$step_no"
