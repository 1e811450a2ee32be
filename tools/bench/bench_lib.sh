# SPDX-License-Identifier: MIT
# Shared setup of the namespace benchmark scripts: checks, a scratch directory, the processes and
# namespaces to clean up on exit, waits and medians. Sourced, never run.
# shellcheck shell=bash

# bench_init NAME BUILD_DIR TOOL...: checks the build, the tools and root, then sets UVSWITCH,
# UVSWITCHCTL, TMP (removed on exit), PIDS and NSES (killed and deleted on exit).
bench_init() {
  BENCH_NAME=$1
  local build=$2
  shift 2
  UVSWITCH=$build/tools/uvswitch/uvswitch
  UVSWITCHCTL=$build/tools/uvswitchctl/uvswitchctl
  [ -x "$UVSWITCH" ] || bench_die "build first ($UVSWITCH missing)"
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || bench_die "$t missing (tools/install-deps.sh)"
  done
  [ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces, taps)"
  TMP=$(mktemp -d "/tmp/uvs-$BENCH_NAME.XXXXXX")
  PIDS=()
  NSES=()
  BENCH_CLEANUP_EXTRA=${BENCH_CLEANUP_EXTRA:-}
  trap bench_cleanup EXIT
}

bench_die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

bench_cleanup() {
  local p n
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2>/dev/null || true; done
  for n in ${NSES[@]+"${NSES[@]}"}; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  [ -z "$BENCH_CLEANUP_EXTRA" ] || eval "$BENCH_CLEANUP_EXTRA"
  rm -rf "$TMP"
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 after SECONDS.
wait_until() {
  local end=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# bench_ns NAME: a namespace with its loopback up, deleted on exit.
bench_ns() { ip netns add "$1"; NSES+=("$1"); ip -n "$1" link set lo up; }

# median: the median of the numbers on stdin, one a line ("nan" for none).
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "nan" }'; }

# proc_ticks PID: user + system clock ticks of a process, all its threads.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
