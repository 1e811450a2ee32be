#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tap offloads against the kernel's stack: three network namespaces on tap ports of one uvswitch,
# n1 and n2 with offloads on (the default), n3 with offload=off.
#   - ethtool -k in n1 shows the offloads on, in n3 off; the daemon reports the same;
#   - iperf3 n1 -> n2 and n2 -> n1;
#   - a capture of t1 during a transfer each way, read by tshark with IP and TCP checksum
#     validation on: no bad checksum, and frames larger than the MTU (GSO frames, whole);
#   - BIG_MB MB (default 200) n1 -> n2 arrives byte-identical (sha256);
#   - the switch's fallback against a real receiver: FALLBACK_MB MB each way between n1 and n3
#     (segmented and checksummed for t3), sha256-checked;
#   - the counters: GSO frames in and out of t1/t2, segmentation for t3, no malformed header.
# Addresses exist only inside the namespaces this script makes.
# Usage: tap_offload.sh BUILD_DIR SOURCE_DIR   (E2E_KEEP=1 keeps the logs)
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require
for t in iperf3 tshark ethtool socat; do
  command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
BIG_MB=${BIG_MB:-200}
FALLBACK_MB=${FALLBACK_MB:-40}
t_all=$(e2e_now)

t1=$(tap_name a) t2=$(tap_name b) t3=$(tap_name c)
n1=uvs-toff-$$-1 n2=uvs-toff-$$-2 n3=uvs-toff-$$-3
daemon_start sw --threads 2 --port "tap,id=t1,ifname=$t1,thread=0" \
  --port "tap,id=t2,ifname=$t2,thread=1" --port "tap,id=t3,ifname=$t3,thread=1,offload=off"
netns_on_tap "$n1" "$t1" 10.78.0.1/24
netns_on_tap "$n2" "$t2" 10.78.0.2/24
netns_on_tap "$n3" "$t3" 10.78.0.3/24

# The kernel's view of the offloads TUNSETOFFLOAD enabled (ethtool -k FEATURE: on|off).
feature() {
  ip netns exec "$1" ethtool -k "$2" | awk -v f="$3:" '$1 == f {print $2}'
}
for f in tx-checksumming tcp-segmentation-offload; do
  [ "$(feature "$n1" "$t1" $f)" = on ] || fail "$f is not on for $t1 in $n1: $(ip netns exec "$n1" ethtool -k "$t1")"
  [ "$(feature "$n3" "$t3" $f)" = off ] || fail "$f is not off for $t3 (offload=off)"
done
e2e_log "ethtool -k: tx-checksumming and TSO on in $n1, off in $n3"
daemon_check sw "all(x in port('t1')['backend']['offloads']['negotiated'] \
    for x in ('csum', 'tso4', 'tso6', 'tso-ecn')) and \
  port('t3')['backend']['offloads']['negotiated'] == [] and port('t3')['backend']['vnet-hdr']" \
  "t1 negotiated csum/tso4/tso6/tso-ecn, t3 nothing" || fail "negotiated offloads"

netns_ping "$n1" 10.78.0.2 || fail "ping n1 -> n2"
netns_ping "$n1" 10.78.0.3 || fail "ping n1 -> n3"

gbits=$(iperf_pair "$n1" "$n2" 10.78.0.2 2 "$E2E_TMP/iperf12.json") || fail "iperf3 n1 -> n2"
e2e_log "iperf3 n1 -> n2: $gbits Gbit/s"
gbits=$(iperf_pair "$n2" "$n1" 10.78.0.1 2 "$E2E_TMP/iperf21.json") || fail "iperf3 n2 -> n1"
e2e_log "iperf3 n2 -> n1: $gbits Gbit/s"

# send FROM_NS TO_NS TO_ADDR PORT FILE: FILE from one namespace to the other over TCP; prints the
# sha256 of what arrived.
send() {
  local from=$1 to=$2 addr=$3 port=$4 file=$5 out=$E2E_TMP/recv.$4
  e2e_bg "$out.log" ip netns exec "$to" socat -u "TCP-LISTEN:$port,bind=$addr,reuseaddr" \
    "CREATE:$out"
  local spid=$E2E_PID
  e2e_wait_for 10 eval "ip netns exec $to ss -ltn | grep -q '$addr:$port'" ||
    { e2e_log "socat in $to did not listen"; return 1; }
  ip netns exec "$from" timeout 60 socat -u "OPEN:$file" "TCP:$addr:$port" ||
    { e2e_log "socat $from -> $addr failed"; e2e_kill "$spid" 1; return 1; }
  e2e_wait_for 20 eval "! kill -0 $spid 2>/dev/null" || { e2e_kill "$spid" 1; return 1; }
  sha256sum <"$out" | cut -d' ' -f1
  rm -f "$out"
}

