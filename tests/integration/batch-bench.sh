#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Figures of the hot signing path (issue 6), not a test: signatures per second with 1 and 8
# threads, RSA-2048 and P-256, pcscd round trips (reader calls) and APDUs per signature,
# through a pcscd of its own and `vnpki-vtoken serve --latency-ms L --sign-ms S` (a real
# token's timing; defaults 2 and 30), or in-process (no latency model: the module's own
# time). Mode opensc: the same through pcscd with OpenSC's PKCS#11 module on the virtual
# PIV card (RSA-2048 in 9A, P-256 in 9E), for comparison (no counters: OpenSC has no
# vendor interface). Usage: batch-bench.sh [pcsc|inprocess|opensc] [SECONDS];
# VNP_BUILD_DIR = the build tree; VNP_LATENCY_MS, VNP_SIGN_MS, VNP_THREADS (1,8),
# VNP_TEST_PORT (default 35991).
. "$(dirname "$0")/lib.sh"
mode=${1:-pcsc}
seconds=${2:-5}
port=${VNP_TEST_PORT:-35991}
lat=${VNP_LATENCY_MS:-2}
sms=${VNP_SIGN_MS:-30}
BENCH="$VNP_BUILD_DIR/tools/bench/vnpki-bench"
BATCH="$VNP_BUILD_DIR/tests/p11/test-p11-batch"
ids=()
[ "$mode" = opensc ] || new_token t "5654000000000091" "bench"
case "$mode" in
inprocess) use_inprocess "$W/t.state"; say "in-process virtual token, no latency model" ;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/t.state" "$port" --latency-ms "$lat" --sign-ms "$sms" ${VNP_SERVE_ARGS:-}
	use_pcsc
	wait_token 1
	say "pcscd + vpcd, vnpki-vtoken serve --latency-ms $lat --sign-ms $sms"
	;;
opensc)
	MODULE=${VNP_OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
	[ -f "$MODULE" ] || skip "no OpenSC module"
	printf 'app default {\n\tcard_drivers = PIV-II;\n\tframework pkcs15 {\n\t\tuse_file_caching = no;\n\t}\n}\n' >"$W/opensc.conf"
	export OPENSC_CONF="$W/opensc.conf" HOME="$W"
	"$VTOKEN" init --state "$W/t.state" --serial 5654000000000093 --label bench --pin "$PIN" \
		--profile piv --piv-key 9a:rsa2048 --piv-key 9e:p256 >"$W/init-t.log" 2>&1 ||
		fail "vnpki-vtoken init: $(cat "$W/init-t.log")"
	start_pcscd "$port"
	serve_token "$W/t.state" "$port" --latency-ms "$lat" --sign-ms "$sms" ${VNP_SERVE_ARGS:-}
	for i in $(seq 1 100); do
		pkcs11-tool --module "$MODULE" -L 2>/dev/null | grep -q 'token label' && break
		sleep 0.1
	done
	say "OpenSC $(basename "$MODULE") on the virtual PIV card, pcscd + vpcd, serve --latency-ms $lat --sign-ms $sms"
	ids=(--rsa-id 01 --ec-id 04)
	;;
*) fail "unknown mode $mode" ;;
esac
[ "$mode" = opensc ] ||
	"$BENCH" --module "$MODULE" --pin "$PIN" --setup --count 1 >/dev/null || fail "vnpki-bench --setup"
VNPKI_MODULE="$MODULE" "$BATCH" --bench --pin "$PIN" --seconds "$seconds" \
	--threads "${VNP_THREADS:-1,8}" "${ids[@]}" >"$W/bench.out" 2>&1 || st=$?
grep -v '^ok\|^not ok' "$W/bench.out"
[ "${st:-0}" = 0 ] || fail "a signature failed"
