#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PyKCS11 (python3-pykcs11) against the built module: pykcs11_check.py lists the slot and
# the token (UTF-8 label), logs in, signs with CKM_SHA256_RSA_PKCS and CKM_ECDSA, verifies
# with C_Verify and with python3-cryptography (or openssl), checks CKR_PIN_INCORRECT and
# the PIN counter flags, logs out. The keys are generated through the module by
# pkcs11-tool. MODE: inprocess (vtoken backend) or pcsc (pcscd + vpcd).
. "$(dirname "$0")/lib.sh"
need pkcs11-tool openssl
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY"
"$PY" -c 'import PyKCS11' 2>/dev/null || skip "PyKCS11 is not installed (Debian: python3-pykcs11)"

label="Nguyễn Văn An"
serial=5654000000000051
new_token t "$serial" "$label"
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

step "RSA-2048 key pair generated on the token (id 01)" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "Ký cá nhân"
step "EC P-256 key pair generated on the token (id 02)" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "ec256"

# The checks continue the TAP numbering, print the plan, and stop at the first mismatch.
if ! VNP_TAP_START=$step_no client "$PY" "$here/pykcs11_check.py" "$MODULE" "$label" "$serial" "$PIN" "$W"; then
	fail "pykcs11_check.py found a mismatch (see the 'not ok' line above)"
fi
