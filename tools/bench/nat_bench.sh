#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NAT benchmark: single-stream iperf3 TCP between a network namespace and an iperf3 server on the
# host's loopback, both directions (ns->host: the namespace sends; host->ns: iperf3 -R), for
# uvswitch (a tap port + a NAT port in the daemon), slirp4netns and pasta, measured in the same
# run; then the idle cost of uvswitch's NAT (and slirp4netns's) holding 1 and 1000 open
# connections.
#
# Usage: tools/bench/nat_bench.sh [BUILD_DIR=build/release]   (as root; prints markdown tables)
# Env:   RUNS=5 (runs per cell, the median is shown; peers and directions interleaved per run)
#        SECS=5 (iperf3 seconds)  IDLE_SECS=5 (0 skips the idle table)
#        PEERS="uvswitch slirp4netns pasta"  MTUS="1500"  DIRS="up down"
#        (peer uvswitch-nooffload: the same daemon with offload=off on the tap)
#        TAP_OPTS= (extra tap port keys, e.g. offload=off)  UVS_ARGS= (extra daemon flags)
#        PEER_CPU=0 IPERF_CPU=1: the NAT process (daemon, slirp4netns, pasta) and both iperf3
#        ends are pinned to these CPUs (taskset), so every peer gets the same single core.
# CPU is the NAT process's user+system time during the transfer (/proc/PID/stat), divided by
# the gigabits moved: CPU seconds per Gbit (lower is better). iperf3's own CPU is not counted.
set -euo pipefail

source "$(dirname "$0")/bench_lib.sh"
RUNS=${RUNS:-5}
SECS=${SECS:-5}
IDLE_SECS=${IDLE_SECS:-5}
PEERS=${PEERS:-uvswitch slirp4netns pasta}
MTUS=${MTUS:-1500}
DIRS=${DIRS:-up down}
PEER_CPU=${PEER_CPU:-0}
IPERF_CPU=${IPERF_CPU:-1}
PIN_PEER="taskset -c $PEER_CPU"
PIN_IPERF="taskset -c $IPERF_CPU"
BENCH_CLEANUP_EXTRA='peer_stop; stop_pid "$IPERF_PID"'
bench_init nat-bench "${1:-build/release}" iperf3 slirp4netns pasta python3 taskset
ulimit -n 8192

NS=uvsnb$$
TAP=unb$$
PEER_PID=""
IPERF_PID=""
HOLD_PID=""
export XDG_RUNTIME_DIR=$TMP/xdg
mkdir -p "$XDG_RUNTIME_DIR"
CTL=$TMP/control.sock

stop_pid() {  # stop_pid PID: TERM, then KILL after 3 s, and reap
  local p=$1 i
  [ -n "$p" ] || return 0
  kill "$p" 2>/dev/null || true
  for i in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
peer_stop() {
  stop_pid "$HOLD_PID"
  HOLD_PID=""
  stop_pid "$PEER_PID"
  PEER_PID=""
  ip netns del "$NS" 2>/dev/null || true
}
TCK=$(getconf CLK_TCK)


# peer_start PEER MTU: a fresh namespace $NS with a NAT'd interface; sets PEER_PID and GW (the
# address that reaches the host's loopback from inside).
peer_start() {
  local peer=$1 mtu=$2
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  case $peer in
    uvswitch | uvswitch-nooffload)
      local topts=${TAP_OPTS:-}
      [ "$peer" = uvswitch-nooffload ] && topts=offload=off
      $PIN_PEER "$UVSWITCH" --control "$CTL" --threads 1 ${UVS_ARGS:-} \
        --port "tap,id=t0,ifname=$TAP,mtu=$mtu${topts:+,$topts}" \
        --port "nat,id=nat0,mtu=$mtu,ipv6=off" >"$TMP/peer.log" 2>&1 &
      PEER_PID=$!
      wait_until 10 ip link show "$TAP" || { cat "$TMP/peer.log" >&2; return 1; }
      ip link set "$TAP" netns "$NS"
      ip -n "$NS" link set "$TAP" mtu "$mtu" up
      ip -n "$NS" addr add 10.0.2.15/24 dev "$TAP"
      ip -n "$NS" route add default via 10.0.2.2
      GW=10.0.2.2
      ;;
    slirp4netns)
      $PIN_PEER slirp4netns --configure --mtu="$mtu" --netns-type=path "/run/netns/$NS" tap0 \
        >"$TMP/peer.log" 2>&1 &
      PEER_PID=$!
      wait_until 10 ip -n "$NS" route get 10.0.2.2 || { cat "$TMP/peer.log" >&2; return 1; }
      GW=10.0.2.2
      ;;
    pasta)
      # pasta copies the host's addresses and routes; the default gateway maps to the host's
      # loopback (its --map-gw default).
      $PIN_PEER pasta -f --config-net -m "$mtu" --runas 0 --netns "/run/netns/$NS" >"$TMP/peer.log" 2>&1 &
      PEER_PID=$!
      wait_until 10 sh -c "ip -n $NS route | grep -q default" || { cat "$TMP/peer.log" >&2; return 1; }
      GW=$(ip -n "$NS" route | awk '/^default/ { print $3; exit }')
      ;;
  esac
}


IPERF_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$PIN_IPERF iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$TMP/iperf-server.log" 2>&1 &
IPERF_PID=$!
sleep 0.5

