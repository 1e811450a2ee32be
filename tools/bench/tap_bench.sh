#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tap benchmark: iperf3 TCP between two network namespaces, MTU 1500, one stream and four, over
#   - uvswitch, two tap ports with offloads on (the default),
#   - uvswitch, two tap ports with offload=off (plain frames of at most the MTU),
#   - the Linux kernel bridge over veth pairs (docs TESTING.md "Throughput peers"),
# all three set up side by side and measured in interleaved rounds, so every peer sees the same
# machine. The switch side is pinned to CPU SWITCH_CPU: the daemon (one I/O thread) with taskset,
# the kernel bridge by steering its veths' receive processing there (RPS), which is where the
# bridge forwards and the receiving namespace's stack runs, as the daemon's tap writes do. iperf3
# client and server run on GEN_CPU.
#
# Usage: tools/bench/tap_bench.sh [BUILD_DIR=build/release]   (as root; prints a markdown table)
# Env:   RUNS=5 (interleaved rounds; the median is shown)  SECS=5 (iperf3 seconds)
#        STREAMS="1 4"  SWITCH_CPU=0  GEN_CPU=1  NICE=0 (the daemon's and iperf3's nice value)
# "daemon waits" is the time the daemon's threads were runnable but not running (summed
# /proc/PID/task/*/schedstat run-queue wait), as a share of the run: on a machine busy with
# other work the daemon waits for the CPU by the scheduler's fair share, while the bridge's work
# runs in softirq context, which preempts every task.
# CPU s per Gbit: "daemon" is uvswitch's user+system time during the run (/proc/PID/stat);
# "softirq" is SWITCH_CPU's softirq time (/proc/stat), where the bridge forwards and where the
# receiving namespace's stack runs for every peer; each divided by the gigabits moved.
set -euo pipefail

source "$(dirname "$0")/bench_lib.sh"
RUNS=${RUNS:-5}
SECS=${SECS:-5}
STREAMS=${STREAMS:-1 4}
SWITCH_CPU=${SWITCH_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
NICE=${NICE:-0}
P=utb$$
BENCH_CLEANUP_EXTRA='ip link del "${P}br" 2>/dev/null || true'
bench_init tap-bench "${1:-build/release}" iperf3 python3 taskset

ns_add() {  # ns_add NAME DEV ADDR: makes NAME, moves DEV into it with ADDR/24, MTU 1500
  bench_ns "$1"
  ip link set "$2" netns "$1"
  ip -n "$1" link set "$2" mtu 1500 up
  ip -n "$1" addr add "$3/24" dev "$2"
}

# uvswitch peers: one daemon each, one I/O thread pinned to SWITCH_CPU, two taps.
DAEMON_PID_on="" DAEMON_PID_off=""
uvs_peer() {  # uvs_peer on|off SUBNET
  local mode=$1 net=$2 a=${P}${1}a b=${P}${1}b
  nice -n "$NICE" taskset -c "$SWITCH_CPU" "$UVSWITCH" --control "$TMP/$mode.ctl" --threads 1 \
    --port "tap,id=a,ifname=$a,offload=$mode,mtu=1500" \
    --port "tap,id=b,ifname=$b,offload=$mode,mtu=1500" >"$TMP/uvs-$mode.log" 2>&1 &
  PIDS+=($!)
  eval "DAEMON_PID_$mode=$!"
  wait_until 10 ip link show "$b" || { cat "$TMP/uvs-$mode.log" >&2; exit 1; }
  ns_add "${P}-$mode-1" "$a" "$net.1"
  ns_add "${P}-$mode-2" "$b" "$net.2"
}
uvs_peer on 10.81.1
uvs_peer off 10.81.2

# The kernel bridge: two veth pairs, bridge ends steered to SWITCH_CPU.
ip link add "${P}br" type bridge
ip link set "${P}br" up
mask=$(printf '%x' $((1 << SWITCH_CPU)))
for i in 1 2; do
  ip link add "${P}v$i" type veth peer name "${P}p$i"
  ip link set "${P}v$i" master "${P}br" mtu 1500 up
  echo "$mask" >"/sys/class/net/${P}v$i/queues/rx-0/rps_cpus"
  ns_add "${P}-br-$i" "${P}p$i" "10.81.3.$i"
done

# Every pair reaches the other side before anything is measured.
for peer in on off br; do
  n=$peer; [ "$peer" = br ] && net=10.81.3 || net=10.81.$([ "$peer" = on ] && echo 1 || echo 2)
  wait_until 20 ip netns exec "${P}-$n-1" ping -c1 -W1 "$net.2" ||
    { echo "tap_bench: $peer: no ping" >&2; exit 1; }
  nice -n "$NICE" taskset -c "$GEN_CPU" ip netns exec "${P}-$n-2" iperf3 -s -B "$net.2" >"$TMP/srv-$peer.log" 2>&1 &
  PIDS+=($!)
  wait_until 10 sh -c "ip netns exec ${P}-$n-2 ss -ltn | grep -q '$net.2:5201'"
done

TCK=$(getconf CLK_TCK)
rq_wait_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ w += $2 } END { printf "%.0f\n", w }'; }
softirq_ticks() { awk -v c="cpu$SWITCH_CPU" '$1 == c { print $8 }' /proc/stat; }

