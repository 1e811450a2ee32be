#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NAT bad input, at start-up (non-zero exit, a message naming the key, nothing started) and at
# run time (an error reply, and the port's forwards and the port list unchanged).
source "$(dirname "$0")/lib.sh" "$@"

# startup_bad CODE NEEDLE PORT-SPEC: uvswitch with that NAT port exits CODE naming the problem.
startup_bad() {
  local code=$1 needle=$2 spec=$3
  expect_exit "$code" "$UVSWITCH" --control "$CTL" --threads 1 --port "$spec"
  contains "$ERR" "$needle" "uvswitch --port $spec"
  [ ! -e "$CTL" ] || fail "uvswitch --port $spec: left $CTL behind"
  pass "start-up refused ($code): $spec"
}

startup_bad 2 "--port nat0: net: " "nat,id=nat0,net=10.0.2.0/33"
startup_bad 2 "prefix at most /30" "nat,id=nat0,net=10.0.2.0/31"
startup_bad 2 "--port nat0: net: " "nat,id=nat0,net=10.0.2.300/24"
startup_bad 2 "host=10.0.3.2 is outside net=10.0.2.0/24" "nat,id=nat0,host=10.0.3.2"
startup_bad 2 "dhcpstart=10.0.2.2 collides" "nat,id=nat0,dhcpstart=10.0.2.2"
startup_bad 2 "uses the same host port" \
  "nat,id=nat0,hostfwd=tcp:127.0.0.1:4022-:22,hostfwd=tcp:127.0.0.1:4022-:23"
# No host address means 127.0.0.1, so these two overlap although they are spelled differently.
startup_bad 1 "overlaps the forward tcp:127.0.0.1:4022-10.0.2.15:22" \
  "nat,id=nat0,hostfwd=tcp::4022-:22,hostfwd=tcp:0.0.0.0:4022-:23"
startup_bad 1 "cannot forward an IPv6 host address" "nat,id=nat0,hostfwd=tcp:[::1]:4022-:22"
startup_bad 2 "guest address" "nat,id=nat0,hostfwd=tcp::4022-10.9.9.9:22"
startup_bad 2 "hostfwd" "nat,id=nat0,hostfwd=tcp::70000-:22"

# A host port somebody else holds.
BUSY=$(free_port)
bg python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$BUSY"
wait_for 10 python3 -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$BUSY" ||
  fail "the busy-port holder did not start"
startup_bad 1 "hostfwd tcp:127.0.0.1:$BUSY-10.0.2.15:22: cannot bind the host port: Address already in use" \
  "nat,id=nat0,hostfwd=tcp::$BUSY-:22"

# ---- run time ---------------------------------------------------------------------------------
FREE=$(free_port)
start_daemon --control "$CTL" --threads 1 --port "nat,id=nat0,hostfwd=tcp::$FREE-:22"
before=$(ctl hostfwd-list nat0)

# rt_bad NEEDLE CTL-ARGS...: the command fails naming the problem; forwards unchanged.
rt_bad() {
  local needle=$1
  shift
  expect_exit 1 "$UVSWITCHCTL" --control "$CTL" "$@"
  contains "$ERR" "$needle" "uvswitchctl $*"
  [ "$(ctl hostfwd-list nat0)" = "$before" ] || fail "uvswitchctl $*: forwards changed"
  pass "run time refused: $*"
}

rt_bad "hostfwd: " hostfwd-add nat0 "tcp:127.0.0.1:22"
rt_bad "hostfwd: " hostfwd-add nat0 "sctp::4000-:22"
rt_bad "overlaps the forward tcp:127.0.0.1:$FREE" hostfwd-add nat0 "tcp:0.0.0.0:$FREE-:23"
rt_bad "overlaps the forward" hostfwd-add nat0 "tcp::$FREE-:24"
rt_bad "cannot bind the host port: Address already in use" hostfwd-add nat0 "tcp::$BUSY-:22"
rt_bad "is outside net=10.0.2.0/24" hostfwd-add nat0 "tcp::4023-192.168.1.5:22"
rt_bad "libslirp 4.7 cannot forward an IPv6 host address" hostfwd-add nat0 "tcp:[::1]:4024-:22"
rt_bad "no such forward" hostfwd-del nat0 "tcp:127.0.0.1:4999"
rt_bad "no port with id 'nat9'" hostfwd-add nat9 "tcp::4023-:22"
rt_bad "no port with id 'nat9'" hostfwd-list nat9

# port-add of a NAT that cannot start leaves no port and no socket behind; the fixed spec works.
ports_before=$(ctl --json ports | python3 -c 'import json,sys; print([p["id"] for p in json.load(sys.stdin)["return"]])')
NEXT=$(free_port)
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "nat,id=nat1,net=10.0.3.0/24,hostfwd=tcp::$NEXT-:22,hostfwd=tcp::$BUSY-:22"
contains "$ERR" "cannot bind the host port" "port-add with a busy hostfwd"
ports_after=$(ctl --json ports | python3 -c 'import json,sys; print([p["id"] for p in json.load(sys.stdin)["return"]])')
[ "$ports_before" = "$ports_after" ] || fail "a failed port-add changed the ports: $ports_after"
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$NEXT" ||
  fail "the failed port-add left 127.0.0.1:$NEXT bound"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "nat,id=nat1,net=10.0.3.0/33"
contains "$ERR" "net: " "port-add with a bad net"
ctl port-add "nat,id=nat1,net=10.0.3.0/24,hostfwd=tcp::$NEXT-:22" >/dev/null ||
  fail "port-add of the corrected spec failed"
ctl hostfwd-list nat1 | grep -q "tcp:127.0.0.1:$NEXT-10.0.3.15:22" || fail "nat1 lacks its forward"
pass "port-add of a NAT that cannot bind: refused, nothing left; corrected spec added"

# Removing the NAT closes its forwards: the port is free again.
ctl port-del nat1 >/dev/null || fail "port-del nat1"
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$NEXT" ||
  fail "port-del left 127.0.0.1:$NEXT bound"
pass "port-del of a NAT releases its host ports"

stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "daemon exit code $DAEMON_RC"
