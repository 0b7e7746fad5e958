#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The module through p11-kit, without touching the system:
#  (a) `meson install --destdir` puts the module and vnpki.module where p11-kit looks
#      (pkg-config p11-kit-1: p11_module_path, p11_module_configs);
#  (b) p11-kit loads it from a user configuration: p11-kit list-modules, p11tool and
#      pkcs11-tool through p11-kit-proxy. p11-kit skips user configuration for root
#      ("skipping user config in program running as root") and has no variable to point
#      it elsewhere, so this part runs as nobody with HOME in the work directory;
#  (c) p11-kit server exports the token on a socket; pkcs11-tool signs through
#      p11-kit-client.so, verified by openssl.
# MODE: inprocess or pcsc. A part whose programs are missing is skipped with a note.
. "$(dirname "$0")/lib.sh"
need p11-kit pkcs11-tool openssl p11tool
mode=${1:-inprocess}
port=${VNP_TEST_PORT:-35963}
libdir=$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/libp11-kit.so.0 2>/dev/null ||
	find /usr/lib* -name 'libp11-kit.so.0' -print -quit)")
PROXY=$libdir/p11-kit-proxy.so
CLIENT=$libdir/pkcs11/p11-kit-client.so

label="Phạm Văn Cường"
serial=5654000000000041
# The token lives in $W/u, which nobody owns in part (b): the virtual token rewrites its state
# file atomically beside it.
mkdir -p "$W/u"
"$VTOKEN" init --state "$W/u/t.state" --serial "$serial" --label "$label" --pin "$PIN" \
	>"$W/init.log" 2>&1 || fail "vnpki-vtoken init: $(cat "$W/init.log")"
case "$mode" in
inprocess)
	use_inprocess "$W/u/t.state"
	;;
pcsc)
	start_pcscd "$port"
	serve_token "$W/u/t.state" "$port"
	use_pcsc
	wait_token 1
	;;
*) fail "unknown mode $mode" ;;
esac

step "RSA-2048 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label "rsa"
step "EC P-256 key pair generated on the token" \
	p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --id 02 --label "ec"
step "read the RSA public key" p11 --read-object --type pubkey --id 01 -o "$W/rsa.der"
openssl pkey -pubin -inform DER -in "$W/rsa.der" -out "$W/rsa.pem" || fail "RSA public key is not DER SPKI"
# pkcs11-tool 0.23 mishandles EC public keys of its own (see pkcs11-tool.sh): p11tool exports it.
step "read the EC public key (p11tool)" env GNUTLS_PIN="$PIN" ${san_preload:+LD_PRELOAD="$san_preload"} \
	p11tool --provider "$MODULE" --login --export-pubkey "pkcs11:id=%02;type=public" --outfile "$W/ec.pem"
openssl pkey -pubin -in "$W/ec.pem" -noout || fail "EC public key does not parse"
head -c 2000 /dev/urandom >"$W/data"

