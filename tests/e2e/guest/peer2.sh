# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Peer 2 of the two-guest e2e tests (busybox sh, runs as /test.sh): serves, and checks the upload.
#
# 10.0.0.2 serves a file over HTTP, pings peer 1 itself (so traffic is started from both sides),
# then takes peer 1's upload on TCP port 7000 and exits 0 if it is the same file.
# Exit codes: 10 link, 11 address, 12 httpd, 13 ping, 14 upload differs.
. /lib/uvs/lib.sh

blob() { seq 1 100000; }

uvs_wait_link eth0 60 || exit 10
uvs_static eth0 10.0.0.2/24 || exit 11
blob >/var/www/blob
httpd -h /var/www -p 80 || exit 12
uvs_wait_ping 10.0.0.1 150 || exit 13
uvs_ping 10.0.0.1 5 || exit 13
uvs_step "serving"
# busybox nc ends at EOF on either side: stdin is a FIFO opened read-write, which never reaches
# EOF, so nc ends when peer 1 closes the connection after the whole file.
mkfifo /tmp/hold
nc -l -p 7000 <>/tmp/hold >/tmp/upload
uvs_step "upload $(wc -c </tmp/upload) bytes"
[ "$(md5sum </tmp/upload)" = "$(blob | md5sum)" ] || { echo "upload differs"; exit 14; }
s=/sys/class/net/eth0/statistics
uvs_step "NIC-STATS tx=$(cat $s/tx_packets) rx=$(cat $s/rx_packets) tx_dropped=$(cat $s/tx_dropped) rx_dropped=$(cat $s/rx_dropped)"
uvs_step "upload ok"
