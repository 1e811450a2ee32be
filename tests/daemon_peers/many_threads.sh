#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A large thread count on a small host: --threads 128 starts, forwards between namespaces on
# tap ports pinned to the first and the last thread (so frames cross a ring between them), and
# stays within a stated memory bound, because rings exist only for thread pairs that host ports.
# Addresses exist only inside the namespaces this script makes.
# Usage: many_threads.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
export BUILD_DIR=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
source "$SRC/tests/e2e/lib/common.sh"
source "$SRC/tests/daemon_peers/lib.sh"
netns_require

# 128 idle threads with their loops and forwarders, the FDB and two 256 KiB rings: about 30 MiB
# resident in a release build, 96 MiB the bound. ASan's shadow memory and per-thread allocator
# caches put the same daemon near 118 MiB, so a sanitizer build gets 192 MiB. One 2 MiB ring per
# ordered thread pair (the old layout) would need 32 GiB either way.
if grep -Eq '^UVS_SANITIZE:[A-Z]+=(address|thread|undefined)' "$BUILD_DIR/CMakeCache.txt"; then
  RSS_BOUND_KB=${RSS_BOUND_KB:-196608}
else
  RSS_BOUND_KB=${RSS_BOUND_KB:-98304}
fi

t1=$(tap_name a) t2=$(tap_name b) ns1=uvs-mt-$$-1 ns2=uvs-mt-$$-2
daemon_start sw --threads 128 --port "tap,id=t1,ifname=$t1,thread=0" \
  --port "tap,id=t2,ifname=$t2,thread=127"
[ "$(daemon_threads sw)" -ge 128 ] || fail "expected at least 128 threads, have $(daemon_threads sw)"
netns_on_tap "$ns1" "$t1" 10.79.0.1/24
netns_on_tap "$ns2" "$t2" 10.79.0.2/24
netns_ping "$ns1" 10.79.0.2 5 || fail "ping ns1 -> ns2 across threads 0 and 127"
netns_ping "$ns2" 10.79.0.1 5 || fail "ping ns2 -> ns1 across threads 127 and 0"
daemon_check sw "port('t1')['thread'] == 0 and port('t2')['thread'] == 127" \
  "the ports sit on threads 0 and 127" || fail "port threads"
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(daemon_pid sw)/status")
e2e_log "128 threads: pings both ways; VmRSS ${rss} kB (bound ${RSS_BOUND_KB} kB)"
[ "$rss" -le "$RSS_BOUND_KB" ] || fail "VmRSS ${rss} kB is over the ${RSS_BOUND_KB} kB bound"
daemon_stop sw
e2e_log PASS
