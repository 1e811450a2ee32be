# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Host-side helpers of the e2e tests for tests/netback/vhost_pair: start it, read and check counters.
#
# Source after lib/guest.sh (it uses e2e_bg, e2e_wait_log and e2e_log from lib/common.sh). vhost_pair
# is the backend of these tests until the switch daemon serves vhost-user ports: two ports, A and B,
# whose frames are cross-wired. Its log (stdout and stderr together) holds "uvswitch: A: ..." event
# lines and, on SIGUSR1 and on exit, a counter block: an "A k=v ..." line, a "B k=v ..." line and a
# "PAIR a_to_b=.. a_to_b_dropped=.. b_to_a=.. b_to_a_dropped=.." line.

[ -n "${_E2E_VHOST_PAIR_SH:-}" ] && return 0
_E2E_VHOST_PAIR_SH=1

# PAIR_BIN overrides the binary, e.g. with one from a sanitizer build.
PAIR_BIN=${PAIR_BIN:-$BUILD_DIR/tests/netback/vhost_pair}
PAIR_PID=""

# pair_start LOG ARGS...: starts vhost_pair ARGS in the background (killed on exit) with its output
# in LOG, waits for it to report READY, and sets PAIR_PID. Returns 1, printing LOG, if it does not.
pair_start() {
  local log=$1
  shift
  [ -x "$PAIR_BIN" ] || { e2e_log "no $PAIR_BIN (build the vhost_pair target)"; return 1; }
  e2e_bg "$log" "$PAIR_BIN" "$@"
  PAIR_PID=$E2E_PID
  e2e_wait_log "$log" '^READY$' 20 "$PAIR_PID" ||
    { e2e_log "vhost_pair did not start"; cat "$log" >&2; return 1; }
  e2e_log "vhost_pair started (pid $PAIR_PID): $*"
}

# pair_stop LOG: stops vhost_pair PAIR_PID with SIGTERM, which makes it print its final counters to
# LOG, and waits for it. Returns 1 unless it exited with status 0 and printed them.
pair_stop() {
  local log=$1 rc=0
  kill -TERM "$PAIR_PID" 2>/dev/null || true
  e2e_wait_for 10 eval "! kill -0 $PAIR_PID 2>/dev/null" ||
    { e2e_log "vhost_pair ignored SIGTERM"; e2e_kill "$PAIR_PID" 1; return 1; }
  wait "$PAIR_PID" || rc=$?
  [ "$rc" -eq 0 ] || { e2e_log "vhost_pair exited with status $rc"; return 1; }
  grep -q '^PAIR ' "$log" || { e2e_log "vhost_pair printed no counters"; return 1; }
}

# pair_snapshot LOG: asks the running vhost_pair for a counter block (SIGUSR1) and waits until it
# is in LOG. Returns 1 if it does not come within 10 s.
pair_snapshot() {
  local log=$1 before
  before=$(grep -c '^PAIR ' "$log" || true)
  kill -USR1 "$PAIR_PID"
  e2e_wait_for 10 eval "[ \"\$(grep -c '^PAIR ' '$log' || true)\" -gt $before ]" ||
    { e2e_log "vhost_pair printed no snapshot"; return 1; }
}

# pair_field LOG LINE KEY: prints the value of KEY on the last LINE ("A", "B" or "PAIR") line of
# LOG, i.e. from the latest counter block; prints nothing if there is none.
pair_field() {
  awk -v p="$2" -v k="$3" '
    $1 == p { v = ""; for (i = 2; i <= NF; i++) { n = index($i, "="); if (substr($i, 1, n - 1) == k) v = substr($i, n + 1) } }
    END { print v }' "$1"
}

