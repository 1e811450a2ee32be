# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Guest 1 of selftest-testpmd.sh (busybox sh, runs as /test.sh): the active side of the checks.
#
# The host prepends the settings:
#   RESTART=1  expect the backend to disappear and come back in the middle: wait for an outage,
#              then for the link to work again, and repeat the checks
#   DHCP=1     take the address by DHCP (from udhcpd in guest 2) instead of 10.0.0.1/24 statically
# Exit codes name the step that failed (10 link, 11 address, 12-14 first checks, 15 final message,
# 16-19 DHCP, 20-23 restart).
. /lib/uvs/lib.sh

# check_http: downloads guest 2's file (588895 bytes, a few hundred TCP segments) and compares.
check_http() {
  uvs_fetch http://10.0.0.2/blob /tmp/blob 20 || return 1
  [ "$(md5sum </tmp/blob)" = "$(seq 1 100000 | md5sum)" ] || { echo "blob differs"; return 1; }
  uvs_step "http ok $(wc -c </tmp/blob) bytes"
}

uvs_wait_link eth0 30 || exit 10
if [ "${DHCP:-0}" = 1 ]; then
  uvs_dhcp eth0 15 || exit 16
  ip -4 addr show dev eth0 | grep -q 'inet 10.0.0.1/24' || { ip addr; exit 17; }
  ip -4 route | grep -q '^default via 10.0.0.2 ' || { ip route; exit 18; }
  grep -q '^nameserver 10.0.0.2$' /etc/resolv.conf || { cat /etc/resolv.conf; exit 19; }
  grep -q '^search uvs.test$' /etc/resolv.conf || { cat /etc/resolv.conf; exit 19; }
  uvs_step "dhcp lease, route and resolv.conf ok"
else
  uvs_static eth0 10.0.0.1/24 || exit 11
fi
uvs_wait_ping 10.0.0.2 60 || exit 12
uvs_ping 10.0.0.2 5 || exit 13
# httpd may start a moment after guest 2 answers pings.
n=0
until check_http; do
  n=$((n + 1))
  [ $n -lt 10 ] || exit 14
  sleep 1
done

if [ "${RESTART:-0}" = 1 ]; then
  uvs_step "PHASE1-OK"
  # The host kills the backend as soon as it sees PHASE1-OK; give it 300 tries (60 s or more).
  n=300
  while ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; do
    n=$((n - 1))
    [ $n -gt 0 ] || { echo "no outage seen"; exit 20; }
    sleep 0.2
  done
  uvs_step "outage seen"
  t0=$(cut -d' ' -f1 /proc/uptime)
  uvs_wait_ping 10.0.0.2 90 || exit 21
  uvs_step "back after $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')s"
  uvs_ping 10.0.0.2 5 4 || exit 22
  check_http || exit 23
fi

echo "done" | nc 10.0.0.2 7000 || exit 15
uvs_step "all checks passed"
