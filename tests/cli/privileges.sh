#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Privilege guards without guests:
#  1. uvswitch run as an unprivileged user (nobody) serves vhost-user, NAT, stream, dgram, a
#     capture and its control socket under $XDG_RUNTIME_DIR; only tap creation fails.
#  2. mode=/group= on vhost-user and stream sockets: a member of the group connects, another
#     user is refused by the kernel.
#  3. The control socket checks SO_PEERCRED: even through a socket made world-writable, a user
#     who is not root, the daemon's user or in --control-group gets "permission denied".
#  4. Started as root with --user nobody: ids and capabilities dropped; --keep-cap-net-admin
#     keeps exactly CAP_NET_ADMIN, so port-add of a tap still works, and without it fails.
# Needs root (to become other users); traffic only on loopback.
source "$(dirname "$0")/lib.sh" "$@"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to switch users"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }

G=$((42000 + $$ % 1000))  # a group id no user has; the daemon joins it with --groups
NOBODY=(setpriv --reuid 65534 --regid 65534 --groups "$G")
as_nobody() { "${NOBODY[@]}" "$@"; }
as_member() { setpriv --reuid 4242 --regid 4242 --groups "$G" "$@"; }
as_stranger() { setpriv --reuid 4244 --regid 4244 --clear-groups "$@"; }
chmod 0711 "$TMP"
U=$TMP/u
mkdir -p "$U/xdg" "$U/open"
chown -R 65534:65534 "$U"
chmod 0700 "$U/xdg"
chmod 0755 "$U/open"

# wait_ctl SOCK: until the daemon answers there (as root).
wait_ctl() {
  local i
  for i in $(seq 1 200); do
    "$UVSWITCHCTL" --control "$1" --timeout 2 version >/dev/null 2>&1 && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited during start-up"
    sleep 0.05
  done
  fail "daemon did not answer on $1"
}

# ---- 1 and 2: as nobody -------------------------------------------------------------------
pa=$((36000 + $$ % 10000)) pb=$((pa + 1))
# Not through the function: $! must be the daemon's pid (setpriv and env exec it).
"${NOBODY[@]}" env XDG_RUNTIME_DIR="$U/xdg" "$UVSWITCH" --threads 1 \
  --port "vhost-user,id=vm0,path=$U/xdg/vm0.sock" --port nat,id=nat0 \
  --port "vhost-user,id=vm1,path=$U/open/vm1.sock,mode=0660,group=$G" \
  --port "stream,id=st,path=$U/open/st.sock,mode=0660,group=$G" \
  --port "dgram,id=dg,local=127.0.0.1:$pa,remote=127.0.0.1:$pb" \
  --capture "port=vm0,file=$U/vm0.pcap" \
  --control "$U/open/control.sock" --control-group "$G" \
  >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
wait_ctl "$U/open/control.sock"
ctl() { as_nobody "$UVSWITCHCTL" --control "$U/open/control.sock" --timeout 5 "$@"; }
expect_exit 0 ctl --json ports
json_check "$OUT" 'sorted(p["id"] for p in r["return"]) == ["dg", "nat0", "st", "vm0", "vm1"]'
json_check "$OUT" 'all(p["state"] in ("up", "down") for p in r["return"])'
[ "$(stat -c %U "$U/xdg/vm0.sock")" = nobody ] || fail "vm0.sock not nobody's"
[ "$(stat -c '%U %a' "$U/vm0.pcap")" = "nobody 600" ] || fail "capture: $(stat -c '%U %a' "$U/vm0.pcap")"
pass "as nobody: vhost-user, NAT, stream, dgram, a 0600 capture and the control socket"

# The stream peer and the dgram remote deliver a frame each (from the right address).
as_member /usr/bin/python3 - "$U/open/st.sock" "$pa" "$pb" <<'PY' || fail "stream/dgram peers"
import socket, struct, sys
frame = bytes.fromhex("ffffffffffff" "025555555555" "0800") + bytes(46)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack("!I", len(frame)) + frame)
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
d.bind(("127.0.0.1", int(sys.argv[3])))
d.sendto(frame, ("127.0.0.1", int(sys.argv[2])))
import time; time.sleep(0.3)
PY
for i in $(seq 1 50); do
  expect_exit 0 ctl --json ports
  python3 -c 'import json,sys; p={x["id"]:x for x in json.loads(sys.argv[1])["return"]}; sys.exit(0 if p["st"]["backend"]["in-frames"]>=1 and p["dg"]["backend"]["in-frames"]>=1 else 1)' "$OUT" && break
  sleep 0.1
done
json_check "$OUT" '{p["id"]: p for p in r["return"]}["st"]["backend"]["in-frames"] >= 1'
json_check "$OUT" '{p["id"]: p for p in r["return"]}["dg"]["backend"]["in-frames"] >= 1'
pass "as nobody: a stream peer's and the dgram remote's frames arrive"

