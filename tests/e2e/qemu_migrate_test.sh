#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016  # the conditions handed to e2e_wait_for eval are quoted on purpose
# e2e: live migration of a QEMU guest (TCG) between two vhost-user ports of one uvswitch, while it
# downloads files through the switch from another guest and through the NAT (docs TESTING.md,
# "QEMU live migration on one host").
#   peer (port peer, 10.0.0.2)  tests/e2e/guest/peer2.sh: serves a file over HTTP;
#   nat0 (gateway 10.0.0.254)   to an HTTP server on the host's loopback with another file;
#   m    (10.0.0.1)             tests/e2e/guest/migrate_guest.sh: downloads both in a loop, md5
#                               each;
#   a network namespace on a tap port (ctl, 10.0.0.9) whose HTTP server tells m when to stop.
# In order, while m downloads:
#   1. a migration to port vmB is cancelled mid-way (bandwidth held at 1 MiB/s): m keeps working
#      on vmA, the switch still has its MAC there;
#   2. m migrates from vmA to vmB (the source QEMU quits): downloads go on, the FDB moves to vmB
#      and vmB sent a RARP for the guest (SEND_RARP);
#   3. m migrates back from vmB to vmA, the same checks the other way, while a download through
#      the NAT is held open half-way (tests/e2e/lib/held_http.py) from before the migration
#      starts until the guest runs on vmA: that transfer then finishes md5-correct.
# At each switchover the destination waits paused (-S) until its guest RAM is compared with the
# stopped source's, byte for byte: a page the switch wrote while the guest migrated but did not
# mark in the dirty log (or wrote after GET_VRING_BASE) would differ there.
# Then m stops: every download was md5-correct and /proc/net/snmp shows no new InCsumErrors; every
# vhost-user port served its QEMUs without a protocol error.
# The NAT's side: slirp keeps its ARP entry for the guest, and the switch delivers the NAT's replies
# to wherever it learned the guest last.
# Addresses exist only inside the guests and the namespace this script makes.
# Usage: qemu_migrate_test.sh BUILD_DIR SOURCE_DIR   (E2E_KEEP=1 keeps the logs)
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/guest.sh"
source "$SRC/tests/daemon_peers/lib.sh"
guests=$SRC/tests/e2e/guest
netns_require
command -v qemu-system-x86_64 >/dev/null || fail "missing qemu-system-x86_64"
command -v socat >/dev/null || fail "missing socat"
t_all=$(e2e_now)
guest_build

mac=52:54:00:00:00:01
a=$E2E_TMP/a.sock b=$E2E_TMP/b.sock p=$E2E_TMP/p.sock
tap=$(tap_name m) ns=uvs-mig-$$
daemon_start sw --port "vhost-user,id=vmA,path=$a" --port "vhost-user,id=vmB,path=$b" \
  --port "vhost-user,id=peer,path=$p" --port "tap,id=ctl,ifname=$tap" \
  --port "nat,id=nat0,net=10.0.0.0/24,host=10.0.0.254,dns=10.0.0.253,dhcpstart=10.0.0.100"
netns_on_tap "$ns" "$tap" 10.0.0.9/24
mkdir -p "$E2E_TMP/www"
e2e_bg "$E2E_TMP/ns-http.log" ip netns exec "$ns" python3 -m http.server 8000 --bind 10.0.0.9 \
  --directory "$E2E_TMP/www"

# The host's loopback, reached through the NAT: 2 MiB of random bytes.
mkdir -p "$E2E_TMP/nat-www"
head -c $((2 * 1048576)) /dev/urandom >"$E2E_TMP/nat-www/nat-file"
nat_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$E2E_TMP/nat-ctl"
e2e_bg "$E2E_TMP/nat-http.log" python3 "$SRC/tests/e2e/lib/held_http.py" "$nat_port" \
  "$E2E_TMP/nat-www" "$E2E_TMP/nat-ctl"
echo "$nat_port $(md5sum <"$E2E_TMP/nat-www/nat-file" | cut -d' ' -f1)" >"$E2E_TMP/nat-params"

