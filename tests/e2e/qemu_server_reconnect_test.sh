#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e: QEMU as the vhost-user server; the backend is killed and restarted under running guests.
#
# Usage: qemu_server_reconnect_test.sh BUILD_DIR [SOURCE_DIR]   (E2E_KEEP=1 keeps the logs)
#
# Two QEMU guests listen on their vhost-user sockets (server=on,wait=off); tests/netback/vhost_pair
# connects to both as the client and forwards between them (guest 1 10.0.0.1 on port A, guest 2
# 10.0.0.2 on port B; guest side in guest/peer1.sh and guest/peer2.sh). Checked, in one boot:
#   1. ping both ways and an HTTP download, compared by md5; the backend's counters (a SIGUSR1
#      snapshot) show one connection per port, frames both ways, no protocol errors;
#   2. the backend is SIGKILLed (a crash: no clean shutdown), the guests see the outage;
#   3. a new backend connects to the same QEMUs, which set the device up again (features, memory
#      table, rings resumed at the index QEMU saved): the same guests, not rebooted, ping and
#      download again, then guest 1 uploads the file to guest 2 (checked there);
#   4. the new backend's final counters are consistent as in step 1.
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

a=$E2E_TMP/a.sock b=$E2E_TMP/b.sock log1=$E2E_TMP/pair-1.log log2=$E2E_TMP/pair-2.log
guest_start g1 "$a" 52:54:00:00:00:01 "$here/guest/peer1.sh" server
guest_start g2 "$b" 52:54:00:00:00:02 "$here/guest/peer2.sh" server
guest_wait_socket "$a" 30
guest_wait_socket "$b" 30
g1_pid=$(guest_pid g1) g2_pid=$(guest_pid g2)
pair_start "$log1" --a "$a" --b "$b" --client

guest_wait_line g1 'UVS-STEP PHASE1-OK' 200
t_phase1=$(e2e_elapsed "$t_all")
pair_snapshot "$log1" || exit 1
e2e_log "first checks passed at ${t_phase1}s; backend: $(pair_summary "$log1")"
ok=0
pair_check_consistent "$log1" || ok=1
for p in A B; do
  pair_expect "$log1" $p connections -eq 1 || ok=1
  pair_expect "$log1" $p disconnects -eq 0 || ok=1
  pair_expect "$log1" $p state -eq 1 || ok=1
done
[ "$ok" -eq 0 ] || { cat "$log1" >&2; e2e_log "FAIL: first backend's counters"; exit 1; }

e2e_log "killing the backend (SIGKILL)"
kill -KILL "$PAIR_PID"
wait "$PAIR_PID" 2>/dev/null || true
guest_wait_line g1 'UVS-STEP outage seen' 90
t_restart=$(e2e_now)
pair_start "$log2" --a "$a" --b "$b" --client
rc1=0 rc2=0
guest_wait_line g1 'UVS-STEP back after' 150 || rc1=1
t_back=$(e2e_elapsed "$t_restart")
if [ "$rc1" -eq 0 ]; then guest_wait g1 180 || rc1=$?; fi
t_g1=$GUEST_TOTAL_S
guest_wait g2 60 || rc2=$?
if [ "$rc1" -ne 0 ] || [ "$rc2" -ne 0 ]; then
  e2e_log "FAIL: guest 1 rc=$rc1, guest 2 rc=$rc2"
  exit 1
fi
# The guests were not rebooted: the QEMUs that the first backend served ran the tests to the end.
if [ "$(guest_pid g1)" != "$g1_pid" ] || [ "$(guest_pid g2)" != "$g2_pid" ]; then
  e2e_log "FAIL: a guest's QEMU was replaced"
  exit 1
fi
for g in g1 g2; do
  [ "$(grep -ac 'UVS-GUEST-BOOTED' "$(guest_console $g)")" -eq 1 ] ||
    { e2e_log "FAIL: guest $g booted more than once"; exit 1; }
done

pair_stop "$log2" || { cat "$log2" >&2; exit 1; }
e2e_log "restarted backend: $(pair_summary "$log2")"
ok=0
pair_check_consistent "$log2" || ok=1
for p in A B; do
  # One connection each; it ended when the guest powered off (before the backend stopped).
  pair_expect "$log2" $p connections -eq 1 || ok=1
  pair_expect "$log2" $p disconnects -eq 1 || ok=1
done
[ "$ok" -eq 0 ] || { cat "$log2" >&2; e2e_log "FAIL: restarted backend's counters"; exit 1; }

e2e_log "timings: first checks at ${t_phase1}s, traffic back ${t_back}s after the new backend started," \
        "guest 1 done at ${t_g1}s; total $(e2e_elapsed "$t_all")s"
e2e_log PASS
