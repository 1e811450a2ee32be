# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Boots, watches and stops QEMU (TCG) Linux guests for end-to-end tests; source it from bash.
#
# Typical use (BUILD_DIR is the CMake build dir, the first argument uvs_script_test passes):
#   source "$SRC/tests/e2e/lib/guest.sh"
#   guest_build                                   # cached in $BUILD_DIR/guest
#   guest_start g1 "$sock" 52:54:00:00:00:01 g1-test.sh
#   guest_wait g1 120                             # returns the exit code of the guest's /test.sh
#
# The guest is tools/guest/: a Debian cloud kernel, busybox, virtio-net, and an /init that runs the
# test script as /test.sh and prints "UVS-GUEST-DONE rc=N" on the serial console, which this file
# watches. Test scripts are busybox sh and can `. /lib/uvs/lib.sh` (tools/guest/guest-lib.sh).
#
# Settings, read by guest_start (set them before the call):
#   GUEST_MEM            guest RAM in MiB (default 256), or with QEMU's K/M/G suffix
#   GUEST_TEST_TIMEOUT   in-guest limit for /test.sh in seconds (default 0 = none; rc 124 if hit)
#   GUEST_APPEND         extra kernel command line
#   GUEST_QEMU_ARGS      array of extra QEMU arguments
#   GUEST_NIC_OPTS       extra virtio-net-pci properties, e.g. "mrg_rxbuf=off,host_mtu=9000"
#   GUEST_NETDEV_OPTS    extra -netdev vhost-user properties, e.g. "queues=2"
#   GUEST_TEST_FILES     array of files to put in the guest as /test-files/<basename>

[ -n "${_E2E_GUEST_SH:-}" ] && return 0
_E2E_GUEST_SH=1

_guest_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_guest_repo=$(cd "$_guest_lib_dir/../../.." && pwd)
# shellcheck source=common.sh
source "$_guest_lib_dir/common.sh"

declare -gA _guest_pid=()     # NAME -> QEMU pid
declare -gA _guest_t0=()      # NAME -> e2e_now when QEMU was started
declare -gA _guest_boot_at=() # NAME -> e2e_now when UVS-GUEST-BOOTED was first seen
declare -gA _guest_done_at=() # NAME -> e2e_now when UVS-GUEST-DONE was first seen
GUEST_IMAGE_DIR=${GUEST_IMAGE_DIR:-}
GUEST_BOOT_S=""               # set by guest_wait: seconds from guest_start to the BOOTED marker
GUEST_TOTAL_S=""              # set by guest_wait: seconds from guest_start to the DONE marker
GUEST_UPTIME_S=""             # set by guest_wait: guest kernel uptime when /init was ready

# _guest_poll: timestamps the BOOTED and DONE markers of every guest. Runs on each tick of every
# wait in common.sh (E2E_POLL_HOOK), so timings stay right while the script waits for another guest.
_guest_poll() {
  local n c now=""
  for n in "${!_guest_pid[@]}"; do
    [ -z "${_guest_done_at[$n]:-}" ] || continue
    c=$E2E_TMP/guest-$n/console.log
    if [ -z "${_guest_boot_at[$n]:-}" ] && grep -aq 'UVS-GUEST-BOOTED' "$c" 2>/dev/null; then
      now=${now:-$(e2e_now)}
      _guest_boot_at[$n]=$now
    fi
    if grep -aq 'UVS-GUEST-DONE rc=' "$c" 2>/dev/null; then
      now=${now:-$(e2e_now)}
      _guest_done_at[$n]=$now
      # BOOTED may have been written between the two greps; it came before DONE in any case.
      _guest_boot_at[$n]=${_guest_boot_at[$n]:-$now}
    fi
  done
}
E2E_POLL_HOOK=_guest_poll

