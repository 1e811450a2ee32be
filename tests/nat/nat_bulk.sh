#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bulk through the NAT: 200 MB from a namespace on a tap port to a TCP server on the host's
# loopback, and 200 MB back, each arriving byte-identical (sha256 of what was sent and received).
source "$(dirname "$0")/lib.sh" "$@"

SIZE_MB=${UVS_NAT_BULK_MB:-200}
TAP=$(tap_name k)
NS=uvsnk$$
start_daemon --control "$CTL" --threads 1 --port "tap,id=t0,ifname=$TAP,vnet-hdr=off" \
  --port "nat,id=nat0,ipv6=off"
netns_on_tap "$NS" "$TAP"
ip netns exec "$NS" ip addr add 10.0.2.15/24 dev "$TAP"
ip netns exec "$NS" ip route add default via 10.0.2.2

head -c "${SIZE_MB}M" /dev/urandom >"$TMP/blob"
want=$(sha256sum <"$TMP/blob" | cut -d' ' -f1)

# Upload: namespace -> host loopback; the server hashes what it receives.
UP=$(free_port)
socat -u "TCP-LISTEN:$UP,bind=127.0.0.1,reuseaddr" SYSTEM:"sha256sum >$TMP/up.sum" &
srv=$!
NAT_BG+=($srv)
wait_for 10 ip netns exec "$NS" socat -u "FILE:$TMP/blob" "TCP:10.0.2.2:$UP" ||
  fail "upload through the NAT failed"
wait "$srv" || true
got=$(cut -d' ' -f1 <"$TMP/up.sum")
[ "$got" = "$want" ] || fail "upload: sha256 $got, sent $want"
pass "$SIZE_MB MB namespace -> host loopback, sha256 identical"

# Download: host loopback -> namespace.
DOWN=$(free_port)
socat -u "FILE:$TMP/blob" "TCP-LISTEN:$DOWN,bind=127.0.0.1,reuseaddr" &
NAT_BG+=($!)
wait_for 10 sh -c "ip netns exec $NS socat -u TCP:10.0.2.2:$DOWN - | sha256sum >$TMP/down.sum &&
  [ \"\$(cut -d' ' -f1 <$TMP/down.sum)\" = $want ]" ||
  fail "download: sha256 $(cut -d' ' -f1 <"$TMP/down.sum"), sent $want"
pass "$SIZE_MB MB host loopback -> namespace, sha256 identical"

[ "$(nat_stat nat0 errors)" = 0 ] || fail "NAT errors: $(nat_stat nat0 errors)"
stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "daemon exit code $DAEMON_RC"