# pair_summary LOG: prints the latest counter block in one short line, for the test report.
pair_summary() {
  local log=$1 p
  for p in A B; do
    printf '%s in=%s out=%s conn=%s disc=%s errors=%s rejected=%s state=%s; ' "$p" \
      "$(pair_field "$log" $p in_frames)" "$(pair_field "$log" $p out_frames)" \
      "$(pair_field "$log" $p connections)" "$(pair_field "$log" $p disconnects)" \
      "$(pair_field "$log" $p protocol_errors)" "$(pair_field "$log" $p rejected)" \
      "$(pair_field "$log" $p state)"
  done
  printf 'a_to_b=%s(+%s dropped) b_to_a=%s(+%s dropped)\n' \
    "$(pair_field "$log" PAIR a_to_b)" "$(pair_field "$log" PAIR a_to_b_dropped)" \
    "$(pair_field "$log" PAIR b_to_a)" "$(pair_field "$log" PAIR b_to_a_dropped)"
}

# pair_expect LOG LINE KEY OP VALUE: checks `KEY OP VALUE` (OP: -eq -ge -gt -le ...) on the latest
# block's LINE; logs and returns 1 when it does not hold or the counter is missing.
pair_expect() {
  local log=$1 line=$2 key=$3 op=$4 want=$5 got
  got=$(pair_field "$log" "$line" "$key")
  if [ -z "$got" ] || ! test "$got" "$op" "$want"; then
    e2e_log "vhost_pair counter $line.$key=${got:-missing}, expected $op $want"
    return 1
  fi
}

# pair_check_consistent LOG: checks the latest counter block for what must hold whatever the
# traffic: both ports took frames from their guest; no malformed frame in either direction; no
# peer misbehaviour (protocol error) or refused request; and the cross-wiring conserved frames
# (what one port took was delivered by the other or counted as dropped there, per cause).
# Returns 1 after logging every violation.
pair_check_consistent() {
  local log=$1 ok=0 p q k a2b a2b_drop b2a b2a_drop drops
  for p in A B; do
    pair_expect "$log" $p in_frames -gt 0 || ok=1
    for k in in_drop_bad_chain in_drop_too_short in_drop_too_big in_drop_no_sink out_drop_too_big \
             protocol_errors rejected; do
      pair_expect "$log" $p $k -eq 0 || ok=1
    done
    # PortState: 0 down, 1 up, 2 broken; broken means a protocol error ended a connection.
    pair_expect "$log" $p state -ne 2 || ok=1
  done
  a2b=$(pair_field "$log" PAIR a_to_b) a2b_drop=$(pair_field "$log" PAIR a_to_b_dropped)
  b2a=$(pair_field "$log" PAIR b_to_a) b2a_drop=$(pair_field "$log" PAIR b_to_a_dropped)
  pair_expect "$log" A in_frames -eq $((a2b + a2b_drop)) || ok=1
  pair_expect "$log" B in_frames -eq $((b2a + b2a_drop)) || ok=1
  pair_expect "$log" B out_frames -eq "$a2b" || ok=1
  pair_expect "$log" A out_frames -eq "$b2a" || ok=1
  for p in A B; do
    q=$([ $p = A ] && echo B || echo A)
    drops=$(( $(pair_field "$log" "$q" out_drop_not_ready) + $(pair_field "$log" "$q" out_drop_no_buffers) ))
    if [ "$drops" -ne "$([ $p = A ] && echo "$a2b_drop" || echo "$b2a_drop")" ]; then
      e2e_log "vhost_pair: frames from $p dropped by the pair ($a2b_drop / $b2a_drop) differ from $q's" \
              "not-ready + no-buffer drops ($drops)"
      ok=1
    fi
  done
  return $ok
}

# guest_nic_stat NAME KEY: prints KEY (tx, rx, tx_dropped, rx_dropped) from the last NIC-STATS line
# guest NAME printed (tests/e2e/guest/peer*.sh); nothing if there is none.
guest_nic_stat() {
  grep -ao 'UVS-STEP NIC-STATS [a-z_0-9= ]*' "$(guest_console "$1")" | tail -n1 |
    tr ' ' '\n' | sed -n "s/^$2=//p"
}
