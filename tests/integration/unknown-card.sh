#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A card with no applet we know (profile blank) next to a SIM PKI card: C_GetSlotList never
# fails, the blank card's slot shows no token, the log names its ATR, detection sent
# nothing but SELECTs to it (no PIN try, no write), and the SIM PKI slot works.
# MODE: inprocess or pcsc (pcsc: the blank card alone).
. "$(dirname "$0")/lib.sh"
need pkcs11-tool
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35972}
BLANK_ATR="3B 8B 80 01 56 4E 50 4B 49 2D 42 4C 41 4E 4B"

PROFILE=blank profile_args=(--profile blank)
new_token blank "5654000000000041" "blank card"
case "$mode" in
inprocess)
	PROFILE=sim profile_args=(--profile sim)
	new_token sim "5654000000000042" "SIM beside"
	use_inprocess "$W/blank.state" "$W/sim.state"
	;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/blank.state" "$port" --trace "$W/blank.trace"
	use_pcsc
	# pcscd powers the card on once it sees it
	for i in $(seq 1 100); do
		grep -qs "power on" "$W/blank.trace" && break
		sleep 0.1
	done
	;;
*) fail "unknown mode $mode" ;;
esac

export VNP_DEBUG=card,apdu VNP_DEBUG_FILE="$W/module.log"
step "-L succeeds with the unknown card present" p11 -L
cp "$W/step.out" "$W/list.out"
unset VNP_DEBUG VNP_DEBUG_FILE
! grep -q "blank card" "$W/list.out" || fail "the blank card shows a token: $(cat "$W/list.out")"
grep -q "^ *(empty)" "$W/list.out" || fail "the blank card's slot should say (empty): $(cat "$W/list.out")"
step "the log names the unknown card's ATR" grep -q "unknown card, ATR $BLANK_ATR" "$W/module.log"
# Every command the module sent during detection is a SELECT by AID.
# Every command the module sent to the blank card (slot 0) is a SELECT by AID.
step "detection sent SELECTs only" bash -c \
	"! grep -- 'slot0 -> ' '$W/module.log' | grep -v -- '-> 00 A4 04 00'"
[ "$(grep -c -- 'slot0 -> 00 A4 04 00' "$W/module.log")" -ge 3 ] ||
	fail "expected SELECTs for the three applets: $(grep -- '-> ' "$W/module.log")"
if [ "$mode" = pcsc ]; then
	step "the card saw SELECTs only" bash -c \
		"! grep -- '-> ' '$W/blank.trace' | grep -v -- '-> 00 A4 04 00'"
	grep -q "(empty)" "$W/list.out" || fail "the slot should show no token: $(cat "$W/list.out")"
else
	grep -q "SIM beside" "$W/list.out" || fail "the SIM PKI token is missing: $(cat "$W/list.out")"
	step "the SIM PKI token beside it signs" p11 --login --pin "$PIN" --keypairgen \
		--key-type EC:prime256v1 --id 01 --label beside
	step "a second -L still succeeds and lists one token" p11 -L
	[ "$(grep -c 'token label' "$W/step.out")" = 1 ] || fail "one token expected: $(cat "$W/step.out")"
fi
echo "1..$step_no"
