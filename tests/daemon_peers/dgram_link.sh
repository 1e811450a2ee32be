#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two uvswitch daemons linked by dgram ports (one frame per UDP datagram on loopback, QEMU's
# -netdev dgram format), each with a namespace on a tap port: the namespaces ping each other
# across both switches, and each daemon learned the far MAC behind its dgram port. A third
# sender on loopback (what any local user can do) is not the configured remote: its frames are
# counted as foreign and never reach the switch.
# Addresses exist only inside the namespaces this script makes; UDP only on 127.0.0.1.
# Usage: dgram_link.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require

# Loopback UDP ports unique enough to this run.
pa=$((20000 + $$ % 20000 * 2)) pb=$((20001 + $$ % 20000 * 2))
t1=$(tap_name a) t2=$(tap_name b) ns1=uvs-dg-$$-1 ns2=uvs-dg-$$-2
daemon_start swa --threads 1 --port "tap,id=tap,ifname=$t1" \
  --port "dgram,id=link,local=127.0.0.1:$pa,remote=127.0.0.1:$pb"
daemon_start swb --threads 1 --port "tap,id=tap,ifname=$t2" \
  --port "dgram,id=link,local=127.0.0.1:$pb,remote=127.0.0.1:$pa"
netns_on_tap "$ns1" "$t1" 10.78.0.1/24
netns_on_tap "$ns2" "$t2" 10.78.0.2/24

netns_ping "$ns1" 10.78.0.2 5 || fail "ping ns1 -> ns2 across the link"
netns_ping "$ns2" 10.78.0.1 5 || fail "ping ns2 -> ns1 across the link"
e2e_log "ping both ways across two daemons"

mac1=$(ip -n "$ns1" -br link show "$t1" | awk '{ print $3 }')
mac2=$(ip -n "$ns2" -br link show "$t2" | awk '{ print $3 }')
for sw in swa swb; do
  far=$([ $sw = swa ] && echo "$mac2" || echo "$mac1")
  fdb=$(daemon_ctl "$sw" --json fdb)
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])["return"]
sys.exit(0 if any(e["mac"] == sys.argv[2] and e["port"] == "link" for e in r) else 1)' "$fdb" "$far" ||
    fail "$sw did not learn $far behind its dgram port: $fdb"
  daemon_check "$sw" "port('link')['backend']['in-frames'] >= 5 and port('link')['backend']['out-frames'] >= 5 and port('link')['backend']['in-errors'] == 0" \
    "$sw's dgram port carried the pings" || fail "$sw dgram counters"
done

# 10 broadcast frames from a fresh socket, 5 from one bound to a port next to swa's: not swa.
python3 - "$pb" $((pa + 40000 > 65000 ? pa - 1000 : pa + 40000)) <<'PY' || fail "third-party sender"
import socket, sys
to = ("127.0.0.1", int(sys.argv[1]))
frame = bytes.fromhex("ffffffffffff" "026666666666" "0800") + bytes(46)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10):
    s.sendto(frame, to)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.bind(("127.0.0.1", int(sys.argv[2])))
for _ in range(5):
    b.sendto(frame, to)
PY
e2e_wait_for 10 daemon_check swb "port('link')['backend']['in-drop-foreign'] == 15"   "swb counted the 15 foreign datagrams" || fail "foreign datagrams not counted"
daemon_ctl swb --json fdb | grep -qi '02:66:66:66:66:66' && fail "swb learned the foreign sender's MAC"
daemon_check swa "port('link')['backend']['in-drop-foreign'] == 0" "swa saw no foreign datagram" ||
  fail "swa foreign count"
e2e_log "foreign datagrams counted and not forwarded"
daemon_stop swa
daemon_stop swb
e2e_log PASS
