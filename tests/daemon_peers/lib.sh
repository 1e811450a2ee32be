# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Host-side helpers of the daemon real-peer tests: start uvswitch daemons we own, read their
# counters over the control socket, network namespaces on tap ports, fd/thread leak checks.
#
# Source after tests/e2e/lib/common.sh (or guest.sh), with BUILD_DIR set. Each daemon has a NAME;
# its log is $E2E_TMP/NAME.log and its control socket $E2E_TMP/NAME.ctl. UVSWITCH / UVSWITCHCTL
# override the binaries (e.g. with a sanitizer build's).

[ -n "${_UVS_DAEMON_PEERS_SH:-}" ] && return 0
_UVS_DAEMON_PEERS_SH=1

UVSWITCH=${UVSWITCH:-$BUILD_DIR/tools/uvswitch/uvswitch}
UVSWITCHCTL=${UVSWITCHCTL:-$BUILD_DIR/tools/uvswitchctl/uvswitchctl}
declare -gA _daemon_pid=()
_netns_made=()

# fail TEXT...: logs and exits 1 (the exit trap stops everything we started).
fail() {
  e2e_log "FAIL: $*"
  local n
  for n in "${!_daemon_pid[@]}"; do
    echo "----- daemon $n log -----" >&2
    tail -n 40 "$E2E_TMP/$n.log" >&2 2>/dev/null || true
  done
  exit 1
}

# daemon_start NAME ARGS...: starts uvswitch ARGS with a control socket at $E2E_TMP/NAME.ctl in the
# background (killed on exit) and waits until the control socket answers. DAEMON_PREFIX (an
# array) goes before the binary: a launcher that execs it, such as tests/cli/fd_launcher.py.
DAEMON_PREFIX=()
daemon_start() {
  local name=$1
  shift
  [ -x "$UVSWITCH" ] || fail "no $UVSWITCH (build the uvswitch target)"
  e2e_bg "$E2E_TMP/$name.log" ${DAEMON_PREFIX[@]+"${DAEMON_PREFIX[@]}"} "$UVSWITCH" \
    --control "$E2E_TMP/$name.ctl" "$@"
  _daemon_pid[$name]=$E2E_PID
  e2e_wait_for 20 eval "daemon_ctl $name version >/dev/null" ||
    fail "daemon $name did not answer on its control socket: $(cat "$E2E_TMP/$name.log")"
  e2e_log "daemon $name started (pid $E2E_PID): $*"
}

# daemon_pid NAME: prints the daemon's pid.
daemon_pid() {
  echo "${_daemon_pid[$1]:?no daemon $1}"
}

# daemon_ctl NAME ARGS...: runs uvswitchctl ARGS against daemon NAME (output on stdout), waiting
# DAEMON_CTL_TIMEOUT seconds (default 5) for the reply.
daemon_ctl() {
  local name=$1
  shift
  "$UVSWITCHCTL" --control "$E2E_TMP/$name.ctl" --timeout "${DAEMON_CTL_TIMEOUT:-5}" "$@" 2>/dev/null
}

# daemon_check NAME PYTHON-EXPR [WHAT]: evaluates EXPR over the daemon's `ports` reply, with
# port(ID) giving one port's object (its "switch" and "backend" counters, "state", ...). Returns 1,
# logging WHAT and the reply, when it is false.
daemon_check() {
  local name=$1 expr=$2 what=${3:-$2} json
  json=$(daemon_ctl "$name" --json ports) || { e2e_log "daemon $name: no ports reply"; return 1; }
  python3 - "$json" "$expr" <<'PY' && return 0
import json, sys
ports = json.loads(sys.argv[1])["return"]
def port(i):
    return next(p for p in ports if p["id"] == i)
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
  e2e_log "daemon $name: check failed: $what"
  echo "$json" | python3 -m json.tool >&2 || echo "$json" >&2
  return 1
}

# daemon_counter NAME PORT PATH: prints one counter, PATH like "switch.in-frames".
daemon_counter() {
  daemon_ctl "$1" --json ports | python3 -c '
import json, sys
p = next(p for p in json.load(sys.stdin)["return"] if p["id"] == sys.argv[1])
for k in sys.argv[2].split("."):
    p = p[k]
print(p)' "$2" "$3"
}

# daemon_stop NAME: SIGTERM, then checks that the daemon exited 0 within 10 s.
daemon_stop() {
  local name=$1 pid rc=0
  pid=$(daemon_pid "$name")
  kill -TERM "$pid" 2>/dev/null || true
  e2e_wait_for 10 eval "! kill -0 $pid 2>/dev/null" || fail "daemon $name ignored SIGTERM"
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "daemon $name exited with status $rc"
  unset "_daemon_pid[$name]"
}

