#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real peers through the daemon: two network namespaces, each on a tap port of one uvswitch,
# ping each other both ways and run a short iperf3 TCP test; the switch learned both MACs and its
# counters saw the traffic. Addresses exist only inside the namespaces this script makes.
# Usage: tap_namespaces.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require
command -v iperf3 >/dev/null || { echo "SKIP: no iperf3"; exit 77; }

t1=$(tap_name a) t2=$(tap_name b) ns1=uvs-tap-$$-1 ns2=uvs-tap-$$-2
daemon_start sw --threads 2 --port "tap,id=t1,ifname=$t1,thread=0" \
  --port "tap,id=t2,ifname=$t2,thread=1"
netns_on_tap "$ns1" "$t1" 10.77.0.1/24
netns_on_tap "$ns2" "$t2" 10.77.0.2/24

netns_ping "$ns1" 10.77.0.2 || fail "ping ns1 -> ns2"
netns_ping "$ns2" 10.77.0.1 || fail "ping ns2 -> ns1"
e2e_log "ping both ways through the switch"

gbits=$(iperf_pair "$ns1" "$ns2" 10.77.0.2 2 "$E2E_TMP/iperf.json") || fail "iperf3 ns1 -> ns2"
e2e_log "iperf3 TCP ns1 -> ns2 over two port threads: $gbits Gbit/s"

daemon_check sw "port('t1')['switch']['in-frames'] > 1000 and port('t2')['switch']['out-frames'] > 1000" \
  "both tap ports carried the iperf3 stream" || fail "tap port counters"
daemon_check sw "all(p['state'] == 'up' for p in ports)" "both tap ports are up" || fail "port state"
fdb=$(daemon_ctl sw --json fdb)
python3 -c '
import json, sys
r = json.loads(sys.argv[1])["return"]
sys.exit(0 if sorted(e["port"] for e in r) == ["t1", "t2"] else 1)' "$fdb" ||
  fail "the FDB should hold one MAC per tap port: $fdb"
daemon_stop sw
e2e_log PASS