dir_name() { [ "$1" = up ] && echo "ns->host" || echo "host->ns"; }
declare -A RATES CPUS
echo "## NAT throughput: single TCP stream, iperf3 -t $SECS, median of $RUNS interleaved runs"
echo
echo "NAT process on CPU $PEER_CPU, iperf3 (both ends) on CPU $IPERF_CPU; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for mtu in $MTUS; do
  for run in $(seq 1 "$RUNS"); do
    for peer in $PEERS; do
      peer_start "$peer" "$mtu"
      # A warm-up connection: ARP/DHCP-free start, socket set-up outside the measurement.
      wait_until 10 ip netns exec "$NS" iperf3 -c "$GW" -p "$IPERF_PORT" -t 1 ||
        { echo "nat_bench: $peer mtu $mtu: iperf3 cannot connect" >&2; exit 1; }
      for dir in $DIRS; do
        rev=""
        [ "$dir" = down ] && rev=-R
        c0=$(proc_ticks "$PEER_PID")
        ip netns exec "$NS" $PIN_IPERF iperf3 -c "$GW" -p "$IPERF_PORT" -t "$SECS" $rev -J \
          >"$TMP/run.json"
        c1=$(proc_ticks "$PEER_PID")
        read -r bps bytes < <(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(e["bits_per_second"], e["bytes"])' "$TMP/run.json")
        key="$mtu|$dir|$peer"
        RATES[$key]+="$(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') "
        CPUS[$key]+="$(awk -v c=$((c1 - c0)) -v t="$TCK" -v by="$bytes" \
          'BEGIN { printf "%.3f", (c / t) / (by * 8 / 1e9) }') "
      done
      peer_stop
    done
  done
done
echo "| MTU | direction | peer | Gbit/s | CPU s per Gbit | runs (Gbit/s) |"
echo "| --- | --- | --- | --- | --- | --- |"
for mtu in $MTUS; do
  for dir in $DIRS; do
    for peer in $PEERS; do
      key="$mtu|$dir|$peer"
      r=$(printf '%s\n' ${RATES[$key]} | median)
      c=$(printf '%s\n' ${CPUS[$key]} | median)
      echo "| $mtu | $(dir_name "$dir") | $peer | $r | $c | ${RATES[$key]% } |"
    done
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
[ "$IDLE_SECS" = 0 ] && exit 0

# ---- idle cost --------------------------------------------------------------------------------
# N connections from the namespace to a host-side holder, then IDLE_SECS with no traffic: the
# NAT process's CPU and, for uvswitch, its I/O loop's wake-ups and slirp passes.
cat >"$TMP/hold_server.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
cat >"$TMP/hold_client.py" <<'PY'
import socket, sys, time
n = int(sys.argv[3]); conns = []
for _ in range(n):
    conns.append(socket.create_connection((sys.argv[1], int(sys.argv[2]))))
open(sys.argv[4], "w").write("up\n")
time.sleep(3600)
PY
HOLD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$TMP/hold_server.py" "$HOLD_PORT" &
HOLD_SERVER=$!
sleep 0.3

loop_field() {  # loop_field KEY: a counter of the daemon's I/O thread 0
  "$UVSWITCHCTL" --control "$CTL" --json threads | python3 -c '
import json, sys
print(json.load(sys.stdin)["return"][0][sys.argv[1]])' "$1"
}
nat_field() {
  "$UVSWITCHCTL" --control "$CTL" --json stats | python3 -c '
import json, sys
print([p for p in json.load(sys.stdin)["return"]["ports"] if p["id"] == "nat0"][0]["backend"][sys.argv[1]])' "$1"
}

echo "## NAT idle cost: N open connections, no traffic for $IDLE_SECS s"
echo
echo "| peer | connections | CPU % of a core | loop wake-ups/s | slirp passes/s |"
echo "| --- | --- | --- | --- | --- |"
for peer in uvswitch slirp4netns; do
  for n in 1 1000; do
    peer_start "$peer" 1500
    rm -f "$TMP/held"
    ip netns exec "$NS" python3 "$TMP/hold_client.py" "$GW" "$HOLD_PORT" "$n" "$TMP/held" &
    HOLD_PID=$!
    wait_until 60 test -e "$TMP/held" || { echo "nat_bench: holder did not connect" >&2; exit 1; }
    sleep 1  # let handshakes and delayed ACKs settle
    wake="-" passes="-"
    if [ "$peer" = uvswitch ]; then
      it0=$(loop_field iterations) p0=$(nat_field passes)
    fi
    c0=$(proc_ticks "$PEER_PID")
    sleep "$IDLE_SECS"
    c1=$(proc_ticks "$PEER_PID")
    if [ "$peer" = uvswitch ]; then
      it1=$(loop_field iterations) p1=$(nat_field passes)
      [ "$(nat_field tcp-open)" -ge "$n" ] || echo "nat_bench: only $(nat_field tcp-open) open" >&2
      wake=$(awk -v a="$it0" -v b="$it1" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f", (b - a) / s }')
      passes=$(awk -v a="$p0" -v b="$p1" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f", (b - a) / s }')
    fi
    cpu=$(awk -v c=$((c1 - c0)) -v t="$TCK" -v s="$IDLE_SECS" 'BEGIN { printf "%.2f", 100 * c / t / s }')
    echo "| $peer | $n | $cpu | $wake | $passes |"
    peer_stop
  done
done
stop_pid "$HOLD_SERVER"
