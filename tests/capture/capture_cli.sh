#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Capture commands of the daemon: start-up --capture, captures output, capture-stop, and bad
# input (bad BPF, unwritable path, unknown port, file=- at start-up) answered with a message
# naming the culprit and nothing started.
source "$2/tests/cli/lib.sh" "$@"
command -v tshark >/dev/null || fail "tshark is not installed (tools/install-deps.sh)"
ctl() { "$UVSWITCHCTL" --control "$CTL" "$@"; }
no_captures() { [ "$(ctl --json captures)" = '{"return":[]}' ] || fail "$1: captures not empty: $(ctl captures)"; }

# --- start-up refusals: the daemon exits with the message, nothing runs -------------------------
expect_exit 1 "$UVSWITCH" --control "$CTL" --threads 1 --capture "port=vm0,file=$TMP/s.pcap,filter=tcp port"
contains "$ERR" "capture of vm0: bad filter 'tcp port'" "bad BPF at start-up"
[ -e "$TMP/s.pcap" ] && fail "a bad filter still created the file"
expect_exit 2 "$UVSWITCH" --control "$CTL" --threads 1 --capture "port=nope,file=$TMP/s.pcap"
contains "$ERR" "port 'nope' does not exist" "unknown port at start-up"
expect_exit 2 "$UVSWITCH" --control "$CTL" --threads 1 --capture "port=vm0,file=$TMP/no/such/dir/s.pcap"
contains "$ERR" "$TMP/no/such/dir" "missing directory at start-up"
expect_exit 1 "$UVSWITCH" --control "$CTL" --threads 1 --capture "port=vm0,file=-"
contains "$ERR" "file=- streams to the client" "file=- at start-up"
[ -S "$CTL" ] && fail "a refused start-up left the control socket behind"
pass "start-up refusals name the capture's problem and start nothing"

# --- a start-up capture runs, is listed, and stops into a valid (empty) file --------------------
start_daemon --control "$CTL" --threads 1 --capture "port=vm0,file=$TMP/s.pcap,dir=in,snaplen=128"
expect_exit 0 ctl --json captures
json_check "$OUT" "len(r['return']) == 1 and r['return'][0]['port'] == 'vm0' and r['return'][0]['dir'] == 'in' and r['return'][0]['snaplen'] == 128 and r['return'][0]['written'] == 0 and r['return'][0]['dropped'] == 0 and r['return'][0]['filtered-out'] == 0"
expect_exit 0 ctl captures
for h in ID PORT FILE WRITTEN FILTERED-OUT DROPPED; do contains "$OUT" "$h" "captures table"; done
contains "$OUT" "$TMP/s.pcap" "captures table"
expect_exit 0 ctl capture-stop vm0
contains "$OUT" "stopped capture 1" "capture-stop"
no_captures "after capture-stop"
tshark -r "$TMP/s.pcap" >/dev/null 2>&1 || fail "the stopped capture's file is not valid pcap"
pass "start-up capture listed with counts; capture-stop leaves a valid file"

# --- run-time bad input: clear error, nothing started -------------------------------------------
expect_exit 1 ctl capture-start "port=vm0,file=$TMP/x.pcap,filter=ip proto nosuch"
contains "$ERR" "capture of vm0: bad filter 'ip proto nosuch'" "bad BPF"
[ -e "$TMP/x.pcap" ] && fail "a bad filter created the file"
no_captures "after a bad filter"
# /proc refuses new files even to root, so this is unwritable whoever runs the test.
expect_exit 1 ctl capture-start "port=vm0,file=/proc/uvs-capture-test.pcap"
contains "$ERR" "cannot open /proc/uvs-capture-test.pcap" "unwritable path"
no_captures "after an unwritable path"
expect_exit 1 ctl capture-start "port=vm9,file=$TMP/x.pcap"
contains "$ERR" "port 'vm9' does not exist" "unknown port"
expect_exit 1 ctl capture-start "port=vm0,file=$TMP/x.pcap,snaplen=0"
contains "$ERR" "snaplen" "bad snaplen"
expect_exit 1 ctl capture-stop vm0
contains "$ERR" "no running capture on port vm0" "capture-stop without a capture"
expect_exit 2 ctl capture-stop
no_captures "after bad input"
pass "run-time bad input: bad BPF, unwritable path, unknown port, bad key are refused by name"

# --- several captures, stop by id, relative paths, port removal ends a capture -----------------
mkdir -p "$TMP/rel"
(cd "$TMP/rel" && "$UVSWITCHCTL" --control "$CTL" capture-start "port=vm0,file=rel.pcap,dir=out") >/dev/null ||
  fail "capture-start with a relative path"
expect_exit 0 ctl capture-start "vm0,file=$TMP/two.pcap,filter=arp"
expect_exit 0 ctl --json captures
json_check "$OUT" "[c['file'] for c in r['return']] == ['$TMP/rel/rel.pcap', '$TMP/two.pcap']"
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["return"][1]["id"])' "$OUT")
expect_exit 0 ctl capture-stop --id "$id"
expect_exit 0 ctl --json captures
json_check "$OUT" "len(r['return']) == 1 and r['return'][0]['file'] == '$TMP/rel/rel.pcap'"
expect_exit 0 ctl port-del vm0
no_captures "after port-del"
tshark -r "$TMP/rel/rel.pcap" >/dev/null 2>&1 || fail "capture of a removed port left an invalid file"
pass "several captures, stop by id, relative path resolved by uvswitchctl, port-del ends a capture"

stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit $DAEMON_RC"
