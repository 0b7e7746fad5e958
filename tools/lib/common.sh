# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by tools/run-tests and tools/run-demo: root, packages, build. Sourced.

# Debian 12 packages the build, the tests and the demo need.
VNP_PACKAGES=(
	gcc libc6-dev binutils pkg-config meson ninja-build procps
	libssl-dev openssl libpcsclite-dev pcscd libusb-1.0-0-dev libp11-kit-dev p11-kit p11-kit-modules
	libcmocka-dev python3 util-linux
	vsmartcard-vpcd opensc gnutls-bin libnss3-tools poppler-utils
	libengine-pkcs11-openssl python3-pykcs11 python3-cryptography firefox-esr
	zlib1g-dev
	umockdev libumockdev-dev
)

log() { printf '\n== %s\n' "$*"; }

# Re-run this script as root through sudo when we are not root.
vnp_ensure_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			log "re-running as root with sudo"
			exec sudo -E "$0" "$@"
		fi
		echo "error: run $0 as root or install sudo" >&2
		exit 2
	fi
}

# Install the packages that are missing (nothing when all are there).
vnp_install_packages() {
	local missing=() p
	for p in "${VNP_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "all ${#VNP_PACKAGES[@]} required Debian packages are installed"
		return 0
	fi
	log "installing ${#missing[@]} missing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# vnp_build DIR [meson options...]: configure (or reconfigure) and build.
vnp_build() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		log "reconfiguring $dir ($*)"
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		log "configuring $dir ($*)"
		meson setup "$dir" "$@"
	fi
	log "building $dir"
	ninja -C "$dir"
}

# A pcscd left over from an interrupted run of ours would make the pcsc tests skip.
vnp_warn_pcscd() {
	if pgrep -x pcscd >/dev/null 2>&1; then
		echo "note: a pcscd is running (pid $(pgrep -x pcscd | tr '\n' ' ')); the tests that need their own pcscd will be skipped" >&2
	fi
}
