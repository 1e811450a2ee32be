# SPDX-License-Identifier: MIT
# shellcheck shell=dash disable=SC1091
# Guest side of libvirt_vhostuser (busybox sh, runs as /test.sh on every boot of the domain): the
# NAT flow of nat_guest.sh (DHCP lease, file from the host's loopback server, md5 checked), then
# it stays up, so that the test can `virsh destroy` a running guest and `virsh start` it again.
. /lib/uvs/lib.sh

if sh /test-files/nat_guest.sh; then
  uvs_step "libvirt boot ok"
else
  uvs_step "libvirt boot failed rc=$?"
fi
sleep 3600
