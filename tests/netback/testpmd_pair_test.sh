#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real-peer test: DPDK testpmd (virtio-user, two ports) talks to two cross-wired vhost-user-net
# ports in one uvswitch loop (tests/netback/vhost_pair). Frames must flow both ways and the
# counters on both sides must match. Run twice per socket role, so a second frontend is accepted
# after the first left (server) and the backend reconnects to a restarted frontend (client): the
# first run with split rings, the second with packed rings (virtio-user packed_vq=1, virtio 1.1
# VIRTIO_F_RING_PACKED), each checked to be the layout actually negotiated.
# Usage: testpmd_pair_test.sh BUILD_DIR SOURCE_DIR [server|client ...]
set -euo pipefail

build=$1
src=$2
modes=("${@:3}")
[ ${#modes[@]} -eq 0 ] && modes=(server client)
pair_bin=$build/tests/netback/vhost_pair
source "$src/tests/lib/testpmd.sh"
testpmd_require

work=$(mktemp -d /tmp/uvs-testpmd.XXXXXX)
pair_pid=""
cleanup() {
  if [ -n "$pair_pid" ] && kill -0 "$pair_pid" 2>/dev/null; then kill -KILL "$pair_pid" || true; fi
  testpmd_cleanup
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- vhost_pair stdout"; cat "$work/pair.out" 2>/dev/null || true
  echo "--- vhost_pair stderr"; cat "$work/pair.err" 2>/dev/null || true
  for f in "$work"/tp*.out; do [ -f "$f" ] && { echo "--- $f"; tail -40 "$f"; }; done
  exit 1
}

# field NAME LINE_PREFIX FILE: value of NAME=... on the last line starting with LINE_PREFIX (the
# final counters, after any mid-run snapshots).
field() { awk -v k="$1" -v p="$2" '$1 == p { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] } } END { print v }' "$3"; }

# Mid-run snapshot of vhost_pair's counters (they carry the acked virtio features).
snapshot() { kill -USR1 "$pair_pid"; sleep 0.3; }

# run_testpmd MODE RUN LAYOUT: one testpmd session, closed-loop io forwarding for ~3 s, with
# split or packed rings; checks that the backend acked VIRTIO_F_RING_PACKED (bit 34) exactly
# when packed rings were asked for.
run_testpmd() {
  local mode=$1 run=$2 layout=$3 role=client extra=""
  [ "$mode" = client ] && role=server   # our backend is the client: testpmd listens
  [ "$layout" = packed ] && extra=",packed_vq=1"
  local out=$work/tp-$mode-$run.out
  testpmd_prefix uvspair
  TESTPMD_DURING=snapshot testpmd_session "$out" 3 --file-prefix="$TESTPMD_PREFIX" \
    --vdev "$(testpmd_vdev_user 0 "$work/a.sock" 02:00:00:00:00:0a "$role")$extra" \
    --vdev "$(testpmd_vdev_user 1 "$work/b.sock" 02:00:00:00:00:0b "$role")$extra" \
    -- --txpkts="${TXPKTS:-64}" || fail "testpmd ($mode run $run) exited with $?"
  local feat packed
  feat=$(awk '$1 == "A" || $1 == "B"' "$work/pair.out" | tail -2 | sed -n 's/.*features=//p' | sort -u)
  [ "$(echo "$feat" | wc -l)" -eq 1 ] && [ -n "$feat" ] ||
    fail "ports acked different features mid-run ($mode run $run): $feat"
  packed=$(( (feat >> 34) & 1 ))
  if [ "$layout" = packed ]; then
    [ "$packed" -eq 1 ] || fail "packed rings asked for but not negotiated ($mode run $run, $feat)"
  else
    [ "$packed" -eq 0 ] || fail "packed rings negotiated unasked ($mode run $run, $feat)"
  fi
  local p0 p1
  p0=$(testpmd_port_stats "$out" 0) && p1=$(testpmd_port_stats "$out" 1) ||
    fail "no port statistics from testpmd ($mode run $run)"
  # "rx N" / "tx N" lines, port 0 then port 1.
  printf 'rx %s\ntx %s\nrx %s\ntx %s\n' ${p0% *} ${p0#* } ${p1% *} ${p1#* } >"$out.stats"
}

for mode in "${modes[@]}"; do
  rm -f "$work"/*.sock "$work"/*.out "$work"/*.stats
  args=(--a "$work/a.sock" --b "$work/b.sock")
  [ "$mode" = client ] && args+=(--client)
  "$pair_bin" "${args[@]}" >"$work/pair.out" 2>"$work/pair.err" &
  pair_pid=$!
  for _ in $(seq 50); do grep -q READY "$work/pair.out" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$work/pair.out" || fail "vhost_pair did not start ($mode)"

  tx0=0 tx1=0 rx0=0 rx1=0
  for run in 1 2; do
    layout=split
    [ "$run" -eq 2 ] && layout=packed
    run_testpmd "$mode" "$run" "$layout"
    mapfile -t s < <(awk '{ print $2 }' "$work/tp-$mode-$run.out.stats")
    rx0=$((rx0 + s[0])) tx0=$((tx0 + s[1])) rx1=$((rx1 + s[2])) tx1=$((tx1 + s[3]))
    # Let the backend notice the disconnect (server: accept again; client: reconnect backoff).
    sleep 0.5
  done

  kill -TERM "$pair_pid"
  wait "$pair_pid" || fail "vhost_pair exited with $? ($mode)"
  pair_pid=""

  a_in=$(field in_frames A "$work/pair.out"); a_out=$(field out_frames A "$work/pair.out")
  b_in=$(field in_frames B "$work/pair.out"); b_out=$(field out_frames B "$work/pair.out")
  a_conn=$(field connections A "$work/pair.out"); b_conn=$(field connections B "$work/pair.out")
  errs=$(($(field protocol_errors A "$work/pair.out") + $(field protocol_errors B "$work/pair.out")))
  a2b=$(field a_to_b PAIR "$work/pair.out"); a2b_drop=$(field a_to_b_dropped PAIR "$work/pair.out")
  b2a=$(field b_to_a PAIR "$work/pair.out"); b2a_drop=$(field b_to_a_dropped PAIR "$work/pair.out")
  echo "$mode: testpmd tx0=$tx0 rx0=$rx0 tx1=$tx1 rx1=$rx1 | uvs A in=$a_in out=$a_out" \
       "B in=$b_in out=$b_out a2b=$a2b(+$a2b_drop dropped) b2a=$b2a(+$b2a_drop dropped)" \
       "connections A=$a_conn B=$b_conn"

  [ "$errs" -eq 0 ] || fail "protocol errors reported ($mode)"
  [ "$a_conn" -eq 2 ] && [ "$b_conn" -eq 2 ] || fail "expected 2 connections per port ($mode)"
  [ "$tx0" -gt 10000 ] && [ "$tx1" -gt 10000 ] || fail "too little traffic ($mode)"
  # Every frame testpmd transmitted was taken from the TX ring and delivered.
  [ "$a_in" -eq "$tx0" ] || fail "A took $a_in frames, testpmd port 0 sent $tx0 ($mode)"
  [ "$b_in" -eq "$tx1" ] || fail "B took $b_in frames, testpmd port 1 sent $tx1 ($mode)"
  # Cross-wiring conserves frames.
  [ $((a2b + a2b_drop)) -eq "$a_in" ] && [ "$b_out" -eq "$a2b" ] || fail "A->B accounting ($mode)"
  [ $((b2a + b2a_drop)) -eq "$b_in" ] && [ "$a_out" -eq "$b2a" ] || fail "B->A accounting ($mode)"
  # testpmd received what we put in its RX rings, except what was still queued when it stopped
  # (bounded by its ring sizes: 2 runs x a few hundred descriptors).
  [ "$rx1" -le "$b_out" ] && [ $((b_out - rx1)) -le 4096 ] || fail "port 1 RX $rx1 vs B out $b_out ($mode)"
  [ "$rx0" -le "$a_out" ] && [ $((a_out - rx0)) -le 4096 ] || fail "port 0 RX $rx0 vs A out $a_out ($mode)"
done
echo PASS
