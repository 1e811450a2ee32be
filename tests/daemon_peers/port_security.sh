#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Port security with real peers: namespaces on tap ports of one uvswitch. A namespace sending
# from random source MACs (mausezahn) on a max-macs port, and another filling the whole FDB,
# cannot evict two other namespaces' MACs nor make the switch flood their unicast to the
# flooders, while those two ping each other with no loss; an allowed-mac port drops spoofed
# sources; a bum-rate port's broadcast storm is cut to its rate. Every drop is counted per
# reason, in ports and in the Prometheus metrics. Addresses exist only inside these namespaces.
# Usage: port_security.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require
command -v mausezahn >/dev/null || fail "mausezahn is not installed (netsniff-ng; tools/install-deps.sh)"
command -v tshark >/dev/null || fail "tshark is not installed (tools/install-deps.sh)"

ns=uvs-psec-$$
ta=$(tap_name a) tb=$(tap_name b) tf=$(tap_name f) tu=$(tap_name u) tl=$(tap_name l) tr=$(tap_name r)
lock_mac=02:00:00:78:00:0c
daemon_start sw --threads 2 \
  --port "tap,id=a,ifname=$ta,thread=0" --port "tap,id=b,ifname=$tb,thread=1" \
  --port "tap,id=fl,ifname=$tf,thread=0,max-macs=4" --port "tap,id=fu,ifname=$tu,thread=1" \
  --port "tap,id=lk,ifname=$tl,allowed-mac=$lock_mac" --port "tap,id=br,ifname=$tr,bum-rate=50" \
  --capture "port=fl,file=$E2E_TMP/fl.pcap,dir=out,snaplen=64" \
  --capture "port=fu,file=$E2E_TMP/fu.pcap,dir=out,snaplen=64"
netns_on_tap "$ns-a" "$ta" 10.78.0.1/24
netns_on_tap "$ns-b" "$tb" 10.78.0.2/24
netns_on_tap "$ns-f" "$tf" 10.78.0.3/24
netns_on_tap "$ns-u" "$tu" 10.78.0.4/24
ip -n "$ns-u" link set "$tu" down
ip -n "$ns-u" link set "$tu" address 02:00:00:78:00:04  # never 02:00:00:78:00:0a-0b below
ip -n "$ns-u" link set "$tu" up
netns_on_tap "$ns-l" "$tl" 10.78.0.5/24
netns_on_tap "$ns-r" "$tr" 10.78.0.6/24
mac_of() { ip -n "$1" -br link show dev "$2" | awk '{print $3}'; }
mac_a=$(mac_of "$ns-a" "$ta") mac_b=$(mac_of "$ns-b" "$tb")

netns_ping "$ns-a" 10.78.0.2 || fail "ping a -> b before the floods"
netns_ping "$ns-u" 10.78.0.1 || fail "ping u -> a before the floods"

# --- random source MACs: a limited port and an unlimited one, under a steady ping ------------
e2e_bg "$E2E_TMP/ping.out" ip netns exec "$ns-a" ping -c 150 -i 0.02 -W 2 10.78.0.2
ping_pid=$E2E_PID
ip netns exec "$ns-f" mausezahn "$tf" -a rand -b ff:ff:ff:ff:ff:ff -c 20000 -q ||
  fail "mausezahn on the max-macs port"
# 65536 entries fill the FDB; taps drop what the switch does not read in time, so go on until
# the table refused a source. The frames go to u's own (learned) MAC, so the switch filters
# them: they fill the table without loading a and b's links.
for round in 1 2 3 4 5 6 7 8; do
  ip netns exec "$ns-u" mausezahn "$tu" -a rand -b 02:00:00:78:00:04 -c 40000 -q ||
    fail "mausezahn on the unlimited port"
  full=$(daemon_ctl sw --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["return"]["fdb"]["full"])')
  [ "$full" -gt 0 ] && break
done
wait "$ping_pid" || true
grep -q ' 0% packet loss' "$E2E_TMP/ping.out" ||
  fail "a -> b lost pings during the floods: $(tail -2 "$E2E_TMP/ping.out")"
e2e_log "a -> b: $(grep 'packet loss' "$E2E_TMP/ping.out")"
netns_ping "$ns-b" 10.78.0.1 || fail "ping b -> a after the floods"

daemon_ctl sw --json stats >"$E2E_TMP/stats.json" || fail "no stats reply after the floods"
# The full table, 65536 entries: a sanitizer build on a loaded machine takes seconds to write it.
DAEMON_CTL_TIMEOUT=60 daemon_ctl sw --json fdb >"$E2E_TMP/fdb.json" ||
  fail "no fdb reply (65536 entries) within 60 s"
python3 - "$E2E_TMP/stats.json" "$E2E_TMP/fdb.json" "$mac_a" "$mac_b" <<'PY' ||
import json, sys
stats = json.load(open(sys.argv[1]))["return"]
fdb = json.load(open(sys.argv[2]))["return"]
mac_a, mac_b = sys.argv[3], sys.argv[4]
ports = {p["id"]: p["switch"] for p in stats["ports"]}
where = {e["mac"]: e["port"] for e in fdb}
problems = []
fl, fu = ports["fl"], ports["fu"]
on_fl = sum(1 for e in fdb if e["port"] == "fl")
print(f"fl: in {fl['in-frames']}, drop-max-macs {fl['drop-max-macs']}, {on_fl} FDB entries; "
      f"fu: in {fu['in-frames']}, fdb-full {fu['fdb-full']}; fdb {stats['fdb']}", file=sys.stderr)
