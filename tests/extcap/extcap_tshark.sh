#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# uvswitch-extcap with the real tshark: placed in a personal extcap folder, `tshark -D` lists the
# ports of a daemon with namespaces on tap ports, and `tshark -i uvswitch-b -a packets:10`
# captures a namespace's pings through it; the capture ends in the daemon when tshark stops. The
# extcap alone: SIGTERM and a reader that goes away both stop its capture; bad input is refused.
source "$2/tests/cli/lib.sh" "$@"
source "$2/tests/capture/netns_lib.sh"
EXTCAP=$1/tools/extcap/uvswitch-extcap
[ -x "$EXTCAP" ] || fail "$EXTCAP not built"

# tshark 4.0 runs the programs in <personal config dir>/extcap ($XDG_CONFIG_HOME/wireshark).
export XDG_CONFIG_HOME=$TMP/config
mkdir -p "$XDG_CONFIG_HOME/wireshark/extcap"
cp "$EXTCAP" "$XDG_CONFIG_HOME/wireshark/extcap/"
export UVSWITCH_CONTROL=$CTL

# --- no daemon: a valid, empty interface list ------------------------------------------------
expect_exit 0 "$EXTCAP" --extcap-interfaces --extcap-version=4.0
[ "$(echo "$OUT" | grep -c '^interface ')" -eq 0 ] || fail "interfaces listed with no daemon: $OUT"
contains "$OUT" "extcap {version=" "the extcap line without a daemon"
pass "no daemon: the extcap line and no interfaces, exit 0"

start_pair
ctl_caps() { "$UVSWITCHCTL" --control "$CTL" --json captures; }

# --- the protocol's listing calls -----------------------------------------------------------------
expect_exit 0 "$EXTCAP" --extcap-interfaces
contains "$OUT" "interface {value=uvswitch-a}{display=uvswitch port a (tap)}" "interface a"
contains "$OUT" "interface {value=uvswitch-b}{display=uvswitch port b (tap)}" "interface b"
expect_exit 0 "$EXTCAP" --extcap-dlts --extcap-interface uvswitch-a
[ "$OUT" = "dlt {number=1}{name=EN10MB}{display=Ethernet}" ] || fail "dlts: $OUT"
expect_exit 0 "$EXTCAP" --extcap-config --extcap-interface uvswitch-a
for want in "{call=--control}" "{default=$CTL}" "{call=--filter}" "{call=--direction}"; do
  contains "$OUT" "$want" "extcap-config"
done
pass "--extcap-interfaces lists ports a and b; --extcap-dlts Ethernet; --extcap-config 3 options"

# --- filter checks and bad input ------------------------------------------------------------------
expect_exit 0 "$EXTCAP" --extcap-interface uvswitch-a --extcap-capture-filter "icmp or arp"
[ -z "$OUT" ] || fail "a valid filter printed: $OUT"
expect_exit 1 "$EXTCAP" --extcap-interface uvswitch-a --extcap-capture-filter "tcp port"
[ -n "$OUT" ] || fail "an invalid filter printed no error"
expect_exit 2 "$EXTCAP" --capture --extcap-interface uvswitch-a --fifo "$TMP/x" --direction up
expect_exit 2 "$EXTCAP" --bogus-flag
contains "$ERR" "bogus-flag" "unknown flag named"
mkfifo "$TMP/fifo0"
(exec 3<"$TMP/fifo0"; sleep 3) &
READER0=$!
expect_exit 1 "$EXTCAP" --capture --extcap-interface eth0 --fifo "$TMP/fifo0"
contains "$ERR" "not a uvswitch interface" "foreign interface"
expect_exit 1 "$EXTCAP" --capture --extcap-interface uvswitch-nosuch --fifo "$TMP/fifo0"
contains "$ERR" "nosuch" "unknown port named"
kill $READER0 2>/dev/null || true
wait $READER0 2>/dev/null || true
[ "$(ctl_caps)" = '{"return":[]}' ] || fail "a refused capture is listed: $(ctl_caps)"
pass "filters checked with libpcap; bad direction, flag, interface and port refused"

