#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# VXLAN benchmark: iperf3, one TCP stream, namespace to namespace through a VXLAN tunnel over a
# veth underlay (MTU 1500, inner MTU 1450), two ways set up side by side and measured in
# interleaved rounds, so both see the same machine:
#   - uvswitch: a namespace on a tap port -> the daemon's vxlan port -> veth -> a Linux vxlan
#     device in the far namespace (its checksum offload off: over a veth the kernel would leave
#     the inner checksum to a NIC, and a socket-reading VTEP would forward it unfinished);
#   - Linux: a vxlan device in each namespace (docs TESTING.md "Linux vxlan to Linux vxlan").
# The daemon (one I/O thread) runs on SWITCH_CPU; iperf3 client and server on GEN_CPU.
#
# Usage: tools/bench/vxlan_bench.sh [BUILD_DIR=build/release]   (as root; prints a markdown table)
# Env:   RUNS=5 (interleaved rounds; the median is shown)  SECS=5 (iperf3 seconds)
#        SWITCH_CPU=0  GEN_CPU=1
set -euo pipefail

source "$(dirname "$0")/bench_lib.sh"
RUNS=${RUNS:-5}
SECS=${SECS:-5}
SWITCH_CPU=${SWITCH_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
P=uvb$$
bench_init vxlan-bench "${1:-build/release}" iperf3 python3 taskset ethtool

ns() { bench_ns "$1"; }
underlay() {  # underlay NS_A NS_B NET: a veth pair, NET.1 in NS_A, NET.2 in NS_B
  ip link add "$1x" type veth peer name "$2x"
  ip link set "$1x" netns "$1"
  ip link set "$2x" netns "$2"
  ip -n "$1" addr add "$3.1/24" dev "$1x"
  ip -n "$2" addr add "$3.2/24" dev "$2x"
  ip -n "$1" link set "$1x" up
  ip -n "$2" link set "$2x" up
}
linux_vtep() {  # linux_vtep NS LOCAL REMOTE ADDR [tx-off]
  ip -n "$1" link add vx0 type vxlan id 42 local "$2" remote "$3" dstport 4789 dev "$1x"
  [ "${5:-}" = tx-off ] && ip netns exec "$1" ethtool -K vx0 tx off >/dev/null
  ip -n "$1" addr add "$4/24" dev vx0
  ip -n "$1" link set vx0 up
}

# uvswitch side: daemon in ${P}d, its tap moved to ${P}t, Linux VTEP in ${P}l.
ns "${P}d"; ns "${P}t"; ns "${P}l"
underlay "${P}d" "${P}l" 10.83.1
linux_vtep "${P}l" 10.83.1.2 10.83.1.1 10.84.1.2 tx-off
taskset -c "$SWITCH_CPU" ip netns exec "${P}d" "$UVSWITCH" --control "$TMP/sw.ctl" --threads 1 \
  --port "tap,id=t,ifname=${P}tap" \
  --port "vxlan,id=vx,vni=42,local=10.83.1.1,remote=10.83.1.2" >"$TMP/uvs.log" 2>&1 &
PIDS+=($!)
DAEMON=$!
wait_until 10 ip -n "${P}d" link show "${P}tap" || { cat "$TMP/uvs.log" >&2; exit 1; }
ip -n "${P}d" link set "${P}tap" netns "${P}t"
ip -n "${P}t" addr add 10.84.1.1/24 dev "${P}tap"
ip -n "${P}t" link set "${P}tap" up

# Linux side: ${P}a and ${P}b, each with a vxlan device (default offloads).
ns "${P}a"; ns "${P}b"
underlay "${P}a" "${P}b" 10.83.2
linux_vtep "${P}a" 10.83.2.1 10.83.2.2 10.84.2.1
linux_vtep "${P}b" 10.83.2.2 10.83.2.1 10.84.2.2

for peer in uvs linux; do
  if [ $peer = uvs ]; then c=${P}t s=${P}l addr=10.84.1.2; else c=${P}a s=${P}b addr=10.84.2.2; fi
  wait_until 20 ip netns exec "$c" ping -c1 -W1 "$addr" || { echo "vxlan_bench: $peer: no ping" >&2; exit 1; }
  taskset -c "$GEN_CPU" ip netns exec "$s" iperf3 -s -B "$addr" >"$TMP/srv-$peer.log" 2>&1 &
  PIDS+=($!)
  wait_until 10 sh -c "ip netns exec $s ss -ltn | grep -q '$addr:5201'"
done

declare -A RATE
run_one() {
  local peer=$1 c addr
  if [ "$peer" = uvs ]; then c=${P}t addr=10.84.1.2; else c=${P}a addr=10.84.2.2; fi
  taskset -c "$GEN_CPU" ip netns exec "$c" iperf3 -c "$addr" -t "$SECS" -J >"$TMP/run.json" ||
    { echo "vxlan_bench: iperf3 $peer failed" >&2; exit 1; }
  RATE[$peer]+="$(python3 -c '
import json, sys
print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$TMP/run.json") "
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq 1 "$RUNS"); do
  for peer in uvs linux; do run_one "$peer"; done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
drops=$("$UVSWITCHCTL" --control "$TMP/sw.ctl" --json ports |
  python3 -c '
import json, sys
p = next(p for p in json.load(sys.stdin)["return"] if p["id"] == "vx")
b = p["backend"]; v = b["vteps"][0]; sw = p["switch"]
print("out-drop-mtu %d, VTEP out-drop-full %d, out-drop-too-big %d, switch sw-segmented %d" %
      (b["out-drop-mtu"], v["out-drop-full"], v["out-drop-too-big"], sw.get("sw-segmented", 0)))')

echo "## VXLAN namespace to namespace, one TCP stream (iperf3 -t $SECS, median of $RUNS interleaved rounds)"
echo
echo "Daemon on CPU $SWITCH_CPU, iperf3 on CPU $GEN_CPU; load average before $load0, after $load1."
echo "uvswitch vxlan port counters after the runs: $drops."
echo
echo "| path | Gbit/s | vs Linux | runs (Gbit/s) |"
echo "| --- | --- | --- | --- |"
lx=$(printf '%s\n' ${RATE[linux]} | median)
for peer in uvs linux; do
  r=$(printf '%s\n' ${RATE[$peer]} | median)
  rel=$(awk -v a="$r" -v b="$lx" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }')
  name=$([ $peer = uvs ] && echo "tap -> uvswitch vxlan -> Linux vxlan" || echo "Linux vxlan -> Linux vxlan")
  echo "| $name | $r | $rel | ${RATE[$peer]% } |"
done
