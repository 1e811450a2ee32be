#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon starts its threads and control socket; uvswitchctl's commands answer; the socket is
# private; a second daemon is refused; SIGTERM shuts down cleanly and removes the socket.
source "$(dirname "$0")/lib.sh" "$@"

start_daemon --control "$CTL" --threads 2 --poll-max-ns 50000 \
  --port "vhost-user,id=vm1,path=$TMP/vm1.sock,trunk=10:20-22" --port "vhost-user,id=vm2,path=$TMP/vm2.sock,server=off,mtu=9000"

# Start-up banner says what runs and how to attach a guest.
contains "$(cat "$TMP/daemon.out")" "I/O threads:    2 (uvs-io0, uvs-io1)" "banner"
contains "$(cat "$TMP/daemon.out")" "control socket: $CTL" "banner"
contains "$(cat "$TMP/daemon.out")" "-chardev socket,id=vm1,path=$TMP/vm1.sock -netdev vhost-user" "banner"
contains "$(cat "$TMP/daemon.out")" "path=$TMP/vm2.sock,server=on,wait=off" "banner (uvswitch as client)"
pass "start-up banner"

# The control socket is a socket of mode 0600.
[ -S "$CTL" ] || fail "$CTL is not a socket"
mode=$(stat -c %a "$CTL")
[ "$mode" = "600" ] || fail "control socket mode is $mode, want 600"
pass "control socket mode 0600"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" version
contains "$OUT" "uvswitch 0.1.0" "version"
contains "$OUT" "control socket: $CTL" "version"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json version
json_check "$OUT" "r['return']['package'] == 'uvswitch' and r['return']['pid'] == $DAEMON_PID"
pass "version"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json threads
json_check "$OUT" "[t['name'] for t in r['return']] == ['uvs-io0', 'uvs-io1', 'control']"
json_check "$OUT" "all(t['iterations'] >= 1 and t['monitor'] in ('epoll', 'ppoll') for t in r['return'])"
json_check "$OUT" "[t['poll-max-ns'] for t in r['return'] if t['role'] == 'io'] == [50000, 50000]"
json_check "$OUT" "r['return'][2]['handlers'] >= 2"  # control socket + signalfd (+ this client)
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" threads
contains "$OUT" "uvs-io1" "threads table"
contains "$OUT" "ITERATIONS" "threads table"
pass "threads (stats gathered on each loop's own thread)"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
json_check "$OUT" "[p['id'] for p in r['return']] == ['vm1', 'vm2']"
json_check "$OUT" "all(p['state'] == 'down' for p in r['return'])"  # no guest attached
json_check "$OUT" "r['return'][0]['vlan'] == {'mode': 'trunk', 'vlans': [10, 20, 21, 22]}"
json_check "$OUT" "r['return'][1]['settings']['mtu'] == '9000'"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" ports
contains "$OUT" "trunk:10,20-22" "ports table"
contains "$OUT" "SECURITY-DROPS" "ports table"
echo "$OUT" | grep -E '^vm1 +vhost-user +[0-9]+ +trunk:10,20-22 +down +0 ' >/dev/null ||
  fail "ports table: vm1's row lacks its security drops (0): $OUT"
pass "ports"

# Raw protocol errors come back as QMP-style error objects.
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" call no-such-command
contains "$ERR" "CommandNotFound" "unknown command"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" --json call no-such-command
json_check "$OUT" "r['error']['class'] == 'CommandNotFound'"
pass "unknown command error"

# A second daemon on the same control socket is refused (exit 1) and the first keeps serving.
expect_exit 1 "$UVSWITCH" --control "$CTL" --threads 1
contains "$ERR" "another uvswitch is already running on $CTL" "second daemon"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" version
pass "second daemon refused"

stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit code after SIGTERM is $DAEMON_RC, want 0"
[ ! -e "$CTL" ] || fail "control socket still exists after SIGTERM"
[ ! -e "$CTL.lock" ] || fail "lock file still exists after SIGTERM"
contains "$(cat "$TMP/daemon.err")" "shutting down (received SIGTERM)" "shutdown log"
pass "SIGTERM: clean exit, socket removed"

expect_exit 1 "$UVSWITCHCTL" --control "$CTL" version
contains "$ERR" "cannot connect to uvswitch at $CTL" "client without daemon"
contains "$ERR" "is the daemon running?" "client without daemon"
pass "client names the socket when the daemon is not running"
