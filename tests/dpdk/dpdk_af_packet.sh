#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A DPDK port on net_af_packet, bound to a veth whose peer is in namespace 1, and a tap port in
# namespace 2: the two namespaces ping each other both ways and run iperf3 TCP both ways through
# the switch, and the DPDK port's own and device counters saw the traffic. Addresses exist only
# inside the namespaces this script makes.
# Usage: dpdk_af_packet.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
source "$SRC/tests/lib/testpmd.sh"
netns_require
testpmd_require  # root for /var/run/dpdk, as for any EAL
command -v iperf3 >/dev/null || fail "no iperf3 (tools/install-deps.sh installs it)"
command -v ethtool >/dev/null || fail "no ethtool (tools/install-deps.sh installs it)"

v0=$(echo "uvdp$$a" | cut -c1-15) v1=$(echo "uvdp$$b" | cut -c1-15) t2=$(tap_name d)
ns1=uvs-dpdk-$$-1 ns2=uvs-dpdk-$$-2
ip netns add "$ns1" || fail "cannot create namespace $ns1"
_netns_made+=("$ns1")
ip link add "$v0" type veth peer name "$v1" || fail "cannot create veth $v0"
e2e_on_exit "ip link del $v0 2>/dev/null || true"
ip link set "$v1" netns "$ns1"
# net_af_packet reads whole frames from a packet ring and knows no virtio-net header: the veth
# must hand it plain, checksummed frames (no TSO/GSO super-frames, no partial checksums).
ethtool -K "$v0" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
ip netns exec "$ns1" ethtool -K "$v1" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
ip link set "$v0" up
ip -n "$ns1" link set lo up
ip -n "$ns1" addr add 10.78.0.1/24 dev "$v1"
ip -n "$ns1" link set "$v1" up

testpmd_prefix uvsdpdk
e2e_on_exit testpmd_cleanup
daemon_start sw --threads 1 \
  --dpdk-args "--no-huge -m 256 --no-pci -l 0 --file-prefix $TESTPMD_PREFIX --log-level=lib.eal:error" \
  --port "dpdk,id=d0,devargs=net_af_packet0,,iface=$v0" --port "tap,id=t2,ifname=$t2"
netns_on_tap "$ns2" "$t2" 10.78.0.2/24
daemon_check sw "port('d0')['state'] == 'up' and port('d0')['backend']['driver'] == 'net_af_packet'" \
  "the DPDK port is up on net_af_packet" || fail "DPDK port state"

netns_ping "$ns1" 10.78.0.2 || fail "ping veth namespace -> tap namespace"
netns_ping "$ns2" 10.78.0.1 || fail "ping tap namespace -> veth namespace"
e2e_log "ping both ways between the DPDK port's veth and the tap port"

gbits=$(iperf_pair "$ns1" "$ns2" 10.78.0.2 2 "$E2E_TMP/iperf1.json") || fail "iperf3 ns1 -> ns2"
e2e_log "iperf3 TCP veth (DPDK af_packet) -> tap: $gbits Gbit/s"
gbits=$(iperf_pair "$ns2" "$ns1" 10.78.0.1 2 "$E2E_TMP/iperf2.json") || fail "iperf3 ns2 -> ns1"
e2e_log "iperf3 TCP tap -> veth (DPDK af_packet): $gbits Gbit/s"

daemon_check sw "port('d0')['backend']['in-frames'] > 1000 and \
  port('d0')['backend']['out-frames'] > 1000 and \
  port('d0')['backend']['device']['rx-packets'] >= port('d0')['backend']['in-frames'] and \
  port('d0')['backend']['device']['tx-packets'] > 1000 and \
  port('t2')['switch']['out-frames'] > 1000" \
  "the DPDK port and its device carried both iperf3 streams" || fail "DPDK port counters"
daemon_stop sw
e2e_log PASS
