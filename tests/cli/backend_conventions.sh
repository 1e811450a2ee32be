#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Backend program conventions (vhost-user.rst): --print-capabilities, --socket-path and --fd
# (a connected socket as libvirt passes it, and a listening one), each carrying DPDK testpmd's
# virtio-user traffic through the switch; the refusals name the flag or key.
source "$(dirname "$0")/lib.sh" "$@"

source "$SRC/tests/lib/testpmd.sh"
testpmd_require
LAUNCHER=$SRC/tests/cli/fd_launcher.py

expect_exit 0 "$UVSWITCH" --print-capabilities
[ "$OUT" = '{"type": "net"}' ] || fail "--print-capabilities printed: $OUT"
python3 -c 'import json,sys; assert json.load(sys.stdin)["type"] == "net"' <"$TMP/cmd.out" ||
  fail "--print-capabilities is not JSON"
expect_exit 0 "$UVSWITCH" --help
[ "$(tail -c 1 "$TMP/cmd.out" | od -An -c | tr -d ' ')" = '\n' ] || fail "--help lacks a final newline"
contains "$OUT" "--socket-path" "--help"
contains "$OUT" "BACKEND PROGRAM" "--help"
pass "--print-capabilities and --help"

expect_exit 2 "$UVSWITCH" --fd 99
contains "$ERR" "--fd: fd 99 is not open" "closed fd"
expect_exit 2 "$UVSWITCH" --fd 5 5<"$LAUNCHER"
contains "$ERR" "--fd: fd 5 is not a socket" "a file as fd"
expect_exit 2 "$UVSWITCH" --fd abc
contains "$ERR" "--fd: 'abc' is not a number" "fd not a number"
expect_exit 2 "$UVSWITCH" --fd 0 --socket-path "$TMP/x.sock"
contains "$ERR" "--socket-path and --fd exclude each other" "both"
: >"$TMP/file"
expect_exit 2 "$UVSWITCH" --socket-path "$TMP/file"
contains "$ERR" "--socket-path: '$TMP/file' exists and is not a socket" "path is a file"
expect_exit 2 "$UVSWITCH" --port "vhost-user,id=vm0,fd=7,path=$TMP/y.sock" 7<"$LAUNCHER"
contains "$ERR" "fd and path exclude each other" "fd with path"
pass "bad --fd / --socket-path / fd= are refused (exit 2) naming the flag or key"

# The daemon with a control socket refuses fd= at run time: the number would name its own fds.
start_daemon --control "$CTL" --threads 1 --port "vhost-user,id=vm0,path=$TMP/c0.sock"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "vhost-user,id=vm1,fd=3"
contains "$ERR" "fd: port-add cannot take an inherited fd" "port-add fd="
stop_daemon TERM
pass "port-add refuses fd="

# run_testpmd NAME A_SOCK B_SOCK [B_OPTS]: testpmd virtio-user on both sockets in mac-forward closed loop
# (each port addresses the other's MAC, so the switch learns unicast); checks both ports got
# traffic back through the switch.
run_testpmd() {
  local name=$1 out=$TMP/tp-$1.out
  testpmd_prefix uvsbc
  # testpmd_session starts the traffic only once testpmd's prompt is up: on a loaded machine
  # start-up alone can outlast a fixed sleep, and the loop would then run for no time at all.
  testpmd_session "$out" 2 --file-prefix="$TESTPMD_PREFIX" \
      --vdev "net_virtio_user0,path=$2,mac=02:00:00:00:00:0a" \
      --vdev "net_virtio_user1,path=$3,mac=02:00:00:00:00:0b${4:-}" \
      -- --forward-mode=mac --eth-peer=0,02:00:00:00:00:0b --eth-peer=1,02:00:00:00:00:0a ||
    { head -60 "$out" >&2; fail "testpmd ($name) exited with an error"; }
  testpmd_cleanup
  RX=()
  read -r RX[0] _ < <(testpmd_port_stats "$out" 0) && read -r RX[1] _ < <(testpmd_port_stats "$out" 1) ||
    fail "no port statistics from testpmd ($name)"
  [ "${RX[0]}" -gt 1000 ] && [ "${RX[1]}" -gt 1000 ] ||
    fail "too little traffic through the switch ($name): RX ${RX[*]}"
}