if on_fl > 4: problems.append(f"fl holds {on_fl} FDB entries, max-macs=4")
# Every frame but those of the first 4 sources is dropped (mausezahn draws a source per frame;
# the namespace's own MAC sends a few ND and ARP frames too); a slow (sanitizer) build reads
# fewer of the 20000 before the tap drops them.
if fl["in-frames"] < 1000 or fl["drop-max-macs"] < fl["in-frames"] - 4 - 200:
    problems.append("fl's frames from new sources were not all dropped")
if stats["fdb"]["full"] == 0 or fu["fdb-full"] == 0: problems.append("the FDB never filled")
if fu["drop-filtered"] < 10000: problems.append("u's frames to its own MAC were not filtered")
if stats["fdb"]["entries"] > stats["fdb"]["capacity"]: problems.append("FDB above capacity")
if where.get(mac_a) != "a" or where.get(mac_b) != "b":
    problems.append(f"a's or b's MAC was evicted or moved: {where.get(mac_a)}, {where.get(mac_b)}")
for p in problems: print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  fail "switch state after the floods (above)"

# Nothing a and b sent each other left through the flooders' ports (the captures saw the rest).
daemon_ctl sw capture-stop fl >/dev/null || fail "capture-stop fl"
daemon_ctl sw capture-stop fu >/dev/null || fail "capture-stop fu"
for c in fl fu; do
  total=$(tshark -n -r "$E2E_TMP/$c.pcap" 2>/dev/null | wc -l)
  leaked=$(tshark -n -r "$E2E_TMP/$c.pcap" -Y "eth.dst == $mac_a || eth.dst == $mac_b" 2>/dev/null |
    wc -l)
  e2e_log "$c: $total frames sent out, $leaked of them unicast to a or b"
  [ "$total" -gt 0 ] || fail "the capture of $c saw nothing (the floods of the other port?)"
  [ "$leaked" -eq 0 ] || fail "the switch flooded a<->b unicast to $c"
done

# --- allowed-mac: the namespace's own MAC passes, spoofed sources do not --------------------
ip -n "$ns-l" link set "$tl" down
ip -n "$ns-l" link set "$tl" address "$lock_mac"
ip -n "$ns-l" link set "$tl" up
netns_ping "$ns-l" 10.78.0.1 || fail "the allowed MAC cannot reach a"
ip netns exec "$ns-l" mausezahn "$tl" -a 02:00:00:78:00:99 -b ff:ff:ff:ff:ff:ff -c 200 -q ||
  fail "mausezahn on the allowed-mac port"
ip netns exec "$ns-l" mausezahn "$tl" -a rand -b "$mac_a" -c 200 -q || fail "mausezahn (rand)"
e2e_wait_for 5 daemon_check sw "port('lk')['switch']['drop-allowed-mac'] >= 400" \
  "lk dropped the 400 spoofed frames" || fail "allowed-mac drops"
daemon_ctl sw --json fdb | grep -q '02:00:00:78:00:99' && fail "a spoofed source was learned"

# --- bum-rate: a broadcast storm is cut to 50 frames a second ------------------------------
netns_ping "$ns-r" 10.78.0.1 || fail "br cannot reach a"
in0=$(daemon_counter sw br switch.in-frames) drop0=$(daemon_counter sw br switch.drop-bum-rate)
t0=$(e2e_now)
ip netns exec "$ns-r" mausezahn "$tr" -b ff:ff:ff:ff:ff:ff -c 5000 -q || fail "mausezahn on br"
secs=$(e2e_elapsed "$t0")
sleep 0.5
in1=$(daemon_counter sw br switch.in-frames) drop1=$(daemon_counter sw br switch.drop-bum-rate)
passed=$(((in1 - in0) - (drop1 - drop0)))
e2e_log "br: $((in1 - in0)) storm frames in $secs s, $((drop1 - drop0)) dropped, $passed passed"
python3 -c '
import sys
got, passed, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sys.exit(0 if got >= 2500 and passed <= 16 + 50 * (secs + 1) else 1)' \
  "$((in1 - in0))" "$passed" "$secs" || fail "bum-rate=50 let $passed frames through"
sleep 0.5
netns_ping "$ns-r" 10.78.0.1 || fail "br cannot reach a after its storm"

# --- the drop reasons in the Prometheus text ------------------------------------------------
metrics=$(daemon_ctl sw metrics)
for r in 'port="fl",reason="max_macs"' 'port="lk",reason="allowed_mac"' 'port="br",reason="bum_rate"'; do
  echo "$metrics" | grep -E "^uvswitch_port_drops_total\{.*$r\} [1-9]" >/dev/null ||
    fail "metrics lack uvswitch_port_drops_total{$r}: $(echo "$metrics" | grep drops_total | head)"
done
# ... and in the ports table's SECURITY-DROPS column (the 6th), by port.
table=$(daemon_ctl sw ports)
for r in 'fl max-macs' 'lk allowed-mac' 'br bum-rate'; do
  read -r id reason <<<"$r"
  echo "$table" | awk -v id="$id" '$1 == id { print $6 }' | grep -E "(^|,)$reason=[1-9]" >/dev/null ||
    fail "the ports table lacks $reason drops on $id: $table"
done
daemon_stop sw
e2e_log PASS
