#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad vxlan ports: a bad or missing VNI, a bad remote or local and a local address that cannot
# be bound each name the key before anything starts (flags: exit 2, nothing created; a bind
# failure: exit 1 before the control socket exists), and port-add of the same gets an error
# reply that leaves the running daemon's ports as they were.
# Sockets only on loopback; 127.0.0.1 is bound with a port of its own per run.
source "$(dirname "$0")/../cli/lib.sh" "$@"

# bad EXIT ARGS... -- NEEDLE: uvswitch must exit EXIT, name NEEDLE on stderr, create no socket.
bad() {
  local code=$1 args=() needle
  shift
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  needle=$2
  expect_exit "$code" "$UVSWITCH" --control "$CTL" "${args[@]}"
  contains "$ERR" "$needle" "uvswitch ${args[*]}"
  [ ! -e "$CTL" ] || fail "uvswitch ${args[*]}: created $CTL"
  pass "rejected: ${args[*]}"
}

port=$((30000 + $$ % 20000))
ok="local=127.0.0.1:$port,remote=127.0.0.2"
bad 2 --port "vxlan,id=vx0,$ok" -- "--port vx0: missing required key 'vni'"
bad 2 --port "vxlan,id=vx0,vni=16777216,$ok" -- "--port vx0: vni: 16777216 is out of range 0..16777215"
bad 2 --port "vxlan,id=vx0,vni=-1,$ok" -- "--port vx0: vni: '-1' is not a number"
bad 2 --port "vxlan,id=vx0,vni=1,remote=127.0.0.2" -- "--port vx0: missing required key 'local'"
bad 2 --port "vxlan,id=vx0,vni=1,local=127.0.0.1" -- "--port vx0: missing required key 'remote'"
bad 2 --port "vxlan,id=vx0,vni=1,local=127.0.0.1,remote=vtep.example" -- \
  "--port vx0: remote: 'vtep.example' is not an IP address"
bad 2 --port "vxlan,id=vx0,vni=1,local=127.0.0.1,remote=::1" -- \
  "--port vx0: remote: '::1' and local=127.0.0.1 are different address families"
bad 2 --port "vxlan,id=vx0,vni=1,local=127.0.0.1:99999,remote=127.0.0.2" -- \
  "--port vx0: local: '127.0.0.1:99999' is not IP or IP:PORT"
bad 2 --port "vxlan,id=vx0,vni=1,$ok,vnid=3" -- "--port vx0: unknown key 'vnid' (did you mean 'vni'?)"
bad 2 --port "vxlan,id=vx0,vni=1,$ok" --port "dgram,id=d0,local=127.0.0.1:$port,remote=127.0.0.3:1" -- \
  "local=127.0.0.1:$port"
# An address of no interface here (TEST-NET-1, RFC 5737): bind fails, naming local.
bad 1 --port "vxlan,id=vx0,vni=1,local=192.0.2.1,remote=192.0.2.2" -- \
  "vx0: local: bind to '192.0.2.1:4789'"

# The TOML form: remote as an array, a bad VNI named with its line.
cat >"$TMP/vx.toml" <<TOML
[[port]]
type = "vxlan"
id = "vx0"
vni = 16777216
local = "127.0.0.1:$port"
remote = ["127.0.0.2", "127.0.0.3"]
TOML
bad 2 --config "$TMP/vx.toml" -- "vx.toml:4: port vx0: vni: 16777216 is out of range 0..16777215"

# At run time: port-add gets an error reply and nothing changes.
start_daemon --control "$CTL" --threads 1 --port "vxlan,id=vx0,vni=7,$ok"
for spec in "vxlan,id=vx1,vni=16777216,local=127.0.0.1:$((port + 1)),remote=127.0.0.2" \
            "vxlan,id=vx1,vni=1,local=192.0.2.1,remote=192.0.2.2" \
            "vxlan,id=vx1,vni=1,$ok"; do
  expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "$spec"
  case $spec in
    *16777216*) contains "$ERR" "vni: 16777216 is out of range" "port-add $spec" ;;
    *192.0.2.1*) contains "$ERR" "local: bind to '192.0.2.1:4789'" "port-add $spec" ;;
    *) contains "$ERR" "local: bind to '127.0.0.1:$port'" "port-add $spec" ;;
  esac
  pass "port-add refused: $spec"
done
expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json ports
python3 - "$OUT" <<'PY' || fail "ports changed after refused adds: $OUT"
import json, sys
ports = json.loads(sys.argv[1])["return"]
assert [p["id"] for p in ports] == ["vx0"], ports
b = ports[0]["backend"]
assert b["vteps"][0]["address"] == "127.0.0.2" and len(b["source-ports"]) == 16, b
assert all(49152 <= p <= 65535 for p in b["source-ports"]), b["source-ports"]
PY
pass "the running vxlan port is unchanged; its 16 source ports are in 49152-65535"
stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "daemon exit status $DAEMON_RC"
