# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Peer 1 of the two-guest e2e tests (busybox sh, runs as /test.sh): drives the checks against peer 2.
#
# 10.0.0.1 pings 10.0.0.2 and downloads peer 2's file over HTTP (checked by md5); then it announces
# PHASE1-OK, on which the host breaks the path (kills peer 2's QEMU, or the backend). It waits for
# the outage, then for the path to work again, repeats the checks, and finally uploads the same
# file to peer 2 over TCP (peer 2 checks it and exits). Last it prints its NIC counters so the host
# can compare them with the backend's.
# Exit codes name the step that failed: 10 link, 11 address, 12-14 first checks, 20-23 after the
# outage, 24-25 upload.
. /lib/uvs/lib.sh

# The file both directions carry: 588895 bytes, a few hundred full-size TCP segments.
blob() { seq 1 100000; }

# check_http: downloads peer 2's file and compares it; retried because httpd starts a moment after
# peer 2 answers pings, and a freshly booted peer may still be settling.
check_http() {
  local n=0
  while :; do
    if uvs_fetch http://10.0.0.2/blob /tmp/blob 30 &&
       [ "$(md5sum </tmp/blob)" = "$(blob | md5sum)" ]; then
      uvs_step "http ok $(wc -c </tmp/blob) bytes"
      return 0
    fi
    n=$((n + 1))
    [ $n -lt 15 ] || { echo "http failed $n times"; return 1; }
    sleep 1
  done
}

uvs_wait_link eth0 60 || exit 10
uvs_static eth0 10.0.0.1/24 || exit 11
uvs_wait_ping 10.0.0.2 150 || exit 12
uvs_ping 10.0.0.2 10 || exit 13
check_http || exit 14
uvs_step "PHASE1-OK"

# The host breaks the path as soon as it sees PHASE1-OK. Three failed pings in a row count as the
# outage, so one reply slowed past 1 s by a loaded host is not mistaken for it. At most 400 tries.
n=400 miss=0
while [ $miss -lt 3 ]; do
  if ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; then miss=0; sleep 0.2; else miss=$((miss + 1)); fi
  n=$((n - 1))
  [ $n -gt 0 ] || { echo "no outage seen"; exit 20; }
done
uvs_step "outage seen"
t0=$(cut -d' ' -f1 /proc/uptime)
uvs_wait_ping 10.0.0.2 180 || exit 21
uvs_step "back after $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')s"
uvs_ping 10.0.0.2 10 || exit 22
check_http || exit 23

# Upload: peer 2 listens on TCP 7000 once its httpd runs, and checks what arrives.
n=0
until blob | nc 10.0.0.2 7000; do
  n=$((n + 1))
  [ $n -lt 15 ] || exit 24
  sleep 1
done
# nc returns once the file is in the socket's send buffer; powering off then could cut the upload
# short. Wait until every connection to port 7000 (0x1B58) is in FIN_WAIT2 (05) or TIME_WAIT (06):
# peer 2 acknowledged our FIN, so it has all the data. At most 30 s.
upload_drained() {
  awk 'NR > 1 { split($3, r, ":"); if (r[2] == "1B58" && $4 != "05" && $4 != "06") busy = 1 }
       END { exit busy }' /proc/net/tcp
}
n=0
until upload_drained; do
  n=$((n + 1))
  [ $n -lt 300 ] || { cat /proc/net/tcp; exit 25; }
  sleep 0.1
done
uvs_step "uploaded"
s=/sys/class/net/eth0/statistics
uvs_step "NIC-STATS tx=$(cat $s/tx_packets) rx=$(cat $s/rx_packets) tx_dropped=$(cat $s/tx_dropped) rx_dropped=$(cat $s/rx_dropped)"
uvs_step "all checks passed"
