#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e: libvirt (Debian 12's libvirt 9.0 and its QEMU driver) starts domains with
# <interface type='vhostuser'> on uvswitch ports, memfd shared memory, and <qemu:override> for
# vectors=0 (TCG), in both socket modes:
#   switch-server  uvswitch listens with mode=0660,group=libvirt-qemu; libvirt mode='client'
#   qemu-server    libvirt mode='server' (QEMU listens, in a directory of its own); the port
#                  connects with server=off
# QEMU runs as libvirt-qemu and no socket is world-writable. In each mode the guest gets a DHCP
# lease from the NAT and fetches a file from a server on the host's loopback; after
# `virsh destroy` and `virsh start` it does so again through the same port; promtool accepts
# `uvswitchctl metrics` after that traffic and its NAT and vhost-user series agree with stats.
#
# Usage: libvirt_vhostuser_test.sh BUILD_DIR [SOURCE_DIR]   (E2E_KEEP=1 keeps the logs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BUILD_DIR=${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}
# shellcheck source-path=SCRIPTDIR source=lib/guest.sh
source "$here/lib/guest.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for the system libvirt daemon"; exit 0; }
for tool in virsh libvirtd virtlogd qemu-system-x86_64 promtool; do
  command -v "$tool" >/dev/null || { e2e_log "missing $tool (tools/install-deps.sh)"; exit 1; }
done
id libvirt-qemu >/dev/null 2>&1 || { e2e_log "no libvirt-qemu user (libvirt-daemon-system)"; exit 1; }
guest_build
VIRSH=(virsh -q -c qemu:///system)
ctlbin=$BUILD_DIR/tools/uvswitchctl/uvswitchctl

# --- libvirt's daemons: use running ones, else start them here (e2e_bg stops them at exit) -----
libvirt_up() { "${VIRSH[@]}" version >/dev/null 2>&1; }
if ! libvirt_up; then
  e2e_bg "$E2E_TMP/libvirtd.log" libvirtd --pid-file "$E2E_TMP/libvirtd.pid"
  e2e_wait_for 30 libvirt_up ||
    { e2e_log "libvirtd did not start"; cat "$E2E_TMP/libvirtd.log" >&2; exit 1; }
  e2e_log "started libvirtd (pid $E2E_PID)"
fi
# The serial console file and QEMU's own log go through virtlogd (qemu.conf stdio_handler "logd").
if [ ! -S /run/libvirt/virtlogd-sock ]; then
  e2e_bg "$E2E_TMP/virtlogd.log" virtlogd
  e2e_wait_for 10 test -S /run/libvirt/virtlogd-sock ||
    { e2e_log "virtlogd did not start"; cat "$E2E_TMP/virtlogd.log" >&2; exit 1; }
  e2e_log "started virtlogd (pid $E2E_PID)"
fi

# --- files QEMU (libvirt-qemu) reads: kernel and initrd, in a directory only root and the group
# libvirt-qemu may enter; the socket the switch listens on goes there too ----------------------
name=uvs-lv-$$
vmdir=/tmp/$name
mkdir -m 0750 "$vmdir"
chgrp libvirt-qemu "$vmdir"
e2e_on_exit "rm -rf '$vmdir'"

mkdir -p "$E2E_TMP/www"
seq 1 100000 >"$E2E_TMP/www/blob"
blob_bytes=$(wc -c <"$E2E_TMP/www/blob")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
e2e_bg "$E2E_TMP/http.log" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$E2E_TMP/www"
echo "$port $(md5sum <"$E2E_TMP/www/blob" | cut -d' ' -f1)" >"$E2E_TMP/nat-params"
install -m 0640 -g libvirt-qemu "$GUEST_IMAGE_DIR/vmlinuz" "$vmdir/vmlinuz"
"$_guest_repo/tools/guest/make-test-initrd.sh" "$GUEST_IMAGE_DIR/base.cpio.gz" \
  "$here/guest/libvirt_guest.sh" "$vmdir/initrd.gz" "$E2E_TMP/nat-params" "$here/guest/nat_guest.sh"
chgrp libvirt-qemu "$vmdir/initrd.gz"
chmod 0640 "$vmdir/initrd.gz"

mac=52:54:00:$(printf '%02x:%02x:%02x' $(($$ >> 16 & 255)) $(($$ >> 8 & 255)) $(($$ & 255)))

# domain_xml DOMAIN SOCK LIBVIRT_MODE CONSOLE: the domain the README shows, plus the test guest.
domain_xml() {
  cat <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$vmdir/vmlinuz</kernel>
    <initrd>$vmdir/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=4 uvs.name=$1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='vhostuser'>
      <alias name='ua-net0'/>
      <mac address='$mac'/>
      <source type='unix' path='$2' mode='$3'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$4' append='on'/>
      <target port='0'/>
    </serial>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
  <qemu:override>
    <qemu:device alias='ua-net0'>
      <qemu:frontend>
        <qemu:property name='vectors' type='unsigned' value='0'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
XML
}

# port_json CTL PORT: the stats entry of PORT, as JSON.
port_json() {
  "$ctlbin" --control "$1" --json stats |
    python3 -c 'import json,sys; print(json.dumps({p["id"]: p for p in json.load(sys.stdin)["return"]["ports"]}[sys.argv[1]]))' "$2"
}

# boot DOMAIN CONSOLE N: starts DOMAIN and waits for the Nth "libvirt boot" marker on CONSOLE.
boot() {
  local dom=$1 console=$2 n=$3 t0 line
  t0=$(e2e_now)
  "${VIRSH[@]}" start "$dom" >/dev/null || { e2e_log "FAIL: virsh start $dom"; return 1; }
  if ! e2e_wait_for 150 eval "[ \"\$(grep -ac 'UVS-STEP libvirt boot' '$console' 2>/dev/null)\" -ge $n ]"; then
    e2e_log "FAIL: $dom boot $n: no marker on the console"
    tr -d '\r' <"$console" | tail -30 >&2 || true
    tail -20 "/var/log/libvirt/qemu/$dom.log" >&2 || true
    return 1
  fi
  line=$(grep -a 'UVS-STEP libvirt boot' "$console" | sed -n "${n}p")
  case $line in
    *"boot ok"*) e2e_log "$dom boot $n: lease + fetch ok ($(e2e_elapsed "$t0") s)" ;;
    *) e2e_log "FAIL: $dom boot $n: $line"; tr -d '\r' <"$console" | tail -30 >&2; return 1 ;;
  esac
}

