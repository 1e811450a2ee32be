#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two QEMU guests (TCG) on two vhost-user ports of the uvswitch daemon; one of them dies and a new
# one takes its place.
#
# Guest 1 (10.0.0.1) attaches through the backend-program --fd path: tests/cli/fd_launcher.py
# listens on its socket and execs the daemon with that listener as --fd 3 (port vm0). Guest 2
# (10.0.0.2) is on a plain path port, vm2, with two queue pairs on the two port threads
# (queues=2,threads=1:0; the guest has two vCPUs, so its kernel enables both). Guest 1 uses split
# rings, guest 2 packed rings (virtio-net-pci packed=on: virtio 1.1 VIRTIO_F_RING_PACKED). Both
# QEMUs are vhost-user clients with reconnect=1; the guest side is tests/e2e/guest/peer1.sh and
# peer2.sh. One boot of each checks, in order:
#   1. ping both ways and an HTTP download from guest 2, compared by md5; vm2 negotiated packed
#      rings and vm0 split ones;
#   2. guest 2's QEMU is SIGKILLed, guest 1 sees the outage;
#   3. a new guest 2 on the same port: guest 1 pings and downloads again, then uploads the file;
#   4. the daemon's counters: vm0 served one guest and vm2 two, without protocol errors; vm0's
#      counts match guest 1's NIC counters; both of vm2's queue pairs carried frames, each on its
#      own thread; the switch learned both guests' MACs.
# The addresses exist only inside the guests this script boots.
# Usage: qemu_pair.sh BUILD_DIR SOURCE_DIR   (E2E_KEEP=1 keeps the logs)
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
DAEMON_PREFIX=(python3 "$SRC/tests/cli/fd_launcher.py" listen "$a")
daemon_start sw --threads 2 --port "vhost-user,id=vm2,path=$b,queues=2,threads=1:0"
DAEMON_PREFIX=()
# Both guests boot at once: the boots dominate the test's time.
guest_start g1 "$a" 52:54:00:00:00:01 "$guests/peer1.sh" client
# Guest 2 is multi-queue with packed rings: a Linux guest enables one queue pair per vCPU.
mq_guest() {
  local GUEST_NETDEV_OPTS=queues=2 GUEST_NIC_OPTS=packed=on,mq=on
  local -a GUEST_QEMU_ARGS=(-smp 2)
  guest_start "$@"
}
mq_guest g2 "$b" 52:54:00:00:00:02 "$guests/peer2.sh" client

guest_wait_line g1 'UVS-STEP PHASE1-OK' 200 || fail "first checks"
# VIRTIO_F_RING_PACKED is feature bit 34.
packed_bit() { echo "(int(port('$1')['backend']['offloads']['features'], 16) >> 34) & 1"; }
daemon_check sw "$(packed_bit vm2) == 1 and $(packed_bit vm0) == 0" >/dev/null ||
  fail "vm2 should run packed rings and vm0 split ones"
t_phase1=$(e2e_elapsed "$t_all")
e2e_log "first checks passed at ${t_phase1}s; killing guest 2 (SIGKILL)"
g2_pid=$(guest_pid g2)
kill -KILL "$g2_pid"
wait "$g2_pid" 2>/dev/null || true
guest_wait_line g1 'UVS-STEP outage seen' 90 || fail "guest 1 saw no outage"
e2e_wait_log "$E2E_TMP/sw.log" 'vm2: vhost-user frontend disconnected' 10 || fail "the daemon did not see guest 2 go"

e2e_log "starting a new guest 2 on the same port"
mq_guest g2b "$b" 52:54:00:00:00:02 "$guests/peer2.sh" client
rc1=0 rc2=0
guest_wait g1 240 || rc1=$?
t_g1=$GUEST_TOTAL_S
guest_wait g2b 60 || rc2=$?
back=$(grep -ao 'UVS-STEP back after [0-9.]*s' "$(guest_console g1)" | awk '{ print $4 }' || true)
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] || fail "guest 1 rc=$rc1, new guest 2 rc=$rc2"

# Both guests powered off: every connection ended. Wait for the daemon to see the last one go.
e2e_wait_for 10 daemon_check sw "port('vm0')['backend']['disconnects'] == 1 and port('vm2')['backend']['disconnects'] == 2" \
  >/dev/null 2>&1 || true
ok=0
vhost_port_clean sw vm0 1 || ok=1
vhost_port_clean sw vm2 2 || ok=1
# vm0 served guest 1 alone for its whole life, so their counts agree: every frame the guest sent
# was taken (a few more may follow the guest's snapshot: TCP closing, ARP), and every frame the
# guest counted as received was put in its ring by vm0.
g1_tx=$(guest_nic_stat g1 tx) g1_rx=$(guest_nic_stat g1 rx)
[ -n "$g1_tx" ] && [ -n "$g1_rx" ] || { e2e_log "guest 1 printed no NIC counters"; ok=1; }
daemon_check sw "0 <= port('vm0')['backend']['total']['in-frames'] - ${g1_tx:-0} <= 20 and \
  0 <= port('vm0')['backend']['total']['out-frames'] - ${g1_rx:-0} <= 20" \
  "vm0's counters match guest 1's NIC (tx=$g1_tx rx=$g1_rx)" || ok=1
daemon_check sw "port('vm2')['threads'] == [1, 0] and \
  [q['thread'] for q in port('vm2')['backend']['queues']] == [1, 0] and \
  all(q['in-frames'] + q['out-frames'] > 0 for q in port('vm2')['backend']['queues'])" \
  "both of vm2's queue pairs carried frames, on threads 1 and 0" || ok=1
fdb=$(daemon_ctl sw --json fdb)
python3 -c '
import json, sys
r = {(e["mac"], e["port"]) for e in json.loads(sys.argv[1])["return"]}
sys.exit(0 if {("52:54:00:00:00:01", "vm0"), ("52:54:00:00:00:02", "vm2")} <= r else 1)' "$fdb" ||
  { e2e_log "the FDB lacks a guest: $fdb"; ok=1; }
[ "$ok" -eq 0 ] || fail "daemon counters"
daemon_stop sw
[ -S "$a" ] || fail "the daemon removed the launcher's socket"

e2e_log "timings: first checks at ${t_phase1}s, link back ${back:-?} after the outage (guest 2" \
        "reboot), guest 1 done at ${t_g1}s; total $(e2e_elapsed "$t_all")s; guest 1 NIC tx=$g1_tx rx=$g1_rx"
e2e_log PASS
