#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real-peer test: DPDK testpmd (one process, two virtio-user ports, mac forwarding as a closed loop
# seeded by `start tx_first 8`) on two vhost-user ports of the uvswitch daemon, with a third,
# idle port beside them. Each testpmd port sends from its own MAC to the other's (--eth-peer), so
# the switch must learn both and then forward unicast only: frames flow both ways, the counters of
# testpmd and of the switch agree, the FDB holds both MACs on the right ports, and the idle port
# sees nothing after the first round trip.
# Two passes: "server" (the daemon listens, two port threads, so frames cross threads through the
# rings) and "client" (server=off: testpmd listens with server=1, one port thread, the same-thread
# guest-to-guest copy).
# Usage: testpmd_switch_test.sh BUILD_DIR SOURCE_DIR [server|client ...]
source "$(dirname "$0")/../cli/lib.sh" "$@"
source "$SRC/tests/lib/testpmd.sh"
testpmd_require
modes=("${@:3}")
[ ${#modes[@]} -gt 0 ] || modes=(server client)
trap 'testpmd_cleanup; cleanup' EXIT

MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
# Frames `start tx_first 8` puts in flight: 8 bursts of 32 per testpmd port.
SEED=512

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$TMP"/daemon.out "$TMP"/daemon.err "$TMP"/*.json; do
    [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  for f in "$TMP"/tp-*.out; do [ -f "$f" ] && { echo "--- $f" >&2; tail -40 "$f" >&2; }; done
  exit 1
}

ctl() { "$UVSWITCHCTL" --control "$CTL" --timeout 5 "$@"; }

# sample NAME: the switch's stats and FDB, as TMP/NAME-stats.json and TMP/NAME-fdb.json. Runs in
# the middle of the testpmd session (TESTPMD_DURING), so it must not call fail (a subshell).
sample() {
  ctl --json stats >"$TMP/$1-stats.json" && ctl --json fdb >"$TMP/$1-fdb.json"
}
sample_mid() { sample mid || echo "sampling the switch failed" >&2; }

# jq_py EXPR FILES...: prints EXPR evaluated by python with s[i] = the parsed JSON of FILES[i] and
# port(s, id) = that port's switch counters with "delivered" (out + dropped at egress) added.
jq_py() {
  python3 - "$@" <<'PY'
import json, sys
expr, files = sys.argv[1], sys.argv[2:]
s = [json.load(open(f)) for f in files]
def port(st, pid):
    p = next(x for x in st["return"]["ports"] if x["id"] == pid)["switch"]
    p = dict(p)
    p["delivered"] = p["out-frames"] + p["drop-no-buffers"] + p["drop-port-down"] + p["drop-broken"]
    return p
def threads(st, key):
    return sum(t[key] for t in st["return"]["threads"])
print(eval(expr))
PY
}

for mode in "${modes[@]}"; do
  rm -f "$TMP"/*.sock "$TMP"/*.json "$TMP"/tp-*.out
  if [ "$mode" = server ]; then
    threads=2 keys="" tp_role=client
  else
    threads=1 keys=",server=off" tp_role=server
  fi
  start_daemon --control "$CTL" --threads "$threads" \
    --port "vhost-user,id=a,path=$TMP/a.sock,thread=0$keys" \
    --port "vhost-user,id=b,path=$TMP/b.sock,thread=$((threads - 1))$keys" \
    --port "vhost-user,id=c,path=$TMP/c.sock,thread=0"

  testpmd_prefix uvsswitch
  out=$TMP/tp-$mode.out
  TESTPMD_DURING=sample_mid testpmd_session "$out" 4 --file-prefix="$TESTPMD_PREFIX" \
    --vdev "$(testpmd_vdev_user 0 "$TMP/a.sock" $MAC_A $tp_role)" \
    --vdev "$(testpmd_vdev_user 1 "$TMP/b.sock" $MAC_B $tp_role)" \
    -- --forward-mode=mac --txpkts=64 --eth-peer=0,$MAC_B --eth-peer=1,$MAC_A ||
    fail "testpmd ($mode) exited with $?"
  read -r rx0 tx0 < <(testpmd_port_stats "$out" 0) || fail "no port 0 statistics ($mode)"
  read -r rx1 tx1 < <(testpmd_port_stats "$out" 1) || fail "no port 1 statistics ($mode)"
  [ -s "$TMP/mid-stats.json" ] && [ -s "$TMP/mid-fdb.json" ] || fail "no mid-run sample ($mode)"

  # Frames testpmd queued before it quit may still be in the switch: wait until the ingress
  # counters reach what testpmd sent and the egress side has accounted for all of it.
  settled() {
    sample end || return 1
    local q
    q=$(jq_py "port(s[0],'a')['in-frames'] == $tx0 and port(s[0],'b')['in-frames'] == $tx1 and \
port(s[0],'b')['delivered'] + threads(s[0],'drop-ring-full') >= $tx0 and \
port(s[0],'a')['delivered'] + threads(s[0],'drop-ring-full') >= $tx1" "$TMP/end-stats.json")
    [ "$q" = True ]
  }
  for _ in $(seq 100); do settled && break; sleep 0.1; done
  settled || fail "switch counters did not settle to testpmd's ($mode)"
  a_in=$(jq_py "port(s[0],'a')['in-frames']" "$TMP/end-stats.json")
  b_in=$(jq_py "port(s[0],'b')['in-frames']" "$TMP/end-stats.json")
  a_out=$(jq_py "port(s[0],'a')['out-frames']" "$TMP/end-stats.json")
  b_out=$(jq_py "port(s[0],'b')['out-frames']" "$TMP/end-stats.json")
  drops=$(jq_py "port(s[0],'a')['drop-no-buffers'] + port(s[0],'b')['drop-no-buffers'] + \
threads(s[0],'drop-ring-full')" "$TMP/end-stats.json")
  c_mid=$(jq_py "port(s[0],'c')['delivered']" "$TMP/mid-stats.json")
  c_end=$(jq_py "port(s[0],'c')['delivered']" "$TMP/end-stats.json")
  fl_mid=$(jq_py "threads(s[0],'flooded')" "$TMP/mid-stats.json")
  fl_end=$(jq_py "threads(s[0],'flooded')" "$TMP/end-stats.json")
  fdb=$(jq_py "sorted((e['mac'], e['port']) for e in s[0]['return'])" "$TMP/mid-fdb.json")
  echo "$mode (threads=$threads): testpmd port0 tx=$tx0 rx=$rx0, port1 tx=$tx1 rx=$rx1 |" \
       "switch a in=$a_in out=$a_out, b in=$b_in out=$b_out, drops=$drops," \
       "idle c mid=$c_mid end=$c_end, flooded mid=$fl_mid end=$fl_end | fdb $fdb"

  # A floor that proves a running loop, not a rate: speed is the benchmark's business, and ASan
  # builds beside other tests on two cores move far fewer frames than release builds.
  [ "$tx0" -gt 5000 ] && [ "$tx1" -gt 5000 ] || fail "too little traffic ($mode)"
  [ "$rx0" -gt 5000 ] && [ "$rx1" -gt 5000 ] || fail "too little traffic received ($mode)"
  # What one port sent, the other received, minus what was still in flight when testpmd stopped
  # (at most its RX ring plus the seed) and what the switch counted as dropped.
  [ "$rx1" -le "$tx0" ] && [ $((tx0 - rx1)) -le $((SEED + 1024 + drops)) ] ||
    fail "port 0 sent $tx0 but port 1 received $rx1 ($mode)"
  [ "$rx0" -le "$tx1" ] && [ $((tx1 - rx0)) -le $((SEED + 1024 + drops)) ] ||
    fail "port 1 sent $tx1 but port 0 received $rx0 ($mode)"
  # testpmd received what the switch put in its RX rings, except what was queued at `stop`.
  [ "$rx1" -le "$b_out" ] && [ $((b_out - rx1)) -le 1024 ] || fail "port 1 RX $rx1 vs b out $b_out ($mode)"
  [ "$rx0" -le "$a_out" ] && [ $((a_out - rx0)) -le 1024 ] || fail "port 0 RX $rx0 vs a out $a_out ($mode)"
  # Learned unicast: both MACs on their own ports, nothing else.
  [ "$fdb" = "[('$MAC_A', 'a'), ('$MAC_B', 'b')]" ] || fail "FDB is $fdb ($mode)"
  # Flooding stops after the first round trip: at most the seed reached the idle port, and
  # nothing at all in the second half of the run.
  [ "$c_end" -le "$SEED" ] && [ "$fl_end" -le "$SEED" ] || fail "idle port got $c_end frames ($mode)"
  [ "$c_end" -eq "$c_mid" ] && [ "$fl_end" -eq "$fl_mid" ] ||
    fail "flooding went on after learning: idle port $c_mid -> $c_end, flooded $fl_mid -> $fl_end ($mode)"
  pass "$mode: unicast both ways through the switch, counts match, no flooding after learning"

  stop_daemon TERM
  [ "$DAEMON_RC" -eq 0 ] || fail "daemon exited with $DAEMON_RC ($mode)"
done
echo PASS
