#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Metrics of a daemon with real traffic (two network namespaces on tap ports pinging each other,
# a capture running): `uvswitchctl metrics` passes promtool's check and agrees with `stats`;
# --metrics-file is rewritten as the counters move and node_exporter's textfile collector
# serves it; the file goes away with the daemon; bad metrics flags are refused before start-up.
source "$2/tests/cli/lib.sh" "$@"
source "$2/tests/capture/netns_lib.sh"
command -v promtool >/dev/null || fail "promtool is not installed (package prometheus)"
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NODE_EXPORTER" ] || fail "node_exporter is not installed (package prometheus-node-exporter)"

NE_PID=""
trap '[ -n "$NE_PID" ] && { kill "$NE_PID" 2>/dev/null; wait "$NE_PID" 2>/dev/null; }; netns_cleanup; cleanup' EXIT

# --- bad flags are named, nothing starts ---------------------------------------------------------
expect_exit 2 "$UVSWITCH" --control "$TMP/bad.sock" --metrics-file "$TMP/no/such/dir/m.prom"
contains "$ERR" "metrics-file" "a metrics file in a missing directory"
expect_exit 2 "$UVSWITCH" --control "$TMP/bad.sock" --metrics-file "$TMP/m.prom" --metrics-interval 0
contains "$ERR" "metrics-interval" "metrics-interval 0"
expect_exit 2 "$UVSWITCH" --control "$TMP/bad.sock" --metrics-interval 5
contains "$ERR" "needs metrics-file" "metrics-interval without a file"
[ -e "$TMP/bad.sock" ] && fail "a refused start left a control socket"
pass "bad metrics flags refused with exit 2"

TEXTDIR=$TMP/textfile
mkdir -p "$TEXTDIR"
PROM=$TEXTDIR/uvswitch.prom
start_pair --metrics-file "$PROM" --metrics-interval 1
N=20
ctl capture-start "port=a,file=$TMP/a.pcap,filter=icmp" >/dev/null || fail "capture-start"
ip netns exec "$NS_A" ping -c $N -i 0.05 -W 2 "$IP_B" >/dev/null || fail "ping a -> b"

# value NAME_WITH_LABELS FILE: the sample's value, or empty.
value() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }

# --- uvswitchctl metrics: valid exposition, the traffic counted, agreeing with stats -------------
ctl metrics >"$TMP/m.txt" || fail "uvswitchctl metrics"
ctl --json stats >"$TMP/stats.json"
promtool check metrics <"$TMP/m.txt" >"$TMP/promtool.out" 2>&1 ||
  fail "promtool check metrics rejected the output: $(cat "$TMP/promtool.out")"
[ -s "$TMP/promtool.out" ] && fail "promtool lint findings: $(cat "$TMP/promtool.out")"
families=$(grep -c '^# TYPE ' "$TMP/m.txt")
pass "promtool check metrics accepts $families families, no lint findings"
for p in a b; do
  rx=$(value "uvswitch_port_rx_frames_total{port=\"$p\"}" "$TMP/m.txt")
  tx=$(value "uvswitch_port_tx_frames_total{port=\"$p\"}" "$TMP/m.txt")
  [ -n "$rx" ] && [ -n "$tx" ] || fail "no rx/tx frame counters for port $p"
  [ "$rx" -ge $N ] && [ "$tx" -ge $N ] || fail "port $p: rx $rx tx $tx, want >= $N each"
  # The namespaces are quiet after ping (IPv6 off), so stats taken next shows the same counts.
  json_check "$(cat "$TMP/stats.json")" \
    "[x['switch']['in-frames'] for x in r['return']['ports'] if x['id'] == '$p'] == [$rx]"
  tap_rx=$(value "uvswitch_tap_rx_frames_total{port=\"$p\"}" "$TMP/m.txt")
  [ "$tap_rx" = "$rx" ] || fail "port $p: tap backend rx $tap_rx != switch rx $rx"
done
pass "port a and b rx/tx frame counters count the $N pings and match stats --json"
for name in 'uvswitch_port_drops_total{port="a",reason="vlan"}' \
  'uvswitch_thread_bursts_total{thread="0"}' 'uvswitch_fdb_learned_total' 'uvswitch_fdb_entries' \
  'uvswitch_loop_iterations_total{loop="control",role="control"}' \
  'uvswitch_capture_written_frames_total{capture="1",port="a"}'; do
  [ -n "$(value "$name" "$TMP/m.txt")" ] || fail "missing sample $name"
done
learned=$(value uvswitch_fdb_learned_total "$TMP/m.txt")
[ "$learned" -ge 2 ] || fail "fdb learned $learned MACs, want the 2 namespaces'"
pass "drops by reason, threads, loops, FDB and captures are exported"

# --- the metrics file follows the counters; node_exporter serves it ------------------------------
[ -s "$PROM" ] || fail "no metrics file $PROM"
before=$(value 'uvswitch_port_rx_frames_total{port="a"}' "$PROM")
ip netns exec "$NS_A" ping -c 5 -i 0.05 -W 2 "$IP_B" >/dev/null || fail "second ping"
for i in $(seq 1 40); do
  after=$(value 'uvswitch_port_rx_frames_total{port="a"}' "$PROM")
  [ -n "$after" ] && [ "$after" -ge $((before + 5)) ] && break
  sleep 0.1
done
[ "$after" -ge $((before + 5)) ] || fail "the metrics file did not follow: rx $before then $after"
promtool check metrics <"$PROM" >"$TMP/promtool.out" 2>&1 ||
  fail "promtool rejected the metrics file: $(cat "$TMP/promtool.out")"
ls "$TEXTDIR" | grep -v '^uvswitch.prom$' | grep -q . && fail "left-over files: $(ls "$TEXTDIR")"
pass "metrics file rewritten within 4 s ($before -> $after frames), valid, no temp files left"

NE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$TEXTDIR" >"$TMP/ne.log" 2>&1 &
NE_PID=$!
scrape() {
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' \
    "http://127.0.0.1:$NE_PORT/metrics" >"$TMP/scrape.txt" 2>/dev/null
}
for i in $(seq 1 100); do scrape && break; kill -0 $NE_PID 2>/dev/null || break; sleep 0.1; done
scrape || fail "node_exporter did not serve 127.0.0.1:$NE_PORT: $(cat "$TMP/ne.log")"
served=$(value 'uvswitch_port_rx_frames_total{port="a"}' "$TMP/scrape.txt")
[ -n "$served" ] && [ "$served" -ge $((before + 5)) ] ||
  fail "node_exporter does not serve uvswitch_port_rx_frames_total for a (got '$served')"
errors=$(value node_textfile_scrape_error "$TMP/scrape.txt")
[ "$errors" = 0 ] || fail "node_exporter's textfile collector reports an error: $(cat "$TMP/ne.log")"
n=$(grep -c '^uvswitch_' "$TMP/scrape.txt")
pass "node_exporter serves $n uvswitch_ samples from the textfile (rx frames of a: $served)"
kill "$NE_PID"
wait "$NE_PID" 2>/dev/null || true
NE_PID=""

stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit $DAEMON_RC"
[ -e "$PROM" ] && fail "the metrics file outlived the daemon"
pass "the metrics file is removed at shutdown"
