#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Soak benchmark (not in CI): for N minutes a daemon serves two namespaces on stable tap ports
# with steady UDP traffic while everything else churns around them -- a namespace on a tap port
# comes and goes and opens TCP connections through the NAT, a dpdk-testpmd virtio-user guest
# connects and leaves, vhost-user/stream/dgram ports are added and removed, captures start and
# stop, NAT forwards are added and removed. Prints the daemon's RSS, open fds and threads at the
# start and the end (they must be flat) and the loss of the stable ports' traffic.
#
# Usage: tools/soak.sh [--minutes N] [--rate MBIT] [--build DIR]
#   --minutes N   how long to churn (default 10)
#   --rate MBIT   the stable UDP stream's rate (default 50)
#   --build DIR   build tree with uvswitch and uvswitchctl (default build/release)
# Needs root (namespaces, taps, testpmd), iperf3 and dpdk-testpmd. Addresses exist only inside
# the namespaces it makes; sockets only on loopback. Exits 1 when fds or threads grew, RSS grew
# by more than 8 MiB, or the stable traffic lost more than 0.1% beyond what the same stream lost
# in 20 s without churn just before.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
minutes=10 rate=50 build=$SRC/build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) awk 'NR > 2 && !/^#/ {exit} NR > 2 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "tools/soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$minutes$rate" in
  *[!0-9]*|"") echo "tools/soak.sh: --minutes and --rate take whole numbers" >&2; exit 2 ;;
esac
export BUILD_DIR=$build
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
source "$SRC/tests/lib/testpmd.sh"
netns_require
command -v iperf3 >/dev/null || { echo "tools/soak.sh: needs iperf3" >&2; exit 1; }
testpmd_require
e2e_on_exit testpmd_cleanup

t1=$(tap_name a) t2=$(tap_name b) t3=$(tap_name c)
ns1=uvs-soak-$$-1 ns2=uvs-soak-$$-2 ns3=uvs-soak-$$-3
base=$((20000 + $$ % 10000 * 4))
echo_port=$base udp=$((base + 1)) fwd=$((base + 3))

daemon_start sw --threads 2 --port "tap,id=t1,ifname=$t1,thread=0" \
  --port "tap,id=t2,ifname=$t2,thread=1" --port "nat,id=nat0,thread=1"
netns_on_tap "$ns1" "$t1" 10.0.2.101/24
netns_on_tap "$ns2" "$t2" 10.0.2.102/24
netns_ping "$ns1" 10.0.2.102 || fail "no path between the stable namespaces"
pid=$(daemon_pid sw)

# A TCP echo server on the host's loopback: guests reach it through the NAT at 10.0.2.2.
e2e_bg "$E2E_TMP/echo.log" python3 -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
def serve(c):
    with c:
        while (d := c.recv(4096)):
            c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()' "$echo_port"

rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
sample() { echo "$(rss) $(daemon_fds sw) $(daemon_threads sw)"; }

# One round of churn. Every step must succeed; the stable ports t1/t2 are never touched.
nat_conns=0 guests=0 rounds=0
churn_round() {
  local r=$1 s id
  # A namespace on a fresh tap port: it talks to the NAT (TCP to the host's echo server), then
  # goes, and its port with it.
  daemon_ctl sw port-add "tap,id=c-tap,ifname=$t3,thread=0" >/dev/null || fail "round $r: tap add"
  ip netns add "$ns3"
  ip link set "$t3" netns "$ns3"
  ip -n "$ns3" link set lo up
  ip -n "$ns3" addr add 10.0.2.103/24 dev "$t3"
  ip -n "$ns3" link set "$t3" up
  ip -n "$ns3" route add default via 10.0.2.2
  n=$(ip netns exec "$ns3" timeout 60 python3 -c '
import socket, sys
ok = 0
for i in range(20):
    try:
        with socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=5) as c:
            c.sendall(b"soak %d" % i)
            if c.recv(64) == b"soak %d" % i:
                ok += 1
    except OSError:
        pass
print(ok)' "$echo_port") || n=0
  [ "$n" -gt 0 ] || fail "round $r: no NAT connection from $ns3 succeeded"
  nat_conns=$((nat_conns + n))
  ip netns pids "$ns3" | xargs -r kill -KILL 2>/dev/null || true
  ip netns del "$ns3"
  daemon_ctl sw port-del c-tap >/dev/null || fail "round $r: tap del"

  # A guest: testpmd on a vhost-user port, forwarding for 2 s, then the port goes.
  daemon_ctl sw port-add "vhost-user,id=c-vu,path=$E2E_TMP/vu.sock,thread=$((r % 2))" \
    >/dev/null || fail "round $r: vhost-user add"
  testpmd_prefix uvs-soak
  testpmd_session "$E2E_TMP/testpmd.log" 2 --file-prefix "$TESTPMD_PREFIX" \
    --vdev "$(testpmd_vdev_user 0 "$E2E_TMP/vu.sock" 52:54:00:5a:00:01)" -- \
    --forward-mode=io || fail "round $r: testpmd failed: $(tail -5 "$E2E_TMP/testpmd.log")"
  guests=$((guests + 1))
  rm -rf "/var/run/dpdk/$TESTPMD_PREFIX"
  daemon_ctl sw port-del c-vu >/dev/null || fail "round $r: vhost-user del"

  # Ports that nobody connects to, a capture of a stable port, a NAT forward.
  for s in "stream,id=c-st,path=$E2E_TMP/st.sock,thread=1" \
           "dgram,id=c-dg,local=127.0.0.1:$udp,remote=127.0.0.1:$((udp + 1))"; do
    daemon_ctl sw port-add "$s" >/dev/null || fail "round $r: port-add $s"
  done
  daemon_ctl sw capture-start "port=t1,file=$E2E_TMP/t1.pcap" >/dev/null ||
    fail "round $r: capture-start"
  daemon_ctl sw hostfwd-add nat0 "tcp:127.0.0.1:$fwd-10.0.2.103:22" >/dev/null ||
    fail "round $r: hostfwd-add"
  sleep 1
  daemon_ctl sw hostfwd-del nat0 "tcp:127.0.0.1:$fwd" >/dev/null || fail "round $r: hostfwd-del"
  daemon_ctl sw capture-stop t1 >/dev/null || fail "round $r: capture-stop"
  rm -f "$E2E_TMP/t1.pcap"
  for id in c-st c-dg; do
    daemon_ctl sw port-del "$id" >/dev/null || fail "round $r: port-del $id"
  done
}

