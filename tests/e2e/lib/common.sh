# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared plumbing for end-to-end test scripts: temp dir, exit cleanup, background processes, waits.
#
# Source it from a bash script that runs under `set -euo pipefail`. It installs one EXIT trap; add
# work to it with e2e_on_exit instead of calling `trap ... EXIT` (which would replace it).

[ -n "${_E2E_COMMON_SH:-}" ] && return 0
_E2E_COMMON_SH=1

_e2e_exit_cmds=()   # run last-registered first, like a stack of destructors, before the kills below
_e2e_bg_pids=()     # background processes started with e2e_bg, killed on exit
# E2E_POLL_HOOK: name of a function every wait loop below calls once per 0.1 s tick (guest.sh uses it
# to timestamp console markers of all guests while the script waits for something else).
E2E_POLL_HOOK=${E2E_POLL_HOOK:-}

# e2e_log TEXT...: prints a timestamped progress line on stderr (ctest shows it on failure).
e2e_log() {
  printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2
}

# e2e_now: prints the monotonic-enough wall clock in seconds with milliseconds, for timings.
e2e_now() {
  date +%s.%3N
}

# e2e_elapsed START: prints seconds since START (an e2e_now value), with two decimals.
e2e_elapsed() {
  awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.2f", b - a }'
}

# e2e_on_exit CMD: runs CMD (a string, eval'd) when the script exits, before earlier registrations.
e2e_on_exit() {
  _e2e_exit_cmds+=("$1")
}

# E2E_TMP: a private directory under /tmp for sockets and logs, created when this file is sourced and
# removed on exit unless E2E_KEEP=1. It is under /tmp, not the build dir, because unix socket paths
# are limited to 107 bytes.
E2E_TMP=$(mktemp -d /tmp/uvs-e2e.XXXXXX)

_e2e_rm_tmp() {
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    e2e_log "keeping $E2E_TMP (E2E_KEEP=1)"
  else
    rm -rf "$E2E_TMP"
  fi
}

# e2e_bg LOGFILE CMD [ARGS...]: starts CMD in the background with stdin from /dev/null and
# stdout+stderr to LOGFILE, in its own process group so that killing it takes its children too.
# Sets E2E_PID to its pid. It is killed on exit if still running, and also if this script is killed
# with SIGKILL (ctest's timeout): the parent-death signal makes the kernel do it. Call it from the
# main shell, never inside $(...): the process dies with the (sub)shell that started it.
e2e_bg() {
  local logfile=$1
  shift
  # setsid does not fork here (a background job is never a group leader), so $! stays CMD's pid;
  # setpriv execs CMD with PR_SET_PDEATHSIG, which survives exec.
  setsid setpriv --pdeathsig KILL -- "$@" </dev/null >"$logfile" 2>&1 &
  E2E_PID=$!
  _e2e_bg_pids+=("$E2E_PID")
}

# e2e_kill PID [GRACE_SECONDS=3]: sends SIGTERM to PID's process group, then SIGKILL after the grace
# period if it is still alive, and reaps it. Returns 0 even if it was already gone.
e2e_kill() {
  local pid=$1 grace=${2:-3} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# e2e_kill_all: stops every process started with e2e_bg that is still running (as on exit).
e2e_kill_all() {
  local pid
  for pid in "${_e2e_bg_pids[@]}"; do
    e2e_kill "$pid" 1
  done
}

# e2e_wait_for TIMEOUT CMD [ARGS...]: runs CMD every 0.1 s until it succeeds; returns 1 after
# TIMEOUT seconds (a decimal is fine) without success.
e2e_wait_for() {
  local timeout=$1
  shift
  local end
  end=$(awk -v t="$timeout" -v n="$(e2e_now)" 'BEGIN { printf "%.3f", n + t }')
  while :; do
    [ -z "$E2E_POLL_HOOK" ] || "$E2E_POLL_HOOK"
    "$@" && return 0
    awk -v e="$end" -v n="$(e2e_now)" 'BEGIN { exit !(n >= e) }' && return 1
    sleep 0.1
  done
}

# e2e_wait_log FILE REGEX TIMEOUT [PID]: waits until a line of FILE matches REGEX (grep -E).
# Returns 1 on timeout, 2 if PID is given and that process exited first.
e2e_wait_log() {
  local file=$1 re=$2 timeout=$3 pid=${4:-}
  local end
  end=$(awk -v t="$timeout" -v n="$(e2e_now)" 'BEGIN { printf "%.3f", n + t }')
  while :; do
    [ -z "$E2E_POLL_HOOK" ] || "$E2E_POLL_HOOK"
    grep -aEq -- "$re" "$file" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      # One last look: the line may have been written just before the process exited.
      grep -aEq -- "$re" "$file" 2>/dev/null && return 0
      return 2
    fi
    awk -v e="$end" -v n="$(e2e_now)" 'BEGIN { exit !(n >= e) }' && return 1
    sleep 0.1
  done
}

_e2e_on_exit() {
  local rc=$? i
  set +e
  for ((i = ${#_e2e_exit_cmds[@]} - 1; i >= 0; i--)); do
    eval "${_e2e_exit_cmds[i]}"
  done
  e2e_kill_all
  _e2e_rm_tmp
  exit "$rc"
}
trap _e2e_on_exit EXIT
# A signal (ctest timeout sends SIGTERM) must still run the cleanup: turn it into a normal exit.
trap 'exit 143' TERM
trap 'exit 130' INT
