# SPDX-License-Identifier: MIT
# Two network namespaces, each behind a tap port of a uvswitch the test starts: the real kernel
# stack on both ends of the switch. Sourced after tests/cli/lib.sh; needs root (ip netns).
# Sets NS_A/NS_B, TAP_A/TAP_B, IP_A/IP_B; ports are named a and b.

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 0; }
command -v tshark >/dev/null || fail "tshark is not installed (tools/install-deps.sh)"

NS_A=uvscap-a-$$
NS_B=uvscap-b-$$
TAP_A=uvca$$
TAP_B=uvcb$$
IP_A=10.77.$(($$ % 200)).1
IP_B=10.77.$(($$ % 200)).2

netns_cleanup() {
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  ip link del "$TAP_A" 2>/dev/null || true
  ip link del "$TAP_B" 2>/dev/null || true
}
# lib.sh's trap kills the daemon and removes TMP; the namespaces go as well.
trap 'netns_cleanup; cleanup' EXIT

# start_pair [DAEMON ARGS...]: the daemon with tap ports a and b, each tap moved into its own
# namespace with an address, IPv6 off (no router solicitations in the captures).
start_pair() {
  start_daemon --control "$CTL" --threads 2 \
    --port "tap,id=a,ifname=$TAP_A" --port "tap,id=b,ifname=$TAP_B" "$@"
  local ns tap ip
  for ns in "$NS_A" "$NS_B"; do ip netns add "$ns"; done
  for pair in "$NS_A $TAP_A $IP_A" "$NS_B $TAP_B $IP_B"; do
    set -- $pair
    ns=$1 tap=$2 ip=$3
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip link set "$tap" netns "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ip/24" dev "$tap"
    ip -n "$ns" link set "$tap" up
  done
  # The first ping also proves the path works before any capture starts.
  local i
  for i in $(seq 1 50); do
    ip netns exec "$NS_A" ping -c 1 -W 1 "$IP_B" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "no ping between the namespaces through the switch"
}

ctl() { "$UVSWITCHCTL" --control "$CTL" "$@"; }

# tshark_fields FILE FILTER FIELDS...: one line per matching frame.
tshark_fields() {
  local file=$1 filter=$2
  shift 2
  local args=()
  for f in "$@"; do args+=(-e "$f"); done
  tshark -n -r "$file" -Y "$filter" -T fields "${args[@]}" 2>"$TMP/tshark.err" ||
    fail "tshark cannot read $file: $(cat "$TMP/tshark.err")"
}