# ---- (a) meson install --destdir
if command -v meson >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 &&
	pkg-config --exists p11-kit-1; then
	mpath=$(pkg-config --variable=p11_module_path p11-kit-1)
	mconf=$(pkg-config --variable=p11_module_configs p11-kit-1)
	[ -n "$mpath" ] && [ -n "$mconf" ] || fail "p11-kit-1.pc lacks p11_module_path or p11_module_configs"
	# --no-rebuild: the test only reads the build directory.
	step "meson install --destdir" meson install -C "$VNP_BUILD_DIR" --destdir "$W/dest" --no-rebuild
	[ -f "$W/dest$mpath/libvnpki-pkcs11.so" ] ||
		fail "the module is not in p11-kit's module path $mpath: $(cd "$W/dest" && find . -name '*.so*')"
	[ -f "$W/dest$mconf/vnpki.module" ] ||
		fail "vnpki.module is not in p11-kit's config dir $mconf: $(cd "$W/dest" && find . -name '*.module')"
	modline=$(sed -n 's/^module:[[:space:]]*//p' "$W/dest$mconf/vnpki.module")
	case "$modline" in
	/*) [ "$modline" = "$mpath/libvnpki-pkcs11.so" ] || fail "vnpki.module names $modline" ;;
	*) [ -f "$W/dest$mpath/$modline" ] || fail "vnpki.module names $modline, which is not in $mpath" ;;
	esac
	say "installed: $mpath/libvnpki-pkcs11.so and $mconf/vnpki.module (module: $modline)"
	step "the installed module works" client pkcs11-tool --module "$W/dest$mpath/libvnpki-pkcs11.so" -L
	grep -q "$label" "$W/step.out" || fail "the installed module does not show the token: $(cat "$W/step.out")"
	modfile="$W/dest$mconf/vnpki.module"
else
	say "SKIP (a): meson, pkg-config or p11-kit-1.pc missing"
	modfile="$here/../../pkcs11/vnpki.module"
fi

# ---- (b) p11-kit loads the module from a user configuration, as nobody
nobody_ok=1
command -v setpriv >/dev/null 2>&1 || nobody_ok=0
id nobody >/dev/null 2>&1 || nobody_ok=0
[ "$(id -u)" -eq 0 ] || nobody_ok=0
if [ "$nobody_ok" = 1 ]; then
	home="$W/u/home"
	mkdir -p "$home/.config/pkcs11/modules"
	# The installed file, with the module named by its absolute path in the build directory.
	sed "s|^module:.*|module: $MODULE|" "$modfile" >"$home/.config/pkcs11/modules/vnpki.module"
	# Only the user's modules: no system module (OpenSC would probe the same reader).
	echo "user-config: only" >"$home/.config/pkcs11/pkcs11.conf"
	cp "$W/vnpki.conf" "$W/u/vnpki.conf"
	chmod 711 "$W"
	chown -R nobody:nogroup "$W/u" 2>/dev/null || chown -R nobody "$W/u"
	# as_nobody CMD...: run a client as nobody, with its own HOME.
	as_nobody() {
		client setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
			env HOME="$home" VNPKI_CONF="$W/u/vnpki.conf" GNUTLS_PIN="$PIN" "$@"
	}
	step "p11-kit list-modules (as nobody) shows the module and the token" as_nobody p11-kit list-modules
	grep -q "^vnpki: $MODULE" "$W/step.out" || fail "module vnpki not listed: $(cat "$W/step.out")"
	grep -q "token: $label" "$W/step.out" || fail "token not listed: $(cat "$W/step.out")"
	grep -q "serial-number: $serial" "$W/step.out" || fail "token serial not listed"
	grep -q "user-pin-initialized" "$W/step.out" || fail "token flags not listed"
	[ "$(grep -c '^[^ ].*: ' "$W/step.out")" -eq 1 ] || fail "other modules loaded: $(cat "$W/step.out")"
	step "p11tool --list-tokens (p11-kit-proxy, as nobody) shows the token" as_nobody p11tool --list-tokens
	grep -q "Label: $label" "$W/step.out" || fail "token not listed: $(cat "$W/step.out")"
	grep -q "Module: $MODULE" "$W/step.out" || fail "token not from the module: $(cat "$W/step.out")"
	url=$(grep -m1 "URL: pkcs11:.*serial=$serial" "$W/step.out" | sed 's/.*URL: //')
	[ -n "$url" ] || fail "no token URL"
	step "p11tool --test-sign RSA through p11-kit-proxy" as_nobody p11tool --login --test-sign "$url;object=rsa;type=private"
	grep -q "Verifying against public key in the token... ok" "$W/step.out" || fail "RSA: $(cat "$W/step.out")"
	step "p11tool --test-sign ECDSA through p11-kit-proxy" as_nobody p11tool --login --test-sign "$url;object=ec;type=private"
	grep -q "Verifying against public key in the token... ok" "$W/step.out" || fail "ECDSA: $(cat "$W/step.out")"
	if [ -f "$PROXY" ]; then
		step "pkcs11-tool -L through p11-kit-proxy.so (as nobody)" as_nobody pkcs11-tool --module "$PROXY" -L
		grep -q "token label *: $label" "$W/step.out" || fail "token not listed: $(cat "$W/step.out")"
		step "pkcs11-tool signs through p11-kit-proxy.so (as nobody)" as_nobody pkcs11-tool --module "$PROXY" \
			--token-label "$label" --login --pin "$PIN" --sign -m SHA256-RSA-PKCS --id 01 -i "$W/data" -o "$W/u/proxy.sig"
		openssl dgst -sha256 -verify "$W/rsa.pem" -signature "$W/u/proxy.sig" "$W/data" >/dev/null ||
			fail "openssl does not verify the signature made through p11-kit-proxy"
	else
		say "SKIP (b) p11-kit-proxy: $PROXY missing"
	fi
	chown -R root:root "$W/u"
else
	say "SKIP (b): needs root, setpriv and the user nobody (p11-kit ignores user configuration for root)"
fi

# ---- (c) p11-kit server + p11-kit-client.so
if [ -f "$CLIENT" ]; then
	# The token's URI, percent-encoded as p11-kit wants it.
	url="pkcs11:serial=$serial;token=$(printf '%s' "$label" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g')"
	mkdir -m 700 "$W/run"
	# env execs p11-kit: $! is the server's own PID. -f: it stays in the foreground, ours.
	env ${san_preload:+LD_PRELOAD="$san_preload"} XDG_RUNTIME_DIR="$W/run" \
		p11-kit server -f --provider "$MODULE" "$url" >"$W/server.log" 2>&1 &
	server_pid=$!
	_pids+=("$server_pid")
	for _ in $(seq 1 100); do
		grep -q '^P11_KIT_SERVER_PID=' "$W/server.log" && break
		kill -0 "$server_pid" 2>/dev/null || fail "p11-kit server exited: $(cat "$W/server.log")"
		sleep 0.1
	done
	addr=$(sed -n 's/^P11_KIT_SERVER_ADDRESS=\([^;]*\);.*/\1/p' "$W/server.log")
	spid=$(sed -n 's/^P11_KIT_SERVER_PID=\([0-9]*\);.*/\1/p' "$W/server.log")
	[ -n "$addr" ] && [ "$spid" = "$server_pid" ] || fail "p11-kit server printed: $(cat "$W/server.log")"
	[ -S "${addr#unix:path=}" ] || fail "no socket at $addr"
	say "p11-kit server $spid on $addr"
	# The clients do not load the module: no VNPKI_CONF, no preload.
	remote() { env -u VNPKI_CONF P11_KIT_SERVER_ADDRESS="$addr" pkcs11-tool --module "$CLIENT" "$@"; }
	step "pkcs11-tool -L through p11-kit-client.so" remote -L
	grep -q "token label *: $label" "$W/step.out" || fail "token not listed: $(cat "$W/step.out")"
	grep -q "serial num *: $serial" "$W/step.out" || fail "serial not listed: $(cat "$W/step.out")"
	step "pkcs11-tool -O through p11-kit-client.so" remote -O
	grep -q "label: *rsa" "$W/step.out" || fail "RSA public key not listed: $(cat "$W/step.out")"
	step "sign SHA256-RSA-PKCS through p11-kit-client.so" remote --login --pin "$PIN" --sign -m SHA256-RSA-PKCS \
		--id 01 -i "$W/data" -o "$W/remote.sig"
	openssl dgst -sha256 -verify "$W/rsa.pem" -signature "$W/remote.sig" "$W/data" >/dev/null ||
		fail "openssl does not verify the signature made through p11-kit server"
	# p11-kit 0.24's RPC knows a fixed list of mechanisms: p11-kit-client drops the others
	# (CKM_ECDSA_SHA224..512, CKM_SHA*_RSA_PKCS_PSS, CKM_SHA224_RSA_PKCS) from the mechanism list
	# and refuses them (CKR_MECHANISM_INVALID) before anything reaches the server. The raw
	# CKM_ECDSA and CKM_RSA_PKCS_PSS over a hash go through.
	step "pkcs11-tool -M through p11-kit-client.so" remote -M
	for m in SHA256-RSA-PKCS RSA-PKCS-PSS ECDSA ECDSA-KEY-PAIR-GEN; do
		grep -q "^ *$m," "$W/step.out" || fail "-M through the client lacks $m: $(cat "$W/step.out")"
	done
	openssl dgst -sha256 -binary "$W/data" >"$W/hash"
	step "sign RSA-PKCS-PSS (raw hash) through p11-kit-client.so" remote --login --pin "$PIN" --sign \
		-m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 01 -i "$W/hash" -o "$W/remote-pss.sig"
	openssl pkeyutl -verify -pubin -inkey "$W/rsa.pem" -in "$W/hash" -sigfile "$W/remote-pss.sig" \
		-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest >/dev/null ||
		fail "openssl does not verify the PSS signature made through p11-kit server"
	step "sign ECDSA (raw hash) through p11-kit-client.so" remote --login --pin "$PIN" --sign -m ECDSA \
		--id 02 -i "$W/hash" -o "$W/remote-ec.sig" --signature-format openssl
	openssl pkeyutl -verify -pubin -inkey "$W/ec.pem" -in "$W/hash" -sigfile "$W/remote-ec.sig" >/dev/null ||
		fail "openssl does not verify the ECDSA signature made through p11-kit server"
	step_fails "a wrong PIN through p11-kit-client.so is refused" remote --login --pin 999999 -O
	grep -q CKR_PIN_INCORRECT "$W/step.out" || fail "expected CKR_PIN_INCORRECT: $(cat "$W/step.out")"
	stop_pid "$server_pid"
	[ ! -e "${addr#unix:path=}" ] || fail "p11-kit server left its socket behind"
	step_fails "the client sees nothing once the server is stopped" remote -L
else
	say "SKIP (c): $CLIENT missing (p11-kit-modules)"
fi
echo "1..$step_no"
