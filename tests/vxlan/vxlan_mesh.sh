#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Three VTEPs on one VNI: two uvswitch daemons and a Linux vxlan device, each in its namespace on
# a shared underlay bridge, with a namespace on each daemon's tap port. A broadcast (ARP) from
# one daemon is replicated to both remotes and answered by both; once the MACs are learned,
# unicast to one station goes to its VTEP only (per-VTEP counters). Then both daemons swap
# their IPv4 vxlan port for an IPv6 one at run time (port-del / port-add) and their namespaces
# ping over an IPv6 underlay.
# Addresses exist only inside the namespaces this script makes.
# Usage: vxlan_mesh.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require
source "$SRC/tests/vxlan/lib.sh"

p=uvs-vxm-$$
nsu=$p-u nsa=$p-a nsb=$p-b nsl=$p-l nsta=$p-ta nstb=$p-tb
VNI=777
vx_netns "$nsu" "$nsa" "$nsb" "$nsl" "$nsta" "$nstb"
# No IPv6 chatter (router solicitations, MLD) on the overlay: every BUM frame is the test's own.
for ns in "$nsta" "$nstb" "$nsl"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$nsu" link add br0 type bridge
ip -n "$nsu" link set br0 up
for i in a b l; do
  ns=$p-$i
  ip link add "vxm$$$i" type veth peer name "vxm$$${i}u"
  ip link set "vxm$$$i" netns "$ns"
  ip link set "vxm$$${i}u" netns "$nsu"
  ip -n "$nsu" link set "vxm$$${i}u" master br0 up
  ip -n "$ns" link set "vxm$$$i" up
done
ip -n "$nsa" addr add 10.81.0.1/24 dev "vxm$$a"
ip -n "$nsb" addr add 10.81.0.2/24 dev "vxm$$b"
ip -n "$nsa" addr add fd81::1/64 dev "vxm$$a" nodad
ip -n "$nsb" addr add fd81::2/64 dev "vxm$$b" nodad
ip -n "$nsl" addr add 10.81.0.3/24 dev "vxm$$l"
vx_linux_vtep "$nsl" vx0 $VNI 10.81.0.3 10.81.0.1 "vxm$$l" 10.82.0.3/24
ip netns exec "$nsl" bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.81.0.2

ta=$(tap_name a) tb=$(tap_name b)
DAEMON_PREFIX=(ip netns exec "$nsa")
daemon_start swa --threads 1 --port "tap,id=tap,ifname=$ta" \
  --port "vxlan,id=vx,vni=$VNI,local=10.81.0.1,remote=10.81.0.2,remote=10.81.0.3"
DAEMON_PREFIX=(ip netns exec "$nsb")
daemon_start swb --threads 1 --port "tap,id=tap,ifname=$tb" \
  --port "vxlan,id=vx,vni=$VNI,local=10.81.0.2,remote=10.81.0.1,remote=10.81.0.3"
vx_tap_to "$nsa" "$ta" "$nsta" 10.82.0.1/24
vx_tap_to "$nsb" "$tb" "$nstb" 10.82.0.2/24

# vtep NAME I FIELD: a per-VTEP counter of daemon NAME's vx port.
vtep() {
  daemon_ctl "$1" --json ports | python3 -c '
import json, sys
p = next(p for p in json.load(sys.stdin)["return"] if p["id"] == "vx")
print(p["backend"]["vteps"][int(sys.argv[1])][sys.argv[2]])' "$2" "$3"
}

# One ARP request from A's namespace: flooded to both remotes, so both B's namespace and the
# Linux VTEP can answer.
netns_ping "$nsta" 10.82.0.2 3 || fail "daemon A's namespace -> daemon B's"
netns_ping "$nsta" 10.82.0.3 3 || fail "daemon A's namespace -> Linux vxlan"
netns_ping "$nstb" 10.82.0.3 3 || fail "daemon B's namespace -> Linux vxlan"
daemon_check swa "all(v['out-flooded'] >= 1 and v['in-frames'] >= 3 for v in port('vx')['backend']['vteps'])" \
  "A flooded to both remotes and heard from both" || fail "BUM replication"
daemon_check swa "port('vx')['backend']['learned-macs'] >= 2" "A learned a MAC behind each VTEP" ||
  fail "learning"
e2e_log "BUM replicated to both remotes; both answered"

# Learned unicast: 30 pings to B's namespace leave for VTEP 10.81.0.2 only.
b0=$(vtep swa 0 out-frames) l0=$(vtep swa 1 out-frames) lf0=$(vtep swa 1 out-flooded)
ip netns exec "$nsta" ping -c 30 -i 0.02 -W 1 10.82.0.2 >/dev/null || fail "unicast pings"
b1=$(vtep swa 0 out-frames) l1=$(vtep swa 1 out-frames) lf1=$(vtep swa 1 out-flooded)
[ $((b1 - b0)) -ge 30 ] || fail "only $((b1 - b0)) frames to VTEP 10.81.0.2 for 30 pings"
# The Linux side's neighbour entry for A goes stale meanwhile and it re-checks it with a unicast
# ARP request, which A rightly answers by unicast to that VTEP: a frame or two, never the pings.
[ $(((l1 - l0) - (lf1 - lf0))) -le 2 ] ||
  fail "$(((l1 - l0) - (lf1 - lf0))) unicast frames went to the Linux VTEP too"
e2e_log "learned unicast: $((b1 - b0)) frames to 10.81.0.2, $(((l1 - l0) - (lf1 - lf0))) unicast (ARP) to 10.81.0.3"

# The same pair over an IPv6 underlay, swapped in at run time.
for sw in swa swb; do
  daemon_ctl "$sw" port-del vx >/dev/null || fail "$sw: port-del vx"
done
daemon_ctl swa port-add "vxlan,id=vx6,vni=$VNI,local=fd81::1,remote=fd81::2" >/dev/null ||
  fail "swa: port-add of an IPv6 vxlan port"
daemon_ctl swb port-add "vxlan,id=vx6,vni=$VNI,local=[fd81::2]:4789,remote=fd81::1" >/dev/null ||
  fail "swb: port-add of an IPv6 vxlan port"
ip netns exec "$nsta" ip neigh flush all
netns_ping "$nsta" 10.82.0.2 5 || fail "A's namespace -> B's over the IPv6 underlay"
daemon_check swa "port('vx6')['backend']['vteps'][0]['address'] == 'fd81::2' and \
  port('vx6')['backend']['vteps'][0]['in-frames'] >= 5 and port('vx6')['backend']['mtu'] == 1430" \
  "IPv6 VTEP counters" || fail "IPv6 vxlan counters"
e2e_log "IPv6 underlay: ping through ports added at run time"

daemon_stop swa
daemon_stop swb
e2e_log PASS
