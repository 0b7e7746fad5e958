#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# T=0 through pcscd: the virtual UICC (profile sim) and a vntoken card served with --t0.
# The card's own trace must show an RSA-2048 signature fetched with 61 00 + GET RESPONSE
# (00 C0 00 00 00) and a case-2 command answered 6Cxx and repeated with Le = xx; every
# signature verifies with openssl; pcscd speaks T=0 to the card; an extended-length APDU
# gets 6700. MODE: pcsc.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl
mode=${1:-pcsc}
port=${VNP_TEST_PORT:-35971}
[ "$mode" = pcsc ] || fail "this test runs through pcscd only"

# gr_after_pso TRACE: the trace holds a signing command (PSO, or vntoken's SIGN 80 2B)
# answered 61 00, then GET RESPONSE 00 C0 00 00 00 answered with 256 bytes and 90 00.
gr_after_pso() {
	awk '
		/-> (00 2A 9E 9A|80 2B 00 00)/ { pso = 1; next }
		pso == 1 && /<- 61 00$/ { pso = 2; next }
		pso == 2 && /-> 00 C0 00 00 00$/ { pso = 3; next }
		pso == 3 && /<- / { n = split(substr($0, index($0, "<- ") + 3), b, " ");
			if (n == 258 && b[257] == "90" && b[258] == "00") ok = 1 }
		{ if (pso && !/-> (00 2A 9E 9A|80 2B 00 00)/) pso = (pso == 3 && /<- /) ? 0 : pso }
		END { exit !ok }' "$1"
}
# retry_6c TRACE: some command answered 6C XX is sent again with its last byte (Le) = XX.
retry_6c() {
	awk '
		/-> / { cmd = substr($0, index($0, "-> ") + 3);
			if (want != "" && cmd == want) ok = 1; want = ""; next }
		/<- 6C [0-9A-F][0-9A-F]$/ { le = substr($0, length($0) - 1);
			n = split(cmd, b, " "); want = b[1]; for (i = 2; i < n; i++) want = want " " b[i];
			want = want " " le }
		END { exit !ok }' "$1"
}
# sign_rsa NAME: key 01 (RSA-2048) signs $W/data with SHA256-RSA-PKCS; openssl verifies.
sign_rsa() {
	step "$1: RSA-2048 key generated" p11 --login --pin "$PIN" --keypairgen \
		--key-type rsa:2048 --id 01 --label "t0 $1"
	step "$1: public key read" p11 --read-object --type pubkey --id 01 -o "$W/$1.der"
	openssl pkey -pubin -inform DER -in "$W/$1.der" -out "$W/$1.pem" ||
		fail "$1: public key is not DER SPKI"
	step "$1: SHA256-RSA-PKCS signature" p11 --login --pin "$PIN" --sign -m SHA256-RSA-PKCS \
		--id 01 -i "$W/data" -o "$W/$1.sig"
	[ "$(stat -c %s "$W/$1.sig")" = 256 ] || fail "$1: the signature is not 256 bytes"
	step "$1: openssl verifies the signature" openssl dgst -sha256 -verify "$W/$1.pem" \
		-signature "$W/$1.sig" "$W/data"
}

head -c 700 /dev/urandom >"$W/data"
PROFILE=sim profile_args=(--profile sim)
new_token sim "5654000000000031" "SIM T=0" --puk 12345678
step "an extended-length APDU gets 6700 on the UICC" bash -c \
	"'$VTOKEN' apdu --state '$W/sim.state' 00A4040009F0564E504B4953494D 00CA010000FFFF | tail -n 1 | grep -qx 6700"

start_pcscd "$port"
serve_token "$W/sim.state" "$port" --trace "$W/sim.trace"
use_pcsc
wait_token 1
VNP_DEBUG=reader VNP_DEBUG_FILE="$W/module.log" client pkcs11-tool --module "$MODULE" -T \
	>"$W/t.out" 2>&1 || fail "pkcs11-tool -T: $(cat "$W/t.out")"
grep -q "model *: SIM PKI" "$W/t.out" || fail "not shown as a SIM PKI token: $(cat "$W/t.out")"
step "pcscd speaks T=0 to the UICC" grep -q "protocol T=0" "$W/module.log"
sign_rsa sim
step "sim: the signature came with 61 00 + GET RESPONSE" gr_after_pso "$W/sim.trace"
step "sim: a wrong Le got 6Cxx and the command came again with Le = xx" retry_6c "$W/sim.trace"
! grep -q -- "-> 00 2A 9E 9A.* 00 00$" "$W/sim.trace" ||
	fail "an extended-length PSO was sent"

# The same behaviour imposed on the vntoken applet: serve --t0.
stop_pid "$SERVE_PID"
PROFILE=vntoken profile_args=()
new_token vnt "5654000000000032" "vntoken T=0"
serve_token "$W/vnt.state" "$port" --t0 --trace "$W/vnt.trace"
for i in $(seq 1 100); do
	client pkcs11-tool --module "$MODULE" -L 2>/dev/null | grep -q "vntoken T=0" && break
	sleep 0.1
done
sign_rsa vnt
step "vnt --t0: the signature came with 61 00 + GET RESPONSE" gr_after_pso "$W/vnt.trace"
step "vnt --t0: a wrong Le got 6Cxx and the command came again" retry_6c "$W/vnt.trace"
echo "1..$step_no"
