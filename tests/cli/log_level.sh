#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --log-level governs every module's lines, and lines a peer can trigger at will are
# rate-limited: a dgram port flooded by a third-party sender on loopback (foreign datagrams)
# logs nothing at --log-level error, and at most a burst of lines per second otherwise, with
# the suppressed count reported later. No root needed.
source "$(dirname "$0")/lib.sh" "$@"

pa=$((30000 + $$ % 15000 * 2)) pb=$((pa + 1))
flood() {  # flood COUNT: COUNT datagrams to the dgram port from a socket that is not its remote
  python3 - "$pa" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
frame = bytes.fromhex("ffffffffffff" "027777777777" "0800") + bytes(46)
for i in range(int(sys.argv[2])):
    s.sendto(frame, ("127.0.0.1", int(sys.argv[1])))
    if i % 20 == 19:
        time.sleep(0.002)  # paced, so the socket buffer never overflows and every one counts
PY
}
foreign() {
  "$UVSWITCHCTL" --control "$CTL" --json ports |
    python3 -c 'import json,sys; print(next(p for p in json.load(sys.stdin)["return"] if p["id"]=="link")["backend"]["in-drop-foreign"])'
}
wait_foreign() {  # wait_foreign N
  local i
  for i in $(seq 1 100); do
    [ "$(foreign)" -ge "$1" ] && return 0
    sleep 0.05
  done
  fail "in-drop-foreign stayed at $(foreign), expected $1"
}
args=(--threads 1 --control "$CTL" --port "dgram,id=link,local=127.0.0.1:$pa,remote=127.0.0.1:$pb")

# --log-level error: neither the info line of the port's start nor the flood's warnings.
start_daemon "${args[@]}" --log-level error
flood 50
wait_foreign 50
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit status $DAEMON_RC"
grep -q "sender other than" "$TMP/daemon.err" && fail "--log-level error printed a warning"
grep -q "datagram link" "$TMP/daemon.err" && fail "--log-level error printed an info line"
pass "--log-level error silences netback's info lines and a peer-triggered warning"

# Default level: the info line is there; 300 foreign datagrams give at most 5 lines per second.
start_daemon "${args[@]}"
grep -q "info: link: datagram link" "$TMP/daemon.err" || fail "no info line at the default level"
t0=$(date +%s.%N)
flood 300
wait_foreign 300
t1=$(date +%s.%N)
lines=$(grep -c "sender other than" "$TMP/daemon.err" || true)
secs=$(python3 -c "import math; print(math.ceil($t1 - $t0) + 1)")
[ "$lines" -ge 1 ] || fail "the flood logged nothing at the default level"
[ "$lines" -le $((5 * secs)) ] || fail "$lines lines for a flood of 300 in ${secs}s: not rate-limited"
pass "a flood of 300 foreign datagrams logged $lines lines (limit 5 per second, ${secs}s)"
sleep 1.1
flood 1
wait_foreign 301
sleep 0.2
tail -n 1 "$TMP/daemon.err" | grep -Eq "\(([1-9][0-9]*) suppressed\)" ||
  fail "the next line does not report the suppressed ones: $(tail -n 1 "$TMP/daemon.err")"
pass "the next line reports $(tail -n 1 "$TMP/daemon.err" | grep -Eo '[0-9]+ suppressed')"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit status $DAEMON_RC"
