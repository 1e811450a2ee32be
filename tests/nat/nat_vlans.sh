#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two NAT ports on two VLANs, each with a namespace on a tap port of its VLAN: each namespace
# gets its lease from its own NAT only, and neither namespace sees the other's traffic.
source "$(dirname "$0")/lib.sh" "$@"

TA=$(tap_name a)
TB=$(tap_name b)
NA=uvsnva$$
NB=uvsnvb$$
start_daemon --control "$CTL" --threads 2 \
  --port "tap,id=ta,ifname=$TA,vnet-hdr=off,vlan=10" --port "tap,id=tb,ifname=$TB,vnet-hdr=off,vlan=20" \
  --port "nat,id=natA,vlan=10,net=10.0.10.0/24,ipv6=off" \
  --port "nat,id=natB,vlan=20,net=10.0.20.0/24,ipv6=off,thread=1"
netns_on_tap "$NA" "$TA"
netns_on_tap "$NB" "$TB"

cat >"$TMP/udhcpc.sh" <<'S'
#!/bin/sh
[ "$1" = bound ] && echo "$ip $router $serverid" >"$LEASE_FILE"
exit 0
S
chmod +x "$TMP/udhcpc.sh"
lease() {  # lease NS TAP FILE
  LEASE_FILE=$3 ip netns exec "$1" timeout 20 busybox udhcpc -i "$2" -n -q -t 10 -T 1 \
    -s "$TMP/udhcpc.sh" >/dev/null 2>&1 || fail "udhcpc in $1 got no lease"
}

# A sniffer in B's namespace for the whole test: counts frames that mention A's network.
cat >"$TMP/sniff.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.2)
needle = bytes([10, 0, 10])
seen = total = 0
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        f = s.recv(65536)
    except socket.timeout:
        continue
    total += 1
    if needle in f:
        seen += 1
print(seen, total)
PY
ip netns exec "$NB" python3 "$TMP/sniff.py" "$TB" 8 >"$TMP/sniff.out" &
SNIFF=$!
NAT_BG+=($SNIFF)
sleep 0.5

lease "$NA" "$TA" "$TMP/leaseA"
lease "$NB" "$TB" "$TMP/leaseB"
read -r ipa rta sida <"$TMP/leaseA"
read -r ipb rtb sidb <"$TMP/leaseB"
[ "$ipa $sida" = "10.0.10.15 10.0.10.2" ] || fail "A's lease: $ipa from $sida"
[ "$ipb $sidb" = "10.0.20.15 10.0.20.2" ] || fail "B's lease: $ipb from $sidb"
pass "each namespace leased from its own VLAN's NAT: $ipa, $ipb"

# Traffic from A through its NAT while B listens.
ip netns exec "$NA" ip addr add "$ipa/24" dev "$TA"
ip netns exec "$NA" ip route add default via "$rta"
HTTP_PORT=$(free_port)
mkdir -p "$TMP/www" && head -c 200000 /dev/urandom >"$TMP/www/f"
bg python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$TMP/www"
wait_for 10 ip netns exec "$NA" busybox wget -q -O "$TMP/got" "http://$rta:$HTTP_PORT/f" ||
  fail "A could not fetch through its NAT"
cmp -s "$TMP/www/f" "$TMP/got" || fail "A's fetch differs"
for i in 1 2 3; do ip netns exec "$NA" ping -c1 -W1 "$rta" >/dev/null 2>&1 || true; done

wait "$SNIFF" || true
read -r seen total <"$TMP/sniff.out"
[ "$seen" = 0 ] || fail "B's namespace saw $seen frames mentioning 10.0.10.x (of $total)"
[ "$(nat_stat natA dhcp-leases)" = 1 ] && [ "$(nat_stat natB dhcp-leases)" = 1 ] ||
  fail "leases: natA $(nat_stat natA dhcp-leases) natB $(nat_stat natB dhcp-leases) (want 1 and 1)"
[ "$(nat_stat natB out-bytes)" -lt 10000 ] || fail "natB sent $(nat_stat natB out-bytes) bytes"
pass "B saw none of A's frames ($total frames seen in all); one lease per NAT"

stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "daemon exit code $DAEMON_RC"
