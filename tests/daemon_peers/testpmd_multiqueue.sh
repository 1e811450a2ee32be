#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real peers: DPDK testpmd with two virtio-user ports of queues=2 on two vhost-user ports whose
# queue pairs run on two I/O threads each, io-forwarding queue k of one port to queue k of the
# other. Port a lists its threads (threads=0:1); port b has threads=auto, which must pick threads
# 0 and 1, the two with the fewest ports (both taps sit on thread 2). The switch joins the kernel
# stacks of two namespaces through it: ns G on a tap port in VLAN 10 with testpmd's port 0, ns R
# on a tap port in VLAN 20 with its port 1, so every frame between them crosses testpmd. G sends
# numbered UDP datagrams on 16 flows; R checks that each flow arrives complete and in order, and
# the switch shows both queue pairs of both ports carrying frames on two threads. Port a is the
# vhost-user server (testpmd connects), port b the client (testpmd's virtio-user listens with
# server=1), so both socket roles start their lanes. Last, a port-add with queues=4,threads=auto
# must spread its pairs over all three threads. Addresses exist only inside the namespaces made
# here.
# Usage: testpmd_multiqueue.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
source "$SRC/tests/lib/testpmd.sh"
netns_require
testpmd_require
e2e_on_exit testpmd_cleanup

FLOWS=16
PER_FLOW=500
MAC_A=02:00:00:00:4d:0a
MAC_B=02:00:00:00:4d:0b
# offload=off: io forwarding drops the virtio-net header's flags, so a partial checksum from G's
# kernel must be completed by the switch before testpmd, not passed through it.
tg=$(tap_name g) tr=$(tap_name r) nsg=uvs-mq-$$-g nsr=uvs-mq-$$-r
# The ports start in this order, so when b's threads=auto is resolved thread 2 hosts both taps
# and threads 0 and 1 one lane of a each.
daemon_start sw --threads 3 \
  --port "tap,id=g,ifname=$tg,thread=2,vlan=10" \
  --port "tap,id=r,ifname=$tr,thread=2,vlan=20" \
  --port "vhost-user,id=a,path=$E2E_TMP/a.sock,queues=2,threads=0:1,vlan=10,offload=off" \
  --port "vhost-user,id=b,path=$E2E_TMP/b.sock,server=off,queues=2,threads=auto,vlan=20,offload=off"
netns_on_tap "$nsg" "$tg" 10.78.0.1/24
netns_on_tap "$nsr" "$tr" 10.78.0.2/24

# testpmd runs in the background for the whole exchange: `start` (io forwarding, no seed
# frames), then it waits for the end marker before `stop`, the port statistics and `quit`.
testpmd_prefix uvsmq
out=$E2E_TMP/testpmd.out
done_flag=$E2E_TMP/done
: >"$out"
{
  _testpmd_wait_prompt "$out" 40 || true
  echo "start"
  e2e_wait_for 80 test -e "$done_flag" || true
  echo "stop"
  echo "show port stats all"
  sleep 0.5
  echo "quit"
} | timeout --kill-after=5 100 setpriv --pdeathsig KILL -- \
  "$TESTPMD" -l 0,1 --main-lcore 1 --no-huge -m 512 --no-pci --log-level=lib.eal:error \
  --file-prefix="$TESTPMD_PREFIX" \
  --vdev "net_virtio_user0,path=$E2E_TMP/a.sock,mac=$MAC_A,queues=2,queue_size=1024" \
  --vdev "net_virtio_user1,path=$E2E_TMP/b.sock,mac=$MAC_B,queues=2,server=1,queue_size=1024" \
  -- -i --nb-cores=1 --rxq=2 --txq=2 --no-mlockall --total-num-mbufs=16384 \
  --forward-mode=io >"$out" 2>&1 &
tp_pid=$!
e2e_on_exit "kill $tp_pid 2>/dev/null || true"
e2e_wait_for 40 grep -aq 'testpmd> ' "$out" || fail "testpmd did not start: $(tail -20 "$out")"

netns_ping "$nsg" 10.78.0.2 || fail "ping G -> R through testpmd"

# Receiver first: counts datagrams per flow and every sequence number that is not one above the
# flow's last (reordered, or a gap left by a loss).
ip netns exec "$nsr" python3 - "$FLOWS" "$PER_FLOW" >"$E2E_TMP/recv.out" 2>&1 <<'PY' &
import socket, struct, sys, time
flows, per = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("10.78.0.2", 5555))
print("ready", flush=True)
t0 = time.monotonic()
first = None
s.settimeout(20)  # the sender starts after this line is seen; then at most 5 s between datagrams
last, got, back, gaps = {}, 0, 0, 0
try:
    while got < flows * per:
        data = s.recv(64)
        if first is None:
            first = time.monotonic() - t0
            s.settimeout(5)
        flow, seq = struct.unpack("!II", data[:8])
        prev = last.get(flow, -1)
        if seq <= prev:
            back += 1
        elif seq != prev + 1:
            gaps += 1
        last[flow] = max(prev, seq)
        got += 1
except socket.timeout:
    pass
print(f"received={got} flows={len(last)} reordered={back} gaps={gaps} first_after={first}", flush=True)
PY
rpid=$!
e2e_wait_for 10 grep -q ready "$E2E_TMP/recv.out" || fail "receiver did not start"

# Sender: the flows interleaved, one datagram each per round, paced so no ring overflows even on
# a loaded machine (the test is about order and counts, not rate): 2,000 datagrams a second
# against 1024-entry rings leave half a second for a starved testpmd or I/O thread to catch up.
ip netns exec "$nsg" python3 - "$FLOWS" "$PER_FLOW" <<'PY' || fail "sender failed"
import socket, struct, sys, time
flows, per = int(sys.argv[1]), int(sys.argv[2])
socks = []
for f in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.78.0.1", 41000 + f))
    socks.append(s)