# wait_sock PATH: until PATH is a socket (the backend or launcher is listening).
wait_sock() {
  local i
  for i in $(seq 1 200); do [ -S "$1" ] && return 0; sleep 0.05; done
  fail "$1 never appeared"
}

# --socket-path: port vm0 on the path; --port adds vm1 beside it; no control socket by default.
"$UVSWITCH" --socket-path "$TMP/a.sock" --port "vhost-user,id=vm1,path=$TMP/b.sock" --threads 1 \
  >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
wait_sock "$TMP/a.sock"
wait_sock "$TMP/b.sock"
[ ! -e "$XDG_RUNTIME_DIR/uvswitch/control.sock" ] || fail "--socket-path opened a control socket"
contains "$(cat "$TMP/daemon.out")" "control socket: none" "banner"
run_testpmd socket-path "$TMP/a.sock" "$TMP/b.sock"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "--socket-path daemon exited with $DAEMON_RC"
[ ! -e "$TMP/a.sock" ] || fail "--socket-path left its socket behind"
pass "--socket-path serves testpmd through the switch, no control socket"

# wait_launcher: until the launcher says its socket listens.
wait_launcher() {
  local i
  for i in $(seq 1 200); do grep -q LISTENING "$TMP/daemon.out" 2>/dev/null && return 0; sleep 0.05; done
  fail "the launcher never listened"
}

# --fd with a listening socket; --control opts in to a control socket to read the counters.
python3 "$LAUNCHER" listen "$TMP/a.sock" "$UVSWITCH" --control "$CTL" --threads 1 \
  --port "vhost-user,id=vm1,path=$TMP/b.sock" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
wait_launcher
wait_sock "$TMP/b.sock"
run_testpmd listen-fd "$TMP/a.sock" "$TMP/b.sock"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
json_check "$OUT" "[(p['id'], p['settings'].get('fd')) for p in r['return']] == [('vm0', '3'), ('vm1', None)]"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json stats
json_check "$OUT" "all(p['switch']['in-frames'] > 1000 and p['switch']['out-frames'] > 1000 for p in r['return']['ports'])"
json_check "$OUT" "r['return']['fdb']['learned'] >= 2"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "--fd (listening) daemon exited with $DAEMON_RC"
[ -S "$TMP/a.sock" ] || fail "uvswitch removed the launcher's socket file (not its own)"
rm -f "$TMP/a.sock"
pass "--fd with a listening socket: testpmd traffic through the switch, counters agree"

# --fd with a connected socket, the way libvirt launches a backend: the launcher accepts the
# frontend first and then execs uvswitch with the connection. uvswitch does not exist before
# testpmd connects, so testpmd's second port listens (server=1) and vm1 connects to it.
python3 "$LAUNCHER" accept "$TMP/a.sock" "$UVSWITCH" --threads 1 \
  --port "vhost-user,id=vm1,path=$TMP/b.sock,server=off" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
wait_launcher
run_testpmd connected-fd "$TMP/a.sock" "$TMP/b.sock" ",server=1"
contains "$(cat "$TMP/daemon.err")" "vm0: vhost-user frontend connected" "log"
pass "--fd with a connected socket (libvirt style): testpmd traffic through the switch"
# Nothing can reconnect to an inherited connection: once testpmd left, the backend goes too.
for i in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "the --fd backend outlived its frontend by 10 s"
DAEMON_RC=0
wait "$DAEMON_PID" || DAEMON_RC=$?
DAEMON_PID=""
[ "$DAEMON_RC" -eq 0 ] || fail "--fd (connected) daemon exited with $DAEMON_RC"
contains "$(cat "$TMP/daemon.err")" "inherited socket (--fd) left" "shutdown reason"
pass "the --fd backend exits (0) once its frontend has left"
