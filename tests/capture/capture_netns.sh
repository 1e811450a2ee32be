#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Capture through the daemon between two kernel stacks (network namespaces on tap ports): the
# pcap files hold exactly the frames that crossed, in order; a BPF filter keeps only matches;
# rotation leaves the expected files; capture-stop closes a valid file; the live stream
# (uvswitchctl capture-start port=..,file=- | tshark -r -) reads the frames.
source "$2/tests/cli/lib.sh" "$@"
source "$2/tests/capture/netns_lib.sh"

start_pair
N=5

# --- exact frames, in order, on the right port; a filter keeps only the requests ---------------
ctl capture-start "port=a,file=$TMP/a.pcap" >/dev/null || fail "capture-start a"
ctl capture-start "port=b,file=$TMP/b-req.pcap,filter=icmp[icmptype]==8" >/dev/null ||
  fail "capture-start b with a filter"
ip netns exec "$NS_A" ping -c $N -i 0.2 -W 2 "$IP_B" >/dev/null || fail "ping a -> b"
ctl --json captures >"$TMP/caps.json"
json_check "$(cat "$TMP/caps.json")" \
  "[c['port'] for c in r['return']] == ['a', 'b'] and r['return'][1]['filtered-out'] >= $N"
ctl capture-stop a >/dev/null || fail "capture-stop a"
ctl capture-stop b >/dev/null || fail "capture-stop b"

# Echo request (8) then reply (0) for seq 1..N, and nothing else ICMP.
got=$(tshark_fields "$TMP/a.pcap" icmp icmp.type icmp.seq | tr '\t' ':' | tr '\n' ' ')
want=$(for s in $(seq 1 $N); do printf '8:%s 0:%s ' "$s" "$s"; done)
[ "$got" = "$want" ] || fail "port a capture: expected '$want', got '$got'"
pass "port a: $N echo requests and $N replies, in order"
got=$(tshark_fields "$TMP/b-req.pcap" "" icmp.type icmp.seq | tr '\t' ':' | tr '\n' ' ')
want=$(for s in $(seq 1 $N); do printf '8:%s ' "$s"; done)
[ "$got" = "$want" ] || fail "filtered capture of b: expected '$want', got '$got'"
pass "filter icmp[icmptype]==8 kept exactly the $N requests"
# Nanosecond pcap (magic a1b23c4d as written on a little-endian host), Ethernet link type.
magic=$(od -An -tx1 -N4 "$TMP/a.pcap" | tr -d ' ')
[ "$magic" = "4d3cb2a1" ] || fail "a.pcap magic $magic, want the nanosecond pcap magic"
tshark -r "$TMP/a.pcap" -T fields -e frame.protocols -c 1 2>/dev/null | grep -q '^eth:' ||
  fail "a.pcap is not Ethernet"
pass "nanosecond pcap, Ethernet link type"

# --- rotation: max-size=1 (MB), max-files=3 -----------------------------------------------------
# 3000 pings of 1400 bytes = 6000 frames of 1442 bytes; 685 records fill a 1 MB file
# (24 + 685 * (16 + 1442) <= 1e6), so 9 files are written and the 3 newest kept.
ctl capture-start "port=a,file=$TMP/r.pcap,filter=icmp,max-size=1,max-files=3" >/dev/null ||
  fail "capture-start with rotation"
ip netns exec "$NS_A" ping -f -c 3000 -s 1400 -W 2 "$IP_B" >/dev/null || fail "ping flood"
ctl capture-stop a >/dev/null || fail "capture-stop after rotation"
# The final counts are in the daemon's stop line (a listing taken earlier may lag the writer).
line=$(grep "of a stopped" "$TMP/daemon.err" | tail -1)
written=$(echo "$line" | sed -E 's/.*stopped: ([0-9]+) written.*/\1/')
dropped=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped.*/\1/')
[ $((written + dropped)) -eq 6000 ] || fail "rotation capture: $written written + $dropped dropped != 6000"
[ -e "$TMP/r.pcap.3" ] && fail "max-files=3 kept a fourth file"
for f in r.pcap.2 r.pcap.1 r.pcap; do
  [ -s "$TMP/$f" ] || fail "rotation: $f missing"
  n=$(tshark -n -r "$TMP/$f" 2>"$TMP/tshark.err" | wc -l) || fail "$f invalid: $(cat "$TMP/tshark.err")"
  size=$(stat -c %s "$TMP/$f")
  [ "$size" -le 1000000 ] || fail "$f is $size bytes, over max-size"
  [ "$f" = r.pcap ] || [ "$n" -eq 685 ] || fail "$f holds $n frames, want 685"
