# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared helpers for the script tests that use DPDK's dpdk-testpmd as a virtio-user peer: finding
# it (loudly), vdev strings, one scripted interactive session, its port statistics, and cleanup
# of what a killed testpmd leaves behind (/var/run/dpdk/<prefix>, listening socket files).
#
# Source it from a bash script running under `set -euo pipefail`:
#   source "$SRC/tests/lib/testpmd.sh"
# Nothing here installs a trap; the caller's cleanup calls testpmd_cleanup.

[ -n "${_UVS_TESTPMD_SH:-}" ] && return 0
_UVS_TESTPMD_SH=1

TESTPMD=${TESTPMD:-}
_testpmd_prefixes=()   # --file-prefix values handed out by testpmd_prefix, removed by cleanup

# testpmd_require: sets TESTPMD to dpdk-testpmd's path. If it is missing the test FAILS (exit 1):
# tools/install-deps.sh installs dpdk, so a missing binary is a broken setup, not a reason to skip.
testpmd_require() {
  [ -n "$TESTPMD" ] || TESTPMD=$(command -v dpdk-testpmd || true)
  if [ -z "$TESTPMD" ] || [ ! -x "$TESTPMD" ]; then
    echo "FAIL: dpdk-testpmd not found (run tools/install-deps.sh, which installs package dpdk)" >&2
    exit 1
  fi
  # DPDK's EAL keeps its runtime state in /var/run/dpdk, which needs root here.
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: dpdk-testpmd needs root for /var/run/dpdk" >&2
    exit 1
  fi
}

# testpmd_prefix STEM: prints a --file-prefix value unique to this script run (STEM + pid + a
# counter), and first removes the runtime dirs of earlier runs of STEM whose script is gone (a
# SIGKILLed run cannot clean up after itself). Call it in the main shell, not in $(...), so the
# prefix is remembered for testpmd_cleanup: it sets TESTPMD_PREFIX.
testpmd_prefix() {
  local stem=$1 d pid
  for d in /var/run/dpdk/"$stem"[0-9]*; do
    [ -d "$d" ] || continue
    pid=${d##*/"$stem"}
    pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null || rm -rf "$d"
  done
  TESTPMD_PREFIX="$stem$$-${#_testpmd_prefixes[@]}"
  _testpmd_prefixes+=("$TESTPMD_PREFIX")
}

# testpmd_vdev_user INDEX SOCKET MAC [server]: prints the --vdev value of one virtio-user port.
# With "server", testpmd listens on SOCKET (server=1) and the switch connects; a stale socket file
# left by an earlier, killed testpmd is removed first, since it would make the bind fail.
testpmd_vdev_user() {
  local idx=$1 sock=$2 mac=$3 role=${4:-client} extra=""
  if [ "$role" = server ]; then
    rm -f "$sock"
    extra=",server=1"
  fi
  printf 'net_virtio_user%s,path=%s,mac=%s%s' "$idx" "$sock" "$mac" "$extra"
}

# _testpmd_wait_prompt OUT TIMEOUT: waits until testpmd's "testpmd> " prompt is in OUT. The
# prompt is written to the fd directly (the rest of testpmd's output is stdio-buffered into the
# file), so it is the one live sign that start-up, including virtio-user's connection, is over.
_testpmd_wait_prompt() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    grep -aq 'testpmd> ' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# testpmd_session OUT SECONDS EAL_ARGS... -- APP_ARGS...: runs one interactive testpmd (-i is
# added) fed by a script that, once the prompt is up, sends `start tx_first 8`, lets SECONDS of
# traffic pass (TESTPMD_DURING, if set, names a function run once in the middle of that interval,
# e.g. to sample the switch's counters), then `stop`, `show port stats all`, `quit`. EAL arguments
# get the common ones added (two lcores, no hugepages, no PCI). All output goes to OUT. Returns
# testpmd's exit status (124: it hung). testpmd dies with this shell (parent-death signal), so a
# killed test leaves no testpmd behind.
testpmd_session() {
  local out=$1 secs=$2
  shift 2
  local -a eal=() app=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do eal+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  app=("$@")
  local half
  half=$(awk -v s="$secs" 'BEGIN { printf "%.2f", s / 2 }')
  : >"$out"
  {
    # Start-up takes 1-2 s, much longer on a loaded machine: the traffic interval starts after it.
    _testpmd_wait_prompt "$out" 40 || true
    echo "start tx_first 8"
    sleep "$half"
    [ -z "${TESTPMD_DURING:-}" ] || "$TESTPMD_DURING" >&2
    sleep "$half"
    echo "stop"
    echo "show port stats all"
    sleep 0.5
    echo "quit"
  } | timeout --kill-after=5 $((${secs%.*} + 60)) setpriv --pdeathsig KILL -- \
      "$TESTPMD" -l 0,1 --main-lcore 1 --no-huge -m 512 --no-pci --log-level=lib.eal:error \
      "${eal[@]}" -- -i --nb-cores=1 --no-mlockall --total-num-mbufs=16384 "${app[@]}" \
      >"$out" 2>&1
}

# testpmd_port_stats OUT PORT: prints "RX TX" packet counts of PORT from the last
# "NIC statistics for port PORT" block in OUT (what `show port stats all` printed).
testpmd_port_stats() {
  awk -v p="$2" '
    /statistics for port/ { cur = ($0 ~ /NIC statistics for port/) && ($0 ~ ("port " p " ")) }
    /statistics for all ports/ { cur = 0 }
    cur && /RX-packets:/ { rx = $2 }
    cur && /TX-packets:/ { tx = $2 }
    END { if (rx == "" || tx == "") exit 1; print rx, tx }' "$1"
}

# testpmd_cleanup: removes the runtime dirs of every prefix this script used.
testpmd_cleanup() {
  local p
  for p in "${_testpmd_prefixes[@]}"; do rm -rf "/var/run/dpdk/$p"; done
}
