#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Firefox ESR loads the module the way a user's browser does: a fresh profile whose NSS
# database has the module added by modutil (pkcs11.txt), a token with a key and a
# certificate, a headless start that takes a screenshot of about:blank and exits by
# itself. The module's trace must show C_Initialize, the token enumerated
# (C_GetTokenInfo), every call answered as expected, and C_Finalize at exit (clean
# unload, no crash). Prints the module's start-up cost (time and APDUs in the trace) and
# Firefox's start-up time with and without the module (medians of 3; printed, not
# asserted). MODE: inprocess (default) or pcsc.
. "$(dirname "$0")/lib.sh"
need pkcs11-tool p11tool openssl certutil modutil
FIREFOX=$(command -v firefox-esr || command -v firefox || true)
[ -n "$FIREFOX" ] || skip "firefox-esr is not installed (tools/run-tests installs it)"
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}

label="Nguyễn Văn An"
new_token t "5654000000000051" "$label"
case "$mode" in
inprocess) use_inprocess "$W/t.state" ;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/t.state" "$port"
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac

# A token as it is handed out: a key pair and its certificate.
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 01 --label "Chữ ký số"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca.key" \
	-out "$W/ca.pem" -days 30 -subj "/CN=vnpki test CA" 2>/dev/null || fail "openssl: CA"
GNUTLS_PIN=$PIN client p11tool --provider "$MODULE" --login --export-pubkey "pkcs11:id=%01;type=public" \
	--outfile "$W/pub.pem" >/dev/null 2>&1 || fail "could not read the public key"
openssl x509 -new -force_pubkey "$W/pub.pem" -subj "/CN=Nguyen Van An/C=VN" -CA "$W/ca.pem" \
	-CAkey "$W/ca.key" -days 30 -outform DER -out "$W/cert.der" 2>/dev/null ||
	fail "openssl could not make the certificate"
step "certificate written to the token" p11 --login --pin "$PIN" --write-object "$W/cert.der" \
	--type cert --id 01 --label "Chữ ký số"

# new_profile DIR: a Firefox profile that starts without touching the network and shuts
# down completely (fastShutdownStage 0: NSS is shut down, so the module is finalized).
new_profile() {
	mkdir -p "$1"
	client certutil -N -d "sql:$1" --empty-password >"$W/certutil.log" 2>&1 ||
		fail "certutil -N: $(cat "$W/certutil.log")"
	cat >"$1/user.js" <<'EOF'
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.region.update.enabled", false);
user_pref("browser.search.update", false);
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.archive.enabled", false);
user_pref("toolkit.telemetry.server", "");
user_pref("toolkit.shutdown.fastShutdownStage", 0);
user_pref("toolkit.shutdown.lateWriteChecksStage", 0);
user_pref("network.proxy.type", 0);
user_pref("network.dns.disableIPv6", true);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("security.OCSP.enabled", 0);
user_pref("security.remote_settings.crlite_filters.enabled", false);
user_pref("services.settings.server", "");
EOF
}
# firefox PROFILE OUT: one headless start that screenshots about:blank and exits; the exit
# code is left in $ff_rc, the wall time (ms) in $ff_ms.
firefox() {
	local t0 t1
	rm -f "$2.png"
	t0=$(date +%s%N)
	set +e
	HOME="$W/home" MOZ_HEADLESS=1 MOZ_CRASHREPORTER_DISABLE=1 timeout 120 \
		"$FIREFOX" --headless --no-remote --profile "$1" --screenshot "$2.png" about:blank \
		>"$2.log" 2>&1
	ff_rc=$?
	set -e
	t1=$(date +%s%N)
	ff_ms=$(((t1 - t0) / 1000000))
}
mkdir -p "$W/home"
new_profile "$W/prof"
step "module added to the profile with modutil" client modutil -force -dbdir "sql:$W/prof" \
	-add vnpki -libfile "$MODULE"
grep -q "^library=$MODULE" "$W/prof/pkcs11.txt" || fail "pkcs11.txt does not name the module"
# modutil exits 1 when a slot is empty (vpcd's second reader in pcsc mode): the listing
# is the check.
step "modutil lists the token" bash -c "LD_PRELOAD=$san_preload modutil -dbdir 'sql:$W/prof' -list vnpki || true"
grep -q "$label" "$W/step.out" || fail "modutil does not show the token: $(cat "$W/step.out")"
new_profile "$W/plain"

# Firefox runs as a normal program: in a sanitized build the module needs the runtimes
# preloaded into Firefox, whose own allocator does not get along with ASan's.
if [ -n "$san_preload" ]; then
	skip "Firefox cannot run with the sanitizer runtimes preloaded; the plain build runs this test"
fi

trace="$W/trace.txt"
rm -f "$trace"
VNP_DEBUG=p11,apdu VNP_DEBUG_FILE="$trace" firefox "$W/prof" "$W/ff-traced"
step_no=$((step_no + 1))
if [ "$ff_rc" -eq 0 ] || { [ "$ff_rc" -lt 124 ] && [ -s "$W/ff-traced.png" ]; }; then
	echo "ok $step_no - Firefox started with the module, took the screenshot and exited ($ff_rc, $ff_ms ms)"
else
	echo "not ok $step_no - Firefox with the module (exit $ff_rc)"
	tail -n 30 "$W/ff-traced.log" | sed 's/^/#   /'
	exit 1
