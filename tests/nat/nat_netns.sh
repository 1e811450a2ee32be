#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NAT with a kernel peer: a namespace on a tap port of the daemon gets a DHCP lease, reaches TCP
# and UDP servers on the host's loopback through the gateway, is reached through start-up and
# run-time hostfwds, resolves through dns-server= (a local responder), and sees an idle
# connection closed by the host torn down with no traffic of its own.
source "$(dirname "$0")/lib.sh" "$@"

TAP=$(tap_name a)
NS=uvsnat$$
DNS_PORT=$(free_port)
FWD_PORT=$(free_port)
bg python3 "$SRC/tests/nat/dns_responder.py" 127.0.0.1 "$DNS_PORT" 198.51.100.7
start_daemon --control "$CTL" --threads 1 --port "tap,id=t0,ifname=$TAP,vnet-hdr=off" \
  --port "nat,id=nat0,dns-server=127.0.0.1:$DNS_PORT,hostfwd=tcp::$FWD_PORT-:7001"
netns_on_tap "$NS" "$TAP"
nsx() { ip netns exec "$NS" "$@"; }

# DHCP: busybox udhcpc, one shot; its default script would reconfigure, so print and apply here.
cat >"$TMP/udhcpc.sh" <<'S'
#!/bin/sh
[ "$1" = bound ] && echo "$ip $router $dns" >"$LEASE_FILE"
exit 0
S
chmod +x "$TMP/udhcpc.sh"
LEASE_FILE=$TMP/lease nsx timeout 20 busybox udhcpc -i "$TAP" -n -q -t 10 -T 1 -s "$TMP/udhcpc.sh" \
  >"$TMP/udhcpc.out" 2>&1 || fail "udhcpc got no lease: $(cat "$TMP/udhcpc.out")"
read -r IP ROUTER DNS <"$TMP/lease"
[ "$IP" = 10.0.2.15 ] && [ "$ROUTER" = 10.0.2.2 ] && [ "$DNS" = 10.0.2.3 ] ||
  fail "lease: ip=$IP router=$ROUTER dns=$DNS (want 10.0.2.15 10.0.2.2 10.0.2.3)"
[ "$(nat_stat nat0 dhcp-leases)" = 1 ] || fail "dhcp-leases is $(nat_stat nat0 dhcp-leases), want 1"
pass "udhcpc lease $IP, router $ROUTER, dns $DNS; stats count 1 lease"
nsx ip addr add "$IP/24" dev "$TAP"
nsx ip route add default via "$ROUTER"

# TCP to the host's loopback through 10.0.2.2: a 2 MB file, checked byte for byte.
head -c 2000000 /dev/urandom >"$TMP/blob"
HTTP_PORT=$(free_port)
mkdir -p "$TMP/www" && cp "$TMP/blob" "$TMP/www/blob"
bg python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$TMP/www"
wait_for 10 nsx busybox wget -q -O "$TMP/got" "http://10.0.2.2:$HTTP_PORT/blob" ||
  fail "wget from the host's loopback through the NAT failed"
cmp -s "$TMP/blob" "$TMP/got" || fail "the file fetched through the NAT differs"
pass "TCP: 2 MB from 127.0.0.1:$HTTP_PORT via 10.0.2.2, identical"

# UDP to the host's loopback.
UDP_PORT=$(free_port)
bg socat "UDP-RECVFROM:$UDP_PORT,bind=127.0.0.1,fork" SYSTEM:'read l; echo "pong:$l"'
got=""
for _ in 1 2 3 4 5; do  # the server may still be starting: UDP has no connect to wait on
  got=$(echo hello | nsx timeout 3 socat -T 2 - "UDP:10.0.2.2:$UDP_PORT" 2>/dev/null || true)
  [ "$got" = "pong:hello" ] && break
done
[ "$got" = "pong:hello" ] || fail "UDP through the NAT answered '$got'"
pass "UDP: request/answer with 127.0.0.1:$UDP_PORT via 10.0.2.2"

# DNS: 10.0.2.3 relays to the responder this test started (no outside DNS).
wait_for 10 sh -c "ip netns exec $NS busybox nslookup host.example.test 10.0.2.3 2>&1 |
  grep -q 198.51.100.7" || fail "nslookup through the NAT's DNS relay failed"
[ "$(nat_stat nat0 dns-answers)" -ge 1 ] || fail "dns-answers did not count"
pass "DNS: host.example.test resolved through dns-server=127.0.0.1:$DNS_PORT"

