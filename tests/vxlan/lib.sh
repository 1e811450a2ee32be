# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers of the VXLAN tests: namespaces joined by a veth underlay, a daemon run inside one of
# them, a tap moved from the daemon's namespace to another, and VXLAN datagrams made by hand.
# Source after tests/e2e/lib/common.sh and tests/daemon_peers/lib.sh.

[ -n "${_UVS_VXLAN_SH:-}" ] && return 0
_UVS_VXLAN_SH=1

command -v tshark >/dev/null || fail "tshark is not installed (tools/install-deps.sh)"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (tools/install-deps.sh)"

# vx_netns NS...: makes each namespace (removed on exit) with lo up.
vx_netns() {
  local ns
  for ns in "$@"; do
    ip netns add "$ns" || fail "cannot create namespace $ns"
    _netns_made+=("$ns")
    ip -n "$ns" link set lo up
  done
}

# vx_link NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN: a veth pair between two namespaces, up,
# with one address on each end.
vx_link() {
  ip link add "$2" type veth peer name "$5" || fail "cannot create veth $2"
  ip link set "$2" netns "$1"
  ip link set "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

# vx_linux_vtep NS DEV VNI LOCAL REMOTE LOWER ADDR/LEN: a Linux vxlan device in NS with its
# overlay address. Its checksum offload is turned off: over a veth the kernel would leave the
# inner TCP/UDP checksum for a NIC to fill in, and a VTEP reading the datagram from a socket (as
# any userspace one does) would forward a frame its receiver drops.
vx_linux_vtep() {
  ip -n "$1" link add "$2" type vxlan id "$3" local "$4" remote "$5" dstport 4789 dev "$6" ||
    fail "cannot create vxlan device $2 in $1"
  ip netns exec "$1" ethtool -K "$2" tx off >/dev/null || fail "ethtool -K $2 tx off"
  ip -n "$1" addr add "$7" dev "$2"
  ip -n "$1" link set "$2" up
}

# vx_tap_to NS_FROM TAP NS ADDR/LEN: moves the daemon's tap from its namespace into NS, up,
# with ADDR.
vx_tap_to() {
  ip -n "$1" link set "$2" netns "$3" || fail "cannot move $2 from $1 into $3"
  ip -n "$3" addr add "$4" dev "$2"
  ip -n "$3" link set "$2" up
}

# vx_send NS SRC_IP DST_IP VNI FLAGS COUNT: sends COUNT VXLAN datagrams (broadcast ARP-sized
# frames from 02:77:77:77:77:77) from SRC_IP inside NS to DST_IP:4789, header flags FLAGS.
vx_send() {
  ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" "$6" <<'PY'
import socket, struct, sys
src, dst, vni, flags, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
hdr = struct.pack("!B3xI", flags, vni << 8)
frame = bytes.fromhex("ffffffffffff" "027777777777" "0806") + bytes(46)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for _ in range(count):
    s.sendto(hdr + frame, (dst, 4789))
PY
}

# vx_capture NS IF PCAP: starts tshark on IF inside NS writing the UDP 4789 traffic to PCAP;
# sets VX_CAPTURE_PID and returns once tshark captures.
vx_capture() {
  e2e_bg "$3.log" ip netns exec "$1" tshark -n -i "$2" -s 256 -f "udp port 4789" -w "$3"
  VX_CAPTURE_PID=$E2E_PID
  e2e_wait_for 20 grep -q "Capturing on" "$3.log" || fail "tshark did not start: $(cat "$3.log")"
}