guest_start peer "$p" 52:54:00:00:00:02 "$guests/peer2.sh" client
GUEST_QEMU_ARGS=(-monitor "unix:$E2E_TMP/m1.mon,server=on,wait=off")
GUEST_TEST_FILES=("$E2E_TMP/nat-params")
# 256 MiB and 8 KiB: QEMU before 9.0 ("physmem: Fix migration dirty bitmap coherency with TCG
# memory access") clears the migration bitmap of a RAM block whose size is a multiple of 64 pages
# a word at a time without making TCG's TLB trap writes again, so a page the vCPU keeps writing
# through a cached TLB entry after a bitmap sync is not sent again and the destination gets it
# stale (guest kernel data: list corruption, an NX page executed). For any other size it clears
# page by page, resetting the TLB. Seen here as pages that differ at the switchover holding only
# the guest kernel's own data (counters, pointers), never anything the switch writes.
GUEST_MEM=${MIG_GUEST_MEM:-262152K}
guest_start m1 "$a" "$mac" "$guests/migrate_guest.sh" client
unset GUEST_MEM
GUEST_QEMU_ARGS=()
GUEST_TEST_FILES=()

# dest_start NAME FROM SOCK: starts QEMU NAME as the migration destination of FROM: FROM's command
# line and initrd, its NIC on vhost-user socket SOCK, its own console, QMP and monitor, and
# -incoming on $E2E_TMP/NAME.mig. The guest's console output continues in NAME's console.
dest_start() {
  local name=$1 from=$2 sock=$3 src_dir dir arg
  src_dir=$(guest_dir "$from") dir=$(guest_dir "$name")
  mkdir -p "$dir"
  cp "$src_dir/initrd.gz" "$dir/initrd.gz"
  local -a cmd=()
  eval "cmd=($(cat "$src_dir/cmdline"))"
  local -a out=()
  for arg in "${cmd[@]}"; do
    arg=${arg//guest-$from\//guest-$name/}
    arg=${arg//$E2E_TMP\/$from.mon/$E2E_TMP/$name.mon}
    arg=${arg//path=$a,/path=$sock,}
    arg=${arg//path=$b,/path=$sock,}
    out+=("$arg")
  done
  out+=(-incoming "unix:$E2E_TMP/$name.mig" -S)
  printf '%q ' "${out[@]}" >"$dir/cmdline"
  : >"$dir/console.log"
  e2e_bg "$dir/qemu.log" "${out[@]}"
  _guest_pid[$name]=$E2E_PID
  _guest_t0[$name]=$(e2e_now)
  e2e_wait_for 20 test -S "$E2E_TMP/$name.mig" || fail "destination $name is not listening"
  e2e_log "destination $name started (pid $E2E_PID, $sock)"
}

# hmp NAME COMMAND...: runs HMP commands on QEMU NAME's monitor; prints what the monitor says.
hmp() {
  local name=$1
  shift
  printf '%s\n' "$@" | socat -t 0.5 - "UNIX-CONNECT:$E2E_TMP/$name.mon" 2>/dev/null | tr -d '\r'
}

# migration_status NAME: prints QEMU NAME's migration status (active, completed, cancelled, ...).
migration_status() {
  hmp "$1" "info migrate" | sed -n 's/^Migration status: *//p' | head -n1
}

# wait_status NAME STATUS TIMEOUT: waits for NAME's migration to reach STATUS.
wait_status() {
  local st=""
  e2e_wait_for "$3" eval "st=\$(migration_status $1); [ \"\$st\" = $2 ] || [ \"\$st\" = failed ]" ||
    true
  st=$(migration_status "$1")
  [ "$st" = "$2" ] || { hmp "$1" "info migrate" >&2; fail "migration of $1: '$st', not $2"; }
}

# downloads NAME: the number of the last download the guest reported on NAME's console.
downloads() {
  grep -ao 'UVS-STEP download [0-9]* ok' "$(guest_console "$1")" | tail -n1 | awk '{ print $3 }'
}

# progress NAME AFTER TIMEOUT: waits until the guest (now on QEMU NAME) reports a download past
# AFTER.
progress() {
  local g
  e2e_wait_for "$3" eval "[ \"\$(downloads $1)\" -gt $2 ] 2>/dev/null" && return 0
  # Every QEMU's console: what the guest printed before a migration is in its source's.
  for g in "${!_guest_pid[@]}"; do guest_dump "$g"; done
  fail "no download after #$2 on $1"
}

# fdb_port: the switch port where the guest's MAC is learned (empty if it is not).
fdb_port() {
  daemon_ctl sw --json fdb | python3 -c '
import json, sys
print(next((e["port"] for e in json.load(sys.stdin)["return"] if e["mac"] == sys.argv[1]), ""))' "$mac"
}

# ram_file NAME: the guest RAM of QEMU NAME (its memory-backend-memfd, through /proc).
ram_file() {
  local pid f
  pid=$(guest_pid "$1")
  for f in /proc/"$pid"/fd/*; do
    case $(readlink "$f") in /memfd:memory-backend-memfd*) echo "$f"; return 0 ;; esac
  done
  fail "QEMU $1 (pid $pid) has no memory-backend-memfd"
}

# same_ram FROM TO: once TO has loaded the whole migration (it stays paused: -S), compares its
# guest RAM with the stopped source's and names the first differing 4 KiB pages.
same_ram() {
  local from=$1 to=$2 src dst
  e2e_wait_for 30 eval "hmp $to 'info status' | grep -q 'VM status: paused' &&
    ! hmp $to 'info status' | grep -q inmigrate" || fail "destination $to did not finish loading"
  src=$(ram_file "$from") dst=$(ram_file "$to")
  cmp -s "$src" "$dst" && return 0
  python3 - "$src" "$dst" <<'PY' >&2
import sys
a, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
diff, page = [], 0
while True:
    x, y = a.read(4096), b.read(4096)
    if not x and not y:
        break
    if x != y:
        diff.append(page)
    page += 1
print("%d guest page(s) differ after the migration, first at gpa %s" %
      (len(diff), ", ".join("0x%x" % (p * 4096) for p in diff[:16])))
PY
  fail "guest RAM of $to differs from its source $from's"
}

# migrate FROM TO SOCK: migrates the guest from QEMU FROM to a new QEMU TO on SOCK, waits for it to
# complete, checks TO's RAM against FROM's, resumes TO and waits for FROM to quit (freeing its
# port). Prints the seconds it took.
migrate() {
  local from=$1 to=$2 sock=$3 t0
  dest_start "$to" "$from" "$sock"
  t0=$(e2e_now)
  hmp "$from" "migrate_set_parameter max-bandwidth 1024" "migrate -d unix:$E2E_TMP/$to.mig" >/dev/null
  wait_status "$from" completed 120
  MIGRATE_S=$(e2e_elapsed "$t0")
  hmp "$from" "info migrate" | grep -aE '^(total time|downtime|transferred ram)' | tr '\n' ' ' >&2
  echo >&2
  same_ram "$from" "$to"
  hmp "$to" cont >/dev/null
  hmp "$from" quit >/dev/null || true
  e2e_wait_for 10 eval "! kill -0 $(guest_pid "$from") 2>/dev/null" || guest_kill "$from"
  e2e_log "migrated $from -> $to in ${MIGRATE_S}s, guest RAM identical at the switchover"
}

guest_wait_line m1 'UVS-STEP READY' 240 || fail "guest m did not come up"
progress m1 0 120
e2e_log "m is downloading on vmA (download $(downloads m1) done); the FDB has it on $(fdb_port)"
[ "$(fdb_port)" = vmA ] || fail "the FDB does not have the guest on vmA"

# 1. A cancelled migration: slow enough to be caught in flight, with dirty logging on.
dest_start mc m1 "$b"
hmp m1 "migrate_set_parameter max-bandwidth 1" "migrate -d unix:$E2E_TMP/mc.mig" >/dev/null
e2e_wait_for 20 eval '[ "$(migration_status m1)" = active ]' || fail "migration to mc never ran"
sleep 2
[ "$(migration_status m1)" = active ] || fail "migration to mc ended before the cancel"
hmp m1 migrate_cancel >/dev/null
wait_status m1 cancelled 30
guest_kill mc
n=$(downloads m1)
progress m1 "$n" 90
[ "$(fdb_port)" = vmA ] || fail "after the cancel the FDB does not have the guest on vmA"
e2e_log "cancelled migration: m still downloads on vmA (download $(downloads m1))"

# 2. vmA -> vmB.
n=$(downloads m1)
announces0=$(daemon_counter sw vmB backend.announces)
migrate m1 m2 "$b"
t_ab=$MIGRATE_S
progress m2 "$n" 120
e2e_wait_for 10 eval '[ "$(fdb_port)" = vmB ]' || fail "the FDB did not move the guest to vmB: $(fdb_port)"
[ "$(daemon_counter sw vmB backend.announces)" -gt "$announces0" ] ||
  fail "QEMU sent no SEND_RARP on vmB (GUEST_ANNOUNCE is not offered)"

# 3. vmB -> vmA while receiving through the NAT: the guest's next NAT download gets half the file,
# then the server holds the rest until the guest runs on vmA. Its TCP connection (slirp's, on the
# host's side) rides the switchover; the NAT's replies go to where the switch learns the guest.
t_arm=$(e2e_now)
touch "$E2E_TMP/nat-ctl/ARM"
e2e_wait_for 60 test -e "$E2E_TMP/nat-ctl/HELD" || fail "the guest started no NAT download on vmB"
# "download N ok" is printed before the next round starts: the held transfer is in round N + 1.
n=$(downloads m2)
e2e_log "NAT download of round $((n + 1)) held after $(tr -d '\n' <"$E2E_TMP/nat-ctl/HELD") bytes" \
  "($(e2e_elapsed "$t_arm")s after arming)"
announces0=$(daemon_counter sw vmA backend.announces)
migrate m2 m3 "$a"
t_ba=$MIGRATE_S
[ ! -e "$E2E_TMP/nat-ctl/DONE" ] || fail "the held NAT download ended before the switchover"
touch "$E2E_TMP/nat-ctl/RELEASE"
progress m3 "$n" 120
e2e_wait_for 5 test -e "$E2E_TMP/nat-ctl/DONE" ||
  fail "round $((n + 1)) passed without the held NAT download"
e2e_log "the NAT download held across vmB -> vmA finished md5-correct (round $((n + 1)))"
e2e_wait_for 10 eval '[ "$(fdb_port)" = vmA ]' || fail "the FDB did not move the guest back to vmA: $(fdb_port)"
[ "$(daemon_counter sw vmA backend.announces)" -gt "$announces0" ] || fail "no SEND_RARP on vmA"

# Stop the downloads; the guest checks its checksum counters and powers off.
touch "$E2E_TMP/www/stop"
rc=0
guest_wait m3 120 || rc=$?
[ "$rc" -eq 0 ] || fail "guest m: rc=$rc"
line=$(grep -ao 'UVS-STEP CSUM-ERRORS [a-z0-9= ]*' "$(guest_console m3)" | tail -n1)
e2e_log "guest m: $line"
guest_kill peer

e2e_wait_for 10 daemon_check sw "port('vmA')['backend']['disconnects'] == 2 and \
  port('vmB')['backend']['disconnects'] == 2 and port('peer')['backend']['disconnects'] == 1" \
  >/dev/null 2>&1 || true
ok=0
vhost_port_clean sw vmA 2 || ok=1
vhost_port_clean sw vmB 2 || ok=1
vhost_port_clean sw peer 1 || ok=1
[ "$ok" -eq 0 ] || fail "daemon counters"
daemon_stop sw
e2e_log "timings: vmA->vmB ${t_ab}s, vmB->vmA ${t_ba}s (to completion, TCG, ${MIG_GUEST_MEM:-262152K});" \
        "total $(e2e_elapsed "$t_all")s"
e2e_log PASS
