#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shipped /etc/uvswitch/uvswitch.toml (packaging/uvswitch.toml) is the built-in default:
# as shipped (every line a comment) and with its default lines uncommented, the daemon runs
# the same ports, threads, polling and control socket as with no config at all.
source "$(dirname "$0")/../cli/lib.sh" "$@"
SHIPPED=$SRC/packaging/uvswitch.toml

# effective ARGS...: starts the daemon with ARGS on the default control socket, prints what it
# runs (port specs, I/O threads with their polling settings, control path), stops it.
effective() {
  CTL=$XDG_RUNTIME_DIR/uvswitch/control.sock start_daemon "$@"
  local c=$XDG_RUNTIME_DIR/uvswitch/control.sock
  "$UVSWITCHCTL" --control "$c" --json ports | python3 -c '
import json, sys
for p in json.load(sys.stdin)["return"]: print("port", p["spec"])'
  "$UVSWITCHCTL" --control "$c" --json threads | python3 -c '
import json, sys
for t in json.load(sys.stdin)["return"]:
    if t["role"] == "io": print("thread", t["name"], t["poll-max-ns"], t["poll-grow"], t["poll-shrink"])'
  "$UVSWITCHCTL" --control "$c" --json version | python3 -c '
import json, sys; print("control", json.load(sys.stdin)["return"]["control"])'
  stop_daemon TERM
  [ "$DAEMON_RC" -eq 0 ] || fail "daemon ($*) exited with $DAEMON_RC"
}
# start_daemon waits on $CTL: point it at the default control socket.
CTL=$XDG_RUNTIME_DIR/uvswitch/control.sock

builtin=$(effective)
grep -q '^port vhost-user,id=vm0,' <<<"$builtin" && grep -q '^port nat,id=nat0,' <<<"$builtin" ||
  fail "the built-in default is not vm0 + nat0: $builtin"
[ "$(grep -c '^thread' <<<"$builtin")" -eq "$(nproc)" ] || fail "built-in threads: $builtin"

shipped=$(effective --config "$SHIPPED")
[ "$shipped" = "$builtin" ] || fail "the shipped config differs from the built-in default:
$(diff <(echo "$builtin") <(echo "$shipped"))"
pass "shipped uvswitch.toml (all comments) = built-in default ($(grep -c '^port' <<<"$builtin") ports, $(nproc) threads)"

# Uncomment what the file says are the defaults: the keys before the port examples but
# threads (its example is a number, the default is one per CPU), and the two built-in ports.
# The file names root's runtime dir; this test's daemon has its own.
awk '/^# More port types/ { exit } { print }' "$SHIPPED" |
  sed -e 's/^#\([a-z-]* = \)/\1/' -e 's/^#\(\[\[port\]\]\)$/\1/' -e 's/^#\([a-z]* = "\)/\1/' \
    -e '/^threads = /d' -e "s|/run/uvswitch|$XDG_RUNTIME_DIR/uvswitch|g" >"$TMP/uncommented.toml"
keys=$(grep -cE '^[a-z-]+ = ' "$TMP/uncommented.toml")
[ "$keys" -ge 10 ] || fail "only $keys default lines uncommented: $(cat "$TMP/uncommented.toml")"
uncommented=$(effective --config "$TMP/uncommented.toml")
[ "$uncommented" = "$builtin" ] || fail "the file's default values differ from the built-in ones:
$(diff <(echo "$builtin") <(echo "$uncommented"))"
pass "its $keys default lines, uncommented, give the built-in default too"