# hostfwd given at start-up: host loopback -> namespace server on 7001.
bg ip netns exec "$NS" socat TCP-LISTEN:7001,reuseaddr,fork SYSTEM:'echo from-namespace'
got=""
wait_for 10 sh -c "socat -T 3 - TCP:127.0.0.1:$FWD_PORT </dev/null >$TMP/fwd.out 2>/dev/null &&
  grep -q from-namespace $TMP/fwd.out" || fail "start-up hostfwd to the namespace failed"
pass "hostfwd at start-up: 127.0.0.1:$FWD_PORT -> $IP:7001"

# hostfwd added at run time (UDP and TCP), listed, used, removed.
RT_PORT=$(free_port)
ctl hostfwd-add nat0 "tcp:127.0.0.1:$RT_PORT-:7001" >/dev/null || fail "hostfwd-add refused"
ctl hostfwd-list nat0 | grep -q "tcp:127.0.0.1:$RT_PORT-10.0.2.15:7001" ||
  fail "hostfwd-list lacks the new forward: $(ctl hostfwd-list nat0)"
out=$(socat -T 3 - "TCP:127.0.0.1:$RT_PORT" </dev/null 2>&1 || true)
[ "$out" = from-namespace ] || fail "run-time hostfwd answered '$out'"
URT_PORT=$(free_port)
bg ip netns exec "$NS" socat UDP-RECVFROM:7002,fork SYSTEM:'read l; echo "ns:$l"'
ctl hostfwd-add nat0 "udp:127.0.0.1:$URT_PORT-:7002" >/dev/null || fail "udp hostfwd-add refused"
got=""
for _ in 1 2 3 4 5; do
  got=$(echo ping | timeout 3 socat -T 2 - "UDP:127.0.0.1:$URT_PORT" 2>/dev/null || true)
  [ "$got" = "ns:ping" ] && break
done
[ "$got" = "ns:ping" ] || fail "run-time UDP hostfwd answered '$got'"
ctl hostfwd-del nat0 "tcp:127.0.0.1:$RT_PORT" >/dev/null || fail "hostfwd-del refused"
socat -T 2 - "TCP:127.0.0.1:$RT_PORT" </dev/null >/dev/null 2>&1 &&
  fail "the deleted forward still accepts connections"
pass "hostfwd at run time: tcp and udp added, listed, used; tcp removed and refused after"

# Timers run without traffic: the host side closes an idle connection; the namespace's socket
# must reach CLOSE-WAIT (FIN delivered) although the namespace sends nothing. The client keeps
# the socket open without reading, so nothing in the namespace moves the connection.
IDLE_PORT=$(free_port)
bg python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); time.sleep(1.5); c.close(); time.sleep(60)' "$IDLE_PORT"
bg ip netns exec "$NS" python3 -c '
import socket, sys, time
for _ in range(50):  # the server may still be starting
    try:
        c = socket.create_connection(("10.0.2.2", int(sys.argv[1]))); break
    except OSError:
        time.sleep(0.2)
time.sleep(60)' "$IDLE_PORT"
IDLE_CLIENT=$!
wait_for 15 sh -c "ip netns exec $NS ss -tn state close-wait | grep -q '10.0.2.2:$IDLE_PORT'" ||
  fail "the namespace's idle connection was not closed: $(nsx ss -tan)"
pass "idle connection closed by the host reached CLOSE-WAIT in the namespace with no traffic"
# The namespace closes too; libslirp's side then sits in TIME_WAIT, which only its slow timer
# ends (2 MSL = 10 s): the NAT's socket count returning to zero shows the tick runs on its own.
kill "$IDLE_CLIENT"
wait_for 30 nat_stat_is nat0 tcp-open 0 ||
  fail "libslirp still holds $(nat_stat nat0 tcp-open) TCP sockets 30 s after the last close"
pass "libslirp released the closed connections on its own timers (TIME_WAIT), no traffic"

# Counters: traffic both ways and no errors.
[ "$(nat_stat nat0 in-bytes)" -gt 0 ] && [ "$(nat_stat nat0 out-bytes)" -gt 2000000 ] ||
  fail "byte counters: in $(nat_stat nat0 in-bytes) out $(nat_stat nat0 out-bytes)"
[ "$(nat_stat nat0 errors)" = 0 ] || fail "errors: $(nat_stat nat0 errors)"
ctl stats | grep -q "^nat0 " || fail "uvswitchctl stats shows no NAT row"
pass "stats: bytes both ways, no errors, NAT row in uvswitchctl stats"

stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "daemon exit code $DAEMON_RC after SIGTERM"
pass "clean shutdown"
