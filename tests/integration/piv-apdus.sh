#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# APDUs per operation on a virtual PIV card with four certificates, extended length and
# short only, counted in the module's own APDU trace (piv_apdus.py): the figures are
# printed, and the budgets of the PIV driver are checked (APDU counts, not timings).
# MODE: inprocess only.
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PyKCS11' 2>/dev/null ||
	skip "python3-pykcs11 is not installed"
[ "${1:-inprocess}" = inprocess ] || fail "inprocess only"

# count FILE PHASE: the APDUs of a phase in piv_apdus.py's output
count() { grep -F "$2" "$1" | sed 's/.* \([0-9.]*\) APDUs.*/\1/' | head -n 1; }
# budget FILE PHASE MAX
budget() {
	local n
	n=$(count "$1" "$2")
	[ -n "$n" ] || fail "no figure for $2: $(cat "$1")"
	awk -v n="$n" -v m="$3" 'BEGIN { exit !(n <= m) }' ||
		fail "$2: $n APDUs, the budget is $3: $(cat "$1")"
}

for kind in extended short; do
	extra=()
	[ $kind = short ] && extra=(--short-only)
	new_token "$kind" "56540000000000A1" "piv figures" --piv-key 9a:rsa2048 --piv-key 9c:p256 \
		--piv-key 9d:p256 --piv-key 9e:p256 "${extra[@]}"
	use_inprocess "$W/$kind.state"
	rm -f "$W/$kind.trace"
	step "APDUs per operation, $kind length" env VNP_DEBUG=p11,apdu VNP_DEBUG_FILE="$W/$kind.trace" \
		LD_PRELOAD="$san_preload" /usr/bin/python3 "$here/piv_apdus.py" "$MODULE" "$PIN" "$W/$kind.trace"
	cp "$W/step.out" "$W/$kind.out"
	sed "s/^/# $kind: /" "$W/$kind.out"
	# SELECT (PIV first on a PIV ATR), CHUID, 4 certificates, the PIN counter (VERIFY
	# without data, for C_GetTokenInfo's flags); short: + 6 GET RESPONSE
	[ $kind = extended ] && budget "$W/$kind.out" "enumeration (cold)" 7
	[ $kind = short ] && budget "$W/$kind.out" "enumeration (cold)" 13
	budget "$W/$kind.out" "C_Login" 1
	[ $kind = extended ] && budget "$W/$kind.out" "C_Sign RSA-2048" 1
	[ $kind = short ] && budget "$W/$kind.out" "C_Sign RSA-2048" 3 # 2 chained + GET RESPONSE
	budget "$W/$kind.out" "C_Sign ECDSA P-256 (9E)" 1
	budget "$W/$kind.out" "C_Sign ECDSA P-256 (9C" 2 # VERIFY + GENERAL AUTHENTICATE
done
echo "1..$step_no"
