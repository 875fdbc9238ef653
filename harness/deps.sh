#!/usr/bin/env bash
# Installs the Debian packages a tcpbed target needs, and only those that are
# missing. Idempotent: a second run installs nothing and says so.
#
#   harness/deps.sh TARGET...     targets: build demo test
#
# Each later capability adds its own target here (dpdk, ns3, fuzz) so a
# plain simulator build never pulls in DPDK or ns-3.
set -euo pipefail

declare -A PACKAGES=(
  [build]="gcc make binutils pkg-config libpcap-dev libinih-dev libjansson-dev libssl-dev"
  [demo]="gcc make binutils pkg-config libpcap-dev libinih-dev libjansson-dev libssl-dev tcpdump"
  [test]="gcc make binutils pkg-config libpcap-dev libinih-dev libjansson-dev libssl-dev libcmocka-dev tcpdump tshark valgrind python3 time iproute2 ethtool iputils-ping curl wrk nftables util-linux"
  [fuzz]="gcc make binutils pkg-config libpcap-dev libinih-dev libjansson-dev libssl-dev libcmocka-dev clang-14 libclang-rt-14-dev llvm-14 afl++"
)

if [ $# -eq 0 ]; then
  echo "usage: harness/deps.sh TARGET...   (targets: ${!PACKAGES[*]})" >&2
  exit 2
fi

wanted=()
for target in "$@"; do
  if [ -z "${PACKAGES[$target]+x}" ]; then
    echo "deps: unknown target '$target' (expected one of: ${!PACKAGES[*]})" >&2
    exit 2
  fi
  for pkg in ${PACKAGES[$target]}; do wanted+=("$pkg"); done
done

missing=()
for pkg in $(printf '%s\n' "${wanted[@]}" | sort -u); do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all packages for '$*' are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "deps: missing packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "deps: installing for '$*': ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, unattended.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
echo "deps: apt-get update"
$SUDO apt-get update -qq
echo "deps: apt-get install ${missing[*]}"
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/tcpbed-deps.log 2>&1; then
  echo "deps: apt-get install failed; the last lines of /tmp/tcpbed-deps.log:" >&2
  tail -20 /tmp/tcpbed-deps.log >&2
  exit 1
fi
echo "deps: installed ${missing[*]}"
