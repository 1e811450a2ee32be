#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e: a daemon started as root with --user nobody --seccomp on drops root once its sockets
# are open and still serves two QEMU guests (DHCP and a download through the NAT, pings between
# them) and a capture, which tshark reads back, all under its seccomp allow-list. /proc shows
# every thread with nobody's ids, no capability, no_new_privs and the filter.
# Usage: qemu_user_drop.sh BUILD_DIR [SOURCE_DIR]   (E2E_KEEP=1 keeps the logs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BUILD_DIR=${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}
# shellcheck source-path=SCRIPTDIR source=lib/guest.sh
source "$here/lib/guest.sh"
fail() { e2e_log "FAIL: $*"; cat "$E2E_TMP/daemon.log" >&2 || true; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to drop it"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || fail "missing qemu-system-x86_64"
command -v tshark >/dev/null || fail "missing tshark"
guest_build

ctl=$E2E_TMP/control.sock
e2e_bg "$E2E_TMP/daemon.log" "$BUILD_DIR/tools/uvswitch/uvswitch" --control "$ctl" --threads 2 \
  --user nobody --seccomp on --port "vhost-user,id=vm1,path=$E2E_TMP/vm1.sock" \
  --port "vhost-user,id=vm2,path=$E2E_TMP/vm2.sock" --port nat,id=nat0 \
  --capture "port=vm1,file=$E2E_TMP/vm1.pcap"
daemon=$E2E_PID
e2e_wait_log "$E2E_TMP/daemon.log" 'ready' 20 "$daemon" || fail "daemon did not start"
grep -q 'now running as uid 65534, gid 65534, no capabilities' "$E2E_TMP/daemon.log" ||
  fail "no drop reported"

# Every thread, not just the main one: capabilities and no_new_privs are per thread.
bad=0
for st in /proc/"$daemon"/task/*/status; do
  python3 - "$st" <<'PY' || bad=1
import sys
f = dict(l.rstrip("\n").split(":\t", 1) for l in open(sys.argv[1]) if ":\t" in l)
ok = (f["Uid"].split() == ["65534"] * 4 and f["Gid"].split() == ["65534"] * 4 and
      f["Groups"].split() in ([], ["65534"]) and int(f["CapEff"], 16) == 0 and
      int(f["CapPrm"], 16) == 0 and int(f["CapBnd"], 16) == 0 and f["NoNewPrivs"] == "1" and
      f["Seccomp"] == "2")
if not ok:
    print("thread not dropped:", sys.argv[1], {k: f[k] for k in ("Name", "Uid", "Gid", "Groups", "CapPrm", "CapEff", "CapBnd", "NoNewPrivs", "Seccomp")})
sys.exit(0 if ok else 1)
PY
done
[ "$bad" -eq 0 ] || fail "a thread kept root's ids or a capability"
e2e_log "all $(ls /proc/$daemon/task | wc -l) threads: uid/gid 65534, CapPrm/CapEff/CapBnd 0, NoNewPrivs 1, Seccomp 2"

mkdir -p "$E2E_TMP/www"
seq 1 100000 >"$E2E_TMP/www/blob"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
e2e_bg "$E2E_TMP/http.log" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$E2E_TMP/www"
echo "$port $(md5sum <"$E2E_TMP/www/blob" | cut -d' ' -f1)" >"$E2E_TMP/drop-params"
GUEST_TEST_FILES=("$E2E_TMP/drop-params")
guest_start g1 "$E2E_TMP/vm1.sock" 52:54:00:00:00:01 "$here/guest/drop_guest.sh" client
guest_start g2 "$E2E_TMP/vm2.sock" 52:54:00:00:00:02 "$here/guest/drop_guest.sh" client
rc1=0 rc2=0
guest_wait g1 200 || rc1=$?
guest_wait g2 60 || rc2=$?
if [ "$rc1" -ne 0 ] || [ "$rc2" -ne 0 ]; then
  guest_dump g1 2>/dev/null || true
  guest_dump g2 2>/dev/null || true
  fail "guest rc: g1=$rc1 g2=$rc2"
fi
stats=$("$BUILD_DIR/tools/uvswitchctl/uvswitchctl" --control "$ctl" --json stats)
python3 - "$stats" <<'PY' || fail "NAT counters: $stats"
import json, sys
ports = {p["id"]: p for p in json.loads(sys.argv[1])["return"]["ports"]}
b = ports["nat0"]["backend"]
assert b["dhcp-leases"] == 2, b
assert b["out-bytes"] > 2 * 500_000, b
PY
"$BUILD_DIR/tools/uvswitchctl/uvswitchctl" --control "$ctl" capture-stop vm1 >/dev/null ||
  fail "capture-stop"
kill -TERM "$daemon"
wait "$daemon" || fail "daemon exit status $?"
n=$(tshark -r "$E2E_TMP/vm1.pcap" -Y 'icmp.type == 8 || dhcp' 2>/dev/null | wc -l)
[ "$n" -ge 5 ] || fail "the capture of vm1 holds $n ICMP/DHCP frames"
e2e_log "PASS: two guests through a daemon running as nobody (NAT, pings, capture: $n ICMP/DHCP frames)"
