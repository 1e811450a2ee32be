#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e: a QEMU guest on vm0 of the daemon's DEFAULT configuration (no --port) gets a DHCP lease
# from nat0 and fetches a file from an HTTP server on the host's loopback through the NAT.
#
# Usage: qemu_nat_test.sh BUILD_DIR [SOURCE_DIR]   (ctest passes both; E2E_KEEP=1 keeps the logs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BUILD_DIR=${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}
# shellcheck source-path=SCRIPTDIR source=lib/guest.sh
source "$here/lib/guest.sh"

command -v qemu-system-x86_64 >/dev/null || { e2e_log "missing qemu-system-x86_64"; exit 1; }
guest_build

export XDG_RUNTIME_DIR=$E2E_TMP/xdg
mkdir -p "$XDG_RUNTIME_DIR"
ctl=$E2E_TMP/control.sock
e2e_bg "$E2E_TMP/daemon.log" "$BUILD_DIR/tools/uvswitch/uvswitch" --control "$ctl" --threads 1
daemon=$E2E_PID
e2e_wait_log "$E2E_TMP/daemon.log" 'ready' 20 "$daemon" ||
  { e2e_log "daemon did not start"; cat "$E2E_TMP/daemon.log" >&2; exit 1; }
grep -q 'nat,id=nat0' "$E2E_TMP/daemon.log" || { e2e_log "no nat0 in the default config"; exit 1; }

mkdir -p "$E2E_TMP/www"
seq 1 200000 >"$E2E_TMP/www/blob"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
e2e_bg "$E2E_TMP/http.log" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$E2E_TMP/www"
echo "$port $(md5sum <"$E2E_TMP/www/blob" | cut -d' ' -f1)" >"$E2E_TMP/nat-params"

GUEST_TEST_FILES=("$E2E_TMP/nat-params")
guest_start g1 "$XDG_RUNTIME_DIR/uvswitch/vm0.sock" 52:54:00:00:00:01 "$here/guest/nat_guest.sh" client
rc=0
guest_wait g1 120 || rc=$?
if [ "$rc" -ne 0 ]; then
  e2e_log "FAIL: guest rc=$rc"
  guest_dump g1 2>/dev/null || true
  cat "$E2E_TMP/daemon.log" >&2
  exit 1
fi
stats=$("$BUILD_DIR/tools/uvswitchctl/uvswitchctl" --control "$ctl" --json stats)
python3 - "$stats" <<'PY' || { e2e_log "FAIL: NAT counters: $stats"; exit 1; }
import json, sys
ports = {p["id"]: p for p in json.loads(sys.argv[1])["return"]["ports"]}
b = ports["nat0"]["backend"]
assert b["dhcp-leases"] == 1, b
assert b["out-bytes"] > 1_000_000, b
assert b["errors"] == 0, b
PY
e2e_log "PASS: guest leased 10.0.2.15 from nat0 and fetched $(wc -c <"$E2E_TMP/www/blob") bytes through it (boot ${GUEST_BOOT_S}s, total ${GUEST_TOTAL_S}s)"
