#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The module over CCID framing: `vnpki-vtoken serve-ccid` is the token as a CCID device on a
# unix socket, the module's `ccidsock` backend drives it (ccid/ccid_reader.c). pkcs11-tool
# lists, logs in, generates and signs with RSA-2048 and ECDSA P-256 (openssl verifies).
# LEVEL: t1 (TPDU, T=1), apdu (short APDU, 271-byte messages) or ext (extended APDU).
# At t1, a second device with faults (bad EDC, lost block, WTX, time extension) must give the
# same signatures, and a card pulled mid-exchange must fail cleanly, without a hang.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl p11tool
level=${1:-t1}
case "$level" in t1 | apdu | ext) ;; *) fail "unknown level $level" ;; esac

new_token t "5654000000000077" "CCID $level"

# serve_ccid NAME OPTIONS...: a CCID device on $W/NAME.sock for $W/t.state.
serve_ccid() {
	local name=$1 i
	shift
	"$VTOKEN" serve-ccid --state "$W/t.state" --socket "$W/$name.sock" --level "$level" \
		--stats "$W/$name-stats.json" "$@" >>"$W/serve-$name.log" 2>&1 &
	_pids+=($!)
	SERVE_PID=$!
	for i in $(seq 1 50); do
		[ -S "$W/$name.sock" ] && return 0
		sleep 0.1
	done
	fail "serve-ccid did not create its socket: $(cat "$W/serve-$name.log")"
}
use_ccidsock() {
	printf 'readers = ccidsock\nccidsock.path = %s\n' "$W/$1.sock" >"$W/vnpki.conf"
	export VNPKI_CONF="$W/vnpki.conf"
}

serve_ccid dev
use_ccidsock dev

step "-L lists the CCID socket reader and the token" p11 -L
grep -q "vnpki CCID socket 0" "$W/step.out" || fail "reader name missing: $(cat "$W/step.out")"
grep -q "CCID $level" "$W/step.out" || fail "token label missing: $(cat "$W/step.out")"

step "wrong PIN is refused" bash -c "! LD_PRELOAD=$san_preload pkcs11-tool --module '$MODULE' --login --pin 999999 -O"
grep -q "CKR_PIN_INCORRECT" "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"

step "RSA-2048 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label rsa
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label ec

step "read the RSA public key" p11 --read-object --type pubkey --id 01 -o "$W/rsa.der"
openssl pkey -pubin -inform DER -in "$W/rsa.der" -out "$W/rsa.pem" || fail "RSA public key is not DER SPKI"
# pkcs11-tool 0.23 reads EC public keys with a use-after-free of its own: p11tool does it.
export GNUTLS_PIN=$PIN
step "read the EC public key (p11tool)" client p11tool --provider "$MODULE" --login \
	--export-pubkey "pkcs11:id=%02;type=public" --outfile "$W/ec.pem"

head -c 3000 /dev/urandom >"$W/data"

# sign_check WHAT: RSA (SHA256-RSA-PKCS, 256-byte answer) and ECDSA-SHA256, verified.
sign_check() {
	step "$1: SHA256-RSA-PKCS signature verifies" \
		p11 --login --pin "$PIN" --sign -m SHA256-RSA-PKCS --id 01 -i "$W/data" -o "$W/sig"
	[ "$(stat -c %s "$W/sig")" = 256 ] || fail "RSA-2048 signature is not 256 bytes"
	openssl dgst -sha256 -verify "$W/rsa.pem" -signature "$W/sig" "$W/data" >"$W/verify.out" 2>&1 ||
		fail "openssl does not verify the RSA signature: $(cat "$W/verify.out")"
	step "$1: ECDSA-SHA256 signature verifies" \
		p11 --login --pin "$PIN" --sign -m ECDSA-SHA256 --id 02 -i "$W/data" -o "$W/sig" \
		--signature-format openssl
	openssl dgst -sha256 -verify "$W/ec.pem" -signature "$W/sig" "$W/data" >"$W/verify.out" 2>&1 ||
		fail "openssl does not verify the ECDSA signature: $(cat "$W/verify.out")"
}
sign_check "$level"

stop_pid "$SERVE_PID"
say "$(grep "serve-ccid:" "$W/serve-dev.log")"
apdus=$(sed -n 's/.*"apdus": *\([0-9]*\).*/\1/p' "$W/dev-stats.json")
say "level $level: $apdus APDUs for the whole run"
[ -n "$apdus" ] && [ "$apdus" -gt 0 ] || fail "no APDU counted: $(cat "$W/dev-stats.json")"

if [ "$level" = t1 ]; then
	serve_ccid faulty --ifsc 32 --fault-bad-edc 9 --fault-lose-block 23 --fault-wtx 1 \
		--fault-time-ext 1
	use_ccidsock faulty
	sign_check "T=1 with a bad EDC, a lost block, WTX and time extensions"
	stop_pid "$SERVE_PID"
	line=$(grep "serve-ccid:" "$W/serve-faulty.log") || fail "no device stats"
	say "$line"
	echo "$line" | grep -q " 1 bad EDC, 1 lost," || fail "the faults did not happen: $line"
	echo "$line" | grep -q " 0 retransmitted" && fail "no retransmission: $line"

	# a sign is 6 APDUs after the IFS request: the 7th XfrBlock is PSO: COMPUTE DIGITAL SIGNATURE
	serve_ccid pulled --fault-pull-card 7
	use_ccidsock pulled
	start=$(date +%s)
	step_fails "card pulled during the signature: the sign fails" \
		timeout 60 env LD_PRELOAD="$san_preload" pkcs11-tool --module "$MODULE" \
		--login --pin "$PIN" --sign -m SHA256-RSA-PKCS --id 01 -i "$W/data" -o "$W/sig"
	grep -q "timeout\|Terminated" "$W/step.out" && fail "the pulled card hung the client"
	grep -Eq "CKR_(DEVICE_REMOVED|TOKEN_NOT_PRESENT|SESSION_HANDLE_INVALID|DEVICE_ERROR)|No slot|not present" \
		"$W/step.out" || fail "unexpected failure: $(cat "$W/step.out")"
	say "failed after $(($(date +%s) - start)) s: $(grep -o 'CKR_[A-Z_]*' "$W/step.out" | head -1)"
	step "after the pull, -L shows the reader without a token" p11 -L
	grep -q "vnpki CCID socket 0" "$W/step.out" || fail "reader gone: $(cat "$W/step.out")"
	grep -q "token label" "$W/step.out" && fail "a token is still listed: $(cat "$W/step.out")"
	stop_pid "$SERVE_PID"
fi
exit 0