fi
[ -s "$W/ff-traced.png" ] || fail "no screenshot"
! grep -qiE "Crash Annotation|ExceptionHandler|segmentation fault|AddressSanitizer|runtime error|Assertion failure" "$W/ff-traced.log" ||
	fail "Firefox reported a crash: $(tail -n 20 "$W/ff-traced.log")"
[ ! -d "$W/prof/minidumps" ] || [ -z "$(ls -A "$W/prof/minidumps")" ] || fail "Firefox left a minidump"
[ -s "$trace" ] || fail "the module wrote no trace: Firefox did not load it"

# The trace: one process (the parent) loads the module.
step_no=$((step_no + 1))
pids=$(sed -n 's/^vnpki\[\([0-9]*\)\/.*/\1/p' "$trace" | sort -u | wc -l)
[ "$pids" -eq 1 ] || fail "the module was loaded by $pids processes"
grep -q '^vnpki\[[0-9/]*\] +[0-9]*us C_Initialize(.*) = CKR_OK$' "$trace" ||
	fail "no C_Initialize = CKR_OK in the trace: $(head -n 5 "$trace")"
grep -qE 'C_GetTokenInfo\(slotID=[0-9]+\) = CKR_OK$' "$trace" || fail "Firefox did not read the token's info"
grep -qF "token \"$label\"" "$trace" || fail "the trace does not show our token"
tail -n 1 "$trace" | grep -q 'C_Finalize(.*) = CKR_OK$' ||
	fail "the last call is not C_Finalize = CKR_OK (no clean unload): $(tail -n 3 "$trace")"
[ "$(grep -c 'C_Initialize(' "$trace")" -eq 1 ] && [ "$(grep -c 'C_Finalize(' "$trace")" -eq 1 ] ||
	fail "C_Initialize/C_Finalize not called exactly once each"
echo "ok $step_no - trace: C_Initialize, token enumerated, C_Finalize last (clean unload)"
# Every call answered CKR_OK, but the ones NSS probes for: C_SeedRandom (the token has
# no seedable RNG) and size queries.
step_no=$((step_no + 1))
bad=$(grep -E '= CKR_[A-Z_]+$' "$trace" | grep -vE '= CKR_OK$' |
	grep -vE 'C_SeedRandom\(.*= CKR_RANDOM_SEED_NOT_SUPPORTED$' | grep -vE '= CKR_BUFFER_TOO_SMALL$' || true)
[ -z "$bad" ] || fail "unexpected answers in Firefox's session: $bad"
grep -qE 'slot[0-9]+ <- .*\(SW 9000\)$' "$trace" || fail "no APDU answered 9000"
! grep -qE 'slot[0-9]+ <- .*\(SW (6[0-9A-F]{3}|9[1-9A-F][0-9A-F]{2})\)$' "$trace" ||
	fail "an APDU failed: $(grep -E '\(SW [^9]' "$trace" | head -n 3)"
echo "ok $step_no - every call in Firefox's session answered as expected, every APDU 9000"

# Start-up cost: the lines from C_Initialize until the shutdown calls (C_CloseAllSessions,
# C_Finalize) or the first pause of 250 ms or more, whichever comes first. Each line
# carries the time since the previous one.
read -r up_us up_apdus up_lines < <(awk '
	{ if (!match($0, /\+[0-9]+us /)) next
	  d = substr($0, RSTART + 1, RLENGTH - 4) + 0 }
	!started { if ($0 ~ / C_Initialize\(/) started = 1; else next; d = 0 }
	/ C_CloseAllSessions\(| C_Finalize\(/ || d >= 250000 { exit }
	{ us += d; lines++; if ($0 ~ / -> /) apdus++ }
	END { printf "%d %d %d\n", us, apdus, lines }' "$trace")
all_apdus=$(grep -c ' -> ' "$trace" || true)
[ "$up_lines" -gt 3 ] || fail "could not measure the start-up in the trace"
printf '# firefox: module start-up %d.%03d ms, %d APDUs (%d trace lines; %d APDUs in the whole session)\n' \
	$((up_us / 1000)) $((up_us % 1000)) "$up_apdus" "$up_lines" "$all_apdus"

# Firefox start-up with and without the module: 3 runs each (after one untimed start of
# the plain profile, as the traced run was for the other), medians printed.
firefox "$W/plain" "$W/ff-warm"
[ "$ff_rc" -eq 0 ] || fail "Firefox without the module exited $ff_rc: $(tail -n 10 "$W/ff-warm.log")"
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
with=() without=()
for i in 1 2 3; do
	firefox "$W/prof" "$W/ff-with-$i"
	[ "$ff_rc" -eq 0 ] && [ -s "$W/ff-with-$i.png" ] || fail "Firefox with the module, run $i: exit $ff_rc"
	with+=("$ff_ms")
	firefox "$W/plain" "$W/ff-without-$i"
	[ "$ff_rc" -eq 0 ] && [ -s "$W/ff-without-$i.png" ] || fail "Firefox without the module, run $i: exit $ff_rc"
	without+=("$ff_ms")
done
say "firefox: start-to-exit with the module $(median "${with[@]}") ms (runs ${with[*]}), without $(median "${without[@]}") ms (runs ${without[*]}), medians of 3, $mode"
echo "1..$step_no"