# guest_build: builds (or reuses) the guest kernel and base initramfs in $BUILD_DIR/guest and sets
# GUEST_IMAGE_DIR. Returns non-zero, with build-guest.sh's message, when it cannot.
guest_build() {
  : "${BUILD_DIR:?guest_build needs BUILD_DIR (the CMake build dir)}"
  GUEST_IMAGE_DIR=$BUILD_DIR/guest
  local t0
  t0=$(e2e_now)
  "$_guest_repo/tools/guest/build-guest.sh" "$GUEST_IMAGE_DIR"
  e2e_log "guest image ready in $GUEST_IMAGE_DIR ($(e2e_elapsed "$t0") s)"
}

# guest_dir NAME: prints the directory holding NAME's console.log, qemu.log, initrd and qmp.sock.
guest_dir() {
  echo "$E2E_TMP/guest-$1"
}

# guest_console NAME: prints the path of NAME's serial console log.
guest_console() {
  echo "$E2E_TMP/guest-$1/console.log"
}

# guest_start NAME SOCKPATH MAC TESTSCRIPT [MODE]: boots guest NAME in the background with one
# virtio-net NIC (MAC) attached to SOCKPATH and TESTSCRIPT as its /test.sh. MODE:
#   client         (default) vhost-user; the backend listens on SOCKPATH and QEMU connects. With
#                  reconnect=1 QEMU also waits for a backend that is not up yet, and reconnects
#                  (once a second) to one that restarted.
#   server         vhost-user; QEMU listens on SOCKPATH (server=on,wait=off) and the backend
#                  connects. QEMU 7.2 rejects reconnect= here; it needs none: after the backend
#                  disconnects the chardev listens again, and a restarted backend that connects
#                  gets the device set up again (features, memory table, rings).
#                  Note that QEMU does not run the guest until the first backend connected.
#   stream         -netdev stream (QEMU's 4-byte-length-prefixed frames over a unix stream
#                  socket); QEMU connects to a listener at SOCKPATH. QEMU 7.2 has no reconnect for
#                  it: if the peer goes away the NIC stays dead.
#   stream-server  -netdev stream with QEMU listening on SOCKPATH; a new peer may connect after
#                  the previous one left.
# Must be called from the main shell (not in $(...)). Returns non-zero on a bad argument or a
# missing image; QEMU failures show up in guest_wait.
guest_start() {
  local name=$1 sock=$2 mac=$3 test=$4 mode=${5:-client}
  [ -n "$GUEST_IMAGE_DIR" ] && [ -s "$GUEST_IMAGE_DIR/vmlinuz" ] ||
    { e2e_log "guest_start: run guest_build first"; return 1; }
  [ -f "$test" ] || { e2e_log "guest_start: no test script $test"; return 1; }
  if [ -n "${_guest_pid[$name]:-}" ] && kill -0 "${_guest_pid[$name]}" 2>/dev/null; then
    e2e_log "guest_start: guest $name is already running"
    return 1
  fi
  unset "_guest_boot_at[$name]" "_guest_done_at[$name]"
  local dir
  dir=$(guest_dir "$name")
  mkdir -p "$dir"

  local -a files=()
  [ -n "${GUEST_TEST_FILES+x}" ] && files=("${GUEST_TEST_FILES[@]}")
  "$_guest_repo/tools/guest/make-test-initrd.sh" "$GUEST_IMAGE_DIR/base.cpio.gz" "$test" \
    "$dir/initrd.gz" ${files[@]+"${files[@]}"}

  local nic="virtio-net-pci,netdev=n0,mac=$mac,romfile="
  local -a net
  case $mode in
    client | server)
      local chr="socket,id=c0,path=$sock"
      if [ "$mode" = client ]; then chr+=",reconnect=1"; else chr+=",server=on,wait=off"; fi
      net=(-chardev "$chr" -netdev "vhost-user,id=n0,chardev=c0${GUEST_NETDEV_OPTS:+,$GUEST_NETDEV_OPTS}")
      # QEMU 7.2 under TCG segfaults in msix_set_vector_notifiers when vhost-user starts with MSI-X
      # enabled (docs TESTING.md); vectors=0 makes the guest use INTx instead.
      nic+=",vectors=0"
      ;;
    stream)
      net=(-netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$sock") ;;
    stream-server)
      net=(-netdev "stream,id=n0,server=on,addr.type=unix,addr.path=$sock") ;;
    *)
      e2e_log "guest_start: unknown mode '$mode' (client, server, stream, stream-server)"
      return 1 ;;
  esac
  [ -n "${GUEST_NIC_OPTS:-}" ] && nic+=",$GUEST_NIC_OPTS"

  local mem=${GUEST_MEM:-256}
  [[ $mem =~ [0-9]$ ]] && mem+=M
  local append="console=ttyS0 panic=-1 loglevel=4 uvs.name=$name"
  [ "${GUEST_TEST_TIMEOUT:-0}" != 0 ] && append+=" uvs.timeout=$GUEST_TEST_TIMEOUT"
  [ -n "${GUEST_APPEND:-}" ] && append+=" $GUEST_APPEND"
  local -a extra=()
  [ -n "${GUEST_QEMU_ARGS+x}" ] && extra=("${GUEST_QEMU_ARGS[@]}")

  # vhost-user maps guest RAM in the backend, so it must be a shareable memfd (docs TESTING.md).
  # -nodefaults drops the default NIC, VGA and monitor; the serial console goes to a file and a QMP
  # socket is there for tests that change links or devices at run time (guest_qmp).
  local -a cmd=(
    qemu-system-x86_64 -accel tcg -smp 1 -m "$mem" -nographic -nodefaults -no-reboot
    -object "memory-backend-memfd,id=mem,size=$mem,share=on" -numa node,memdev=mem
    -kernel "$GUEST_IMAGE_DIR/vmlinuz" -initrd "$dir/initrd.gz" -append "$append"
    -serial "file:$dir/console.log"
    -qmp "unix:$dir/qmp.sock,server=on,wait=off"
    "${net[@]}" -device "$nic"
    ${extra[@]+"${extra[@]}"}
  )
  printf '%q ' "${cmd[@]}" >"$dir/cmdline"
  : >"$dir/console.log"
  _guest_t0[$name]=$(e2e_now)
  e2e_bg "$dir/qemu.log" "${cmd[@]}"
  _guest_pid[$name]=$E2E_PID
  e2e_log "guest $name: started (pid $E2E_PID, $mode $sock, mac $mac)"
}

