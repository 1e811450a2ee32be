#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real-peer test: two DPDK ports of the daemon on net_memif (the daemon is the memif server) and
# DPDK testpmd's two memif client ports, mac forwarding as a closed loop seeded by
# `start tx_first 8`. Each testpmd port sends from its own MAC to the other's, so the switch
# learns both and forwards unicast: frames flow both ways and the counters of testpmd, of the
# switch and of the DPDK ports agree.
# Usage: dpdk_memif.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/../cli/lib.sh" "$@"
source "$SRC/tests/lib/testpmd.sh"
testpmd_require
trap 'testpmd_cleanup; cleanup' EXIT

MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
SEED=512  # frames `start tx_first 8` puts in flight: 8 bursts of 32 per testpmd port

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$TMP"/daemon.out "$TMP"/daemon.err "$TMP"/*.json; do
    [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  [ -f "$TMP/tp.out" ] && { echo "--- testpmd" >&2; tail -60 "$TMP/tp.out" >&2; }
  exit 1
}

ctl() { "$UVSWITCHCTL" --control "$CTL" --timeout 5 "$@"; }

# jq_py EXPR FILE: EXPR over the daemon's `ports` reply, port(id) giving one port.
jq_py() {
  python3 - "$@" <<'PY'
import json, sys
ports = json.load(open(sys.argv[2]))["return"]
def port(i):
    return next(p for p in ports if p["id"] == i)
print(eval(sys.argv[1]))
PY
}

testpmd_prefix uvsmemif
sw_prefix=$TESTPMD_PREFIX
testpmd_prefix uvsmemif
tp_prefix=$TESTPMD_PREFIX
memif() {  # memif NAME SOCKET: the devargs of one memif port, commas as written in a keyval value
  printf 'net_memif%s,,role=server,,socket=%s,,socket-abstract=no' "$1" "$2"
}
start_daemon --control "$CTL" --threads 1 \
  --dpdk-args "--no-huge -m 256 --no-pci -l 0 --file-prefix $sw_prefix --log-level=lib.eal:error" \
  --port "dpdk,id=a,devargs=$(memif 0 "$TMP/m0.sock")" \
  --port "dpdk,id=b,devargs=$(memif 1 "$TMP/m1.sock")"
[ -S "$TMP/m0.sock" ] && [ -S "$TMP/m1.sock" ] || fail "the daemon's memif servers do not listen"

# The memif device counters go back to zero when the peer leaves: sample them mid-run.
sample_mid() { ctl --json ports >"$TMP/mid.json" || echo "sampling the switch failed" >&2; }
out=$TMP/tp.out
TESTPMD_DURING=sample_mid testpmd_session "$out" 4 --file-prefix="$tp_prefix" \
  --vdev "net_memif0,role=client,socket=$TMP/m0.sock,socket-abstract=no,mac=$MAC_A" \
  --vdev "net_memif1,role=client,socket=$TMP/m1.sock,socket-abstract=no,mac=$MAC_B" \
  -- --forward-mode=mac --txpkts=64 --eth-peer=0,$MAC_B --eth-peer=1,$MAC_A ||
  fail "testpmd exited with $?"
read -r rx0 tx0 < <(testpmd_port_stats "$out" 0) || fail "no port 0 statistics"
read -r rx1 tx1 < <(testpmd_port_stats "$out" 1) || fail "no port 1 statistics"

# Frames testpmd sent before it quit may still be in flight: wait for the ingress counters.
settled() {
  ctl --json ports >"$TMP/ports.json" || return 1
  [ "$(jq_py "port('a')['backend']['in-frames'] == $tx0 and \
port('b')['backend']['in-frames'] == $tx1" "$TMP/ports.json")" = True ]
}
for _ in $(seq 100); do settled && break; sleep 0.1; done
settled || fail "the DPDK ports' in-frames did not settle to what testpmd sent"
a_out=$(jq_py "port('a')['backend']['out-frames']" "$TMP/ports.json")
b_out=$(jq_py "port('b')['backend']['out-frames']" "$TMP/ports.json")
[ -s "$TMP/mid.json" ] || fail "no mid-run sample"
a_dev=$(jq_py "port('a')['backend']['device']['rx-packets']" "$TMP/mid.json")
a_mid=$(jq_py "port('a')['backend']['in-frames']" "$TMP/mid.json")
drops=$(jq_py "sum(port(p)['backend']['out-drop-full'] + port(p)['backend']['out-drop-no-mbuf'] \
for p in 'ab')" "$TMP/ports.json")
echo "testpmd port0 tx=$tx0 rx=$rx0, port1 tx=$tx1 rx=$rx1 | switch a out=$a_out, b out=$b_out," \
     "drops=$drops | mid-run a in=$a_mid, its device rx=$a_dev"

# A floor that proves a running loop, not a rate (ASan builds on two busy cores are slow).
[ "$tx0" -gt 5000 ] && [ "$tx1" -gt 5000 ] || fail "too little traffic"
[ "$rx0" -gt 5000 ] && [ "$rx1" -gt 5000 ] || fail "too little traffic received"
# rte_eth_stats is read after the port's own counters: it can only be ahead, by what arrived
# in between.
[ "$a_mid" -gt 1000 ] && [ "$a_dev" -ge "$a_mid" ] && [ $((a_dev - a_mid)) -le 4096 ] ||
  fail "mid-run: a's device counted $a_dev frames received, the port $a_mid"
# What one testpmd port sent, the other received, minus what was in flight at `stop` (its RX
# ring plus the seed) and what the switch dropped.
[ "$rx1" -le "$tx0" ] && [ $((tx0 - rx1)) -le $((SEED + 1024 + drops)) ] ||
  fail "port 0 sent $tx0 but port 1 received $rx1"
[ "$rx0" -le "$tx1" ] && [ $((tx1 - rx0)) -le $((SEED + 1024 + drops)) ] ||
  fail "port 1 sent $tx1 but port 0 received $rx0"
# testpmd received what the DPDK ports transmitted, except what was queued at `stop`.
[ "$rx1" -le "$b_out" ] && [ $((b_out - rx1)) -le 1024 ] || fail "port 1 RX $rx1 vs b out $b_out"
[ "$rx0" -le "$a_out" ] && [ $((a_out - rx0)) -le 1024 ] || fail "port 0 RX $rx0 vs a out $a_out"
pass "memif both ways between testpmd and the daemon's DPDK ports, counts match"

stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exited with $DAEMON_RC"
echo PASS
