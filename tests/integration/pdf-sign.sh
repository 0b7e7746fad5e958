#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job, end to end: two virtual tokens (an official's and the agency clerk's),
# a key and a certificate on each made through the module, an NSS database with the
# module added by modutil, and a PDF signed by poppler's pdfsig twice — the personal
# signature first, the organisation's last (seed 001, Điều 9) — then both verified.
# MODE: inprocess (default) or pcsc. VNP_DEMO_OUT=DIR keeps the signed PDFs there.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl pdfsig modutil certutil
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}

personal_label="Nguyễn Văn An"
org_label="Sở KH&CN Hưng Yên"
new_token personal "5654000000000011" "$personal_label"
new_token org "5654000000000012" "$org_label"
declare -A served=()
# plug NAME...: exactly these tokens are plugged in (the others are pulled out).
plug() {
	local n
	case "$mode" in
	inprocess)
		local states=()
		for n in "$@"; do states+=("$W/$n.state"); done
		use_inprocess "${states[@]}"
		;;
	pcsc)
		for n in "${!served[@]}"; do stop_pid "${served[$n]}"; done
		served=()
		for n in "$@"; do
			if [ "$n" = personal ]; then serve_token "$W/$n.state" "$port"; else serve_token "$W/$n.state" "$((port + 1))"; fi
			served[$n]=$SERVE_PID
		done
		wait_token $#
		;;
	esac
}
case "$mode" in
inprocess) ;;
pcsc)
	start_pcscd "$port"
	use_pcsc
	;;
*) fail "unknown mode $mode" ;;
esac
plug personal org

# slot_of LABEL: the slot id pkcs11-tool shows for the token with that label.
slot_of() {
	p11 -L | awk -v l="$1" '/^Slot [0-9]+ \(0x[0-9a-f]+\)/ { s = $3; gsub(/[()]/, "", s) }
		index($0, "token label") && index($0, l) { print s; exit }'
}
ps=$(slot_of "$personal_label")
os=$(slot_of "$org_label")
[ -n "$ps" ] && [ -n "$os" ] || fail "tokens not found: $(p11 -L)"
say "personal token in slot $ps, organisation token in slot $os"

step "personal RSA-2048 key generated on the official's token" \
	p11 --slot "$ps" --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "Chữ ký cá nhân"
# RSA for both: poppler 22.12's pdfsig sizes the signature placeholder from a trial
# signature, so a DER ECDSA signature (70-72 bytes, varying) fails it about half the time
# ("unable update signature"). ECDSA is covered by the pkcs11-tool and p11tool tests.
step "organisation RSA-3072 key generated on the clerk's token" \
	p11 --slot "$os" --login --pin "$PIN" --keypairgen --key-type rsa:3072 --id 01 --label "Con dấu cơ quan"
p11 --slot "$ps" --read-object --type pubkey --id 01 -o "$W/personal.pub.der" >/dev/null 2>&1
p11 --slot "$os" --read-object --type pubkey --id 01 -o "$W/org.pub.der" >/dev/null 2>&1

# A test CA issues both certificates (the real ones come from the government CA).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 60 -utf8 \
	-subj "/CN=vnpki demo CA/O=vnpki test/C=VN" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "openssl could not make the CA"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n' \
	>"$W/ext.cnf"
# issue NAME SUBJECT: a certificate for the token's public key $W/NAME.pub.der
issue() {
	openssl pkey -pubin -inform DER -in "$W/$1.pub.der" -out "$W/$1.pub.pem" &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
			-utf8 -subj "$2" -out "$W/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$W/$1.csr" -force_pubkey "$W/$1.pub.pem" -CA "$W/ca.pem" \
			-CAkey "$W/ca.key" -days 30 -extfile "$W/ext.cnf" -outform DER -out "$W/$1.crt" 2>/dev/null
}
issue personal "/CN=Nguyễn Văn An/O=Sở Khoa học và Công nghệ/L=Hưng Yên/C=VN" ||
	fail "could not issue the personal certificate"
issue org "/CN=Sở Khoa học và Công nghệ tỉnh Hưng Yên/O=UBND tỉnh Hưng Yên/C=VN" ||
	fail "could not issue the organisation certificate"
step "personal certificate written to the token" p11 --slot "$ps" --login --pin "$PIN" \
	--write-object "$W/personal.crt" --type cert --id 01 --label "Chữ ký cá nhân"
step "organisation certificate written to the token" p11 --slot "$os" --login --pin "$PIN" \
	--write-object "$W/org.crt" --type cert --id 01 --label "Con dấu cơ quan"