# run_mode MODE: one daemon, one domain, two boots with a `virsh destroy` between them.
run_mode() {
  local mode=$1 dom=$name-$1 sock lvmode portspec ctl=$E2E_TMP/$1-control.sock
  local console=$vmdir/$1-console.log
  case $mode in
    switch-server)
      sock=$vmdir/sw.sock lvmode=client
      portspec="vhost-user,id=lv0,path=$sock,mode=0660,group=libvirt-qemu" ;;
    qemu-server)
      # QEMU creates its socket: it gets a directory of its own, which root (the switch) may enter.
      mkdir -m 0700 "$vmdir/qemu"
      chown libvirt-qemu "$vmdir/qemu"
      sock=$vmdir/qemu/net0.sock lvmode=server
      portspec="vhost-user,id=lv0,path=$sock,server=off" ;;
  esac
  e2e_bg "$E2E_TMP/$mode-daemon.log" "$BUILD_DIR/tools/uvswitch/uvswitch" --control "$ctl" \
    --threads 1 --port "$portspec" --port nat,id=nat0
  local daemon=$E2E_PID
  e2e_wait_log "$E2E_TMP/$mode-daemon.log" 'ready' 20 "$daemon" ||
    { e2e_log "FAIL: $mode: daemon did not start"; cat "$E2E_TMP/$mode-daemon.log" >&2; return 1; }

  domain_xml "$dom" "$sock" "$lvmode" "$console" >"$E2E_TMP/$mode.xml"
  e2e_on_exit "${VIRSH[*]} destroy $dom >/dev/null 2>&1; ${VIRSH[*]} undefine $dom >/dev/null 2>&1"
  "${VIRSH[@]}" define "$E2E_TMP/$mode.xml" >/dev/null || { e2e_log "FAIL: virsh define $dom"; return 1; }

  boot "$dom" "$console" 1 || { cat "$E2E_TMP/$mode-daemon.log" >&2; return 1; }
  local qpid uid perm
  qpid=$(cat "/run/libvirt/qemu/$dom.pid")
  uid=$(awk '/^Uid:/ { print $3 }' "/proc/$qpid/status")
  [ "$uid" = "$(id -u libvirt-qemu)" ] ||
    { e2e_log "FAIL: $mode: QEMU runs as uid $uid, not libvirt-qemu"; return 1; }
  perm=$(stat -c '%a %U:%G' "$sock")
  case ${perm%% *} in
    *[2367]) e2e_log "FAIL: $mode: $sock is world-writable ($perm)"; return 1 ;;
  esac
  if [ "$mode" = switch-server ] && [ "$perm" != "660 root:libvirt-qemu" ]; then
    e2e_log "FAIL: $mode: $sock is $perm, want 660 root:libvirt-qemu"; return 1
  fi
  e2e_log "$mode: QEMU pid $qpid runs as libvirt-qemu; socket $sock is $perm"
  local s1 n1 s2 n2
  s1=$(port_json "$ctl" lv0) n1=$(port_json "$ctl" nat0)

  "${VIRSH[@]}" destroy "$dom" >/dev/null || { e2e_log "FAIL: virsh destroy $dom"; return 1; }
  e2e_wait_for 20 eval "port_json '$ctl' lv0 | grep -q '\"connected\": false'" ||
    { e2e_log "FAIL: $mode: lv0 still connected after virsh destroy"; return 1; }
  boot "$dom" "$console" 2 || { cat "$E2E_TMP/$mode-daemon.log" >&2; return 1; }
  s2=$(port_json "$ctl" lv0) n2=$(port_json "$ctl" nat0)
  python3 - "$s1" "$n1" "$s2" "$n2" "$blob_bytes" <<'PY' || { e2e_log "FAIL: $mode counters: $s2 $n2"; return 1; }
