#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ports at run time: port-add starts a real listening vhost-user port, bad adds change nothing,
# port-del removes it and its socket; stats, fdb and fdb-flush answer.
source "$(dirname "$0")/lib.sh" "$@"

start_daemon --control "$CTL" --threads 2 --port "vhost-user,id=vm0,path=$TMP/vm0.sock"
[ -S "$TMP/vm0.sock" ] || fail "vm0's socket was not created"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" port-add "vhost-user,id=vm1,path=$TMP/vm1.sock,thread=1"
contains "$OUT" "added port vm1" "port-add"
[ -S "$TMP/vm1.sock" ] || fail "vm1's socket was not created"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
json_check "$OUT" "[(p['id'], p['thread']) for p in r['return']] == [('vm0', 0), ('vm1', 1)]"
pass "port-add creates a listening port on the requested thread"

# Refusals name the problem and leave the port list as it was.
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "vhost-user,id=vm1,path=$TMP/other.sock"
contains "$ERR" "vm1: a port with this id exists already" "duplicate id"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "vhost-user,id=vm2,path=$TMP/vm0.sock"
contains "$ERR" "has a live listener" "socket path of a running port"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "vhost-user,id=vm3,pth=$TMP/x.sock"
contains "$ERR" "unknown key 'pth'" "unknown key"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "vhost-user,id=vm4,path=$TMP/vm4.sock,thread=7"
contains "$ERR" "thread=7 but there are only 2 threads" "thread out of range"
[ ! -e "$TMP/vm4.sock" ] || fail "a refused port left its socket behind"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
json_check "$OUT" "[p['id'] for p in r['return']] == ['vm0', 'vm1']"
pass "bad port-add requests are refused and change nothing"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json stats
json_check "$OUT" "[p['id'] for p in r['return']['ports']] == ['vm0', 'vm1'] and len(r['return']['threads']) == 2"
json_check "$OUT" "r['return']['fdb']['entries'] == 0"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" stats
contains "$OUT" "IN-FRAMES" "stats table"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json fdb
json_check "$OUT" "r['return'] == []"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" fdb-flush --vlan 10
contains "$OUT" "flushed 0 entries" "fdb-flush"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" fdb-flush --port nosuch
contains "$ERR" "no port with id 'nosuch'" "fdb-flush unknown port"
pass "stats, fdb and fdb-flush"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" port-del vm1
[ ! -e "$TMP/vm1.sock" ] || fail "port-del left vm1's socket behind"
expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-del vm1
contains "$ERR" "no port with id 'vm1'" "port-del twice"
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
json_check "$OUT" "[p['id'] for p in r['return']] == ['vm0']"
pass "port-del removes the port and its socket"

stop_daemon TERM
[ ! -e "$TMP/vm0.sock" ] || fail "shutdown left vm0's socket behind"
pass "shutdown removes the port sockets"
