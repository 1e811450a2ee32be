#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The NAT port is captured like any other: a start-up --capture on nat0 records a namespace's
# DHCP exchange (busybox udhcpc on a tap port) as DISCOVER, OFFER, REQUEST, ACK, in order; and a
# VLAN trunk port's frames keep their 802.1Q tags in its capture.
source "$2/tests/cli/lib.sh" "$@"
source "$2/tests/capture/netns_lib.sh"
command -v busybox >/dev/null || fail "busybox is not installed (tools/install-deps.sh)"

start_daemon --control "$CTL" --threads 2 \
  --port "tap,id=a,ifname=$TAP_A" --port "nat,id=nat0" \
  --port "tap,id=b,ifname=$TAP_B,trunk=10" \
  --capture "port=nat0,file=$TMP/nat.pcap,filter=udp port 67 or udp port 68"
for pair in "$NS_A $TAP_A" "$NS_B $TAP_B"; do
  set -- $pair
  ip netns add "$1"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip link set "$2" netns "$1"
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" up
done

cat >"$TMP/udhcpc.sh" <<'S'
#!/bin/sh
[ "$1" = bound ] && echo "$ip" >"$LEASE_FILE"
exit 0
S
chmod +x "$TMP/udhcpc.sh"
LEASE_FILE=$TMP/lease ip netns exec "$NS_A" timeout 20 busybox udhcpc -i "$TAP_A" -n -q -t 10 -T 1 \
  -s "$TMP/udhcpc.sh" >"$TMP/udhcpc.out" 2>&1 || fail "udhcpc got no lease: $(cat "$TMP/udhcpc.out")"
ctl capture-stop nat0 >/dev/null || fail "capture-stop nat0"
# Message types: 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK. udhcpc may resend a DISCOVER before
# the NAT answers, so repeats are folded.
got=$(tshark_fields "$TMP/nat.pcap" dhcp dhcp.option.dhcp | uniq | tr '\n' ' ')
[ "$got" = "1 2 3 5 " ] || fail "DHCP exchange on nat0: got '$got', want '1 2 3 5 '"
pass "nat0 capture: DHCP DISCOVER, OFFER, REQUEST, ACK in order (lease $(cat "$TMP/lease"))"

# A trunk port: frames are captured as they cross it, tagged. The namespace sends three
# VLAN 10 tagged ARP requests from a raw socket (no 8021q module needed).
ctl capture-start "port=b,file=$TMP/trunk.pcap,dir=in" >/dev/null || fail "capture-start b"
ip netns exec "$NS_B" python3 - "$TAP_B" <<'PY' || fail "cannot send tagged frames"
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
src = bytes([0x02, 0, 0, 0, 0x10, 0x01])
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src, bytes([10, 99, 0, 1]),
                  bytes(6), bytes([10, 99, 0, 2]))
for _ in range(3):
    s.send(b"\xff" * 6 + src + struct.pack("!HHH", 0x8100, 10, 0x0806) + arp)
PY
for i in $(seq 1 50); do
  n=$(ctl --json captures | python3 -c 'import json,sys; print(json.load(sys.stdin)["return"][0]["written"])')
  [ "$n" -ge 3 ] && break
  sleep 0.1
done
ctl capture-stop b >/dev/null || fail "capture-stop b"
got=$(tshark_fields "$TMP/trunk.pcap" "arp" vlan.id | sort -u | tr '\n' ' ')
[ "$got" = "10 " ] || fail "trunk capture: ARP VLAN ids '$got', want '10 '"
pass "trunk port capture keeps the 802.1Q tag (VLAN 10)"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit $DAEMON_RC"
