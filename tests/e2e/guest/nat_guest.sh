# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Guest side of qemu_nat (busybox sh, runs as /test.sh): DHCP from the default config's NAT,
# then a file from a server on the host's loopback through the gateway, checked by md5.
# /test-files/nat-params holds "PORT MD5". Exit codes: 10 link, 11 DHCP, 12 address, 13 fetch,
# 14 file differs.
. /lib/uvs/lib.sh

read -r port md5 </test-files/nat-params
uvs_wait_link eth0 60 || exit 10
uvs_dhcp eth0 10 || exit 11
addr=$(ip -4 -o addr show dev eth0 | awk '{print $4}')
[ "$addr" = 10.0.2.15/24 ] || { echo "lease $addr, want 10.0.2.15/24"; exit 12; }
uvs_fetch "http://10.0.2.2:$port/blob" /tmp/blob 60 || exit 13
[ "$(md5sum </tmp/blob | cut -d' ' -f1)" = "$md5" ] || { echo "fetched file differs"; exit 14; }
uvs_step "nat fetch ok $(wc -c </tmp/blob) bytes"