import json, sys
s1, n1, s2, n2 = (json.loads(a) for a in sys.argv[1:5])
blob = int(sys.argv[5])
# Each boot leased an address and fetched the whole blob through lv0 and the NAT.
assert n1["backend"]["dhcp-acks"] >= 1, n1
assert n2["backend"]["dhcp-acks"] > n1["backend"]["dhcp-acks"], n2
assert n1["backend"]["out-bytes"] >= blob, n1
assert n2["backend"]["out-bytes"] - n1["backend"]["out-bytes"] >= blob, n2
assert s2["backend"]["connections"] == s1["backend"]["connections"] + 1, s2
assert s2["backend"]["disconnects"] >= 1, s2
assert s2["backend"]["protocol-errors"] == 0, s2
PY
  # The same counters as Prometheus reads them: promtool accepts the vhost-user and NAT families
  # after real traffic, and they agree with stats.
  "$ctlbin" --control "$ctl" metrics >"$E2E_TMP/$mode.prom"
  promtool check metrics <"$E2E_TMP/$mode.prom" >"$E2E_TMP/$mode.promtool" 2>&1 ||
    { e2e_log "FAIL: $mode: promtool: $(cat "$E2E_TMP/$mode.promtool")"; return 1; }
  python3 - "$E2E_TMP/$mode.prom" "$(port_json "$ctl" nat0)" "$(port_json "$ctl" lv0)" <<'PY' ||
import json, re, sys
text = open(sys.argv[1]).read()
nat, lv = json.loads(sys.argv[2]), json.loads(sys.argv[3])
def value(series):
    m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
    assert m, series
    return float(m.group(1))
assert value('uvswitch_nat_dhcp_acks_total{port="nat0"}') == nat["backend"]["dhcp-acks"] >= 2
assert value('uvswitch_vhost_user_connections_total{port="lv0"}') == lv["backend"]["connections"]
assert value('uvswitch_vhost_user_connected{port="lv0"}') == 1
assert value('uvswitch_port_rx_frames_total{port="lv0"}') > 0
PY
    { e2e_log "FAIL: $mode: metrics disagree with stats"; return 1; }
  e2e_log "$mode: promtool accepts $(grep -c '^uvswitch_' "$E2E_TMP/$mode.prom") samples; NAT and lv0 series match stats"
  "${VIRSH[@]}" destroy "$dom" >/dev/null
  "${VIRSH[@]}" undefine "$dom" >/dev/null
  e2e_kill "$daemon"
  e2e_log "$mode: two boots, each with a lease and ${blob_bytes} bytes fetched through lv0"
}

run_mode switch-server
run_mode qemu-server
e2e_log "PASS: libvirt domains on vhost-user port lv0 in both socket modes: DHCP + loopback fetch, again after destroy/start"
