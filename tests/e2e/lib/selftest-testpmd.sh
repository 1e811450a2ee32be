#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Self-test of the guest harness against real backends: DPDK testpmd's vhost PMD, and QEMU-to-QEMU.
#
# Usage: tests/e2e/lib/selftest-testpmd.sh [BUILD_DIR] [SOURCE_DIR] [PHASE...]
#   PHASE: harness  guest.sh's own result paths: exit codes, both timeouts, QEMU failing, QMP
#          client   testpmd's vhost PMD listens, QEMU connects (reconnect=1)
#          server   QEMU listens (server=on,wait=off), testpmd's vhost PMD connects (client=1)
#          stream   -netdev stream: guest 1 listens, guest 2 connects, nothing in between; guest 1
#                   takes its address by DHCP from busybox udhcpd in guest 2
#   Default: all four. BUILD_DIR defaults to build/h-guest; the guest image is cached in
#   BUILD_DIR/guest. E2E_KEEP=1 keeps the logs in /tmp/uvs-e2e.*.
#
# In the vhost-user phases testpmd io-forwards port 0 <-> port 1, a two-port wire between guest 1
# (10.0.0.1, 52:54:00:00:00:01) and guest 2 (10.0.0.2, 52:54:00:00:00:02); the guest side is in
# selftest-g1.sh and selftest-g2.sh. Guest 1 pings guest 2 and downloads a file from guest 2's
# httpd; then the host kills testpmd with SIGKILL (a crashed backend) and starts a new one; guest 1
# must see the outage and then the link working again (ping + download), and finally tells guest 2
# over TCP that it is done. These addresses exist only inside the guests this script boots.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BUILD_DIR=${1:-$(cd "$here/../../.." && pwd)/build/h-guest}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(harness client server stream)

source "$here/guest.sh"

for tool in dpdk-testpmd qemu-system-x86_64 socat stdbuf; do
  command -v "$tool" >/dev/null || { e2e_log "missing $tool (tools/install-deps.sh)"; exit 1; }
done

t_all=$(e2e_now)
guest_build
t_build=$(e2e_elapsed "$t_all")

# guest_script OUT SOURCE SETTINGS...: writes OUT = the settings lines followed by SOURCE.
guest_script() {
  local out=$1 src=$2
  shift 2
  printf '%s\n' "$@" >"$out"
  cat "$src" >>"$out"
}
guest_script "$E2E_TMP/g1-restart.sh" "$here/selftest-g1.sh" RESTART=1 DHCP=0
guest_script "$E2E_TMP/g1-dhcp.sh" "$here/selftest-g1.sh" RESTART=0 DHCP=1
guest_script "$E2E_TMP/g2-plain.sh" "$here/selftest-g2.sh" DHCP=0
guest_script "$E2E_TMP/g2-dhcp.sh" "$here/selftest-g2.sh" DHCP=1

# ---- testpmd --------------------------------------------------------------------------------------
tp_prefix=uvsguest$$
# DPDK keeps per-prefix runtime files in /var/run/dpdk; remove ours, and those of earlier runs of
# this script whose process is gone (a SIGKILLed run cannot clean up after itself).
for d in /var/run/dpdk/uvsguest[0-9]*; do
  if [ -d "$d" ] && ! kill -0 "${d##*/uvsguest}" 2>/dev/null; then rm -rf "$d"; fi
done
e2e_on_exit "rm -rf /var/run/dpdk/$tp_prefix"
TP_PID=""

# testpmd_start LOG SOCK_A SOCK_B [client]: starts testpmd with a vhost port on each socket,
# io-forwarding between them. "client" makes the vhost PMD connect to QEMU instead of listening.
testpmd_start() {
  local log=$1 a=$2 b=$3 vopt=""
  [ "${4:-}" = client ] && vopt=",client=1"
  # --no-huge: no hugepages needed (DPDK uses anonymous memory; vhost maps the guests' memfds).
  # --no-mlockall and a small mbuf pool keep start-up to about a second.
  # stdbuf: testpmd prints with stdio; line buffering keeps the log current even after SIGKILL.
  e2e_bg "$log" stdbuf -oL dpdk-testpmd -l 0,1 --no-huge -m 512 --no-pci --file-prefix="$tp_prefix" \
    --vdev "net_vhost0,iface=$a$vopt" --vdev "net_vhost1,iface=$b$vopt" \
    -- --forward-mode=io --nb-cores=1 --no-mlockall --total-num-mbufs=8192 --stats-period 2
  TP_PID=$E2E_PID
  e2e_wait_log "$log" 'start packet forwarding' 30 "$TP_PID" ||
    { e2e_log "testpmd did not start"; cat "$log" >&2; return 1; }
}

