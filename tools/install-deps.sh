#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs, idempotently, every Debian 12 package uvswitch needs to build, run and test.
#
# Usage: tools/install-deps.sh [--runtime]   (--runtime: only what building and running needs)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  clang lld libclang-rt-14-dev          # libFuzzer and the sanitizer runtimes
  libslirp-dev libglib2.0-dev libpcap-dev libseccomp-dev libcli11-dev doctest-dev   # slirp.pc requires glib-2.0.pc
  libtomlplusplus-dev nlohmann-json3-dev
)
test_pkgs=(
  qemu-system-x86 qemu-utils           # real guests (TCG)
  dpdk dpdk-dev                        # dpdk-testpmd as a virtio-user peer
  tshark iperf3 slirp4netns passt
  netsniff-ng                          # mausezahn: MAC floods in the port security test
  ethtool                              # the offload tests read a tap's and veth's offload flags
  busybox-static cpio kmod iproute2 procps iputils-ping
  socat netcat-openbsd python3        # python3: the script tests parse JSON replies
  man-db systemd                      # the package test: man -l, systemd-analyze verify
  prometheus prometheus-node-exporter  # promtool check metrics; the textfile collector
  libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu   # the libvirt domain test
)

pkgs=("${build_pkgs[@]}")
[ "${1:-}" = "--runtime" ] || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # dpkg-query prints "install ok installed" for a fully installed package only.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer so the install never waits on a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