# udp_stream SECONDS OUT: UDP at the fixed rate, ns1 -> ns2, in the background ($E2E_PID).
udp_stream() {
  e2e_bg "$E2E_TMP/iperf.server" ip netns exec "$ns2" iperf3 -s -1 -B 10.0.2.102
  e2e_wait_for 10 eval "ip netns exec $ns2 ss -ltn | grep -q '10.0.2.102:5201'" ||
    fail "iperf3 server did not come up"
  e2e_bg "$2" ip netns exec "$ns1" iperf3 -c 10.0.2.102 -u -b "${rate}M" -t "$1" -J
}
# udp_loss OUT: "datagrams lost percent" of a finished udp_stream.
udp_loss() {
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print(s["packets"], s["lost_packets"], "%.4f" % s["lost_percent"])' "$1"
}

# The same stream for 20 s without churn first: what this machine loses anyway.
udp_stream 20 "$E2E_TMP/quiet.json"
wait "$E2E_PID" || fail "iperf3 failed: $(tail -5 "$E2E_TMP/quiet.json")"
read -r qsent qlost qpct < <(udp_loss "$E2E_TMP/quiet.json")
sleep 1

# The stable traffic for the whole soak.
secs=$((minutes * 60))
udp_stream "$((secs + 5))" "$E2E_TMP/iperf.json"
iperf_pid=$E2E_PID
t0=$(e2e_now)
# Warm-up rounds under traffic first: memory touched once and then reused is not growth (the
# inter-thread frame rings fill their pages as traffic first goes round them; libslirp's first
# connections; the capture's buffers).
read -r rss_cold _ _ < <(sample)
for r in 0 1 2; do churn_round "$r"; done
read -r rss0 fds0 thr0 < <(sample)
e2e_log "start (after 3 warm-up rounds): RSS ${rss0} KiB (${rss_cold} before)," \
  "$fds0 fds, $thr0 threads"
samples=()
for ((rounds = 3; $(e2e_elapsed "$t0" | cut -d. -f1) < secs; rounds++)); do
  churn_round "$rounds"
  (( rounds % 4 == 0 )) && samples+=("$(e2e_elapsed "$t0" | cut -d. -f1)s:$(sample | tr ' ' /)")
done
read -r rss1 fds1 thr1 < <(sample)
wait "$iperf_pid" || fail "iperf3 failed: $(tail -5 "$E2E_TMP/iperf.json")"
read -r sent lost pct < <(udp_loss "$E2E_TMP/iperf.json")
daemon_check sw "sorted(p['id'] for p in ports) == ['nat0', 't1', 't2']" "only the stable ports" ||
  fail "ports after the soak"

cat <<EOF
soak: $minutes min, $((rounds - 3)) rounds after 3 warm-up rounds
      (RSS before them: $rss_cold KiB),
      load average $(cut -d' ' -f1-3 /proc/loadavg)
churned: $((rounds)) tap namespaces, $guests testpmd guests, $nat_conns NAT connections,
         $((rounds * 4)) other port-add/del pairs, $rounds captures, $rounds hostfwd add/del
daemon         start      end
  RSS KiB   $(printf '%8s %8s' "$rss0" "$rss1")
  fds       $(printf '%8s %8s' "$fds0" "$fds1")
  threads   $(printf '%8s %8s' "$thr0" "$thr1")
samples (elapsed:RSS/fds/threads): ${samples[*]:-none}
stable UDP ns1 -> ns2 at ${rate} Mbit/s: $sent datagrams, $lost lost ($pct %) during the churn;
  $qsent datagrams, $qlost lost ($qpct %) in 20 s without churn just before
EOF
[ "$fds1" -eq "$fds0" ] || fail "fds grew: $fds0 -> $fds1"
[ "$thr1" -eq "$thr0" ] || fail "threads grew: $thr0 -> $thr1"
[ "$rss1" -le $((rss0 + 8192)) ] || fail "RSS grew: $rss0 -> $rss1 KiB"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) + 0.1 else 1)' \
  "$pct" "$qpct" ||
  fail "the stable ports lost $pct % of their traffic"
daemon_stop sw
e2e_log "soak passed"
