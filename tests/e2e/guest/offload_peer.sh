# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Peer guest of qemu_offload (busybox sh, runs as /test.sh): serves the 2 MB blob at the address
# in /test-files/peer-params, fetches the hub's (10.0.0.1) and checks it by md5, then tells the
# hub on TCP 7001. Exit codes: 10 link, 11 address, 12 httpd, 13 fetch, 14 signal.
. /lib/uvs/lib.sh

blob() { seq 1 300000; }
read -r addr </test-files/peer-params
uvs_step "FEATURES $(cat /sys/bus/virtio/devices/*/features)"
uvs_wait_link eth0 60 || exit 10
uvs_static eth0 "$addr/24" || exit 11
mkdir -p /var/www
blob >/var/www/blob
httpd -h /var/www -p 80 || exit 12
want=$(blob | md5sum)
uvs_wait_ping 10.0.0.1 150 || exit 13
n=0
until uvs_fetch http://10.0.0.1/blob /tmp/blob 60 && [ "$(md5sum </tmp/blob)" = "$want" ]; do
  n=$((n + 1))
  [ $n -lt 20 ] || exit 13
  sleep 1
done
uvs_step "http from 10.0.0.1 ok $(wc -c </tmp/blob) bytes"
# The hub fetches from us before it listens for this: keep serving until it takes the signal.
n=0
until echo "done $addr" | nc 10.0.0.1 7001; do
  n=$((n + 1))
  [ $n -lt 600 ] || exit 14
  sleep 1
done
uvs_step "signalled the hub"
