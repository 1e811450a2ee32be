#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e: two QEMU guests talk through uvswitch's vhost-user backend; one guest dies and comes back.
#
# Usage: qemu_pair_test.sh BUILD_DIR [SOURCE_DIR]   (ctest passes both; E2E_KEEP=1 keeps the logs)
#
# The backend is tests/netback/vhost_pair in server mode: two vhost-user-net ports, A and B, that
# forward each other's frames. QEMU connects as the vhost-user client (reconnect=1), guest 1
# (10.0.0.1, 52:54:00:00:00:01) on A and guest 2 (10.0.0.2, 52:54:00:00:00:02) on B; the guests' side
# is guest/peer1.sh and guest/peer2.sh. One boot of each checks, in order:
#   1. ping both ways and an HTTP download from guest 2, compared by md5;
#   2. guest 2's QEMU is SIGKILLed (a crashed guest: the socket just closes), guest 1 sees the outage;
#   3. a new guest 2 connects to the same port B: guest 1 pings it and downloads again, then uploads
#      the file to it over TCP (the new guest 2 checks it);
#   4. the backend's counters: A served one guest and B two, without protocol errors or a broken
#      port, frames crossed both ways and were conserved, and port A's counts match guest 1's NIC
#      counters.
# The addresses exist only inside the guests this script boots.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BUILD_DIR=${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}
# shellcheck source-path=SCRIPTDIR source=lib/guest.sh
source "$here/lib/guest.sh"
# shellcheck source-path=SCRIPTDIR source=vhost_pair.sh
source "$here/vhost_pair.sh"

command -v qemu-system-x86_64 >/dev/null || { e2e_log "missing qemu-system-x86_64"; exit 1; }
t_all=$(e2e_now)
guest_build

a=$E2E_TMP/a.sock b=$E2E_TMP/b.sock log=$E2E_TMP/pair.log
pair_start "$log" --a "$a" --b "$b"
guest_start g1 "$a" 52:54:00:00:00:01 "$here/guest/peer1.sh" client
guest_start g2 "$b" 52:54:00:00:00:02 "$here/guest/peer2.sh" client

guest_wait_line g1 'UVS-STEP PHASE1-OK' 200
t_phase1=$(e2e_elapsed "$t_all")
e2e_log "first checks passed at ${t_phase1}s; killing guest 2 (SIGKILL)"
g2_pid=$(guest_pid g2)
kill -KILL "$g2_pid"
wait "$g2_pid" 2>/dev/null || true
guest_wait_line g1 'UVS-STEP outage seen' 90
e2e_wait_log "$log" 'B: vhost-user frontend disconnected' 10 "$PAIR_PID" ||
  { e2e_log "the backend did not see guest 2 go"; cat "$log" >&2; exit 1; }

e2e_log "starting a new guest 2 on the same port"
guest_start g2b "$b" 52:54:00:00:00:02 "$here/guest/peer2.sh" client
rc1=0 rc2=0
guest_wait g1 240 || rc1=$?
t_g1=$GUEST_TOTAL_S
guest_wait g2b 60 || rc2=$?
back=$(grep -ao 'UVS-STEP back after [0-9.]*s' "$(guest_console g1)" | awk '{ print $4 }' || true)
if [ "$rc1" -ne 0 ] || [ "$rc2" -ne 0 ]; then
  e2e_log "FAIL: guest 1 rc=$rc1, new guest 2 rc=$rc2"
  exit 1
fi

pair_stop "$log" || { cat "$log" >&2; exit 1; }
e2e_log "backend: $(pair_summary "$log")"
ok=0
pair_check_consistent "$log" || ok=1
# Both guests powered off before the backend stopped: every connection also ended.
pair_expect "$log" A connections -eq 1 || ok=1
pair_expect "$log" A disconnects -eq 1 || ok=1
pair_expect "$log" B connections -eq 2 || ok=1
pair_expect "$log" B disconnects -eq 2 || ok=1
# While guest 2 was gone guest 1 kept pinging: port B refused those frames as not ready.
pair_expect "$log" B out_drop_not_ready -gt 0 || ok=1

# Port A served guest 1 alone for its whole life, so their counts must agree: every frame the
# guest sent was taken (a few more may follow the guest's snapshot: TCP closing, ARP), and every
# frame the guest counted as received was put in its ring by A.
g1_tx=$(guest_nic_stat g1 tx) g1_rx=$(guest_nic_stat g1 rx)
a_in=$(pair_field "$log" A in_frames) a_out=$(pair_field "$log" A out_frames)
if [ -z "$g1_tx" ] || [ -z "$g1_rx" ]; then
  e2e_log "guest 1 printed no NIC counters"; ok=1
elif [ "$a_in" -lt "$g1_tx" ] || [ $((a_in - g1_tx)) -gt 20 ] || [ "$a_out" -lt "$g1_rx" ] ||
     [ $((a_out - g1_rx)) -gt 20 ]; then
  e2e_log "port A in=$a_in out=$a_out does not match guest 1's NIC tx=$g1_tx rx=$g1_rx"; ok=1
fi
[ "$ok" -eq 0 ] || { cat "$log" >&2; e2e_log "FAIL: backend counters"; exit 1; }

e2e_log "timings: first checks at ${t_phase1}s, link back ${back:-?} after the outage (guest 2 reboot)," \
        "guest 1 done at ${t_g1}s; total $(e2e_elapsed "$t_all")s; guest 1 NIC tx=$g1_tx rx=$g1_rx"
e2e_log PASS
