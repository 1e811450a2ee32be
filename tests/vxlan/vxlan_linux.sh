#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The VXLAN port against a Linux vxlan device (RFC 7348 both ways). The daemon runs in its own
# namespace, whose veth reaches a namespace holding the kernel's vxlan device; a namespace on the
# daemon's tap port pings the kernel's overlay address and runs iperf3 both ways through the
# tunnel. tshark on the underlay decodes VXLAN with the configured VNI, our datagrams from a
# hashed source port in 49152-65535 with a zero UDP checksum and DF set. Frames over the inner
# MTU, datagrams from an address that is not a remote, of another VNI or without the I flag are
# counted and dropped.
# Addresses exist only inside the namespaces this script makes.
# Usage: vxlan_linux.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require
source "$SRC/tests/vxlan/lib.sh"

nsd=uvs-vxl-$$-d nsl=uvs-vxl-$$-l nst=uvs-vxl-$$-t
vd=vxl$$d vl=vxl$$l tap=$(tap_name x)
VNI=4242
vx_netns "$nsd" "$nsl" "$nst"
vx_link "$nsd" "$vd" 10.79.0.1/24 "$nsl" "$vl" 10.79.0.2/24
vx_linux_vtep "$nsl" vx0 $VNI 10.79.0.2 10.79.0.1 "$vl" 10.80.0.2/24

DAEMON_PREFIX=(ip netns exec "$nsd")
daemon_start sw --threads 1 --port "tap,id=tap,ifname=$tap" \
  --port "vxlan,id=vx,vni=$VNI,local=10.79.0.1,remote=10.79.0.2"
vx_tap_to "$nsd" "$tap" "$nst" 10.80.0.1/24
# The underlay capture covers the pings only (iperf3 would fill it with a gigabyte).
vx_capture "$nsd" "$vd" "$E2E_TMP/underlay.pcap"

netns_ping "$nst" 10.80.0.2 5 || fail "tap namespace -> Linux vxlan"
netns_ping "$nsl" 10.80.0.1 3 || fail "Linux vxlan -> tap namespace"
e2e_log "ping both ways between the tap namespace and the Linux vxlan device"

e2e_kill "$VX_CAPTURE_PID" 3
pcap=$E2E_TMP/underlay.pcap
# One tshark pass: every VXLAN datagram's outer source, VNI, UDP source port and checksum, DF
# and flags (first occurrence: the outer headers, not the inner packet's).
tshark -n -r "$pcap" -Y vxlan -T fields -E occurrence=f -e ip.src -e vxlan.vni -e udp.srcport \
  -e udp.checksum -e ip.flags.df -e vxlan.flags >"$E2E_TMP/vxlan.txt" 2>"$E2E_TMP/tshark.err" ||
  fail "tshark cannot read the underlay capture: $(cat "$E2E_TMP/tshark.err")"
python3 - "$E2E_TMP/vxlan.txt" $VNI <<'PY' || fail "VXLAN on the underlay"
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
assert {r[1] for r in rows} == {sys.argv[2]}, f"VNIs {sorted({r[1] for r in rows})}"
theirs = [r for r in rows if r[0] == "10.79.0.2"]
ours = [r for r in rows if r[0] == "10.79.0.1"]
assert len(theirs) >= 8, f"only {len(theirs)} datagrams from the Linux VTEP"
assert len(ours) >= 8, f"only {len(ours)} datagrams from the daemon"
for src, vni, sport, csum, df, flags in ours:
    assert 49152 <= int(sport) <= 65535, f"source port {sport}"
    assert int(csum, 16) == 0, f"UDP checksum {csum}, expected 0 over IPv4"
    assert df in ("1", "True"), f"DF {df}"
    assert int(flags, 16) & 0x0800, f"flags {flags}"
print(f"{len(ours)} datagrams from us, {len(theirs)} from Linux; our source ports "
      f"{sorted({r[2] for r in ours})}")
PY
e2e_log "tshark on the underlay: VXLAN VNI $VNI both ways; ours from 49152-65535, zero checksum, DF"

up=$(iperf_pair "$nst" "$nsl" 10.80.0.2 2 "$E2E_TMP/up.json") || fail "iperf3 tap -> Linux vxlan"
down=$(iperf_pair "$nsl" "$nst" 10.80.0.1 2 "$E2E_TMP/down.json") || fail "iperf3 Linux vxlan -> tap"
e2e_log "iperf3 through the tunnel: $up Gbit/s to Linux, $down Gbit/s from Linux"
# The tap hands the switch TSO frames; the vxlan port offers no offloads, so the switch cuts
# them to MTU-size frames before they reach it.
daemon_check sw "port('vx')['switch']['sw-segmented'] > 0 and port('vx')['backend']['out-drop-mtu'] == 0" \
  "TSO frames segmented by the switch before the vxlan port" || fail "software segmentation"
ctl_metrics=$(daemon_ctl sw metrics) || fail "uvswitchctl metrics"
for want in 'uvswitch_vxlan_vtep_tx_frames_total{port="vx",vtep="0"}' \
            'uvswitch_vxlan_vtep_info{port="vx",vtep="0",address="10.79.0.2"} 1' \
            'uvswitch_vxlan_learned_macs{port="vx"}'; do
  grep -qF "$want" <<<"$ctl_metrics" || fail "metrics lack $want"
done
e2e_log "per-VTEP counters in uvswitchctl metrics"

daemon_check sw "port('vx')['backend']['vteps'][0]['address'] == '10.79.0.2' and \
  port('vx')['backend']['vteps'][0]['in-frames'] > 1000 and \
  port('vx')['backend']['vteps'][0]['out-frames'] > 1000 and \
  port('vx')['backend']['learned-macs'] >= 1 and port('vx')['backend']['out-unicast'] > 1000 and \
  port('vx')['backend']['in-drop-foreign'] == 0" "per-VTEP counters and learning" ||
  fail "VTEP counters"

# A frame over the inner MTU (1450 + 14): dropped and counted, never fragmented.
ip netns exec "$nst" ping -c 2 -W 1 -M do -s 1472 10.80.0.2 >/dev/null 2>&1 &&
  fail "a 1500-byte packet crossed a 1450-byte tunnel"
daemon_check sw "port('vx')['backend']['out-drop-mtu'] >= 2" "frames over the MTU counted" ||
  fail "MTU drops"
e2e_log "frames over the inner MTU are dropped and counted"

# Datagrams from an address that is not a remote, of another VNI, without the I flag.
ip -n "$nsl" addr add 10.79.0.3/24 dev "$vl"
vx_send "$nsl" 10.79.0.3 10.79.0.1 $VNI 8 4
vx_send "$nsl" 10.79.0.2 10.79.0.1 $((VNI + 1)) 8 3
vx_send "$nsl" 10.79.0.2 10.79.0.1 $VNI 0 2
e2e_wait_for 10 daemon_check sw "port('vx')['backend']['in-drop-foreign'] == 4 and \
  port('vx')['backend']['in-drop-wrong-vni'] == 3 and port('vx')['backend']['in-drop-no-vni'] == 2" \
  "foreign, wrong-VNI and no-I-flag datagrams counted" || fail "bad datagrams not counted"
daemon_ctl sw --json fdb | grep -qi '02:77:77:77:77:77' && fail "a dropped datagram's MAC was learned"
e2e_log "foreign sender, another VNI and a clear I flag: counted and dropped"

daemon_stop sw
e2e_log PASS
