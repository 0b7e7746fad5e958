#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/bench-compare --smoke (tiny counts, no timing model) on this build: it must run end to
# end (pcscd, vpcd, the virtual cards, vnpki-bench on our module and, with a virtual PIV card,
# on OpenSC's) and print a well-formed table. Checks the form and that measured cells hold
# numbers, never a speed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${VNP_BUILD_DIR:=$here/../../build}"
out=$(mktemp /tmp/vnpki-bench-smoke.XXXXXX)
json=$(mktemp /tmp/vnpki-bench-smoke-json.XXXXXX)
trap 'rm -f "$out" "$json"' EXIT
rc=0
VNP_TEST_PORT=${VNP_TEST_PORT:-35992} "$here/../../tools/bench-compare" --smoke \
	--build-dir "$VNP_BUILD_DIR" --json "$json" >"$out" 2>&1 || rc=$?
sed 's/^/# /' "$out"
[ "$rc" -ne 77 ] || { grep -m1 '^SKIP' "$out" || echo "SKIP: bench-compare skipped"; exit 77; }
n=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fail=1; fi
}
fail=0
check "bench-compare exits 0" '[ "$rc" -eq 0 ]'
check "the comparison table has its header" \
	'grep -q "^| step .*| *ours | *OpenSC | ours/OpenSC |$" "$out"'
check "the vntoken table has its header" 'grep -q "^| step .*| *ours |$" "$out"'
check "every table row has the columns of its header" \
	'awk -F"|" "/^\\| /{ if (NF != 4 && NF != 6) bad=1 } END { exit bad }" "$out"'
check "warm enumeration on vntoken: a number of APDUs" \
	'grep -Eq "^\| enumeration, warm: APDUs +\| +[0-9]+ \|$" "$out"'
check "vntoken signatures/s for all three mechanisms, 1 and 2 threads" \
	'[ "$(grep -Ec "^\| (RSA-2048 SHA256-PKCS#1|RSA-2048 SHA256-PSS|ECDSA P-256 SHA256), [12] thr: signatures/s +\| +[0-9]+\.[0-9]" "$out")" -ge 6 ]'
check "the targets are printed" \
	'grep -q "^targets" "$out" && grep -Eq "^  - .*: (met|NOT met|n/a)$" "$out"'
check "--json wrote the runs" \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"runs\"][\"vt-cold\"][\"sign\"]" "$json"'
check "OpenSC was measured on the PIV card" \
	'grep -Eq "^\| RSA-2048 SHA256-PKCS#1, 1 thr: signatures/s +\| +[0-9.]+ \| +[0-9.]+ \|" "$out"'
echo "1..$n"
exit "$fail"
