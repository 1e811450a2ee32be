# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# The guest that live-migrates (busybox sh, runs as /test.sh), on whichever QEMU runs it.
#
# 10.0.0.1 downloads, again and again, peer 2's file (10.0.0.2, tests/e2e/guest/peer2.sh) and a
# file from an HTTP server on the host's loopback through the NAT (gateway 10.0.0.254; port and
# md5 in /test-files/nat-params), each copy checked by md5, while the host migrates it between
# QEMUs; it stops once the host publishes /stop on the control namespace's HTTP server
# (10.0.0.9:8000). Last it compares the kernel's checksum error counters (/proc/net/snmp
# InCsumErrors, all protocols) with their value before the first download.
# Exit codes: 10 link, 11 address, 12 peer or its httpd unreachable, 13 a download failed, 14 a
# download differs, 15 new checksum errors, 16 a NAT download failed, 17 a NAT download differs.
. /lib/uvs/lib.sh

blob() { seq 1 100000; }

# csum_errors: the sum of every InCsumErrors column of /proc/net/snmp (Ip, Icmp, Tcp, Udp, ...):
# each protocol has a header line of names followed by a line of values.
csum_errors() {
  awk '{
    if ($1 in names) {
      for (i = 2; i <= NF; i++) if (col[$1, i] == "InCsumErrors") s += $i
      delete names[$1]
    } else {
      names[$1] = 1
      for (i = 2; i <= NF; i++) col[$1, i] = $i
    }
  } END { print s + 0 }' /proc/net/snmp
}

want=$(blob | md5sum)
read -r nat_port nat_md5 </test-files/nat-params
uvs_wait_link eth0 60 || exit 10
uvs_static eth0 10.0.0.1/24 10.0.0.254 || exit 11
uvs_wait_ping 10.0.0.2 150 || exit 12
# The peer's httpd starts a moment after it answers pings.
n=0
until uvs_fetch http://10.0.0.2/blob /tmp/blob 30; do
  n=$((n + 1))
  [ $n -lt 30 ] || exit 12
  sleep 1
done
before=$(csum_errors)
uvs_step "READY csum-errors=$before"
n=0
while :; do
  # A migration stops the guest for its downtime and the switch relearns where it is: the TCP
  # transfer rides that out with retransmissions, so one copy gets a generous limit.
  uvs_fetch http://10.0.0.2/blob /tmp/blob 60 || { echo "download $((n + 1)) failed"; exit 13; }
  [ "$(md5sum </tmp/blob)" = "$want" ] || { echo "download $((n + 1)) differs"; exit 14; }
  # The host may hold one of these open across a whole migration (tests/e2e/lib/held_http.py).
  got=$(timeout 90 wget -q -O - "http://10.0.0.254:$nat_port/nat-file" | md5sum | cut -d' ' -f1) ||
    { echo "NAT download $((n + 1)) failed"; exit 16; }
  [ "$got" = "$nat_md5" ] || { echo "NAT download $((n + 1)): md5 $got, want $nat_md5"; exit 17; }
  n=$((n + 1))
  uvs_step "download $n ok"
  # Quietly: until the host publishes it, /stop is a 404 on every round.
  timeout 10 wget -q -O /tmp/stop http://10.0.0.9:8000/stop 2>/dev/null && break
done
after=$(csum_errors)
uvs_step "CSUM-ERRORS before=$before after=$after downloads=$n"
[ "$after" = "$before" ] || exit 15
uvs_step "all checks passed"