# guest_pid NAME: prints the QEMU pid of guest NAME.
guest_pid() {
  echo "${_guest_pid[$1]:?no guest $1}"
}

# guest_dump NAME: prints NAME's console (escape sequences removed) and QEMU's own output to stderr.
guest_dump() {
  local dir
  dir=$(guest_dir "$1")
  {
    echo "----- guest $1: console ($dir/console.log) -----"
    sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' "$dir/console.log" 2>/dev/null | tr -d '\r'
    echo "----- guest $1: qemu output -----"
    cat "$dir/qemu.log" 2>/dev/null
    echo "----- guest $1: command line -----"
    cat "$dir/cmdline" 2>/dev/null
    echo
    echo "----- end of guest $1 -----"
  } >&2
}

# guest_wait_line NAME REGEX TIMEOUT: waits until NAME's console shows a line matching REGEX
# (grep -E). Returns 0 when seen; 1 on timeout and 2 if QEMU exited first, after dumping the logs.
guest_wait_line() {
  local name=$1 re=$2 timeout=$3 rc=0
  e2e_wait_log "$(guest_console "$name")" "$re" "$timeout" "$(guest_pid "$name")" || rc=$?
  if [ $rc -ne 0 ]; then
    e2e_log "guest $name: no '$re' on the console ($([ $rc = 1 ] && echo "timeout ${timeout}s" || echo "QEMU exited"))"
    guest_dump "$name"
  fi
  return $rc
}