# --- tshark -D and tshark -i uvswitch-b --------------------------------------------------------
tshark -D >"$TMP/D.txt" 2>"$TMP/D.err" || fail "tshark -D: $(cat "$TMP/D.err")"
grep -q '\. uvswitch-a (uvswitch port a (tap))$' "$TMP/D.txt" || fail "tshark -D: $(cat "$TMP/D.txt")"
grep -q '\. uvswitch-b (uvswitch port b (tap))$' "$TMP/D.txt" || fail "tshark -D: $(cat "$TMP/D.txt")"
pass "tshark -D lists uvswitch-a and uvswitch-b"

timeout 60 tshark -n -i uvswitch-b -f icmp -a packets:10 -w "$TMP/live.pcapng" \
  >"$TMP/tshark.out" 2>"$TMP/tshark.err" &
TSHARK=$!
for i in $(seq 1 100); do ctl_caps | grep -q '"port":"b"' && break; sleep 0.1; done
ctl_caps | grep -q '"port":"b"' || fail "tshark's capture never started: $(cat "$TMP/tshark.err")"
ip netns exec "$NS_A" ping -c 10 -i 0.2 -W 2 "$IP_B" >/dev/null || fail "ping a -> b"
wait $TSHARK || fail "tshark -i uvswitch-b failed: $(cat "$TMP/tshark.err")"
got=$(tshark -n -r "$TMP/live.pcapng" -Y 'icmp.type == 8' -T fields -e icmp.seq | tr '\n' ' ')
[ "$got" = "1 2 3 4 5 " ] || fail "echo requests captured: '$got' (want seq 1..5)"
n=$(tshark -n -r "$TMP/live.pcapng" | wc -l)
[ "$n" -eq 10 ] || fail "tshark wrote $n packets, want 10"
for i in $(seq 1 50); do [ "$(ctl_caps)" = '{"return":[]}' ] && break; sleep 0.1; done
[ "$(ctl_caps)" = '{"return":[]}' ] || fail "the capture outlived tshark: $(ctl_caps)"
pgrep -f "$XDG_CONFIG_HOME/wireshark/extcap/uvswitch-extcap" >/dev/null && fail "the extcap outlived tshark"
pass "tshark -i uvswitch-b -f icmp -a packets:10: 10 packets, echo requests 1..5; capture and extcap gone"

# --- the extcap on its own: SIGTERM stops the capture; dir=in and --filter apply -----------------
mkfifo "$TMP/fifo1"
cat "$TMP/fifo1" >"$TMP/term.pcap" &
CAT=$!
"$EXTCAP" --capture --extcap-interface uvswitch-a --fifo "$TMP/fifo1" --direction in \
  --filter icmp 2>"$TMP/ext.err" &
EXT=$!
for i in $(seq 1 100); do ctl_caps | grep -q '"port":"a"' && break; sleep 0.1; done
ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 "$IP_B" >/dev/null || fail "ping during the extcap capture"
sleep 0.5
kill -TERM $EXT
rc=0
wait $EXT || rc=$?
[ $rc -eq 0 ] || fail "extcap exit $rc after SIGTERM: $(cat "$TMP/ext.err")"
wait $CAT || true
[ "$(ctl_caps)" = '{"return":[]}' ] || fail "capture left after SIGTERM: $(ctl_caps)"
got=$(tshark -n -r "$TMP/term.pcap" -T fields -e icmp.type -e icmp.seq | tr '\t' ':' | tr '\n' ' ')
[ "$got" = "8:1 8:2 8:3 " ] || fail "dir=in filter=icmp of a captured '$got'"
pass "SIGTERM: exit 0, capture stopped; direction in + filter icmp kept the 3 requests"

# --- a reader that goes away ends it too ---------------------------------------------------------
mkfifo "$TMP/fifo2"
head -c 24 "$TMP/fifo2" >/dev/null &
HEADP=$!
"$EXTCAP" --capture --extcap-interface uvswitch-a --fifo "$TMP/fifo2" 2>"$TMP/ext2.err" &
EXT=$!
wait $HEADP || true
for i in $(seq 1 100); do kill -0 $EXT 2>/dev/null || break; sleep 0.1; done
kill -0 $EXT 2>/dev/null && { kill -KILL $EXT; fail "the extcap did not notice its reader left"; }
wait $EXT || fail "extcap exit $? after its reader left: $(cat "$TMP/ext2.err")"
[ "$(ctl_caps)" = '{"return":[]}' ] || fail "capture left after the reader went: $(ctl_caps)"
pass "a reader that closes the fifo ends the extcap and its capture"

stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit $DAEMON_RC"
