# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers for the integration tests. Sourced, not run.
#
# Each test gets its own work directory, its own virtual tokens and, when it needs
# pcscd, its own pcscd started in the foreground with a private reader.conf.d that
# holds only a vpcd reader. Everything started here is stopped by PID on exit.
#
# Environment: VNP_BUILD_DIR (the meson build directory; default: ../../build relative to
# this file).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${VNP_BUILD_DIR:=$here/../../build}"
VTOKEN="$VNP_BUILD_DIR/tools/vtoken/vnpki-vtoken"
PLUGIN="$VNP_BUILD_DIR/tools/vtoken/libvnpki-vtoken.so"
MODULE="$VNP_BUILD_DIR/pkcs11/libvnpki-pkcs11.so"
export VNPKI_VTOKEN_PLUGIN="$PLUGIN"
# client CMD...: run a client program that loads the module. In a sanitized build the
# clients (not built with the sanitizers) get the runtimes preloaded so that the module
# can be loaded; nothing else (pcscd, openssl, the virtual token) runs with them.
san_preload=
if [ "${VNP_SANITIZED:-0}" = 1 ]; then
	san_preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
fi
client() {
	if [ -n "$san_preload" ]; then
		LD_PRELOAD="$san_preload" "$@"
	else
		"$@"
	fi
}
PIN=123456
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

W=$(mktemp -d /tmp/vnpki-test.XXXXXX)
# The module's enumeration cache: one per test, never the user's.
export VNPKI_CACHE_DIR="$W/cache"
declare -a _pids=()
step_no=0

_cleanup() {
	local rc=$?
	local p
	for p in "${_pids[@]}"; do
		stop_pid "$p"
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		echo "# work directory kept: $W"
		for f in "$W"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f (last 20 lines)"
			tail -n 20 "$f" | sed 's/^/#   /'
		done
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "# $*"; }
fail() {
	echo "not ok - $*" >&2
	exit 1
}
skip() {
	echo "SKIP: $*"
	exit 77
}
# step "description" command...: run a command, report it, stop the test on failure.
step() {
	local what=$1
	shift
	step_no=$((step_no + 1))
	if "$@" >"$W/step.out" 2>&1; then
		echo "ok $step_no - $what"
	else
		echo "not ok $step_no - $what"
		sed 's/^/#   /' "$W/step.out" | tail -n 40
		exit 1
	fi
}
# step_fails "description" command...: the command must fail.
step_fails() {
	local what=$1
	shift
	step_no=$((step_no + 1))
	if "$@" >"$W/step.out" 2>&1; then
		echo "not ok $step_no - $what (it succeeded)"
		sed 's/^/#   /' "$W/step.out" | tail -n 40
		exit 1
	fi
	echo "ok $step_no - $what"
}
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (tools/run-tests installs it)"
	done
}

[ -x "$VTOKEN" ] || fail "no $VTOKEN: build first"
[ -f "$MODULE" ] || fail "no $MODULE: build first"

# The card profile the test's tokens get (VNP_PROFILE: vntoken, piv or sim; meson sets it
# per test). The test bodies are the same for every profile.
PROFILE=${VNP_PROFILE:-vntoken}
profile_args=()
[ "$PROFILE" = vntoken ] || profile_args=(--profile "$PROFILE")

# new_token NAME SERIAL LABEL [init options...]: personalise a virtual token at
# $W/NAME.state with the test's profile.
new_token() {
	local name=$1 serial=$2 label=$3
	shift 3
	"$VTOKEN" init --state "$W/$name.state" --serial "$serial" --label "$label" --pin "$PIN" \
		"${profile_args[@]}" "$@" >"$W/init-$name.log" 2>&1 ||
		fail "vnpki-vtoken init $name: $(cat "$W/init-$name.log")"
}

# profile_conf: the profile's own lines of vnpki.conf. PIV: the virtual card's default
# management key (key generation and certificate writes need it) and a cache directory
# of the test's own (the host copy of generated PIV public keys goes there).
profile_conf() {
	if [ "$PROFILE" = piv ]; then
		echo "cache.dir = $W/cache"
		echo "piv.management_key = 010203040506070801020304050607080102030405060708"
	fi
}

# use_inprocess STATE...: point the module at these virtual tokens, in-process.
use_inprocess() {
	local s
	{
		echo "readers = vtoken"
		echo "vtoken.plugin = $PLUGIN"
		for s in "$@"; do echo "vtoken.state = $s"; done
		profile_conf
	} >"$W/vnpki.conf"
	export VNPKI_CONF="$W/vnpki.conf"
}

# use_pcsc: point the module at pcscd only.
use_pcsc() {
	{
		echo "readers = pcsc"
		profile_conf
	} >"$W/vnpki.conf"
	export VNPKI_CONF="$W/vnpki.conf"
}

# start_pcscd PORT: our own pcscd, whose only reader is vpcd listening on PORT. The reader
# keeps vpcd's usual name, "Virtual PCD": ccid/pcsc.c knows it moves extended APDUs by it.
start_pcscd() {
	local port=$1 i
	need pcscd
	[ -e "$VPCD_DRIVER" ] || skip "vsmartcard-vpcd is not installed"
	[ "$(id -u)" -eq 0 ] || skip "pcscd tests need root (run tools/run-tests with sudo)"
	# One pcscd on the machine at a time: tests from several build trees (plain, ASan)
	# or work trees queue here. The lock goes with this script's process (fd 9).
	exec 9>/tmp/vnpki-pcscd-test.lock
	flock -w 1200 9 || fail "waited 20 minutes for another test's pcscd"
	if pgrep -x pcscd >/dev/null 2>&1; then
		skip "a pcscd is already running (pid $(pgrep -x pcscd | tr '\n' ' ')): these tests start their own and never share one that may see a real token"
	fi
	mkdir -p "$W/reader.conf.d"
	printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:%d\nLIBPATH %s\nCHANNELID %d\n' \
		"$port" "$VPCD_DRIVER" "$port" >"$W/reader.conf.d/vpcd"
	pcscd -f -c "$W/reader.conf.d" >"$W/pcscd.log" 2>&1 &
	_pids+=($!)
	PCSCD_PID=$!
	for i in $(seq 1 100); do
		[ -S /run/pcscd/pcscd.comm ] && return 0
		kill -0 "$PCSCD_PID" 2>/dev/null || fail "pcscd exited: $(cat "$W/pcscd.log")"
		sleep 0.1
	done
	fail "pcscd did not start"
}

# serve_token STATE PORT [serve options...]: attach a virtual token to vpcd.
serve_token() {
	local state=$1 port=$2
	shift 2
	"$VTOKEN" serve --state "$state" --port "$port" "$@" >>"$W/serve-$port.log" 2>&1 &
	_pids+=($!)
	SERVE_PID=$!
}

# stop_pid PID: stop one process we started (SIGTERM, then SIGKILL after 5 s) and reap it.
stop_pid() {
	local i
	kill "$1" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		# gone, or a zombie waiting to be reaped
		[ -e "/proc/$1" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_token N: wait until pkcs11-tool sees at least N tokens through the module.
wait_token() {
	local n=$1 i
	for i in $(seq 1 100); do
		if [ "$(client pkcs11-tool --module "$MODULE" -L 2>/dev/null | grep -c 'token label')" -ge "$n" ]; then
			return 0
		fi
		sleep 0.1
	done
	client pkcs11-tool --module "$MODULE" -L >&2 || true
	fail "the token did not show up"
}

p11() { client pkcs11-tool --module "$MODULE" "$@"; }
