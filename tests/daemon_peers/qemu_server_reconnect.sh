#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# QEMU as the vhost-user server; the uvswitch daemon is SIGKILLed and restarted under running
# guests.
#
# Two QEMU guests listen on their vhost-user sockets (server=on,wait=off); the daemon's ports vm1
# and vm2 connect to them (server=off), one per port thread. Guest side: tests/e2e/guest/peer1.sh
# (10.0.0.1) and peer2.sh (10.0.0.2). Checked, in one boot:
#   1. ping both ways and an HTTP download, compared by md5; the daemon's counters show one
#      connection per port, both up, frames both ways;
#   2. the daemon is SIGKILLed (a crash: no clean shutdown), the guests see the outage;
#   3. a new daemon connects to the same QEMUs, which set the device up again: the same guests,
#      not rebooted, ping and download again, then guest 1 uploads the file to guest 2;
#   4. the new daemon's counters: one clean connection per port.
# The addresses exist only inside the guests this script boots.
# Usage: qemu_server_reconnect.sh BUILD_DIR SOURCE_DIR   (E2E_KEEP=1 keeps the logs)
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/guest.sh"
source "$SRC/tests/daemon_peers/lib.sh"
guests=$SRC/tests/e2e/guest

command -v qemu-system-x86_64 >/dev/null || fail "missing qemu-system-x86_64"
t_all=$(e2e_now)
guest_build

a=$E2E_TMP/a.sock b=$E2E_TMP/b.sock
ports=(--threads 2 --port "vhost-user,id=vm1,path=$a,server=off,thread=0"
       --port "vhost-user,id=vm2,path=$b,server=off,thread=1")
guest_start g1 "$a" 52:54:00:00:00:01 "$guests/peer1.sh" server
guest_start g2 "$b" 52:54:00:00:00:02 "$guests/peer2.sh" server
guest_wait_socket "$a" 30
guest_wait_socket "$b" 30
g1_pid=$(guest_pid g1) g2_pid=$(guest_pid g2)
daemon_start sw1 "${ports[@]}"

guest_wait_line g1 'UVS-STEP PHASE1-OK' 200 || fail "first checks"
t_phase1=$(e2e_elapsed "$t_all")
ok=0
for p in vm1 vm2; do
  daemon_check sw1 "port('$p')['state'] == 'up' and port('$p')['backend']['connections'] == 1 and \
    port('$p')['backend']['disconnects'] == 0 and port('$p')['backend']['protocol-errors'] == 0 and \
    port('$p')['switch']['in-frames'] > 0 and port('$p')['switch']['out-frames'] > 0" \
    "$p: one connection, up, frames both ways" || ok=1
done
[ "$ok" -eq 0 ] || fail "first daemon's counters"
e2e_log "first checks passed at ${t_phase1}s; killing the daemon (SIGKILL)"
daemon_kill sw1
guest_wait_line g1 'UVS-STEP outage seen' 90 || fail "guest 1 saw no outage"

t_restart=$(e2e_now)
daemon_start sw2 "${ports[@]}"
rc1=0 rc2=0
guest_wait_line g1 'UVS-STEP back after' 150 || rc1=1
t_back=$(e2e_elapsed "$t_restart")
if [ "$rc1" -eq 0 ]; then guest_wait g1 180 || rc1=$?; fi
t_g1=$GUEST_TOTAL_S
guest_wait g2 60 || rc2=$?
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] || fail "guest 1 rc=$rc1, guest 2 rc=$rc2"
# The guests were not rebooted: the QEMUs the first daemon served ran the tests to the end.
[ "$(guest_pid g1)" = "$g1_pid" ] && [ "$(guest_pid g2)" = "$g2_pid" ] || fail "a guest's QEMU was replaced"
for g in g1 g2; do
  [ "$(grep -ac 'UVS-GUEST-BOOTED' "$(guest_console $g)")" -eq 1 ] || fail "guest $g booted more than once"
done

# One connection per port; it ended when the guest powered off.
e2e_wait_for 10 daemon_check sw2 "all(p['backend']['disconnects'] == 1 for p in ports)" \
  >/dev/null 2>&1 || true
ok=0
vhost_port_clean sw2 vm1 1 || ok=1
vhost_port_clean sw2 vm2 1 || ok=1
[ "$ok" -eq 0 ] || fail "restarted daemon's counters"
daemon_stop sw2

e2e_log "timings: first checks at ${t_phase1}s, traffic back ${t_back}s after the new daemon" \
        "started, guest 1 done at ${t_g1}s; total $(e2e_elapsed "$t_all")s"
e2e_log PASS
