#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad flags, values and config keys: exit 2, a message naming the flag/key, and nothing created.
source "$(dirname "$0")/lib.sh" "$@"

# bad ARGS... -- NEEDLE: uvswitch must exit 2, print NEEDLE on stderr, and create no socket.
bad() {
  local args=() needle
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  needle=$2
  expect_exit 2 "$UVSWITCH" --control "$CTL" "${args[@]}"
  contains "$ERR" "$needle" "uvswitch ${args[*]}"
  [ -z "$OUT" ] || fail "uvswitch ${args[*]}: printed on stdout (started?): $OUT"
  [ ! -e "$CTL" ] || fail "uvswitch ${args[*]}: created $CTL"
  [ ! -e "$CTL.lock" ] || fail "uvswitch ${args[*]}: created $CTL.lock"
  [ -z "$(ls -A "$XDG_RUNTIME_DIR")" ] || fail "uvswitch ${args[*]}: created files in the runtime dir"
  pass "rejected: ${args[*]}"
}

bad --thread 2 -- "unknown flag '--thread' (did you mean '--threads'?)"
bad --threads abc -- "--threads: 'abc' is not a number"
bad --threads 0 -- "--threads: 0 is out of range 1..256"
bad --poll-max-ns -1 -- "--poll-max-ns: '-1' is not a number"
bad --poll-grow 5000 -- "--poll-grow: 5000 is out of range 0..1024"
bad --log-level loud -- "--log-level: 'loud' is not a log level"
bad --port "vhost-user,id=vm0,path=$TMP/vm0.sock,sever=on" -- \
  "--port vm0: unknown key 'sever' (did you mean 'server'?)"
bad --port "vhost-user,id=vm0" -- "--port vm0: missing required key 'path'"
bad --port "tap,id=t0,ifname=tap0,vlan=4095" -- "--port t0: vlan: '4095' is not a VLAN id"
bad --port "vhost-user,id=vm0,path=$TMP/a.sock,mac=01:02:03:04:05:06" -- "--port vm0: mac: '01:02:03:04:05:06' is a multicast MAC"
bad --port "nat,id=nat0,net=10.0.2.0/24,host=10.0.3.2" -- "--port nat0: host=10.0.3.2 is outside net=10.0.2.0/24"
bad --port "nat,id=nat0,net=10.0.2.0/33" -- "--port nat0: net: '10.0.2.0/33': prefix length must be 0..32"
bad --port "dgram,id=d0,local=127.0.0.1:5000,remote=localhost:5001" -- "--port d0: remote: 'localhost:5001' is not IP:PORT"
bad --port "tap,id=t0,ifname=tap0" --port "tap,id=t0,ifname=tap1" -- "--port t0: duplicate port id 't0'"
bad --threads 2 --port "tap,id=t0,ifname=tap0,thread=2" -- "--port t0: thread=2 but there are 2 I/O threads"
bad --threads 2 --port "vhost-user,id=vm0,path=$TMP/vm0.sock,queues=4,threads=1-2" -- \
  "--port vm0: threads= names thread 2 but there are 2 I/O threads (0..1)"
bad --port "vhost-user,id=vm0,path=$TMP/vm0.sock,queues=2,threads=0-2" -- \
  "--port vm0: threads lists 3 threads but queues=2"
bad --port "vhost-user,id=vm0,path=$TMP/vm0.sock,queues=2,threads=1-0" -- "bad range '1-0'"
bad --port "vhost-user,id=vm0,path=$TMP/vm0.sock,queues=2,threads=auto,thread=1" -- \
  "--port vm0: thread and threads exclude each other"
bad --port "vhost,id=x" -- "unknown port type 'vhost' (did you mean 'vhost-user'?)"
bad --capture "port=vm9,file=$TMP/x.pcap" -- "port 'vm9' does not exist (ports: vm0, nat0)"
bad --capture "port=vm0,file=$TMP/x.pcap,snaplen=0" -- "snaplen: 0 is out of range 1..262144"

# A path that exists and is not a socket.
echo "not a socket" >"$TMP/regular"
bad --port "vhost-user,id=vm0,path=$TMP/regular" -- "--port vm0: path: '$TMP/regular' exists and is not a socket"
expect_exit 2 "$UVSWITCH" --control "$TMP/regular"
contains "$ERR" "--control: '$TMP/regular' exists and is not a socket" "--control regular file"
bad --control "$TMP/nodir/c.sock" -- "--control: directory '$TMP/nodir' does not exist"
rm -f "$TMP/regular"

# Config file errors name file:line and the key.
cat >"$TMP/bad.toml" <<'TOML'
threads = 2

[[port]]
type = "vhost-user"
id = "vm0"
path = "/tmp/uvs-cli-never.sock"
sever = true
TOML
bad --config "$TMP/bad.toml" -- "$TMP/bad.toml:7: port vm0: unknown key 'sever' (did you mean 'server'?)"
printf 'treads = 2\n' >"$TMP/bad.toml"
bad --config "$TMP/bad.toml" -- "$TMP/bad.toml:1: unknown key 'treads' (did you mean 'threads'?)"
printf 'threads = "two"\n' >"$TMP/bad.toml"
bad --config "$TMP/bad.toml" -- "$TMP/bad.toml:1: threads: 'two' is not a number"
printf 'threads = 2\n[[port]\n' >"$TMP/bad.toml"
bad --config "$TMP/bad.toml" -- "$TMP/bad.toml:2: TOML syntax error"
bad --config "$TMP/missing.toml" -- "--config $TMP/missing.toml: cannot read: No such file or directory"
rm -f "$TMP/bad.toml"

# --help documents everything and exits 0; --version too.
expect_exit 0 "$UVSWITCH" --help
for word in --config --control --threads --poll-max-ns --poll-grow --poll-shrink --log-level \
            --port --capture "EXIT CODES" "vhost-user,id=ID" "tap,id=ID" "stream,id=ID" \
            "dgram,id=ID" "nat,id=ID" "trunk=10:20:100-199" "',,'"; do
  contains "$OUT" "$word" "--help"
done
expect_exit 0 "$UVSWITCH" --version
contains "$OUT" "uvswitch 0.1.0" "--version"
pass "--help and --version"

# uvswitchctl usage errors exit 2.
expect_exit 2 "$UVSWITCHCTL" --control "$CTL" thread
contains "$ERR" "unknown command 'thread' (did you mean 'threads'?)" "uvswitchctl typo"
expect_exit 2 "$UVSWITCHCTL" --control "$CTL"
expect_exit 2 "$UVSWITCHCTL" --control "$CTL" call version '[1]'
pass "uvswitchctl usage errors"
