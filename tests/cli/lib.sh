# SPDX-License-Identifier: MIT
# Shared helpers for the cli script tests: paths to the built binaries, a private temp dir,
# starting/stopping the daemon we own, and assertions that print what went wrong.
# Sourced by each test with: source "$(dirname "$0")/lib.sh" "$@"   (args: BUILD_DIR SOURCE_DIR)
set -euo pipefail

BUILD=${1:?build dir}
SRC=${2:?source dir}
UVSWITCH=$BUILD/tools/uvswitch/uvswitch
UVSWITCHCTL=$BUILD/tools/uvswitchctl/uvswitchctl
[ -x "$UVSWITCH" ] || { echo "FAIL: $UVSWITCH not built"; exit 1; }
[ -x "$UVSWITCHCTL" ] || { echo "FAIL: $UVSWITCHCTL not built"; exit 1; }

TMP=$(mktemp -d /tmp/uvs-cli-test.XXXXXX)
CTL=$TMP/control.sock
DAEMON_PID=""
# Keep the daemon's default runtime dir (used for the built-in vm0 port path) inside TMP too.
export XDG_RUNTIME_DIR=$TMP/xdg
mkdir -p "$XDG_RUNTIME_DIR"

cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$TMP"/daemon.out "$TMP"/daemon.err; do
    [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  exit 1
}

pass() { echo "ok: $*"; }

# start_daemon ARGS...: runs uvswitch in the background (stdout/stderr to TMP/daemon.*) and
# waits until its control socket answers.
start_daemon() {
  "$UVSWITCH" "$@" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
  DAEMON_PID=$!
  local sock=$CTL i
  # The control path is the value after --control when given.
  local prev=""
  for a in "$@"; do
    [ "$prev" = "--control" ] && sock=$a
    prev=$a
  done
  for i in $(seq 1 200); do
    if [ -S "$sock" ] && "$UVSWITCHCTL" --control "$sock" --timeout 2 version >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited during start-up (args: $*)"
    sleep 0.05
  done
  fail "daemon did not answer on $sock within 10 s"
}

# stop_daemon SIGNAL: sends SIGNAL and waits; sets DAEMON_RC.
stop_daemon() {
  kill "-$1" "$DAEMON_PID"
  local i
  for i in $(seq 1 200); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$DAEMON_PID" 2>/dev/null && fail "daemon did not exit within 10 s of SIG$1"
  DAEMON_RC=0
  wait "$DAEMON_PID" || DAEMON_RC=$?
  DAEMON_PID=""
}

# expect_exit CODE CMD...: runs CMD, captures stdout/stderr in OUT/ERR, checks its exit code.
expect_exit() {
  local want=$1
  shift
  local rc=0
  "$@" >"$TMP/cmd.out" 2>"$TMP/cmd.err" || rc=$?
  OUT=$(cat "$TMP/cmd.out")
  ERR=$(cat "$TMP/cmd.err")
  if [ "$rc" -ne "$want" ]; then
    echo "stdout: $OUT" >&2
    echo "stderr: $ERR" >&2
    fail "expected exit $want, got $rc from: $*"
  fi
}

# contains HAYSTACK NEEDLE WHAT
contains() {
  case "$1" in
    *"$2"*) ;;
    *) fail "$3: expected to find '$2' in: $1" ;;
  esac
}

# json_check JSON PYTHON-EXPR: evaluates EXPR with `r` bound to the parsed JSON; fails if false.
json_check() {
  command -v python3 >/dev/null || fail "python3 is needed to parse JSON in this test"
  python3 - "$1" "$2" <<'PY' || fail "JSON check failed: $2 on: $1"
import json, sys
r = json.loads(sys.argv[1])
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
PY
}
