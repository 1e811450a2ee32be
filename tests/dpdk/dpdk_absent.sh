#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A build without DPDK refuses a dpdk port and --dpdk-args by name, before anything starts
# (exit 2, no control socket), from a flag and from a config file alike.
source "$(dirname "$0")/../cli/lib.sh" "$@"

# bad ARGS... -- NEEDLE: exit 2 with NEEDLE on stderr and nothing created.
bad() {
  local args=() needle
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  needle=$2
  expect_exit 2 "$UVSWITCH" --control "$CTL" "${args[@]}"
  contains "$ERR" "$needle" "uvswitch ${args[*]}"
  [ ! -e "$CTL" ] || fail "uvswitch ${args[*]}: created $CTL"
  pass "rejected: ${args[*]}"
}

bad --port "dpdk,id=d0,devargs=net_af_packet0,,iface=lo" -- \
  "--port d0: dpdk: this uvswitch was built without DPDK (configure with -DUVS_WITH_DPDK=ON)"
bad --dpdk-args "--no-huge" -- \
  "--dpdk-args: this uvswitch was built without DPDK (configure with -DUVS_WITH_DPDK=ON)"
cat >"$TMP/sw.toml" <<'TOML'
[[port]]
type = "dpdk"
id = "d0"
devargs = "net_af_packet0,iface=lo"
TOML
bad --config "$TMP/sw.toml" -- "this uvswitch was built without DPDK"
echo PASS