# A capture of t1 (both directions) while 8 MB cross each way.
head -c $((8 << 20)) /dev/urandom >"$E2E_TMP/small"
small_sha=$(sha256sum <"$E2E_TMP/small" | cut -d' ' -f1)
pcap=$E2E_TMP/t1.pcap
daemon_ctl sw capture-start "port=t1,file=$pcap" >/dev/null || fail "capture-start"
[ "$(send "$n1" "$n2" 10.78.0.2 5101 "$E2E_TMP/small")" = "$small_sha" ] || fail "8 MB n1 -> n2 (captured) differs"
[ "$(send "$n2" "$n1" 10.78.0.1 5102 "$E2E_TMP/small")" = "$small_sha" ] || fail "8 MB n2 -> n1 (captured) differs"
daemon_ctl sw capture-stop t1 >/dev/null || fail "capture-stop"
# ip/tcp.checksum.status: 0 bad, 1 good, 2 unverified (epan/proto.h PROTO_CHECKSUM_E_*).
tshark -r "$pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -T fields -E separator=, \
  -e frame.number -e frame.len -e ip.checksum.status -e tcp.checksum.status -e tcp.len \
  >"$E2E_TMP/t1.csv" 2>"$E2E_TMP/tshark.err" || fail "tshark cannot read $pcap: $(cat "$E2E_TMP/tshark.err")"
python3 - "$E2E_TMP/t1.csv" <<'PY' || fail "capture checks (above)"
import sys
frames = bad = good_tcp = big = 0
for line in open(sys.argv[1]):
    num, flen, ipst, tcpst, tcplen = (line.rstrip("\n").split(",") + [""] * 5)[:5]
    frames += 1
    if ipst in ("0", "Bad") or tcpst in ("0", "Bad"):
        bad += 1
        if bad <= 5:
            print(f"bad checksum: frame {num}, {flen} bytes, ip {ipst}, tcp {tcpst}", file=sys.stderr)
    if tcpst in ("1", "Good"):
        good_tcp += 1
    if int(flen) > 1514:
        big += 1
print(f"capture: {frames} frames, {good_tcp} TCP checksums verified good, {big} above the MTU, {bad} bad")
sys.exit(0 if frames > 100 and bad == 0 and big > 0 and good_tcp > frames // 2 else 1)
PY

# BIG_MB MB n1 -> n2, offloads both ends.
head -c $((BIG_MB << 20)) /dev/urandom >"$E2E_TMP/big"
big_sha=$(sha256sum <"$E2E_TMP/big" | cut -d' ' -f1)
t0=$(e2e_now)
got=$(send "$n1" "$n2" 10.78.0.2 5103 "$E2E_TMP/big") || fail "$BIG_MB MB n1 -> n2"
[ "$got" = "$big_sha" ] || fail "$BIG_MB MB n1 -> n2: sha256 $got, want $big_sha"
e2e_log "$BIG_MB MB n1 -> n2 byte-identical in $(e2e_elapsed "$t0")s"
rm -f "$E2E_TMP/big"

# The fallback: n1 (GSO frames) to n3 on offload=off, and back.
head -c $((FALLBACK_MB << 20)) /dev/urandom >"$E2E_TMP/fb"
fb_sha=$(sha256sum <"$E2E_TMP/fb" | cut -d' ' -f1)
got=$(send "$n1" "$n3" 10.78.0.3 5104 "$E2E_TMP/fb") || fail "$FALLBACK_MB MB n1 -> n3"
[ "$got" = "$fb_sha" ] || fail "$FALLBACK_MB MB n1 -> n3 (offload=off): sha256 $got, want $fb_sha"
got=$(send "$n3" "$n1" 10.78.0.1 5105 "$E2E_TMP/fb") || fail "$FALLBACK_MB MB n3 -> n1"
[ "$got" = "$fb_sha" ] || fail "$FALLBACK_MB MB n3 -> n1 (offload=off): sha256 $got, want $fb_sha"
e2e_log "$FALLBACK_MB MB each way between n1 and n3 (offload=off) byte-identical"

json=$(daemon_ctl sw --json ports) || fail "no ports reply"
python3 - "$json" <<'PY' || { echo "$json" | python3 -m json.tool >&2; fail "offload counters"; }
import json, sys
p = {x["id"]: x for x in json.loads(sys.argv[1])["return"]}
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        ok = False
b1, b2, b3 = (p[t]["backend"] for t in ("t1", "t2", "t3"))
s3 = p["t3"]["switch"]
check(b1["in-tso4"] > 0 and b2["in-tso4"] > 0, "n1/n2 sent no GSO frames")
check(b1["out-tso4"] > 0 and b2["out-tso4"] > 0, "n1/n2 got no GSO frames")
check(b1["in-csum"] >= b1["in-tso4"], "GSO frames without a partial checksum")
check(b3["in-csum"] == 0 and b3["out-csum"] == 0 and b3["out-tso4"] == 0, f"t3 saw offloads: {b3}")
check(s3["sw-segmented"] > 0 and s3["sw-segments"] > s3["sw-segmented"],
      f"the switch did not segment for t3: {s3}")
for t in ("t1", "t2", "t3"):
    b = p[t]["backend"]
    check(b["in-drop-bad-hdr"]["total"] == 0, f"{t}: bad headers {b['in-drop-bad-hdr']}")
    check(b["out-drop-offload"] == 0 and b["out-errors"] == 0, f"{t}: write drops {b}")
    check(all(v == 0 for v in p[t]["switch"]["drop-offload"].values()),
          f"{t}: fallback drops")
print("t1 in-tso4=%d out-tso4=%d; t2 in-tso4=%d out-tso4=%d; t3 sw-segmented=%d sw-segments=%d"
      % (b1["in-tso4"], b1["out-tso4"], b2["in-tso4"], b2["out-tso4"], s3["sw-segmented"],
         s3["sw-segments"]))
sys.exit(0 if ok else 1)
PY
daemon_stop sw
e2e_log "total $(e2e_elapsed "$t_all")s"
e2e_log PASS
