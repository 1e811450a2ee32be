#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What guests on a NAT can reach in the host, with namespaces on tap ports: by default the
# gateway leads to the host's loopback (as QEMU's -netdev user); host-loopback=off closes it
# while the host's other addresses stay reachable; restrict=on leaves only hostfwd connections
# coming in; max-connections=N refuses the connection beyond N, counts it, keeps the others
# working and admits new ones once they close. The servers listen on loopback or on an address
# of a veth pair this test makes (the host's "other address").
source "$(dirname "$0")/lib.sh" "$@"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }

TD=$(tap_name d) TR=$(tap_name r) TL=$(tap_name l)
ND=uvsnrd$$ NR=uvsnrr$$ NL=uvsnrl$$
DUMMY=$(tap_name x)
HOSTIP=10.79.$(($$ % 250)).1
ip link add "$DUMMY" type veth peer name "$(tap_name y)" || fail "cannot make a veth pair"
trap 'ip link del "$DUMMY" 2>/dev/null || true; nat_cleanup' EXIT
ip addr add "$HOSTIP/32" dev "$DUMMY"
ip link set "$DUMMY" up
ip link set "$(tap_name y)" up

FWD_PORT=$(free_port)
start_daemon --control "$CTL" --threads 2 \
  --port "tap,id=td,ifname=$TD,vnet-hdr=off,vlan=10" \
  --port "tap,id=tr,ifname=$TR,vnet-hdr=off,vlan=20" \
  --port "tap,id=tl,ifname=$TL,vnet-hdr=off,vlan=30" \
  --port "nat,id=natd,vlan=10,ipv6=off" \
  --port "nat,id=natr,vlan=20,ipv6=off,restrict=on,hostfwd=tcp::$FWD_PORT-10.0.2.15:7001" \
  --port "nat,id=natl,vlan=30,ipv6=off,host-loopback=off,max-connections=3,thread=1"
for pair in "$ND $TD" "$NR $TR" "$NL $TL"; do
  set -- $pair
  netns_on_tap "$1" "$2"
  ip -n "$1" addr add 10.0.2.15/24 dev "$2"
  ip -n "$1" route add default via 10.0.2.2
done

# Servers: HTTP on the host's loopback and on the veth address, a TCP echo on the veth.
mkdir -p "$TMP/www" && echo reachable >"$TMP/www/f"
LOOP_PORT=$(free_port) HOST_PORT=$(free_port) ECHO_PORT=$(free_port)
bg python3 -m http.server "$LOOP_PORT" --bind 127.0.0.1 --directory "$TMP/www"
bg python3 -m http.server "$HOST_PORT" --bind "$HOSTIP" --directory "$TMP/www"
bg socat "TCP-LISTEN:$ECHO_PORT,bind=$HOSTIP,fork,reuseaddr" EXEC:cat
# Python's start-up alone takes seconds on a loaded machine: a refusal before the servers listen
# would say nothing about the NAT.
host_listens() { ss -ltn | grep -q ":$1 "; }
for p in "$LOOP_PORT" "$HOST_PORT" "$ECHO_PORT"; do
  wait_for 30 host_listens "$p" || fail "the host's server on port $p never listened"
done
fetch() {  # fetch NS URL: the body, within 3 s
  ip netns exec "$1" timeout 4 busybox wget -q -O - "$2" 2>>"$TMP/wget.err"
}
reaches() { [ "$(fetch "$1" "$2")" = reachable ]; }

# Default: the gateway is the host's loopback.
wait_for 10 reaches "$ND" "http://10.0.2.2:$LOOP_PORT/f" ||
  fail "default NAT: no way to the host's loopback through 10.0.2.2: $(tail -3 "$TMP/wget.err"; ctl --json ports)"
pass "default: 10.0.2.2:$LOOP_PORT is the host's 127.0.0.1:$LOOP_PORT"

# host-loopback=off: the gateway no longer leads to loopback; the host's other address does.
wait_for 10 reaches "$NL" "http://$HOSTIP:$HOST_PORT/f" ||
  fail "host-loopback=off: the host's $HOSTIP is unreachable too"
reaches "$NL" "http://10.0.2.2:$LOOP_PORT/f" && fail "host-loopback=off: loopback still reached"
pass "host-loopback=off: $HOSTIP:$HOST_PORT reached, 10.0.2.2:$LOOP_PORT refused"

# restrict=on: nothing out, loopback included; the forward comes in.
reaches "$NR" "http://10.0.2.2:$LOOP_PORT/f" && fail "restrict=on: the host's loopback reached"
reaches "$NR" "http://$HOSTIP:$HOST_PORT/f" && fail "restrict=on: $HOSTIP reached"
mkdir -p "$TMP/guest" && echo from-guest >"$TMP/guest/g"
bg ip netns exec "$NR" python3 -m http.server 7001 --bind 10.0.2.15 --directory "$TMP/guest"
# The server first (python's start-up alone takes seconds on a loaded machine), then the forward.
listening() { ip netns exec "$NR" ss -ltn | grep -q '10.0.2.15:7001 '; }
wait_for 30 listening || fail "restrict=on: the namespace's server never listened on :7001"
fwd_ok() { [ "$(timeout 4 busybox wget -q -O - "http://127.0.0.1:$FWD_PORT/g" 2>/dev/null)" = from-guest ]; }
wait_for 20 fwd_ok || fail "restrict=on: the hostfwd 127.0.0.1:$FWD_PORT did not reach the guest"
pass "restrict=on: no way out (loopback, $HOSTIP); hostfwd 127.0.0.1:$FWD_PORT -> guest :7001 works"

# max-connections=3: three echo connections stay up, a fourth is refused and counted.
wait_for 20 nat_stat_is natl tcp-open 0 || fail "natl still holds $(nat_stat natl tcp-open) TCP sockets"
cat >"$TMP/conns.py" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
conns = [socket.create_connection((host, port), timeout=5) for _ in range(3)]
try:
    socket.create_connection((host, port), timeout=3)
    sys.exit("a fourth connection was let through")
except OSError:
    pass
for i, c in enumerate(conns):  # the three still carry data
    c.sendall(b"ping%d\n" % i)
    if c.recv(64) != b"ping%d\n" % i:
        sys.exit("connection %d lost its echo" % i)
print("3 connections up, the 4th refused")
PY
ip netns exec "$NL" python3 "$TMP/conns.py" "$HOSTIP" "$ECHO_PORT" || fail "max-connections=3"
refused=$(nat_stat natl in-drop-conn-limit)
[ "$refused" -ge 1 ] || fail "in-drop-conn-limit is $refused"
wait_for 20 nat_stat_is natl tcp-open 0 || fail "the closed connections' sockets stayed"
reaches "$NL" "http://$HOSTIP:$HOST_PORT/f" || fail "no new connection once the others closed"
ctl metrics | grep -E '^uvswitch_nat_rx_drops_total\{.*port="natl".*reason="conn_limit"\} [1-9]' \
  >/dev/null || fail "metrics lack the conn_limit drops: $(ctl metrics | grep nat_rx_drops)"
pass "max-connections=3: 3 echo connections kept, the 4th refused ($refused SYNs dropped), room again after"
stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "daemon exit code $DAEMON_RC"