expect_exit 1 ctl port-add "tap,id=t9,ifname=uvt$$x"
contains "$ERR$OUT" "t9" "port-add tap as nobody"
pass "as nobody: only tap creation fails ($(echo "$ERR$OUT" | head -c 120))"

for s in vm1 st; do
  [ "$(stat -c '%a %g' "$U/open/$s.sock")" = "660 $G" ] || fail "$s.sock: $(stat -c '%a %g' "$U/open/$s.sock")"
  as_member /usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
    "$U/open/$s.sock" || fail "a member of group $G cannot connect to $s.sock"
  if as_stranger /usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
    "$U/open/$s.sock" 2>"$TMP/conn.err"; then
    fail "a stranger connected to $s.sock"
  fi
  grep -q "Permission denied" "$TMP/conn.err" || fail "stranger on $s.sock: $(cat "$TMP/conn.err")"
done
pass "mode=0660,group=$G: the group's member connects to vm1.sock and st.sock, a stranger is refused"

# ---- 3: SO_PEERCRED on the control socket ---------------------------------------------------
expect_exit 0 as_member "$UVSWITCHCTL" --control "$U/open/control.sock" version
pass "a member of --control-group $G uses the control socket"
chmod 0666 "$U/open/control.sock"  # a mistake, or a socket passed along: the check still holds
expect_exit 1 as_stranger "$UVSWITCHCTL" --control "$U/open/control.sock" version
contains "$ERR$OUT" "permission denied: uid 4244 may not use this control socket (only root, uid 65534 and members of group $G)" \
  "SO_PEERCRED refusal"
pass "SO_PEERCRED: uid 4244 is refused with a clear error"
grep -q "control socket: refused a client: uid 4244" "$TMP/daemon.err" || fail "refusal not logged"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon (as nobody) exit status $DAEMON_RC"

# The default control socket of an unprivileged user: under $XDG_RUNTIME_DIR.
"${NOBODY[@]}" env XDG_RUNTIME_DIR="$U/xdg" "$UVSWITCH" --threads 1 \
  --port "stream,id=st,path=$U/open/st2.sock" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
wait_ctl "$U/xdg/uvswitch/control.sock"
expect_exit 0 as_nobody "$UVSWITCHCTL" --control "$U/xdg/uvswitch/control.sock" version
[ "$(stat -c '%U %a' "$U/xdg/uvswitch/control.sock")" = "nobody 600" ] ||
  fail "control socket: $(stat -c '%U %a' "$U/xdg/uvswitch/control.sock")"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon (as nobody, default control) exit status $DAEMON_RC"
pass "as nobody: the default control socket is \$XDG_RUNTIME_DIR/uvswitch/control.sock, 0600"

# ---- 4: root with --user, with and without CAP_NET_ADMIN -------------------------------------
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun for part 4"; exit 0; }
for keep in no yes; do
  extra=()
  [ $keep = yes ] && extra=(--keep-cap-net-admin)
  start_daemon --threads 2 --control "$CTL" --port "stream,id=st,path=$TMP/st.sock" \
    --user nobody "${extra[@]}"
  st=/proc/$DAEMON_PID/status
  [ "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "$st")" = 65534655346553465534 ] || fail "uids: $(grep Uid "$st")"
  [ "$(awk '/^Gid:/ { print $2 $3 $4 $5 }' "$st")" = 65534655346553465534 ] || fail "gids: $(grep Gid "$st")"
  grep -q '^NoNewPrivs:[[:space:]]*1' "$st" || fail "no_new_privs not set"
  want=0000000000000000
  [ $keep = yes ] && want=0000000000001000  # CAP_NET_ADMIN is bit 12
  for t in /proc/$DAEMON_PID/task/*/status; do
    [ "$(awk '/^CapBnd:/ { print $2 }' "$t")" = "$want" ] || fail "$t CapBnd $(grep CapBnd "$t")"
  done
  eff=$(awk '/^CapEff:/ { print $2 }' "$st")
  [ "$eff" = "$want" ] || fail "CapEff $eff, want $want"
  tap=uvp$$$keep
  if [ $keep = yes ]; then
    expect_exit 0 "$UVSWITCHCTL" --control "$CTL" port-add "tap,id=t1,ifname=${tap:0:15}"
    ip link show "${tap:0:15}" >/dev/null || fail "the tap was not created"
    expect_exit 0 "$UVSWITCHCTL" --control "$CTL" port-del t1
  else
    expect_exit 1 "$UVSWITCHCTL" --control "$CTL" port-add "tap,id=t1,ifname=${tap:0:15}"
  fi
  stop_daemon TERM
  [ "$DAEMON_RC" -eq 0 ] || fail "daemon (--user nobody, keep=$keep) exit status $DAEMON_RC"
  pass "--user nobody${extra[*]:+ ${extra[*]}}: uid/gid 65534, NoNewPrivs, CapEff=CapBnd=$want on every thread"
done