for seq in range(per):
    for f, s in enumerate(socks):
        s.sendto(struct.pack("!II", f, seq) + bytes(56), ("10.78.0.2", 5555))
    time.sleep(0.008)
PY
e2e_wait_for 20 grep -q received= "$E2E_TMP/recv.out" || fail "the receiver never finished"
wait "$rpid" 2>/dev/null || true
result=$(grep received= "$E2E_TMP/recv.out")
e2e_log "R's UDP counters: $(ip netns exec "$nsr" grep Udp: /proc/net/snmp | tail -1)"
e2e_log "receiver: $result"
sample=$(daemon_ctl sw --json ports)
touch "$done_flag"
wait "$tp_pid" || fail "testpmd exited with $?: $(tail -20 "$out")"
# The counters again once testpmd has stopped: the receiver's ARP and neighbour frames can still
# cross after the first sample, and testpmd's totals include them.
after=$(daemon_ctl sw --json ports)
# threads=auto at run time: four pairs, every thread hosts two ports, so all three in order.
daemon_ctl sw port-add "vhost-user,id=c,path=$E2E_TMP/c.sock,queues=4,threads=auto" >/dev/null ||
  fail "port-add c with threads=auto"
added=$(daemon_ctl sw --json ports)
daemon_ctl sw port-del c >/dev/null || fail "port-del c"
read -r rx0 tx0 < <(testpmd_port_stats "$out" 0) || fail "no port 0 statistics"
read -r rx1 tx1 < <(testpmd_port_stats "$out" 1) || fail "no port 1 statistics"
e2e_log "testpmd: port0 rx=$rx0 tx=$tx0, port1 rx=$rx1 tx=$tx1"

python3 - "$result" "$sample" "$FLOWS" "$PER_FLOW" "$rx0" "$tx0" "$rx1" "$tx1" "$after" \
  "$added" <<'PY' || fail "checks failed (above)"
import json, re, sys
result, sample = sys.argv[1], json.loads(sys.argv[2])["return"]
flows, per = int(sys.argv[3]), int(sys.argv[4])
rx0, tx0, rx1, tx1 = map(int, sys.argv[5:9])
r = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)\b", result) if k != "first_after")
ports = {p["id"]: p for p in sample}
final = {p["id"]: p for p in json.loads(sys.argv[9])["return"]}
bad = []
if r["reordered"] != 0:
    bad.append(f"{r['reordered']} datagrams arrived behind a later one of their flow")
if r["received"] != flows * per or r["gaps"] != 0 or r["flows"] != flows:
    bad.append(f"received {r['received']} of {flows * per} datagrams on {r['flows']} flows")
# testpmd forwarded at least the test's datagrams, and the switch counted what testpmd sent and
# took. Beside them both directions carry the namespaces' ARP and neighbour frames, some sent
# before the other port's queues were up, which testpmd may drop (its TX drops), so beyond the
# test's own frames it can only be said to forward no more than it received.
if tx1 < flows * per or tx1 > rx0 or tx0 > rx1:
    bad.append(f"testpmd forwarded unequal counts: rx0={rx0} tx1={tx1}, rx1={rx1} tx0={tx0}")
if final["a"]["switch"]["out-frames"] < rx0 or final["b"]["switch"]["in-frames"] < tx1:
    bad.append("switch counters below testpmd's")
for pid, key in (("a", "out-frames"), ("b", "in-frames")):
    p = ports[pid]
    if sorted(p["threads"]) != [0, 1]:
        bad.append(f"port {pid} runs on threads {p['threads']}, not 0 and 1")
    qs = p["backend"]["queues"]
    used = [(q["thread"], q[key]) for q in qs]
    if len(qs) != 2 or sorted(t for t, _ in used) != [0, 1] or any(n < 50 for _, n in used):
        bad.append(f"port {pid}: queues (thread, {key}) = {used}: both should carry frames")
# threads=auto: the spec keeps the word, the port shows the threads picked.
if ports["b"]["settings"].get("threads") != "auto" or "threads=auto" not in ports["b"]["spec"]:
    bad.append(f"port b's spec lost threads=auto: {ports['b']['spec']}")
c = {p["id"]: p for p in json.loads(sys.argv[10])["return"]}.get("c")
if c is None:
    bad.append("port c is not listed after port-add")
else:
    cq = [q["thread"] for q in c["backend"]["queues"]]
    if sorted(c["threads"]) != [0, 1, 2] or cq != [c["threads"][p % 3] for p in range(4)]:
        bad.append(f"port c (queues=4, threads=auto) runs on {c['threads']}, pairs on {cq}")
    if c["settings"].get("threads") != "auto":
        bad.append(f"port c's settings lost threads=auto: {c['settings']}")
print("queues a:", [(q["thread"], q["out-frames"]) for q in ports["a"]["backend"]["queues"]],
      "b:", [(q["thread"], q["in-frames"]) for q in ports["b"]["backend"]["queues"]])
if bad:
    # Where frames were dropped, if anywhere: every non-zero drop counter of the four ports.
    def drops(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from drops(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from drops(v, f"{path}[{i}]")
        elif "drop" in path.rsplit(".", 1)[-1] and node:
            yield f"{path}={node}"
    for pid, p in final.items():
        print("drops", pid, " ".join(drops(p, "")) or "none")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
daemon_stop sw
e2e_log PASS
