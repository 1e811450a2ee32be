#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Start-up and shutdown paths: a stale socket is replaced, SIGINT and the quit command exit
# cleanly, the default runtime dir is created private, a config file combines with flags.
source "$(dirname "$0")/lib.sh" "$@"

# A stale socket (bound, nobody listening) is removed and replaced.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$CTL"
[ -S "$CTL" ] || fail "could not create the stale socket"
start_daemon --control "$CTL" --threads 1
pass "stale control socket replaced"

stop_daemon INT
[ "$DAEMON_RC" -eq 0 ] || fail "exit code after SIGINT is $DAEMON_RC"
[ ! -e "$CTL" ] || fail "control socket left after SIGINT"
pass "SIGINT: clean exit"

# quit: the client waits for the hang-up, by which time the socket is gone.
start_daemon --control "$CTL" --threads 1
pid=$DAEMON_PID
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" quit
contains "$OUT" "uvswitch shut down" "quit"
[ ! -e "$CTL" ] || fail "control socket left after quit"
DAEMON_RC=0
wait "$pid" || DAEMON_RC=$?
DAEMON_PID=""
[ "$DAEMON_RC" -eq 0 ] || fail "exit code after quit is $DAEMON_RC"
pass "quit command"

# No --control: the socket goes to $XDG_RUNTIME_DIR/uvswitch/control.sock, directory mode 0700.
start_daemon --threads 1 --control "$XDG_RUNTIME_DIR/uvswitch/control.sock"
stop_daemon TERM
"$UVSWITCH" --threads 1 >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
for i in $(seq 1 200); do [ -S "$XDG_RUNTIME_DIR/uvswitch/control.sock" ] && break; sleep 0.05; done
[ -S "$XDG_RUNTIME_DIR/uvswitch/control.sock" ] || fail "default control socket not created"
[ "$(stat -c %a "$XDG_RUNTIME_DIR/uvswitch")" = "700" ] || fail "runtime dir is not mode 700"
expect_exit 0 env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" "$UVSWITCHCTL" --json ports
json_check "$OUT" "r['return'][0]['id'] == 'vm0' and r['return'][0]['settings']['path'] == '$XDG_RUNTIME_DIR/uvswitch/vm0.sock'"
json_check "$OUT" "r['return'][0]['settings']['server'] == 'on'"
pass "default runtime dir, default control socket, built-in vm0 port"
stop_daemon TERM
[ ! -e "$XDG_RUNTIME_DIR/uvswitch/control.sock" ] || fail "default socket left behind"

# Config file + flags: flags win.
cat >"$TMP/u.toml" <<TOML
threads = 3
poll-max-ns = 1000
[[port]]
type = "vhost-user"
id = "vm0"
path = "$TMP/file-vm0.sock"
[[port]]
type = "vhost-user"
id = "vm1"
path = "$TMP/file-vm1.sock"
TOML
start_daemon --config "$TMP/u.toml" --control "$CTL" --threads 1 \
  --port "vhost-user,id=vm0,path=$TMP/flag-vm0.sock,queues=2"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json threads
json_check "$OUT" "[t['name'] for t in r['return'] if t['role'] == 'io'] == ['uvs-io0']"
json_check "$OUT" "r['return'][0]['poll-max-ns'] == 1000"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
json_check "$OUT" "[p['id'] for p in r['return']] == ['vm0', 'vm1']"
json_check "$OUT" "r['return'][0]['settings']['path'] == '$TMP/flag-vm0.sock' and r['return'][0]['settings']['queues'] == '2'"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json version
json_check "$OUT" "r['return']['config-file'] == '$TMP/u.toml'"
pass "config file combined with flags (flags win)"
stop_daemon TERM
