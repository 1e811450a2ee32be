# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Hub guest of qemu_offload (busybox sh, runs as /test.sh): an offload guest at 10.0.0.1 that
# fetches the 2 MB blob over HTTP from each peer (offload guest 10.0.0.2, no-offload guest
# 10.0.0.3, namespace on a tap 10.0.0.10), serves its own to them, then moves NAT_MB MB each way
# to the host's loopback through the NAT (gateway 10.0.0.254), all checked by md5.
# /test-files/hub-params: "NAT_HTTP_PORT NAT_MD5 NAT_UPLOAD_PORT NAT_MB".
# Exit codes: 10 link, 11 address, 12 httpd, 13-15 a peer's file, 16 NAT download, 17 upload,
# 18 peers did not finish.
. /lib/uvs/lib.sh

blob() { seq 1 300000; }
read -r nat_port nat_md5 up_port nat_mb </test-files/hub-params
uvs_step "FEATURES $(cat /sys/bus/virtio/devices/*/features)"
uvs_wait_link eth0 60 || exit 10
uvs_static eth0 10.0.0.1/24 10.0.0.254 || exit 11
mkdir -p /var/www
blob >/var/www/blob
httpd -h /var/www -p 80 || exit 12
want=$(blob | md5sum)

# fetch_from ADDR: the peer's blob, retried while its httpd starts.
fetch_from() {
  local n=0
  uvs_wait_ping "$1" 150 || return 1
  while :; do
    if uvs_fetch "http://$1/blob" /tmp/blob 60 && [ "$(md5sum </tmp/blob)" = "$want" ]; then
      uvs_step "http from $1 ok $(wc -c </tmp/blob) bytes"
      return 0
    fi
    n=$((n + 1))
    [ $n -lt 20 ] || return 1
    sleep 1
  done
}
fetch_from 10.0.0.2 || exit 13
fetch_from 10.0.0.3 || exit 14
fetch_from 10.0.0.10 || exit 15

t0=$(cut -d' ' -f1 /proc/uptime)
got=$(timeout 600 wget -q -O - "http://10.0.0.254:$nat_port/big" | md5sum | cut -d' ' -f1)
[ "$got" = "$nat_md5" ] || { echo "NAT download md5 $got, want $nat_md5"; exit 16; }
t1=$(cut -d' ' -f1 /proc/uptime)
uvs_step "nat download ok ${nat_mb} MB in $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')s"
# The host's receiver hashes what arrives and closes once it has NAT_MB MB.
yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c $((nat_mb * 1048576)) |
  timeout 600 nc 10.0.0.254 "$up_port" || exit 17
t2=$(cut -d' ' -f1 /proc/uptime)
uvs_step "nat upload sent ${nat_mb} MB in $(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')s"

# Keep serving until both guests and the host (for the namespace) said they fetched our blob.
mkfifo /tmp/hold
n=0
: >>/tmp/done
while [ "$(grep -c done /tmp/done)" -lt 3 ]; do
  timeout 120 nc -l -p 7001 <>/tmp/hold >>/tmp/done
  n=$((n + 1))
  [ $n -lt 10 ] || exit 18
done
uvs_step "peers done: $(tr '\n' ' ' </tmp/done)"