# guest_wait NAME TIMEOUT: waits up to TIMEOUT seconds for NAME's /test.sh to finish, then for QEMU
# to power off (killing it after 10 s more). Returns the test's exit code; 124 on timeout (the guest
# is killed) and 125 if QEMU exited without the marker (crash, panic, bad option). On any non-zero
# result the console and QEMU logs are printed (unless GUEST_DUMP_ON_FAIL=0, for tests that expect
# the failure). Sets GUEST_BOOT_S, GUEST_UPTIME_S, GUEST_TOTAL_S.
guest_wait() {
  local name=$1 timeout=$2
  local pid console t0 end line rc=""
  pid=$(guest_pid "$name")
  console=$(guest_console "$name")
  t0=${_guest_t0[$name]}
  end=$(awk -v a="$(e2e_now)" -v t="$timeout" 'BEGIN { printf "%.3f", a + t }')
  GUEST_BOOT_S="" GUEST_UPTIME_S="" GUEST_TOTAL_S=""
  while :; do
    _guest_poll
    if line=$(grep -ao 'UVS-GUEST-DONE rc=[0-9]*' "$console"); then
      rc=${line##*=}
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      # The marker may have landed between the grep and the exit.
      grep -aq 'UVS-GUEST-DONE rc=' "$console" && continue
      e2e_log "guest $name: QEMU exited without finishing the test"
      rc=125
      break
    fi
    if awk -v e="$end" -v n="$(e2e_now)" 'BEGIN { exit !(n >= e) }'; then
      e2e_log "guest $name: test not finished after ${timeout}s; killing the guest"
      rc=124
      break
    fi
    sleep 0.1
  done
  _guest_poll   # the marker may have arrived after this tick's poll
  if line=$(grep -ao 'UVS-GUEST-BOOTED uptime=[0-9.]*' "$console"); then
    GUEST_UPTIME_S=${line##*=}
  fi
  [ -z "${_guest_boot_at[$name]:-}" ] ||
    GUEST_BOOT_S=$(awk -v a="$t0" -v b="${_guest_boot_at[$name]}" 'BEGIN { printf "%.2f", b - a }')
  [ -z "${_guest_done_at[$name]:-}" ] ||
    GUEST_TOTAL_S=$(awk -v a="$t0" -v b="${_guest_done_at[$name]}" 'BEGIN { printf "%.2f", b - a }')
  if [ "$rc" -ne 124 ]; then
    # poweroff -f follows the marker; give QEMU a moment to exit by itself.
    e2e_wait_for 10 eval "! kill -0 $pid 2>/dev/null" ||
      e2e_log "guest $name: QEMU did not power off; killing it"
  fi
  e2e_kill "$pid" 2
  e2e_log "guest $name: rc=$rc, /init after ${GUEST_BOOT_S:-?}s (guest uptime ${GUEST_UPTIME_S:-?}s)," \
          "done after ${GUEST_TOTAL_S:-?}s"
  [ "$rc" -eq 0 ] || [ "${GUEST_DUMP_ON_FAIL:-1}" = 0 ] || guest_dump "$name"
  return "$rc"
}

# guest_kill NAME: stops guest NAME now (SIGTERM, then SIGKILL). Returns 0 even if it had exited.
guest_kill() {
  e2e_kill "$(guest_pid "$1")" 3
}

# guest_qmp NAME JSON...: sends each QMP command (a JSON object string) to guest NAME after the
# capabilities handshake and prints QEMU's replies, one JSON object per line. Returns 1 if any reply
# is an error. Example: guest_qmp g1 '{"execute":"set_link","arguments":{"name":"n0","up":false}}'
guest_qmp() {
  local name=$1 sock out
  shift
  sock="$(guest_dir "$name")/qmp.sock"
  out=$({
    echo '{"execute":"qmp_capabilities"}'
    for c in "$@"; do echo "$c"; done
  } | timeout 10 socat -t 1 - "UNIX-CONNECT:$sock") || { e2e_log "guest_qmp: $name: no QMP"; return 1; }
  echo "$out" | grep -v '"QMP"'
  ! echo "$out" | grep -q '"error"'
}

# guest_wait_socket PATH TIMEOUT: waits until PATH is a unix socket (a server-mode guest or a
# backend is listening). Returns 1 on timeout.
guest_wait_socket() {
  e2e_wait_for "$2" test -S "$1" || { e2e_log "no socket at $1 after $2 s"; return 1; }
}