# NSS, as Firefox and pdfsig use it.
db="$W/nssdb"
mkdir -p "$db"
step "NSS database created" client certutil -N -d "sql:$db" --empty-password
step "module added with modutil (certificates public: FRIENDLY)" client modutil -force -dbdir "sql:$db" -add vnpki -libfile "$MODULE" -mechanisms FRIENDLY
step "modutil lists the module" client modutil -dbdir "sql:$db" -list vnpki
grep -q "$personal_label" "$W/step.out" || fail "modutil does not show the personal token"
step "CA trusted in the NSS database" client certutil -A -d "sql:$db" -n "vnpki demo CA" -t "CT,C,C" -i "$W/ca.pem"
step "NSS lists both token certificates as user certificates" client certutil -L -d "sql:$db" -h all
grep -q "$personal_label:Chữ ký cá nhân *u,u,u" "$W/step.out" || fail "personal certificate missing: $(cat "$W/step.out")"
grep -q "$org_label:Con dấu cơ quan *u,u,u" "$W/step.out" || fail "organisation certificate missing"

# A small one-page PDF.
make_pdf() {
	local out=$1 i off
	local stream='BT /F1 14 Tf 72 770 Td (Cong van so 01/2026 - vnpki demo) Tj ET'
	local -a obj=(
		''
		'<< /Type /Catalog /Pages 2 0 R >>'
		'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>'
		"<< /Length ${#stream} >>
stream
$stream
endstream"
		'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
	)
	local -a offs=()
	printf '%%PDF-1.7\n' >"$out"
	for i in 1 2 3 4 5; do
		offs[i]=$(stat -c %s "$out")
		printf '%d 0 obj\n%s\nendobj\n' "$i" "${obj[i]}" >>"$out"
	done
	off=$(stat -c %s "$out")
	{
		printf 'xref\n0 6\n0000000000 65535 f \n'
		for i in 1 2 3 4 5; do printf '%010d 00000 n \n' "${offs[i]}"; done
		printf 'trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' "$off"
	} >>"$out"
}
make_pdf "$W/document.pdf"
# pdfsig exits non-zero on a PDF without signatures: what it says is the check.
step "the unsigned PDF has no signature" bash -c "LD_PRELOAD=$san_preload pdfsig -nssdir 'sql:$db' '$W/document.pdf' || true"
grep -q "does not contain any signatures" "$W/step.out" || fail "unexpected: $(cat "$W/step.out")"

# As in an office: the official signs with their own token plugged in, then the clerk signs
# with the organisation's token. (pdfsig answers only one login per run with the password
# it is given, so each run sees just the token it signs with.)
plug personal
step "pdfsig signs with the personal key (1st signature)" client pdfsig -nssdir "sql:$db" -nss-pwd "$PIN" \
	-add-signature -nick "$personal_label:Chữ ký cá nhân" -kpw "$PIN" -new-signature-field-name personal \
	-reason "Người ký duyệt" "$W/document.pdf" "$W/signed-1.pdf"
plug org
step "pdfsig signs with the organisation key (2nd signature)" client pdfsig -nssdir "sql:$db" -nss-pwd "$PIN" \
	-add-signature -nick "$org_label:Con dấu cơ quan" -kpw "$PIN" -new-signature-field-name organisation \
	-reason "Văn thư đóng dấu" "$W/signed-1.pdf" "$W/signed-2.pdf"
plug

step "pdfsig verifies the signed PDF" client pdfsig -nssdir "sql:$db" "$W/signed-2.pdf"
cp "$W/step.out" "$W/verify.txt"
[ "$(grep -c 'Signature is Valid' "$W/verify.txt")" -eq 2 ] || fail "not two valid signatures: $(cat "$W/verify.txt")"
[ "$(grep -c 'Certificate is Trusted' "$W/verify.txt")" -eq 2 ] || fail "certificates not trusted: $(cat "$W/verify.txt")"
awk '/^Signature #1/ { s = 1 } /^Signature #2/ { s = 2 }
	/Signer Certificate Common Name/ { cn[s] = $0 } END {
	exit !(index(cn[1], "Nguyễn Văn An") && index(cn[2], "Sở Khoa học và Công nghệ tỉnh Hưng Yên")) }' \
	"$W/verify.txt" || fail "signature order is not personal, then organisation: $(cat "$W/verify.txt")"
grep -A12 '^Signature #2' "$W/verify.txt" | grep -q "Total document signed" ||
	fail "the organisation's signature does not cover the whole document"
say "two valid signatures: personal first, organisation last"

if [ -n "${VNP_DEMO_OUT:-}" ]; then
	mkdir -p "$VNP_DEMO_OUT"
	cp "$W/document.pdf" "$W/signed-1.pdf" "$W/signed-2.pdf" "$W/verify.txt" "$VNP_DEMO_OUT/"
	cat "$W/verify.txt"
fi
echo "1..$step_no"
