#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The switch's offload fallback against a real receiver that has no offloads: a network namespace
# on a tap port with offloads on (10.0.0.1) and a QEMU guest (TCG) on `-netdev stream` (10.0.0.2,
# tests/e2e/guest/offload_peer.sh). The namespace's TSO frames are segmented and checksummed by the
# switch for the stream port; the guest's plain frames go to the tap as they are. Each side
# fetches the other's HTTP blob and checks its md5; then the daemon's counters show the
# segmentation and no malformed header or fallback drop.
# Addresses exist only inside the namespace and the guest this script makes.
# Usage: qemu_stream_tap.sh BUILD_DIR SOURCE_DIR   (E2E_KEEP=1 keeps the logs)
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/guest.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require
command -v qemu-system-x86_64 >/dev/null || fail "missing qemu-system-x86_64"
command -v curl >/dev/null || fail "missing curl"
t_all=$(e2e_now)
guest_build

tap=$(tap_name s) ns=uvs-stap-$$ s=$E2E_TMP/st1.sock
daemon_start sw --threads 2 --port "stream,id=st1,path=$s,thread=0" \
  --port "tap,id=t1,ifname=$tap,thread=1"
netns_on_tap "$ns" "$tap" 10.0.0.1/24

# The namespace is the "hub" offload_peer.sh talks to: it serves the same blob on port 80 and
# takes the guest's "done" on TCP 7001.
mkdir -p "$E2E_TMP/www"
seq 1 300000 >"$E2E_TMP/www/blob"
blob_md5=$(md5sum <"$E2E_TMP/www/blob" | cut -d' ' -f1)
e2e_bg "$E2E_TMP/http.log" ip netns exec "$ns" python3 -m http.server 80 --bind 10.0.0.1 \
  --directory "$E2E_TMP/www"
e2e_bg "$E2E_TMP/done.log" ip netns exec "$ns" socat -u TCP-LISTEN:7001,bind=10.0.0.1 \
  "CREATE:$E2E_TMP/done"

mkdir -p "$E2E_TMP/p"
echo 10.0.0.2 >"$E2E_TMP/p/peer-params"
GUEST_TEST_FILES=("$E2E_TMP/p/peer-params")
guest_start g1 "$s" 52:54:00:00:02:01 "$SRC/tests/e2e/guest/offload_peer.sh" stream

e2e_wait_for 240 ip netns exec "$ns" ping -c 1 -W 1 10.0.0.2 >/dev/null || fail "namespace cannot reach the guest"
got=""
for _ in $(seq 1 30); do
  got=$(ip netns exec "$ns" curl -sf --max-time 60 http://10.0.0.2/blob | md5sum | cut -d' ' -f1) || true
  [ "$got" = "$blob_md5" ] && break
  sleep 1
done
[ "$got" = "$blob_md5" ] || fail "namespace: the guest's blob md5 $got, want $blob_md5"
e2e_log "namespace fetched the guest's blob over the stream port (md5 ok)"
guest_wait g1 240 || fail "guest rc=$?"
grep -aq 'UVS-STEP http from 10.0.0.1 ok' "$(guest_console g1)" || fail "the guest's fetch did not pass"
e2e_wait_for 10 grep -q "done 10.0.0.2" "$E2E_TMP/done" || fail "no done signal from the guest"
e2e_log "the guest fetched the namespace's blob (md5 ok)"

daemon_check sw "port('t1')['backend']['in-tso4'] > 0 and \
  port('st1')['switch']['sw-segmented'] > 0 and \
  port('st1')['switch']['sw-segments'] > port('st1')['switch']['sw-segmented'] and \
  port('st1')['backend']['protocol-errors'] == 0 and \
  port('t1')['backend']['in-drop-bad-hdr']['total'] == 0 and \
  port('t1')['backend']['out-drop-offload'] == 0 and \
  all(v == 0 for v in port('st1')['switch']['drop-offload'].values())" \
  "the namespace sent GSO frames, the switch segmented them for the stream port, nothing dropped" ||
  fail "offload counters"
daemon_stop sw
e2e_log "total $(e2e_elapsed "$t_all")s"
e2e_log PASS