# testpmd_port_counts LOG PORT: prints "rx tx" of PORT from the last statistics block in LOG (the
# periodic "NIC statistics" or the "Forward statistics" printed when testpmd stops).
testpmd_port_counts() {
  awk -v p="$2" '
    /statistics for port [0-9]+/ {
      match($0, /port [0-9]+/)
      cur = (substr($0, RSTART + 5, RLENGTH - 5) == p)
    }
    /statistics for all ports/ { cur = 0 }
    cur && /RX-packets:/ { rx = $2 }
    cur && /TX-packets:/ { tx = $2 }
    END { print rx + 0, tx + 0 }' "$1"
}

declare -A report=()

# Phase functions run as `phase || failed=1`, where bash ignores set -e inside them: every step
# that can fail has its own `|| return 1`.

# run_vhost_phase MODE: the two-guest vhost-user test with QEMU as vhost-user "client" or "server".
run_vhost_phase() {
  local mode=$1 dir t0 rc1=0 rc2=0
  dir=$E2E_TMP/$mode
  mkdir -p "$dir"
  local a=$dir/a.sock b=$dir/b.sock
  e2e_log "=== phase $mode: testpmd vhost PMD, QEMU as vhost-user $mode ==="
  t0=$(e2e_now)
  if [ "$mode" = client ]; then
    testpmd_start "$dir/testpmd-1.log" "$a" "$b" || return 1
    guest_start "g1-$mode" "$a" 52:54:00:00:00:01 "$E2E_TMP/g1-restart.sh" client || return 1
    guest_start "g2-$mode" "$b" 52:54:00:00:00:02 "$E2E_TMP/g2-plain.sh" client || return 1
  else
    guest_start "g1-$mode" "$a" 52:54:00:00:00:01 "$E2E_TMP/g1-restart.sh" server || return 1
    guest_start "g2-$mode" "$b" 52:54:00:00:00:02 "$E2E_TMP/g2-plain.sh" server || return 1
    guest_wait_socket "$a" 20 || return 1
    guest_wait_socket "$b" 20 || return 1
    testpmd_start "$dir/testpmd-1.log" "$a" "$b" client || return 1
  fi

  guest_wait_line "g1-$mode" 'UVS-STEP PHASE1-OK' 180 || return 1
  local t_phase1 counts1
  t_phase1=$(e2e_elapsed "$t0")
  counts1="$(testpmd_port_counts "$dir/testpmd-1.log" 0) / $(testpmd_port_counts "$dir/testpmd-1.log" 1)"
  e2e_log "phase $mode: first traffic passed after ${t_phase1}s; killing testpmd (SIGKILL)"
  kill -KILL "$TP_PID"
  wait "$TP_PID" 2>/dev/null || true
  guest_wait_line "g1-$mode" 'UVS-STEP outage seen' 60 || return 1
  # A killed vhost PMD leaves its listening socket files behind; it cannot bind over them.
  [ "$mode" = server ] || rm -f "$a" "$b"
  testpmd_start "$dir/testpmd-2.log" "$a" "$b" "$([ "$mode" = server ] && echo client)" || return 1
  guest_wait "g1-$mode" 240 || rc1=$?
  local boot1=$GUEST_BOOT_S up1=$GUEST_UPTIME_S total1=$GUEST_TOTAL_S
  guest_wait "g2-$mode" 60 || rc2=$?
  local boot2=$GUEST_BOOT_S back
  back=$(grep -ao 'UVS-STEP back after [0-9.]*s' "$(guest_console "g1-$mode")" | awk '{print $4}' || true)
  e2e_kill "$TP_PID" 3
  # The restarted testpmd must have forwarded frames both ways (ping, HTTP, the final TCP message);
  # its exit statistics are exact.
  local rx0 tx0 rx1 tx1
  read -r rx0 tx0 < <(testpmd_port_counts "$dir/testpmd-2.log" 0)
  read -r rx1 tx1 < <(testpmd_port_counts "$dir/testpmd-2.log" 1)
  if [ "$rx0" -eq 0 ] || [ "$rx1" -eq 0 ] || [ "$tx0" != "$rx1" ] || [ "$tx1" != "$rx0" ]; then
    e2e_log "phase $mode: restarted testpmd counted rx/tx $rx0/$tx0 and $rx1/$tx1"
    [ "$rc1" -ne 0 ] || rc1=99
  fi
  report[$mode]="rc=$rc1/$rc2; /init after g1 ${boot1}s (guest uptime ${up1}s), g2 ${boot2}s;"
  report[$mode]+=" first checks passed at ${t_phase1}s; link back ${back:-?} after the outage;"
  report[$mode]+=" g1 done at ${total1}s; phase $(e2e_elapsed "$t0")s;"
  report[$mode]+=" testpmd rx tx port0 / port1: first >= $counts1 (periodic stats),"
  report[$mode]+=" restarted $rx0 $tx0 / $rx1 $tx1"
  [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]
}