done
pass "rotation: r.pcap, r.pcap.1, r.pcap.2 valid, each within 1 MB"

# --- live stream to tshark through uvswitchctl ---------------------------------------------------
("$UVSWITCHCTL" --control "$CTL" capture-start "port=b,file=-" 2>"$TMP/live-ctl.err" |
  tshark -n -r - -T fields -e icmp.type -e icmp.seq -Y icmp >"$TMP/live.txt" 2>"$TMP/live.err") &
LIVE=$!
for i in $(seq 1 100); do
  ctl --json captures | grep -q '"file":"-"' && break
  sleep 0.1
done
ctl --json captures | grep -q '"file":"-"' || fail "the live capture did not start: $(cat "$TMP/live-ctl.err")"
ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 "$IP_B" >/dev/null || fail "ping during live capture"
ctl capture-stop b >/dev/null || fail "capture-stop of the live capture"
for i in $(seq 1 100); do kill -0 $LIVE 2>/dev/null || break; sleep 0.1; done
kill -0 $LIVE 2>/dev/null && fail "uvswitchctl | tshark still running after capture-stop"
wait $LIVE || fail "live pipeline failed: $(cat "$TMP/live-ctl.err" "$TMP/live.err")"
got=$(tr '\t' ':' <"$TMP/live.txt" | tr '\n' ' ')
[ "$got" = "8:1 0:1 8:2 0:2 8:3 0:3 " ] || fail "live stream: got '$got'"
pass "live stream: tshark -r - read 3 requests and 3 replies; uvswitchctl exited on capture-stop"

# --- a stream whose reader goes away ends the capture -------------------------------------------
("$UVSWITCHCTL" --control "$CTL" capture-start "port=a,file=-" 2>/dev/null | head -c 1 >/dev/null) &
HEADP=$!
for i in $(seq 1 100); do kill -0 $HEADP 2>/dev/null || break; sleep 0.1; done
wait $HEADP 2>/dev/null || true
for i in $(seq 1 100); do
  [ "$(ctl --json captures)" = '{"return":[]}' ] && break
  ip netns exec "$NS_A" ping -c 1 -W 1 "$IP_B" >/dev/null 2>&1 || true
done
[ "$(ctl --json captures)" = '{"return":[]}' ] || fail "capture of a closed stream still listed"
pass "a stream whose reader exits is stopped"

# --- a reader that stops reading (a paused viewer) cannot wedge capture-stop ---------------------
("$UVSWITCHCTL" --control "$CTL" capture-start "port=a,file=-" 2>/dev/null | sleep 60) &
PAUSED=$!
for i in $(seq 1 100); do
  ctl --json captures | grep -q '"file":"-"' && break
  sleep 0.1
done
# ~3 MB of frames: far more than the pipe holds, so the writer finds it full.
ip netns exec "$NS_A" ping -f -c 1000 -s 1400 -W 2 "$IP_B" >/dev/null || fail "ping flood (paused)"
timeout 15 "$UVSWITCHCTL" --control "$CTL" capture-stop a >/dev/null ||
  fail "capture-stop of a capture whose reader stopped reading did not return"
ctl ports >/dev/null || fail "the control socket stopped answering"
pkill -P $PAUSED sleep 2>/dev/null || true
kill $PAUSED 2>/dev/null || true
wait $PAUSED 2>/dev/null || true
pass "capture-stop returns when the live reader has stopped reading"

kill -0 "$DAEMON_PID" || fail "daemon died"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit $DAEMON_RC"
