#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The signing path's APDU budget on the vntoken applet: in steady state (session open,
# logged in, key known) one C_Sign is one APDU (SIGN, naming key and scheme), for
# RSA-2048 and P-256; and C_Initialize..C_FindObjects costs two. Prints the figures of
# vnpki-bench. MODE: inprocess or pcsc.
. "$(dirname "$0")/lib.sh"
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}
BENCH="$VNP_BUILD_DIR/tools/bench/vnpki-bench"
new_token t "5654000000000021" "bench"
case "$mode" in
inprocess) use_inprocess "$W/t.state" ;;
pcsc)
	need pkcs11-tool
	start_pcscd "$port"
	serve_token "$W/t.state" "$port" --stats "$W/stats.json"
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac
step "benchmark keys generated" "$BENCH" --module "$MODULE" --pin "$PIN" --setup --count 1
# Enumeration on a token without certificates: SELECT and GET DIRECTORY, nothing else.
step "enumeration costs two APDUs; a steady-state signature one" "$BENCH" --module "$MODULE" \
	--pin "$PIN" --count 10 --max-enum-apdus 2 --max-sign-apdus 1
sed 's/^/# /' "$W/step.out"
echo "1..$step_no"
