#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A capture on a busy port (iperf3 between two namespaces through the daemon) does not stop the
# traffic, and its counts account for every frame the port moved: written + dropped equals
# the port's in + out frames over the capture, whatever the writer managed.
source "$2/tests/cli/lib.sh" "$@"
source "$2/tests/capture/netns_lib.sh"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (tools/install-deps.sh)"

start_pair
port_frames() {  # in + out frames of port a, from the switch's counters
  ctl --json stats | python3 -c '
import json, sys
r = json.load(sys.stdin)["return"]
p = [p for p in r["ports"] if p["id"] == "a"][0]["switch"]
print(p["in-frames"] + p["out-frames"])'
}

ip netns exec "$NS_B" iperf3 -s -1 -B "$IP_B" >"$TMP/iperf-s.log" 2>&1 &
IPERF_S=$!
for i in $(seq 1 50); do
  ip netns exec "$NS_B" ss -ltn 2>/dev/null | grep -q ":5201" && break
  sleep 0.1
done
before=$(port_frames)
ctl capture-start "port=a,file=$TMP/load.pcap,snaplen=96,max-size=50,max-files=2" >/dev/null ||
  fail "capture-start"
ip netns exec "$NS_A" iperf3 -c "$IP_B" -t 3 -J >"$TMP/iperf.json" 2>"$TMP/iperf.err" ||
  fail "iperf3 under capture failed: $(tail -5 "$TMP/iperf.err" "$TMP/iperf.json")"
wait $IPERF_S 2>/dev/null || true
json=$(ctl --json captures)
ctl capture-stop a >/dev/null || fail "capture-stop"
after=$(port_frames)
bps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$TMP/iperf.json")
[ "$bps" -gt 10000000 ] || fail "iperf3 moved only $bps bit/s while captured"
pass "iperf3 ran at $((bps / 1000000)) Mbit/s with the port captured"
json_check "$json" "r['return'][0]['written'] > 1000 and 'dropped' in r['return'][0]"
echo "captures: $(python3 -c 'import json,sys; c=json.loads(sys.argv[1])["return"][0]; print("written", c["written"], "dropped", c["dropped"])' "$json")"
# The listing was taken just before the stop; the final counts come from the daemon's log line.
line=$(grep "capture 1 of a stopped" "$TMP/daemon.err" || fail "no stop line in the daemon log")
written=$(echo "$line" | sed -E 's/.*stopped: ([0-9]+) written.*/\1/')
dropped=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped.*/\1/')
moved=$((after - before))
# A stray frame or two (ARP refresh) may cross between the stats reads and the attach/detach.
diff=$((moved - written - dropped))
[ "${diff#-}" -le 4 ] || fail "port a moved $moved frames, capture wrote $written and dropped $dropped"
pass "every frame accounted for: $moved moved = $written written + $dropped dropped"
for f in load.pcap load.pcap.1; do
  [ -e "$TMP/$f" ] || continue
  tshark -r "$TMP/$f" -c 1 >/dev/null 2>&1 || fail "$f is not valid pcap"
done
ip netns exec "$NS_A" ping -c 1 -W 2 "$IP_B" >/dev/null || fail "no traffic after the load"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit $DAEMON_RC"
