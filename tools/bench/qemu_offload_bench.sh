#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# QEMU offload benchmark: an HTTP transfer of SIZE_MB MB between two QEMU TCG guests on two
# vhost-user ports of one uvswitch, with the ports' offloads on (the default: the guests send and
# receive TSO superframes with partial checksums) and with offload=off on both ports (every frame
# at most the MTU, checksummed by the guest). Under TCG the guests' CPU is the bottleneck, so the
# ratio shows what the offloads save the guest.
#
# Both pairs run side by side in one boot of four guests on one daemon (one I/O thread):
#   on:  server 10.0.0.1 (port a_on)  <- client 10.0.0.2 (port b_on)
#   off: server 10.0.0.3 (port a_off) <- client 10.0.0.4 (port b_off), both offload=off
# Each server (busybox httpd) serves a SIZE_MB MB file from its RAM; each client fetches it with
# busybox wget to /dev/null, RUNS times. The two clients pass a token over TCP, so the transfers
# interleave (on, off, on, off, ...) and never overlap. Seconds are the client guest's clock
# (/proc/uptime around wget); "daemon CPU s" is uvswitch's user+system time (/proc/PID/stat)
# sampled when the host sees the clients' lines on their serial consoles (see below).
# The daemon is pinned to DAEMON_CPU and the four QEMU processes (all their threads) to GUEST_CPU
# (taskset); the idle pair's guests stay on GUEST_CPU during the other pair's transfer.
#
# Usage: tools/bench/qemu_offload_bench.sh [BUILD_DIR=build/release]   (prints a markdown table)
# Env:   RUNS=5 (transfers per configuration; the median is shown)  SIZE_MB=100
#        DAEMON_CPU=0  GUEST_CPU=1  GUEST_MEM (MiB per guest, default SIZE_MB + 192)
#        OFF_NIC_OPTS= (extra virtio-net-pci properties for the off pair's QEMU, e.g.
#        "csum=off,guest_csum=off,host_tso4=off,guest_tso4=off")
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export BUILD_DIR=${1:-build/release}
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-100}
DAEMON_CPU=${DAEMON_CPU:-0}
GUEST_CPU=${GUEST_CPU:-1}
OFF_NIC_OPTS=${OFF_NIC_OPTS:-}
export GUEST_MEM=${GUEST_MEM:-$((SIZE_MB + 192))}
for t in qemu-system-x86_64 taskset python3; do
  command -v "$t" >/dev/null || { echo "qemu_offload_bench: $t missing (tools/install-deps.sh)" >&2; exit 1; }
done
source "$SRC/tests/e2e/lib/guest.sh"
source "$SRC/tests/daemon_peers/lib.sh"
guest_build >&2

# The guests' scripts (busybox sh), written here so the benchmark stays one file.
cat >"$E2E_TMP/server.sh" <<'EOF'
. /lib/uvs/lib.sh
read -r addr size_mb </test-files/params
uvs_wait_link eth0 120 || exit 10
uvs_static eth0 "$addr/24" || exit 11
mkdir -p /var/www
dd if=/dev/zero of=/var/www/big bs=1048576 count="$size_mb" 2>/dev/null || exit 12
echo ok >/var/www/ready
httpd -h /var/www -p 80 || exit 13
uvs_step "serving $size_mb MB"
sleep 100000
EOF
cat >"$E2E_TMP/client.sh" <<'EOF'
. /lib/uvs/lib.sh
read -r addr server peer first runs size_mb </test-files/params
uvs_wait_link eth0 120 || exit 10
uvs_static eth0 "$addr/24" || exit 11
uvs_wait_ping "$server" 300 || exit 12
n=0
until uvs_fetch "http://$server/ready" /tmp/ready 20; do
  n=$((n + 1)); [ $n -lt 600 ] || exit 13; sleep 1
done
uvs_step "client ready"
: >/tmp/hold
i=1
while [ $i -le "$runs" ]; do
  # Wait for the other client's token, except for the very first transfer.
  if [ "$first" != 1 ] || [ $i -gt 1 ]; then
    timeout 3600 nc -l -p 7002 <>/tmp/hold >/dev/null || exit 14
  fi
  uvs_step "fetch start $i"
  t0=$(cut -d' ' -f1 /proc/uptime)
  timeout 3600 wget -q -O /dev/null "http://$server/big" || exit 15
  t1=$(cut -d' ' -f1 /proc/uptime)
  uvs_step "fetch done $i $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  if [ "$first" = 1 ] || [ $i -lt "$runs" ]; then
    n=0
    until echo go | nc "$peer" 7002; do
      n=$((n + 1)); [ $n -lt 3600 ] || exit 16; sleep 1
    done
  fi
  i=$((i + 1))
