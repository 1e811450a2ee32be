#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DPDK port benchmark, two parts:
#   1. memif forwarding rate. A generator testpmd (two net_memif client ports, mac forwarding in
#      a closed loop seeded by `start tx_first 8`, 64-byte frames, each port sending to the
#      other's MAC) drives, in interleaved rounds, either
#        - uvswitch: one I/O thread with two dpdk ports on net_memif servers (learning switch), or
#        - testpmd: two net_memif servers, io forwarding port to port (the DPDK baseline).
#      The backend is pinned to SWITCH_CPU, the generator to GEN_CPU. The rate is the
#      generator's Rx-pps per port over SECS, from its second `show port stats all`.
#   2. idle CPU: a daemon with one dpdk port (net_memif server, no peer) and, for comparison,
#      one with a tap port, both idle for IDLE_SECS: CPU time from /proc, and the loop's wake-ups.
#
# Usage: tools/bench/dpdk_bench.sh [BUILD_DIR=build/release]   (as root; a -DUVS_WITH_DPDK=ON
#        build; prints markdown tables)
# Env:   RUNS=5 (interleaved rounds; the median is shown)  SECS=4  IDLE_SECS=10
#        SWITCH_CPU=1  GEN_CPU=0
set -euo pipefail

source "$(dirname "$0")/bench_lib.sh"
RUNS=${RUNS:-5}
SECS=${SECS:-4}
IDLE_SECS=${IDLE_SECS:-10}
SWITCH_CPU=${SWITCH_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
bench_init dpdk-bench "${1:-build/release}" dpdk-testpmd python3 taskset
TESTPMD=$(command -v dpdk-testpmd)
MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
P=uvsdb$$
BENCH_CLEANUP_EXTRA="rm -rf /var/run/dpdk/$P-*"
EAL_COMMON=(--no-huge -m 512 --no-pci --log-level=lib.eal:error --no-telemetry)

memif_server() {  # memif_server INDEX: devargs of a memif server on TMP/mINDEX.sock
  printf 'net_memif%s,role=server,socket=%s/m%s.sock,socket-abstract=no' "$1" "$TMP" "$1"
}

start_uvswitch() {
  rm -f "$TMP"/m*.sock
  local a b
  a=$(memif_server 0 | sed 's/,/,,/g')
  b=$(memif_server 1 | sed 's/,/,,/g')
  taskset -c "$SWITCH_CPU" "$UVSWITCH" --control "$TMP/sw.ctl" --threads 1 \
    --dpdk-args "${EAL_COMMON[*]} -l 0 --file-prefix $P-sw" \
    --port "dpdk,id=a,devargs=$a" --port "dpdk,id=b,devargs=$b" >"$TMP/backend.log" 2>&1 &
  BACKEND=$!
  PIDS+=("$BACKEND")
  wait_until 20 test -S "$TMP/m1.sock" || { cat "$TMP/backend.log" >&2; bench_die "uvswitch"; }
}

start_testpmd_io() {
  rm -f "$TMP"/m*.sock "$TMP/io.in"
  # testpmd reads its commands from a fifo held open on fd 3: `start` now, `quit` to stop it.
  mkfifo "$TMP/io.in"
  taskset -c "$SWITCH_CPU" "$TESTPMD" --lcores "0@$SWITCH_CPU,1@$SWITCH_CPU" \
    --main-lcore 0 "${EAL_COMMON[@]}" --file-prefix "$P-io" \
    --vdev "$(memif_server 0)" --vdev "$(memif_server 1)" \
    -- -i --forward-mode=io --nb-cores=1 --no-mlockall --total-num-mbufs=16384 \
    <"$TMP/io.in" >"$TMP/backend.log" 2>&1 &
  BACKEND=$!
  PIDS+=("$BACKEND")
  exec 3>"$TMP/io.in"
  echo start >&3
  wait_until 20 test -S "$TMP/m1.sock" || { cat "$TMP/backend.log" >&2; bench_die "testpmd io"; }
}

stop_backend() {
  if [ -e "$TMP/io.in" ]; then
    echo quit >&3 || true
    exec 3>&-
    rm -f "$TMP/io.in"
    wait_until 10 eval "! kill -0 $BACKEND" || kill -KILL "$BACKEND" 2>/dev/null || true
  else
    kill "$BACKEND" 2>/dev/null || true
  fi
  wait "$BACKEND" 2>/dev/null || true
}

# generate OUT: one generator session; prints the mean of the two ports' Rx-pps.
generate() {
  local out=$1
  : >"$out"
  {
    wait_until 40 grep -aq 'testpmd> ' "$out" || true
    # memif links come up once the servers' EAL interrupt threads answer (slow when the
    # backend's CPU is busy): seeding before that would send into a down link.
    sleep 2
    echo "start tx_first 8"
    sleep 1
    echo "show port stats all"
    sleep "$SECS"
    echo "show port stats all"
    sleep 0.3
    echo "stop"
    echo "quit"
  } | timeout 120 taskset -c "$GEN_CPU" "$TESTPMD" --lcores "0@$GEN_CPU,1@$GEN_CPU" \
      --main-lcore 0 "${EAL_COMMON[@]}" --file-prefix "$P-gen" \
      --vdev "net_memif0,role=client,socket=$TMP/m0.sock,socket-abstract=no,mac=$MAC_A" \
      --vdev "net_memif1,role=client,socket=$TMP/m1.sock,socket-abstract=no,mac=$MAC_B" \
      -- -i --forward-mode=mac --txpkts=64 --eth-peer=0,$MAC_B --eth-peer=1,$MAC_A \
      --nb-cores=1 --no-mlockall --total-num-mbufs=16384 >"$out" 2>&1 || true
  # The second statistics block's Rx-pps lines (ports 0 and 1): the rate over SECS.
  awk '/Rx-pps:/ { v[++n] = $2 } END { if (n < 4) { print "nan"; exit } print (v[n-1] + v[n]) / 2 }' "$out"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -a uvs_rates=() io_rates=()
for r in $(seq "$RUNS"); do
  start_uvswitch
  uvs_rates+=("$(generate "$TMP/gen-uvs-$r.out")")
  stop_backend
  start_testpmd_io
  io_rates+=("$(generate "$TMP/gen-io-$r.out")")
  stop_backend
  echo "round $r: uvswitch ${uvs_rates[-1]} pps, testpmd io ${io_rates[-1]} pps per port" >&2
done
uvs_med=$(printf '%s\n' "${uvs_rates[@]}" | median)
io_med=$(printf '%s\n' "${io_rates[@]}" | median)

echo
echo "| backend (pinned to CPU $SWITCH_CPU), 64 B frames, memif | Mpps per port, median of $RUNS | all rounds (Mpps) |"
echo "| --- | --- | --- |"
fmt() { printf '%s\n' "$@" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / 1e6 }'; }
echo "| uvswitch, two dpdk ports (net_memif), learning switch | $(fmt "$uvs_med") | $(fmt "${uvs_rates[@]}") |"
echo "| testpmd, two net_memif ports, io forwarding | $(fmt "$io_med") | $(fmt "${io_rates[@]}") |"

# Part 2: idle CPU.
idle() {  # idle NAME PORT-ARGS...: CPU % and loop iterations per second of an idle daemon
  local name=$1 t0 t1 pid i0 i1
  shift
  rm -f "$TMP"/m*.sock
  taskset -c "$SWITCH_CPU" "$UVSWITCH" --control "$TMP/$name.ctl" --threads 1 "$@" \
    >"$TMP/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_until 20 "$UVSWITCHCTL" --control "$TMP/$name.ctl" version ||
    { cat "$TMP/$name.log" >&2; bench_die "$name did not start"; }
  sleep 1
  iters() {
    "$UVSWITCHCTL" --control "$TMP/$name.ctl" --json threads | python3 -c '
import json, sys
print(sum(t["iterations"] for t in json.load(sys.stdin)["return"] if t.get("role") == "io"))' 2>/dev/null ||
      echo 0
  }
  i0=$(iters)
  t0=$(proc_ticks "$pid")
  sleep "$IDLE_SECS"
  t1=$(proc_ticks "$pid")
  i1=$(iters)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v s="$IDLE_SECS" -v i="$((i1 - i0))" \
    'BEGIN { printf "%.2f %d\n", 100 * t / hz / s, i / s }'
}
read -r dpdk_cpu dpdk_it < <(idle idle-dpdk \
  --dpdk-args "${EAL_COMMON[*]} -l 0 --file-prefix $P-idle" \
  --port "dpdk,id=a,devargs=$(memif_server 0 | sed 's/,/,,/g')")
ip link del "${P}t" 2>/dev/null || true
read -r tap_cpu tap_it < <(idle idle-tap --port "tap,id=t,ifname=${P}t")
echo
echo "| idle daemon, ${IDLE_SECS} s, one I/O thread | CPU (all threads) | loop iterations/s |"
echo "| --- | --- | --- |"
echo "| one dpdk port (net_memif server, no peer): timed re-checks, at most 1 ms apart | ${dpdk_cpu} % | ${dpdk_it} |"
echo "| one tap port (fd-driven) | ${tap_cpu} % | ${tap_it} |"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
