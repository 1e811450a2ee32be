# SPDX-License-Identifier: MIT
# shellcheck shell=dash
# In-guest helpers for /test.sh scripts (busybox sh): link, addressing, DHCP and ping checks.
#
# Use from a test script: `. /lib/uvs/lib.sh`. Every function prints what it did on the console and
# returns non-zero on failure, so `uvs_step` lines in the console log show where a test stopped.

# uvs_step TEXT: prints a progress line that stands out in the console log.
uvs_step() {
  echo "UVS-STEP $*"
}

# uvs_wait_link IFACE [SECONDS=10]: waits until IFACE reports carrier (the backend is connected).
uvs_wait_link() {
  local ifc=$1 n=$(( ${2:-10} * 10 ))
  ip link set "$ifc" up || return 1
  while [ $n -gt 0 ]; do
    [ "$(cat /sys/class/net/"$ifc"/carrier 2>/dev/null)" = 1 ] && return 0
    sleep 0.1
    n=$((n - 1))
  done
  echo "uvs: $ifc has no carrier after ${2:-10}s"
  return 1
}

# uvs_static IFACE ADDR/PREFIX [GATEWAY]: configures a static IPv4 address (and default route).
uvs_static() {
  local ifc=$1 addr=$2 gw=${3:-}
  ip link set "$ifc" up || return 1
  ip -4 addr replace "$addr" dev "$ifc" || return 1
  if [ -n "$gw" ]; then
    ip -4 route replace default via "$gw" dev "$ifc" || return 1
  fi
  uvs_step "static $ifc $addr ${gw:+gw $gw}"
}

# uvs_dhcp IFACE [TRIES=5]: obtains a DHCP lease with udhcpc (2 s between tries) and applies it
# through /etc/udhcpc/default.script (tools/guest/udhcpc.script). Returns 0 when bound.
uvs_dhcp() {
  local ifc=$1 tries=${2:-5}
  ip link set "$ifc" up || return 1
  if ! udhcpc -i "$ifc" -s /etc/udhcpc/default.script -n -q -f -t "$tries" -T 2 -A 1; then
    echo "uvs: no DHCP lease on $ifc"
    return 1
  fi
  uvs_step "dhcp $ifc: $(ip -4 -o addr show dev "$ifc" | awk '{print $4}')"
}

# uvs_ping ADDR COUNT [MIN_REPLIES=COUNT] [-W seconds=2]: sends COUNT echo requests, one every 0.2 s,
# and succeeds when at least MIN_REPLIES came back. Prints "UVS-PING addr sent=n received=m".
uvs_ping() {
  local addr=$1 count=$2 min=${3:-$2} out rx
  out=$(ping -c "$count" -i 0.2 -W 2 "$addr" 2>&1)
  echo "$out"
  rx=$(echo "$out" | sed -n 's/.* \([0-9][0-9]*\) packets received.*/\1/p')
  rx=${rx:-0}
  echo "UVS-PING $addr sent=$count received=$rx"
  [ "$rx" -ge "$min" ]
}

# uvs_fetch URL FILE [SECONDS=20]: downloads URL (http only) to FILE with busybox wget.
# Do not use wget's own -T: busybox 1.35 (Debian 12, static) segfaults with it; `timeout` instead.
uvs_fetch() {
  rm -f "$2"
  timeout "${3:-20}" wget -q -O "$2" "$1" || { echo "uvs: wget $1 failed"; return 1; }
}

# uvs_now: prints seconds since boot (integer), for logging durations (see uvs_wait_ping on deadlines).
uvs_now() {
  local up
  read -r up _ </proc/uptime
  echo "${up%%.*}"
}

# uvs_wait_ping ADDR [SECONDS=20]: pings ADDR about once a second until one reply comes back; for a
# peer that may still be booting. Returns 1 if none answered in time.
# It counts tries instead of reading the clock: under TCG on an overloaded host the guest's uptime
# has been seen to jump by tens of seconds, which would cut a clock-based wait short.
uvs_wait_ping() {
  local addr=$1 n=$(( ${2:-20} * 2 ))
  while [ "$n" -gt 0 ]; do
    ping -c 1 -W 1 "$addr" >/dev/null 2>&1 && { uvs_step "reachable $addr"; return 0; }
    # An immediate error (no route, no ARP reply yet) must not turn this into a busy loop; a try
    # takes 0.5 to 1.5 s.
    sleep 0.5
    n=$((n - 1))
  done
  echo "uvs: $addr did not answer in ${2:-20}s"
  return 1
}
