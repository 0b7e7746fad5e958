# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared setup for the vnpki-tool tests. Sourced, not run. Builds on the integration
# helpers (work directory, virtual tokens, in-process configuration, step/fail/skip).
#
# token_with_cert NAME SERIAL LABEL SUBJECT: a virtual token at $W/NAME.state (in-process,
# the only one configured) with an RSA-2048 key (CKA_ID 01) generated through the module
# and a certificate for it issued by a test CA ($W/ca.pem, $W/ca.key). Leaves the public
# key in $W/NAME.pub.pem, the CSR in $W/NAME.csr and the certificate in $W/NAME.crt (DER).
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
TOOL="$VNP_BUILD_DIR/tools/vnpki-tool/vnpki-tool"
AUTHORITY="$VNP_BUILD_DIR/tools/authority/vnpki-authority"
[ -x "$TOOL" ] || fail "no $TOOL: build first"
export VNPKI_MODULE="$MODULE"
unset VNPKI_PIN VNPKI_NEW_PIN VNPKI_RESPONSE_CODE
need openssl pkcs11-tool

# The tool is built like the module (sanitizers included): it needs no preload. 
tool() { "$TOOL" "$@"; }

# expect_rc N description command...: the command must exit with N.
expect_rc() {
	local want=$1 what=$2 rc=0
	shift 2
	step_no=$((step_no + 1))
	"$@" >"$W/step.out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "ok $step_no - $what (exit $rc)"
	else
		echo "not ok $step_no - $what: exit $rc, wanted $want"
		sed 's/^/#   /' "$W/step.out" | tail -n 40
		exit 1
	fi
}

# json_ok FILE: FILE is strict JSON (skipped without /usr/bin/python3).
json_ok() {
	if [ -x /usr/bin/python3 ]; then
		/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$1"
	else
		say "no /usr/bin/python3: JSON of $1 not checked strictly"
	fi
}

# json_get FILE EXPR: print a Python expression over the document d (needs python3).
json_get() {
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' "$1" "$2"
}
have_python() { [ -x /usr/bin/python3 ]; }

make_ca() {
	[ -f "$W/ca.pem" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 365 \
		-utf8 -subj "/CN=vnpki test CA/O=vnpki test/C=VN" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "openssl: no CA"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' \
		>"$W/ee.cnf"
}

# issue_for NAME DAYS OUT [SERIAL_HEX]: another certificate (PEM) for NAME's key.
issue_for() {
	local args=()
	[ -n "${4:-}" ] && args=(-set_serial "0x$4")
	openssl x509 -req -in "$W/$1.csr" -force_pubkey "$W/$1.pub.pem" -CA "$W/ca.pem" \
		-CAkey "$W/ca.key" -days "$2" -extfile "$W/ee.cnf" "${args[@]}" -out "$3" 2>/dev/null ||
		fail "openssl: cannot issue $3"
}

token_with_cert() {
	local name=$1 serial=$2 label=$3 subject=$4
	shift 4
	"$VTOKEN" init --state "$W/$name.state" --serial "$serial" --label "$label" --pin "$PIN" \
		"$@" >"$W/init-$name.log" 2>&1 || fail "vnpki-vtoken init: $(cat "$W/init-$name.log")"
	use_inprocess "$W/$name.state"
	make_ca
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "Chữ ký số" \
		>"$W/keygen-$name.log" 2>&1 || fail "keygen: $(cat "$W/keygen-$name.log")"
	p11 --read-object --type pubkey --id 01 -o "$W/$name.pub.der" >/dev/null 2>&1 ||
		fail "cannot read the public key"
	openssl pkey -pubin -inform DER -in "$W/$name.pub.der" -out "$W/$name.pub.pem" ||
		fail "openssl pkey"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-utf8 -subj "$subject" -out "$W/$name.csr" 2>/dev/null || fail "openssl req"
	issue_for "$name" 200 "$W/$name.crt.pem" 0A01
	openssl x509 -in "$W/$name.crt.pem" -outform DER -out "$W/$name.crt" || fail "openssl x509"
	p11 --login --pin "$PIN" --write-object "$W/$name.crt" --type cert --id 01 \
		--label "Chữ ký số" >"$W/wcert-$name.log" 2>&1 || fail "write cert: $(cat "$W/wcert-$name.log")"
}

# lock_pin SUBCOMMAND: spend the 3 PIN tries of the configured token with a wrong PIN, then
# `vnpki-tool SUBCOMMAND` must show it locked.
lock_pin() {
	local i
	for i in 1 2 3; do
		step_fails "wrong PIN $i" p11 --login --pin 000000 --list-objects
	done
	step "the PIN is locked" tool "$1"
	grep -q "PIN: *LOCKED" "$W/step.out" || fail "$(cat "$W/step.out")"
}

# token_state NAME: the virtual token's content without its write generation and counter.
token_state() {
	"$VTOKEN" show --state "$W/$1.state" --json | sed -E 's/"generation": [0-9]+, "counter": [0-9]+,//'
}
