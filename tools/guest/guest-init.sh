#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the test guest: mounts, loads virtio-net, runs /test.sh and reports its exit code.
#
# Console protocol (read by tests/e2e/lib/guest.sh on the serial log):
#   UVS-GUEST-BOOTED uptime=<s>    /init reached userspace and eth0 exists (or not: see the log)
#   UVS-GUEST-DONE rc=<n>          /test.sh finished with exit code n; 127 = no /test.sh
# Kernel command line options (all optional):
#   uvs.name=NAME        hostname, also exported to /test.sh as UVS_NAME
#   uvs.timeout=SECONDS  kill /test.sh after SECONDS and report rc=124 (guards against a hung test)
#   uvs.shell=1          after the test (or with no test), start a shell on the console instead of
#                        powering off; for debugging by hand only
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

UVS_NAME=uvs-guest
uvs_timeout=0
uvs_shell=0
for arg in $(cat /proc/cmdline); do
  case $arg in
    uvs.name=*) UVS_NAME=${arg#uvs.name=} ;;
    uvs.timeout=*) uvs_timeout=${arg#uvs.timeout=} ;;
    uvs.shell=1) uvs_shell=1 ;;
  esac
done
export UVS_NAME
hostname "$UVS_NAME"

while read -r m; do
  insmod "/lib/uvs/modules/$m.ko" || echo "uvs-init: insmod $m failed"
done </lib/uvs/modules/order

ip link set lo up
# virtio_net registers eth0 from its probe, which normally finishes inside insmod; allow 5 s.
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
[ -e /sys/class/net/eth0 ] || echo "uvs-init: no eth0 (is a virtio-net device attached?)"
read -r up _ </proc/uptime
echo "UVS-GUEST-BOOTED uptime=$up"

rc=127
if [ -f /test.sh ]; then
  if [ "$uvs_timeout" -gt 0 ] 2>/dev/null; then
    timeout -s KILL "$uvs_timeout" sh /test.sh
    rc=$?
    # busybox timeout exits with 128+9 when it had to kill the test; report it as a timeout.
    [ $rc -eq 137 ] && { echo "uvs-init: /test.sh timed out after ${uvs_timeout}s"; rc=124; }
  else
    sh /test.sh
    rc=$?
  fi
else
  echo "uvs-init: no /test.sh in the initrd"
fi
read -r up _ </proc/uptime
echo "UVS-GUEST-DONE rc=$rc uptime=$up"

if [ $uvs_shell -eq 1 ]; then
  setsid cttyhack sh
fi
# Give the UART a moment to drain the marker before the machine disappears.
sleep 0.2
poweroff -f
# poweroff should not return; /init must never exit (the kernel would panic).
while :; do sleep 3600; done
