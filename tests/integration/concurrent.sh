#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Two applications use the same token at the same time, each loading the module in its
# own processes: a signer (pkcs11-tool --login --sign, 30 times, RSA-2048 and P-256 in
# turn) and a monitor (vnpki-tool status --json, pkcs11-tool -L and -O, 30 rounds). Every
# call of both must succeed, the monitor must see the PIN counter full every time, every
# signature must verify with openssl, and at the end the token still has all its PIN
# tries: neither application spent one. In pcsc mode the two share the card through
# pcscd (PC/SC transactions); in inprocess mode they share one virtual token state file
# (its lock). MODE: inprocess (default) or pcsc.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool p11tool openssl
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}
TOOL="$VNP_BUILD_DIR/tools/vnpki-tool/vnpki-tool"
[ -x "$TOOL" ] || fail "no $TOOL"
export VNPKI_MODULE="$MODULE"
rounds=${VNP_CONCURRENT_ROUNDS:-30}

label="Nguyễn Văn An"
new_token t "5654000000000061" "$label"
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

step "RSA-2048 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "Ký RSA"
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "Ký EC"
export GNUTLS_PIN=$PIN
for k in 01:rsa 02:ec; do
	step "read the ${k#*:} public key" client p11tool --provider "$MODULE" --login \
		--export-pubkey "pkcs11:id=%${k%%:*};type=public" --outfile "$W/${k#*:}.pem"
	openssl pkey -pubin -in "$W/${k#*:}.pem" -noout || fail "${k#*:} public key does not parse"
done
# A certificate, so that the monitor's -O has something to read besides the keys.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 30 \
	-subj "/CN=vnpki test CA" 2>/dev/null || fail "openssl: CA"
openssl x509 -new -force_pubkey "$W/rsa.pem" -subj "/CN=Nguyen Van An/C=VN" -CA "$W/ca.pem" \
	-CAkey "$W/ca.key" -days 30 -outform DER -out "$W/cert.der" 2>/dev/null || fail "openssl: certificate"
step "certificate written to the token" p11 --login --pin "$PIN" --write-object "$W/cert.der" \
	--type cert --id 01 --label "Ký RSA"
step "status before: 3 of 3 PIN tries" "$TOOL" status --json
grep -q '"pin_tries_left": 3,' "$W/step.out" || fail "PIN counter not full before: $(cat "$W/step.out")"

head -c 4000 /dev/urandom >"$W/data"
mkdir -p "$W/sig" "$W/mon"
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The signer: one process per signature, logged in each time, as a signing application
# started per document would be. Writes the failures to signer.fail.
signer() {
	local i mech id
	now_ms >"$W/signer.start"
	for i in $(seq 1 "$rounds"); do
		if [ $((i % 2)) -eq 1 ]; then mech=SHA256-RSA-PKCS id=01; else mech=ECDSA-SHA256 id=02; fi
		if ! client pkcs11-tool --module "$MODULE" --login --pin "$PIN" --sign -m "$mech" --id "$id" \
			--signature-format openssl -i "$W/data" -o "$W/sig/$i.$id" >"$W/sig/$i.log" 2>&1; then
			echo "signature $i ($mech): $(tail -n 3 "$W/sig/$i.log" | tr '\n' ' ')" >>"$W/signer.fail"
		fi
	done
	now_ms >"$W/signer.end"
}
# The monitor: a token manager and a certificate viewer polling the token meanwhile. A
# card runs one command at a time, so no reader may ever see the try a VERIFY spends
# before it compares the PIN: every status must show 3 tries left.
monitor() {
	local i
	now_ms >"$W/monitor.start"
	for i in $(seq 1 "$rounds"); do
		if ! "$TOOL" status --json >"$W/mon/$i.status" 2>&1; then
			echo "status $i: $(tail -n 3 "$W/mon/$i.status" | tr '\n' ' ')" >>"$W/monitor.fail"
		elif ! grep -q '"pin_tries_left": 3,' "$W/mon/$i.status" ||
			! grep -qF "\"serial\": \"5654000000000061\"" "$W/mon/$i.status"; then
			echo "status $i (vnpki-tool status --json) shows $(grep -oE '"(pin_tries_left|serial)": [^,]*' "$W/mon/$i.status" | tr '\n' ' ')- expected 3 PIN tries left" >>"$W/monitor.fail"
		fi
		if ! client pkcs11-tool --module "$MODULE" -L >"$W/mon/$i.L" 2>&1 || ! grep -qF "$label" "$W/mon/$i.L"; then
			echo "-L $i: $(tail -n 3 "$W/mon/$i.L" | tr '\n' ' ')" >>"$W/monitor.fail"
		fi
		if ! client pkcs11-tool --module "$MODULE" -O >"$W/mon/$i.O" 2>&1 ||
			! grep -q "Certificate Object" "$W/mon/$i.O" ||
			[ "$(grep -c "Public Key Object" "$W/mon/$i.O")" -ne 2 ]; then
			echo "-O $i: $(tail -n 3 "$W/mon/$i.O" | tr '\n' ' ')" >>"$W/monitor.fail"
		fi
	done
	now_ms >"$W/monitor.end"
}