# daemon_kill NAME: SIGKILL (a crash: no clean shutdown), reaped.
daemon_kill() {
  local pid
  pid=$(daemon_pid "$1")
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "_daemon_pid[$1]"
}

# daemon_fds NAME / daemon_threads NAME: open fds / threads of the daemon now (from /proc).
daemon_fds() {
  ls "/proc/$(daemon_pid "$1")/fd" | wc -l
}
daemon_threads() {
  ls "/proc/$(daemon_pid "$1")/task" | wc -l
}

# netns_require: exits 77 (skip) unless we may create network namespaces and taps.
netns_require() {
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
  [ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
  command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }
}

# netns_on_tap NS TAP ADDR/LEN: makes namespace NS (removed on exit), moves the tap device TAP
# (the daemon created it in our namespace) into it, and brings it up with ADDR. The daemon keeps
# its tap fd across the move.
netns_on_tap() {
  local ns=$1 tap=$2 addr=$3
  ip netns add "$ns" || fail "cannot create namespace $ns"
  _netns_made+=("$ns")
  ip link set "$tap" netns "$ns" || fail "cannot move $tap into $ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr" dev "$tap"
  ip -n "$ns" link set "$tap" up
}

_netns_cleanup() {
  local ns
  for ns in "${_netns_made[@]}"; do
    # Processes left in the namespace (iperf3 -s) go first, or the namespace lingers.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
e2e_on_exit _netns_cleanup

# netns_ping NS ADDR [COUNT=3]: pings ADDR from NS until COUNT replies in a row or 20 s pass.
netns_ping() {
  local ns=$1 addr=$2 count=${3:-3}
  e2e_wait_for 20 ip netns exec "$ns" ping -c 1 -W 1 "$addr" >/dev/null ||
    { e2e_log "$ns cannot reach $addr"; return 1; }
  ip netns exec "$ns" ping -c "$count" -i 0.2 -W 2 "$addr" >/dev/null ||
    { e2e_log "$ns: lost pings to $addr"; return 1; }
}

# iperf_pair NS_CLIENT NS_SERVER SERVER_ADDR SECONDS OUT_JSON: a TCP iperf3 run between two
# namespaces; the server is stopped afterwards. Prints the received Gbit/s; returns 1 on failure.
iperf_pair() {
  local nc=$1 ns=$2 addr=$3 secs=$4 out=$5 spid
  e2e_bg "$out.server" ip netns exec "$ns" iperf3 -s -1 -B "$addr"
  spid=$E2E_PID
  e2e_wait_for 10 eval "ip netns exec $ns ss -ltn | grep -q '$addr:5201'" ||
    { e2e_log "iperf3 server in $ns did not come up"; return 1; }
  ip netns exec "$nc" iperf3 -c "$addr" -t "$secs" -J >"$out" ||
    { e2e_log "iperf3 client in $nc failed: $(tail -5 "$out")"; e2e_kill "$spid" 1; return 1; }
  e2e_kill "$spid" 1
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
bps = r["end"]["sum_received"]["bits_per_second"]
print("%.2f" % (bps / 1e9))
sys.exit(0 if bps > 1e6 else 1)' "$out"
}

# tap_name SUFFIX: a tap name unique to this run (IFNAMSIZ allows 15 characters).
tap_name() {
  echo "uvt$$$1" | cut -c1-15
}

# guest_nic_stat NAME KEY: prints KEY (tx, rx, tx_dropped, rx_dropped) from the last NIC-STATS line
# guest NAME printed (tests/e2e/guest/peer*.sh); nothing if there is none.
guest_nic_stat() {
  grep -ao 'UVS-STEP NIC-STATS [a-z_0-9= ]*' "$(guest_console "$1")" | tail -n1 |
    tr ' ' '\n' | sed -n "s/^$2=//p"
}

# vhost_port_clean NAME PORT CONNECTIONS: the vhost-user port served CONNECTIONS frontends, all of
# which have left, without a protocol error, a refused request or a malformed frame.
vhost_port_clean() {
  daemon_check "$1" "port('$2')['backend']['connections'] == $3 and \
    port('$2')['backend']['disconnects'] == $3 and port('$2')['backend']['protocol-errors'] == 0 and \
    port('$2')['backend']['rejected-requests'] == 0 and port('$2')['state'] != 'broken' and \
    port('$2')['backend']['total']['in-drop-bad-chain'] == 0 and \
    port('$2')['backend']['total']['in-drop-too-big'] == 0" \
    "$2 served $3 frontend(s) cleanly"
}