declare -A RATE CPU SIRQ WAIT
run_one() {  # run_one PEER STREAMS: one measurement, appended to RATE/CPU/SIRQ
  local peer=$1 n=$2 net c0=0 c1=0 w0=0 w1=0 s0 s1 t0 t1 pid=""
  case $peer in
    on) net=10.81.1 pid=$DAEMON_PID_on ;;
    off) net=10.81.2 pid=$DAEMON_PID_off ;;
    br) net=10.81.3 ;;
  esac
  [ -n "$pid" ] && { c0=$(proc_ticks "$pid"); w0=$(rq_wait_ns "$pid"); }
  s0=$(softirq_ticks)
  t0=$(date +%s%N)
  nice -n "$NICE" taskset -c "$GEN_CPU" ip netns exec "${P}-$peer-1" iperf3 -c "$net.2" -t "$SECS" -P "$n" -J \
    >"$TMP/run.json" || { echo "tap_bench: iperf3 $peer -P $n failed" >&2; exit 1; }
  [ -n "$pid" ] && { c1=$(proc_ticks "$pid"); w1=$(rq_wait_ns "$pid"); }
  s1=$(softirq_ticks)
  t1=$(date +%s%N)
  read -r bps bytes < <(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(e["bits_per_second"], e["bytes"])' "$TMP/run.json")
  RATE[$peer,$n]+="$(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') "
  per_gbit() { awk -v c="$1" -v t="$TCK" -v by="$bytes" 'BEGIN { printf "%.3f", (c / t) / (by * 8 / 1e9) }'; }
  CPU[$peer,$n]+="$(per_gbit $((c1 - c0))) "
  SIRQ[$peer,$n]+="$(per_gbit $((s1 - s0))) "
  WAIT[$peer,$n]+="$(awk -v w=$((w1 - w0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", 100 * w / t }') "
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq 1 "$RUNS"); do
  for n in $STREAMS; do
    for peer in on off br; do run_one "$peer" "$n"; done
  done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

name() {
  case $1 in
    on) echo "uvswitch, tap offload=on" ;;
    off) echo "uvswitch, tap offload=off" ;;
    br) echo "Linux bridge over veth" ;;
  esac
}
echo "## Namespace to namespace, TCP, MTU 1500 (iperf3 -t $SECS, median of $RUNS interleaved rounds)"
echo
echo "Switch side on CPU $SWITCH_CPU, iperf3 on CPU $GEN_CPU; load average before $load0, after $load1."
echo
echo "| streams | peer | Gbit/s | vs bridge | daemon CPU s per Gbit | daemon waits (% of run) | softirq s per Gbit | runs (Gbit/s) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for n in $STREAMS; do
  br=$(printf '%s\n' ${RATE[br,$n]} | median)
  for peer in on off br; do
    r=$(printf '%s\n' ${RATE[$peer,$n]} | median)
    c=$(printf '%s\n' ${CPU[$peer,$n]} | median)
    wt=$(printf '%s\n' ${WAIT[$peer,$n]} | median)
    [ "$peer" = br ] && c="-" wt="-"
    si=$(printf '%s\n' ${SIRQ[$peer,$n]} | median)
    rel=$(awk -v a="$r" -v b="$br" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }')
    echo "| $n | $(name "$peer") | $r | $rel | $c | $wt | $si | ${RATE[$peer,$n]% } |"
  done
done
