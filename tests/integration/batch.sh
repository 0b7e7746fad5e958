#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The hot signing path's budgets (issue 6), through pcscd or in-process, on a token that
# takes 5 ms per signature: a lone signature (1 thread) is one APDU and one reader call
# (through pcscd: one round trip, no transaction); 8 threads signing at once are
# coalesced into batches (fewer card operations than signatures), RSA-2048 and P-256.
# Prints the figures. MODE: inprocess or pcsc.
. "$(dirname "$0")/lib.sh"
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35992}
BENCH="$VNP_BUILD_DIR/tools/bench/vnpki-bench"
BATCH="$VNP_BUILD_DIR/tests/p11/test-p11-batch"
new_token t "5654000000000092" "batch"
case "$mode" in
inprocess)
	use_inprocess "$W/t.state"
	export VNPKI_VTOKEN_SIGN_MS=5
	;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/t.state" "$port" --sign-ms 5
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac
step "benchmark keys generated" "$BENCH" --module "$MODULE" --pin "$PIN" --setup --count 1
export VNPKI_MODULE="$MODULE"
step "one reader call per lone signature; 8 threads coalesced" "$BATCH" --bench --check \
	--pin "$PIN" --seconds 1 --threads 1,8
grep 'sig/s' "$W/step.out" | sed 's/^/# /'
echo "1..$step_no"
