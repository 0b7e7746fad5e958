#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vnpki-tool change-pin with the PINs in the environment and in files: a wrong old PIN exits 4
# and says how many tries are left, a new PIN outside the policy exits 2 and spends nothing,
# a locked PIN exits 5.
. "$(dirname "$0")/common.sh"

new_token t 5654000000000041 "Đổi PIN"
use_inprocess "$W/t.state"

expect_rc 4 "wrong old PIN" env VNPKI_PIN=000000 VNPKI_NEW_PIN=65432100 "$TOOL" change-pin
grep -q "tries left before the PIN locks: 2" "$W/step.out" || fail "no tries left: $(cat "$W/step.out")"
expect_rc 2 "new PIN too short (nothing sent)" env VNPKI_PIN=$PIN VNPKI_NEW_PIN=12 "$TOOL" change-pin
grep -q "6 to 16" "$W/step.out" || fail "no policy in: $(cat "$W/step.out")"
step "tries unchanged by the rejected new PIN" tool status
grep -q "PIN: *2 of 3 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
expect_rc 0 "change-pin from the environment" env VNPKI_PIN=$PIN VNPKI_NEW_PIN=65432100 "$TOOL" change-pin
grep -q "PIN changed" "$W/step.out" || fail "no confirmation"
step "status: counter back to 3, no longer initial" tool status
grep -q "PIN: *3 of 3 tries left" "$W/step.out" || fail "$(cat "$W/step.out")"
if grep -q "to be changed" "$W/step.out"; then fail "PIN still flagged as initial"; fi
step "the new PIN logs in" p11 --login --pin 65432100 --list-objects
step_fails "the old PIN does not" p11 --login --pin "$PIN" --list-objects

printf '65432100\n' >"$W/old.txt"
printf '11223344\n' >"$W/new.txt"
expect_rc 0 "change-pin from files" "$TOOL" change-pin --pin-file "$W/old.txt" --new-pin-file "$W/new.txt"
expect_rc 0 "--pin works but warns" "$TOOL" change-pin --pin 11223344 --new-pin 55667788
grep -q "warning: --pin puts the secret on the command line" "$W/step.out" || fail "no --pin warning"
expect_rc 2 "no terminal and no PIN source" setsid -w "$TOOL" change-pin </dev/null
if have_python; then
	pty() { /usr/bin/python3 "$(dirname "$0")/pty_run.py" "$@"; }
	expect_rc 2 "prompt: the two new PINs differ" pty "55667788|13572468|13572460" "$TOOL" change-pin
	grep -q "differ" "$W/step.out" || fail "$(cat "$W/step.out")"
	expect_rc 0 "prompt: PINs typed on the terminal" pty "55667788|13572468|13572468" "$TOOL" change-pin
	if grep -q "13572468\|55667788" "$W/step.out"; then fail "a PIN was echoed: $(cat "$W/step.out")"; fi
	expect_rc 0 "change back" env VNPKI_PIN=13572468 VNPKI_NEW_PIN=55667788 "$TOOL" change-pin
fi

for i in 1 2; do
	expect_rc 4 "wrong old PIN $i" env VNPKI_PIN=000000 VNPKI_NEW_PIN=65432100 "$TOOL" change-pin
done
# The try that locks the PIN answers "incorrect" or "locked", depending on the token.
rc=0
VNPKI_PIN=000000 VNPKI_NEW_PIN=65432100 "$TOOL" change-pin >"$W/step.out" 2>&1 || rc=$?
[ "$rc" -eq 4 ] || [ "$rc" -eq 5 ] || fail "third wrong PIN: exit $rc: $(cat "$W/step.out")"
grep -q "locked" "$W/step.out" || fail "the third wrong PIN does not say locked: $(cat "$W/step.out")"
expect_rc 5 "locked: even the right PIN" env VNPKI_PIN=55667788 VNPKI_NEW_PIN=65432100 "$TOOL" change-pin
grep -q "unblock-request" "$W/step.out" || fail "no hint: $(cat "$W/step.out")"
step "list shows LOCKED" tool list
grep -q "PIN: *LOCKED" "$W/step.out" || fail "$(cat "$W/step.out")"
echo "1..$step_no"
