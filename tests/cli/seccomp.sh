#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --seccomp=on: the daemon runs under its allow-list (Seccomp: 2 in /proc) and every control
# path and socket port still works: vhost-user, stream and dgram traffic, the NAT and a forward
# added at run time, ports and captures added and removed at run time, the stats commands, and
# a clean exit. A call outside the list would kill the process (SIGSYS), which the checks see.
# No root needed; traffic only on loopback.
source "$(dirname "$0")/lib.sh" "$@"

pa=$((47000 + $$ % 8000)) pb=$((pa + 1))
start_daemon --threads 2 --control "$CTL" --seccomp on \
  --port "vhost-user,id=vm0,path=$TMP/vm0.sock" --port nat,id=nat0 \
  --port "stream,id=st,path=$TMP/st.sock" \
  --port "dgram,id=dg,local=127.0.0.1:$pa,remote=127.0.0.1:$pb" \
  --capture "port=st,file=$TMP/st.pcap"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "no filter: $(grep Seccomp "/proc/$DAEMON_PID/status")"
ctl() { "$UVSWITCHCTL" --control "$CTL" --timeout 5 "$@"; }

python3 - "$TMP/st.sock" "$pa" "$pb" <<'PY' || fail "stream/dgram peers"
import socket, struct, sys, time
frame = bytes.fromhex("ffffffffffff" "025555555556" "0800") + bytes(46)
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
d.bind(("127.0.0.1", int(sys.argv[3])))  # first: the flood below comes here
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(0.2)  # the port takes the connection before the frame
s.sendall(struct.pack("!I", len(frame)) + frame)
d.sendto(frame, ("127.0.0.1", int(sys.argv[2])))
d.settimeout(5)
got, _ = d.recvfrom(65536)  # the stream peer's broadcast, flooded out of the dgram port
assert got == frame, got
v = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
v.connect(sys.argv[1].replace("st.sock", "vm0.sock"))
time.sleep(0.3)
PY
pass "stream, dgram and a vhost-user connection under the filter"

for cmd in version threads ports stats fdb captures "hostfwd-list nat0"; do
  expect_exit 0 ctl $cmd
done
expect_exit 0 ctl hostfwd-add nat0 "tcp:127.0.0.1:$((pa + 2))-:22"
expect_exit 0 ctl port-add "vhost-user,id=vm1,path=$TMP/vm1.sock"
expect_exit 0 ctl port-add "stream,id=st2,path=$TMP/st2.sock,mode=0660"
expect_exit 0 ctl capture-start "port=vm1,file=$TMP/vm1.pcap"
expect_exit 0 ctl capture-stop vm1
expect_exit 0 ctl port-del vm1
expect_exit 0 ctl port-del st2
expect_exit 1 ctl port-add "vhost-user,id=bad,path=/nonexistent-dir/x.sock"
kill -0 "$DAEMON_PID" || fail "the daemon died under the filter"
pass "control commands, run-time ports, forwards and captures under the filter"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "exit status $DAEMON_RC under the filter"
tshark -r "$TMP/st.pcap" 2>/dev/null | grep -q . || fail "the capture of st is empty"
pass "clean exit; the capture written under the filter reads back"
