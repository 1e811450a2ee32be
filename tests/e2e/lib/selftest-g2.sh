# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Guest 2 of selftest-testpmd.sh (busybox sh, runs as /test.sh): serves HTTP (and DHCP), waits.
#
# The host prepends the settings:
#   DHCP=1  also run udhcpd, leasing 10.0.0.1 with this guest as router and DNS server
# It exits 0 once guest 1 sends "done" over TCP port 7000, which guest 1 does after its checks.
. /lib/uvs/lib.sh

uvs_wait_link eth0 30 || exit 10
uvs_static eth0 10.0.0.2/24 || exit 11
seq 1 100000 >/var/www/blob
httpd -h /var/www -p 80 || exit 12
if [ "${DHCP:-0}" = 1 ]; then
  cat >/tmp/udhcpd.conf <<EOF
start 10.0.0.1
end 10.0.0.1
interface eth0
lease_file /tmp/udhcpd.leases
option subnet 255.255.255.0
option router 10.0.0.2
option dns 10.0.0.2
option domain uvs.test
option lease 600
EOF
  touch /tmp/udhcpd.leases
  udhcpd -f /tmp/udhcpd.conf &
fi
uvs_step "serving"
msg=$(nc -l -p 7000 </dev/null)
uvs_step "got '$msg'"
[ "$msg" = "done" ] || exit 13