done
EOF

s=$E2E_TMP
DAEMON_PREFIX=(taskset -c "$DAEMON_CPU")
daemon_start sw --threads 1 \
  --port "vhost-user,id=a_on,path=$s/a_on.sock" --port "vhost-user,id=b_on,path=$s/b_on.sock" \
  --port "vhost-user,id=a_off,path=$s/a_off.sock,offload=off" \
  --port "vhost-user,id=b_off,path=$s/b_off.sock,offload=off" >&2
dpid=$(daemon_pid sw)

boot() {  # boot NAME MAC SCRIPT PARAMS...
  local name=$1 mac=$2 script=$3
  shift 3
  mkdir -p "$E2E_TMP/p-$name"
  echo "$*" >"$E2E_TMP/p-$name/params"
  GUEST_TEST_FILES=("$E2E_TMP/p-$name/params")
  guest_start "$name" "$s/$name.sock" "$mac" "$script" client >&2
  taskset -a -cp "$GUEST_CPU" "$(guest_pid "$name")" >/dev/null
}
boot a_on 52:54:00:00:02:01 "$E2E_TMP/server.sh" 10.0.0.1 "$SIZE_MB"
boot b_on 52:54:00:00:02:02 "$E2E_TMP/client.sh" 10.0.0.2 10.0.0.1 10.0.0.4 1 "$RUNS" "$SIZE_MB"
GUEST_NIC_OPTS=$OFF_NIC_OPTS
boot a_off 52:54:00:00:02:03 "$E2E_TMP/server.sh" 10.0.0.3 "$SIZE_MB"
boot b_off 52:54:00:00:02:04 "$E2E_TMP/client.sh" 10.0.0.4 10.0.0.3 10.0.0.2 0 "$RUNS" "$SIZE_MB"
GUEST_NIC_OPTS=""

cpu_s() {  # the daemon's user+system seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$dpid/stat"
}
# Consoles end lines with CR LF; a run number is matched up to the next non-digit.
done_line() { guest_wait_line "$1" "UVS-STEP fetch done $2 [0-9.]+" 3600 >&2; }
guest_wait_line b_on 'UVS-STEP fetch start 1[^0-9]' 900 >&2 || fail "the first transfer did not start"
# The daemon's CPU for a transfer is taken from the previous transfer's done line (seen by the
# host) to this one's, so the host's polling delay is paid at both ends of every window alike;
# the window also holds the token passing, a few packets.
c0=$(cpu_s)
: >"$E2E_TMP/results"
for i in $(seq 1 "$RUNS"); do
  for c in on off; do
    done_line "b_$c" "$i" || fail "b_$c: transfer $i did not finish"
    c1=$(cpu_s)
    secs=$(grep -aoE "UVS-STEP fetch done $i [0-9.]+" "$(guest_console "b_$c")" | awk '{print $5}')
    cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
    c0=$c1
    echo "$c $secs $cpu" >>"$E2E_TMP/results"
    e2e_log "run $i offload=$c: ${secs}s, daemon CPU ${cpu}s"
  done
done
json=$(daemon_ctl sw --json ports) || fail "no ports reply"
for g in a_on b_on a_off b_off; do guest_kill "$g"; done
daemon_stop sw

python3 - "$E2E_TMP/results" "$SIZE_MB" "$json" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
size = int(sys.argv[2])
ports = {p["id"]: p["backend"]["total"] for p in json.loads(sys.argv[3])["return"]}
print("| offloads | median s | MiB/s | daemon CPU s (median) | runs (s) | client port out-tso4 |")
print("|---|---|---|---|---|---|")
med = {}
for cfg, port in (("on", "b_on"), ("off", "b_off")):
    secs = [float(r[1]) for r in rows if r[0] == cfg]
    cpu = [float(r[2]) for r in rows if r[0] == cfg]
    med[cfg] = statistics.median(secs)
    print(f"| {cfg} | {med[cfg]:.2f} | {size / med[cfg]:.2f} | {statistics.median(cpu):.2f} | "
          f"{' '.join(f'{s:.2f}' for s in secs)} | {ports[port]['out-tso4']} |")
# Each client's port carried at least every transfer's bytes (busybox wget also fails on a short
# body, against the Content-Length).
for port in ("b_on", "b_off"):
    want = len(rows) // 2 * size * 1048576
    if ports[port]["out-bytes"] < want:
        sys.exit(f"qemu_offload_bench: {port} sent its guest {ports[port]['out-bytes']} bytes, "
                 f"want >= {want}")
print(f"\noffload=off takes {med['off'] / med['on']:.2f}x the time of offloads on")
PY
