#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A QEMU guest on `-netdev stream` (no vhost-user: 4-byte big-endian length before each frame
# over a unix stream socket) reaches a guest on a vhost-user port through the uvswitch daemon.
#
# Guest 1 (10.0.0.1, tests/e2e/lib/selftest-g1.sh) connects to the daemon's stream port st1, which
# listens; guest 2 (10.0.0.2, selftest-g2.sh) is a vhost-user client of port vm2 on the other port
# thread. Guest 1 pings guest 2, downloads its HTTP file (checked by md5) and tells it "done" over
# TCP; then the daemon's counters show both ports carried frames both ways without errors.
# The addresses exist only inside the guests this script boots.
# Usage: qemu_stream.sh BUILD_DIR SOURCE_DIR   (E2E_KEEP=1 keeps the logs)
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/guest.sh"
source "$SRC/tests/daemon_peers/lib.sh"

command -v qemu-system-x86_64 >/dev/null || fail "missing qemu-system-x86_64"
t_all=$(e2e_now)
guest_build

s=$E2E_TMP/st1.sock b=$E2E_TMP/vm2.sock
daemon_start sw --threads 2 --port "stream,id=st1,path=$s,thread=0" \
  --port "vhost-user,id=vm2,path=$b,thread=1"
guest_start g1 "$s" 52:54:00:00:00:01 "$SRC/tests/e2e/lib/selftest-g1.sh" stream
guest_start g2 "$b" 52:54:00:00:00:02 "$SRC/tests/e2e/lib/selftest-g2.sh" client
rc1=0 rc2=0
guest_wait g1 180 || rc1=$?
guest_wait g2 60 || rc2=$?
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] || fail "stream guest rc=$rc1, vhost-user guest rc=$rc2"

daemon_check sw "port('st1')['backend']['connections'] == 1 and \
  port('st1')['backend']['protocol-errors'] == 0 and port('st1')['backend']['in-frames'] > 20 and \
  port('st1')['backend']['out-frames'] > 100 and port('st1')['backend']['in-drop-too-short'] == 0" \
  "the stream port carried the guest's traffic both ways (the HTTP download out, its ACKs in)" || fail "stream port counters"
# With offloads the vhost-user guest sends the 588895-byte blob as a few TSO frames, which the
# switch segments for the stream port (no offloads there): count bytes on this side, frames there.
daemon_check sw "port('vm2')['backend']['protocol-errors'] == 0 and \
  port('vm2')['switch']['in-bytes'] > 588895 and port('vm2')['switch']['out-frames'] > 20" \
  "the vhost-user port carried the other side" || fail "vhost-user port counters"
daemon_stop sw
e2e_log "total $(e2e_elapsed "$t_all")s"
e2e_log PASS
