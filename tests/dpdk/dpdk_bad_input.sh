#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad DPDK input, each refused with a message naming the key and nothing left running: bad
# devargs and queues= at parse time (exit 2), an unknown device, a missing interface, too many
# queues for the driver and bad EAL arguments at start-up (exit 1), and a dpdk port-add with a
# bad device at run time (an error reply; the daemon and its other ports go on).
source "$(dirname "$0")/../cli/lib.sh" "$@"
source "$SRC/tests/lib/testpmd.sh"
testpmd_require
trap 'testpmd_cleanup; cleanup' EXIT

testpmd_prefix uvsdpdkbad
EAL="--no-huge -m 256 --no-pci -l 0 --file-prefix $TESTPMD_PREFIX --log-level=lib.eal:error"

# refused CODE ARGS... -- NEEDLE: uvswitch exits CODE with NEEDLE on stderr, no control socket.
refused() {
  local code=$1 args=() needle
  shift
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  needle=$2
  expect_exit "$code" timeout 60 "$UVSWITCH" --control "$CTL" "${args[@]}"
  contains "$ERR" "$needle" "uvswitch ${args[*]}"
  [ ! -S "$CTL" ] || fail "uvswitch ${args[*]}: left $CTL"
  pass "refused ($code): ${args[*]}"
}

refused 2 --port "dpdk,id=d0" -- "--port d0: missing required key 'devargs'"
refused 2 --port "dpdk,id=d0,devargs=,,iface=x" -- "--port d0: devargs: ',iface=x' has no device name"
refused 2 --port "dpdk,id=d0,devargs=net_ring0,queues=0" -- "--port d0: queues: 0 is out of range 1..64"
refused 2 --port "dpdk,id=d0,devargs=net_ring0,ifname=x" -- "--port d0: unknown key 'ifname'"
refused 1 --dpdk-args "$EAL" --port "dpdk,id=d0,devargs=net_nosuch0" -- \
  "d0: devargs=net_nosuch0: DPDK cannot probe this device"
refused 1 --dpdk-args "$EAL" --port "dpdk,id=d0,devargs=net_af_packet0,,iface=uvsnosuch$$" -- \
  "d0: devargs=net_af_packet0,iface=uvsnosuch$$: DPDK cannot probe this device"
refused 1 --dpdk-args "$EAL" --port "dpdk,id=d0,devargs=net_af_packet0,,iface=lo,queues=4" -- \
  "d0: queues=4: net_af_packet has at most 1"
refused 1 --dpdk-args "--no-such-eal-flag" --port "dpdk,id=d0,devargs=net_ring0" -- \
  "--dpdk-args \"--no-such-eal-flag\": DPDK EAL initialisation failed"

# At run time: port-add with an unknown device answers an error naming devargs; the daemon and
# its working DPDK port go on.
start_daemon --control "$CTL" --dpdk-args "$EAL" --port "dpdk,id=r0,devargs=net_ring0"
rc=0
reply=$("$UVSWITCHCTL" --control "$CTL" --timeout 10 port-add "dpdk,id=d1,devargs=net_nosuch1" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "port-add of an unknown DPDK device succeeded: $reply"
contains "$reply" "devargs=net_nosuch1" "port-add reply"
ports=$("$UVSWITCHCTL" --control "$CTL" --json ports)
json_check "$ports" "[p['id'] for p in r['return']] == ['r0'] and r['return'][0]['state'] == 'up'"
pass "run-time port-add of an unknown device refused; r0 still up"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exited with $DAEMON_RC"
echo PASS