rm -f "$W/signer.fail" "$W/monitor.fail"
signer &
sp=$!
_pids+=("$sp")
monitor &
mp=$!
_pids+=("$mp")
wait "$sp" || fail "the signer loop died"
wait "$mp" || fail "the monitor loop died"
ss=$(cat "$W/signer.start") se=$(cat "$W/signer.end")
ms=$(cat "$W/monitor.start") me=$(cat "$W/monitor.end")
say "signer: $rounds signatures in $((se - ss)) ms; monitor: $rounds rounds (status, -L, -O) in $((me - ms)) ms"

step_no=$((step_no + 1))
# They ran together: the overlap is most of the shorter loop.
lo=$((ss > ms ? ss : ms)) hi=$((se < me ? se : me))
short=$((se - ss < me - ms ? se - ss : me - ms))
[ $((hi - lo)) -gt $((short / 2)) ] ||
	fail "the two applications did not run together (overlap $((hi - lo)) ms of $short ms)"
echo "ok $step_no - the two applications ran at the same time ($((hi - lo)) ms together)"

step_no=$((step_no + 1))
[ ! -s "$W/signer.fail" ] || fail "signatures failed while the monitor ran: $(head -n 5 "$W/signer.fail")"
echo "ok $step_no - all $rounds signatures succeeded"
step_no=$((step_no + 1))
[ ! -s "$W/monitor.fail" ] ||
	fail "the monitor failed $(wc -l <"$W/monitor.fail") times while the signer ran: $(head -n 5 "$W/monitor.fail")"
echo "ok $step_no - all $rounds monitor rounds succeeded, each saw 3 PIN tries left"

step_no=$((step_no + 1))
n=0
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) -eq 1 ]; then f="$W/sig/$i.01" pem="$W/rsa.pem"; else f="$W/sig/$i.02" pem="$W/ec.pem"; fi
	openssl dgst -sha256 -verify "$pem" -signature "$f" "$W/data" >"$W/verify.out" 2>&1 ||
		fail "signature $i does not verify: $(cat "$W/verify.out")"
	n=$((n + 1))
done
echo "ok $step_no - openssl verifies all $n signatures"

step "status after: PIN counter still full, token usable" "$TOOL" status --json
grep -q '"pin_tries_left": 3,' "$W/step.out" || fail "a PIN try was spent: $(cat "$W/step.out")"
grep -q '"pin_locked": false,' "$W/step.out" || fail "the PIN is locked: $(cat "$W/step.out")"
grep -q '"unblock_tries_left": 10,' "$W/step.out" || fail "an unblock try was spent"
echo "1..$step_no"