# run_stream_phase: guest 1 listens with -netdev stream, guest 2 connects; QEMU to QEMU, no switch.
run_stream_phase() {
  local dir t0 rc1=0 rc2=0
  dir=$E2E_TMP/stream
  mkdir -p "$dir"
  e2e_log "=== phase stream: -netdev stream, guest 1 listens, guest 2 connects; DHCP ==="
  t0=$(e2e_now)
  guest_start g1-stream "$dir/s.sock" 52:54:00:00:00:01 "$E2E_TMP/g1-dhcp.sh" stream-server || return 1
  guest_wait_socket "$dir/s.sock" 20 || return 1
  guest_start g2-stream "$dir/s.sock" 52:54:00:00:00:02 "$E2E_TMP/g2-dhcp.sh" stream || return 1
  guest_wait g1-stream 180 || rc1=$?
  local boot1=$GUEST_BOOT_S up1=$GUEST_UPTIME_S total1=$GUEST_TOTAL_S
  guest_wait g2-stream 60 || rc2=$?
  report[stream]="rc=$rc1/$rc2; /init after g1 ${boot1}s (guest uptime ${up1}s), g2 ${GUEST_BOOT_S}s;"
  report[stream]+=" g1 done at ${total1}s; phase $(e2e_elapsed "$t0")s"
  [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]
}

# expect_rc WHAT WANT GOT: logs the outcome; returns 1 when GOT is not WANT.
expect_rc() {
  if [ "$2" != "$3" ]; then
    e2e_log "harness: $1: expected rc $2, got $3"
    return 1
  fi
  e2e_log "harness: $1: rc $3 as expected"
}

# run_harness_phase: guest.sh's result paths: the test's exit code, the in-guest timeout, the host
# timeout (guest killed), QEMU failing to start, and QMP. The NICs are stream listeners nobody joins.
run_harness_phase() {
  local dir t0 rc ok=0 out
  dir=$E2E_TMP/harness
  mkdir -p "$dir"
  e2e_log "=== phase harness: result codes, timeouts, QMP ==="
  t0=$(e2e_now)
  printf 'exit 7\n' >"$dir/rc7.sh"
  printf 'echo sleeping; sleep 600\n' >"$dir/sleep.sh"
  guest_start h-rc "$dir/rc.sock" 52:54:00:00:01:01 "$dir/rc7.sh" stream-server || return 1
  GUEST_TEST_TIMEOUT=3 guest_start h-gtimeout "$dir/gt.sock" 52:54:00:00:01:02 "$dir/sleep.sh" \
    stream-server || return 1
  guest_start h-htimeout "$dir/ht.sock" 52:54:00:00:01:03 "$dir/sleep.sh" stream-server || return 1
  local -a GUEST_QEMU_ARGS=(-no-such-option)
  guest_start h-bad "$dir/bad.sock" 52:54:00:00:01:04 "$dir/rc7.sh" stream-server || return 1
  unset GUEST_QEMU_ARGS

  local GUEST_DUMP_ON_FAIL=0
  rc=0; guest_wait h-bad 30 || rc=$?
  expect_rc "QEMU rejecting its command line" 125 $rc || ok=1
  grep -q 'no-such-option' "$(guest_dir h-bad)/qemu.log" || { e2e_log "harness: no QEMU error"; ok=1; }
  rc=0; guest_wait h-rc 120 || rc=$?
  expect_rc "exit 7 in /test.sh" 7 $rc || ok=1
  rc=0; guest_wait h-gtimeout 120 || rc=$?
  expect_rc "uvs.timeout=3 with a hung test" 124 $rc || ok=1
  grep -aq 'uvs-init: /test.sh timed out after 3s' "$(guest_console h-gtimeout)" ||
    { e2e_log "harness: no in-guest timeout message"; ok=1; }
  guest_wait_line h-htimeout 'sleeping' 60 || ok=1
  if out=$(guest_qmp h-htimeout '{"execute":"query-status"}') && echo "$out" | grep -q '"running"'; then
    e2e_log "harness: QMP query-status: $(echo "$out" | tail -n1)"
  else
    e2e_log "harness: QMP query-status failed: $out"
    ok=1
  fi
  rc=0; guest_wait h-htimeout 2 || rc=$?
  expect_rc "host-side timeout" 124 $rc || ok=1
  if kill -0 "$(guest_pid h-htimeout)" 2>/dev/null; then
    e2e_log "harness: QEMU still running after the host-side timeout"
    ok=1
  fi
  report[harness]="$([ $ok = 0 ] && echo ok || echo FAILED); phase $(e2e_elapsed "$t0")s"
  return $ok
}

failed=0
for phase in "${phases[@]}"; do
  case $phase in
    client | server) run_vhost_phase "$phase" || failed=1 ;;
    stream) run_stream_phase || failed=1 ;;
    harness) run_harness_phase || failed=1 ;;
    *) e2e_log "unknown phase $phase"; exit 2 ;;
  esac
  # A failed phase may leave its guests and testpmd running; stop them before the next phase.
  e2e_kill_all
done

e2e_log "=== summary (guest build/cache check ${t_build}s, total $(e2e_elapsed "$t_all")s) ==="
for phase in "${phases[@]}"; do
  e2e_log "$phase: ${report[$phase]:-FAILED}"
done
if [ $failed -eq 0 ]; then e2e_log "PASS"; else e2e_log "FAIL"; fi
exit $failed
