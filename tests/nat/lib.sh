# SPDX-License-Identifier: MIT
# Shared helpers for the NAT script tests: the cli helpers, plus network namespaces on tap ports
# of the daemon and background servers, all removed on exit. Sourced as:
#   source "$(dirname "$0")/lib.sh" "$@"    (args: BUILD_DIR SOURCE_DIR)
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh" "$@"

NAT_NETNS=()
NAT_BG=()

nat_cleanup() {
  local p ns
  for p in "${NAT_BG[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${NAT_BG[@]}"; do wait "$p" 2>/dev/null || true; done
  cleanup
  for ns in "${NAT_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap nat_cleanup EXIT

# bg CMD...: runs CMD in the background, killed on exit.
bg() {
  "$@" &
  NAT_BG+=($!)
}

ctl() { "$UVSWITCHCTL" --control "$CTL" "$@"; }

# tap_name SUFFIX: an interface name unique to this test run (IFNAMSIZ is 16).
tap_name() { echo "un$$$1" | cut -c1-15; }

# netns_on_tap NS TAP: creates namespace NS and moves the daemon's tap TAP into it, up.
netns_on_tap() {
  local ns=$1 tap=$2
  ip netns add "$ns"
  NAT_NETNS+=("$ns")
  ip link set "$tap" netns "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$tap" up
}

# wait_for DEADLINE_S CMD...: retries CMD until it succeeds or the deadline passes.
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# nat_stat PORT KEY: one counter of a NAT port's backend stats.
nat_stat() {
  ctl --json stats | python3 -c '
import json, sys
r = json.load(sys.stdin)["return"]
for p in r["ports"]:
    if p["id"] == sys.argv[1]:
        print(p["backend"][sys.argv[2]])' "$1" "$2"
}

# nat_stat_is PORT KEY VALUE: succeeds when the counter has that value (for wait_for).
nat_stat_is() { [ "$(nat_stat "$1" "$2")" = "$3" ]; }

# free_port: a TCP/UDP port number nothing on loopback uses now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
