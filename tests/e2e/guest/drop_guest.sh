# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Guest side of qemu_user_drop (busybox sh, runs as /test.sh): a DHCP lease from the NAT, a file
# from the host's loopback through it (md5 checked), then the other guest (whichever of .15 and
# .16 is not us) answers pings. /test-files/drop-params holds "PORT MD5". Exit codes: 10 link,
# 11 DHCP, 13 fetch, 14 file differs, 15 peer unreachable.
. /lib/uvs/lib.sh

read -r port md5 </test-files/drop-params
uvs_wait_link eth0 60 || exit 10
uvs_dhcp eth0 10 || exit 11
me=$(ip -4 -o addr show dev eth0 | awk '{print $4}')
uvs_fetch "http://10.0.2.2:$port/blob" /tmp/blob 60 || exit 13
[ "$(md5sum </tmp/blob | cut -d' ' -f1)" = "$md5" ] || { echo "fetched file differs"; exit 14; }
uvs_step "nat fetch ok $(wc -c </tmp/blob) bytes"
peer=10.0.2.16
[ "$me" = 10.0.2.16/24 ] && peer=10.0.2.15
uvs_wait_ping "$peer" 60 || exit 15
uvs_ping "$peer" 5 || exit 15
# Stay up until the other guest has pinged us too (5 echo requests in, /proc/net/snmp).
n=0
while [ "$(awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 } else print $c }' /proc/net/snmp)" -lt 5 ]; do
  n=$((n + 1))
  [ "$n" -lt 120 ] || { echo "the peer never pinged us"; exit 15; }
  sleep 0.5
done
uvs_step "peer $peer ok"
