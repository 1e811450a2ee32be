#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bulk through the NAT: 200 MB from a namespace on a tap port (MTU 1500, the tap's default
# offloads) to a TCP server on the host's loopback, and 200 MB back, each arriving byte-identical
# (sha256 of what was sent and received). With offloads the namespace's TSO superframes reach
# libslirp whole and libslirp's large segments come back as GSO frames cut at the MSS the
# namespace advertised; the counters say both happened. Then the same with offload=off on the
# tap, where the switch segments libslirp's output for the namespace.
source "$(dirname "$0")/lib.sh" "$@"

SIZE_MB=${UVS_NAT_BULK_MB:-200}
TAP=$(tap_name k)
NS=uvsnk$$
head -c "${SIZE_MB}M" /dev/urandom >"$TMP/blob"
# The run without offloads checks the switch's segmentation of libslirp's output: a quarter is
# plenty, and keeps the test short under the sanitizers.
head -c "$((SIZE_MB / 4 + 1))M" "$TMP/blob" >"$TMP/blob-small"

# sw_stat PORT KEY: one of the switch's counters for a port.
sw_stat() {
  ctl --json ports | python3 -c '
import json, sys
for p in json.load(sys.stdin)["return"]:
    if p["id"] == sys.argv[1]:
        print(p["switch"][sys.argv[2]])' "$1" "$2"
}

# bulk TAP_OPTS LABEL BLOB: a daemon with the tap (extra keys TAP_OPTS) and the NAT; BLOB each way.
bulk() {
  local opts=$1 label=$2 blob=$3 want size_mb
  want=$(sha256sum <"$blob" | cut -d' ' -f1)
  size_mb=$(($(stat -c %s "$blob") / 1048576))
  start_daemon --control "$CTL" --threads 1 --port "tap,id=t0,ifname=$TAP,mtu=1500$opts" \
    --port "nat,id=nat0,ipv6=off"
  netns_on_tap "$NS" "$TAP"
  ip netns exec "$NS" ip addr add 10.0.2.15/24 dev "$TAP"
  ip netns exec "$NS" ip route add default via 10.0.2.2

  # Upload: namespace -> host loopback; the server hashes what it receives.
  UP=$(free_port)
  socat -u "TCP-LISTEN:$UP,bind=127.0.0.1,reuseaddr" SYSTEM:"sha256sum >$TMP/up.sum" &
  srv=$!
  NAT_BG+=($srv)
  wait_for 10 ip netns exec "$NS" socat -u "FILE:$blob" "TCP:10.0.2.2:$UP" ||
    fail "upload through the NAT failed"
  wait "$srv" || true
  got=$(cut -d' ' -f1 <"$TMP/up.sum")
  [ "$got" = "$want" ] || fail "upload: sha256 $got, sent $want"
  pass "$label: $size_mb MB namespace -> host loopback, sha256 identical"

  # Download: host loopback -> namespace.
  DOWN=$(free_port)
  socat -u "FILE:$blob" "TCP-LISTEN:$DOWN,bind=127.0.0.1,reuseaddr" &
  NAT_BG+=($!)
  wait_for 10 sh -c "ip netns exec $NS socat -u TCP:10.0.2.2:$DOWN - | sha256sum >$TMP/down.sum &&
    [ \"\$(cut -d' ' -f1 <$TMP/down.sum)\" = $want ]" ||
    fail "download: sha256 $(cut -d' ' -f1 <"$TMP/down.sum"), sent $want"
  pass "$label: $size_mb MB host loopback -> namespace, sha256 identical"

  [ "$(nat_stat nat0 errors)" = 0 ] || fail "NAT errors: $(nat_stat nat0 errors)"
  [ "$(nat_stat nat0 guest-errors)" = 0 ] || fail "NAT guest errors: $(nat_stat nat0 guest-errors)"
  [ "$(nat_stat nat0 in-drop-offload)" = 0 ] || fail "NAT dropped offloaded frames"
  # Every connection's SYN had its MSS raised, and libslirp's large segments left as GSO frames.
  [ "$(nat_stat nat0 in-syn-mss-raised)" -ge 2 ] || fail "SYN MSS not raised"
  [ "$(nat_stat nat0 out-gso)" -gt 0 ] || fail "no GSO frames from the NAT"
  NAT_IN_GSO=$(nat_stat nat0 in-gso)
  TAP_OUT_GSO=$(sw_stat t0 out-gso)
  TAP_SEGMENTED=$(sw_stat t0 sw-segmented)
  echo "# $label: NAT in-gso $NAT_IN_GSO out-gso $(nat_stat nat0 out-gso); tap out-gso $TAP_OUT_GSO sw-segmented $TAP_SEGMENTED"
  stop_daemon TERM
  [ "$DAEMON_RC" = 0 ] || fail "daemon exit code $DAEMON_RC"
  ip netns del "$NS"
}

bulk "" "offloads" "$TMP/blob"
[ "$NAT_IN_GSO" -gt 0 ] || fail "offloads: no TSO superframe reached the NAT whole"
[ "$TAP_OUT_GSO" -gt 0 ] || fail "offloads: the tap took no GSO frame"
bulk ",offload=off" "offload=off" "$TMP/blob-small"
[ "$NAT_IN_GSO" = 0 ] || fail "offload=off: $NAT_IN_GSO superframes from a tap without offloads"
[ "$TAP_SEGMENTED" -gt 0 ] || fail "offload=off: the switch segmented nothing for the tap"
