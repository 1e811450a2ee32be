#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The .deb: CPack builds it from this build, apt-get installs it with its dependencies, the
# installed programs run from PATH, the man pages and completion are where man and bash look,
# systemd-analyze verify accepts the units, the units' own command lines start the daemon, and
# the package is purged again so the machine is left as it was found. Root only; refuses to
# touch a uvswitch installation it did not make.
source "$(dirname "$0")/../cli/lib.sh" "$@"
source "$(dirname "$0")/help_lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root (it installs the package with apt-get)"
for t in cpack apt-get dpkg-query systemd-analyze systemd-socket-activate man; do
  command -v "$t" >/dev/null || fail "$t is not installed (tools/install-deps.sh installs it)"
done
# One package test on the machine at a time (other worktrees run this suite too).
exec 9>/tmp/uvswitch-deb-test.lock
flock -w 120 9 || fail "another deb_install test holds /tmp/uvswitch-deb-test.lock"

if dpkg-query -W -f='${Status}' uvswitch 2>/dev/null | grep -q 'ok installed'; then
  fail "package uvswitch is already installed; this test installs and purges it, so it will not run"
fi
for f in /usr/bin/uvswitch /usr/bin/uvswitchctl /etc/uvswitch/uvswitch.toml; do
  [ ! -e "$f" ] || fail "$f exists outside any package; this test would overwrite and then remove it"
done

INSTALLED=0
purge() {
  [ "$INSTALLED" = 1 ] || return 0
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=120 uvswitch \
    >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log" >&2; return 1; }
  INSTALLED=0
}
trap 'purge; cleanup' EXIT

# 1. Build the package from this build tree.
start=$(date +%s)
(cd "$TMP" && cpack -G DEB -B "$TMP/pkg" --config "$BUILD/CPackConfig.cmake") >"$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$TMP"/pkg/uvswitch_*.deb)
[ -f "$deb" ] || fail "cpack made no uvswitch_*.deb: $(ls "$TMP/pkg")"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libslirp0 libpcap0.8 libc6 libstdc++6; do
  tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -qxF "$d" || fail "Depends lacks $d: $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/uvswitch/uvswitch.toml ||
  fail "/etc/uvswitch/uvswitch.toml is not a conffile"
if dpkg-deb -c "$deb" | grep -q ' \./usr/local/'; then fail "the package installs under /usr/local"; fi
pass "$(basename "$deb") built in $(($(date +%s) - start)) s; Depends: $depends"

# 2. Install it the way a user would.
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o DPkg::Lock::Timeout=120 "$deb" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "apt-get install $deb failed"; }
dpkg-query -W -f='${Status}' uvswitch | grep -q 'ok installed' || fail "dpkg does not list uvswitch"
pass "apt-get install ./$(basename "$deb")"

# 3. From PATH, the same programs this build made.
[ "$(command -v uvswitch)" = /usr/bin/uvswitch ] || fail "uvswitch on PATH is $(command -v uvswitch)"
[ "$(command -v uvswitchctl)" = /usr/bin/uvswitchctl ] || fail "uvswitchctl not on PATH"
want=$("$UVSWITCH" --version)
got=$(env -i PATH=/usr/bin:/bin uvswitch --version) || fail "uvswitch --version failed from PATH"
[ "$got" = "$want" ] || fail "installed uvswitch --version: '$got', build: '$want'"
pass "uvswitch --version from PATH: $got"

# 4. man finds the pages; each holds every option of the installed program's --help.
for prog in uvswitch uvswitchctl; do
  page=$(man -w "$prog" 2>/dev/null) || fail "man -w $prog finds no page"
  [ "$page" = "/usr/share/man/man8/$prog.8.gz" ] || fail "man -w $prog: $page"
  text=$(MANWIDTH=120 man -l "$page" 2>/dev/null | col -b)
  for opt in $(help_options "/usr/bin/$prog"); do
    grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<<"$text" || fail "installed $prog(8) lacks $opt"
  done
done
for sub in $(help_subcommands /usr/bin/uvswitchctl); do
  grep -qE "^ +$sub( |$)" <<<"$(MANWIDTH=120 man -l /usr/share/man/man8/uvswitchctl.8.gz | col -b)" ||
    fail "installed uvswitchctl(8) lacks $sub"
done
pass "man uvswitch / uvswitchctl: every option and subcommand of the installed --help"

# The extcap program, where the build has one: in the folder Wireshark itself searches.
if [ -x "$BUILD/tools/extcap/uvswitch-extcap" ]; then
  extcap_dir=$(tshark -G folders 2>/dev/null | sed -n 's/^Extcap path:[[:space:]]*//p' | head -1)
  [ -n "$extcap_dir" ] || fail "tshark -G folders names no extcap path"
  [ -x "$extcap_dir/uvswitch-extcap" ] || fail "uvswitch-extcap is not in Wireshark's $extcap_dir"
  dpkg-query -L uvswitch | grep -qx "$extcap_dir/uvswitch-extcap" || fail "dpkg does not own $extcap_dir/uvswitch-extcap"
  pass "uvswitch-extcap in $extcap_dir"
fi

# 5. bash-completion's loader finds the completion by the command's name.
comp=/usr/share/bash-completion/completions/uvswitchctl
[ -f "$comp" ] || fail "$comp not installed"
bash --norc -c "source '$comp'; complete -p uvswitchctl" | grep -q -- '-F _uvswitchctl' ||
  fail "the installed completion does not register"
pass "completion in $comp"

# 6. The units: systemd-analyze verify accepts them, and systemd rates their hardening.
levels=""
units=/lib/systemd/system
[ -f $units/uvswitch.service ] || units=/usr/lib/systemd/system
for u in uvswitch.service uvswitch@.service uvswitch@.socket; do
  [ -f "$units/$u" ] || fail "$u not installed in $units"
done
# verify instantiates a template itself; with the package installed the ExecStart binaries
# and the Documentation= man pages must exist too.
SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$units/uvswitch.service" \
  "$units/uvswitch@.socket" "$units/uvswitch@.service" >"$TMP/verify.log" 2>&1 ||
  { cat "$TMP/verify.log" >&2; fail "systemd-analyze verify rejected the units"; }
# verify exits 0 on some findings; any line about our units is one.
if grep 'uvswitch' "$TMP/verify.log" >&2; then fail "systemd-analyze verify warns about the units"; fi
# The hardening, as systemd itself rates it: no worse than its "OK" band (below 5 of 10).
for u in uvswitch.service uvswitch@.service; do
  level=$(systemd-analyze security --offline=yes "$units/$u" 2>/dev/null |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$level" ] || fail "systemd-analyze security gave no exposure level for $u"
  awk -v l="$level" 'BEGIN { exit !(l < 5.0) }' || fail "$u: exposure level $level (want < 5.0)"
  levels="$levels $u=$level"
done
pass "systemd-analyze verify accepts the three units; exposure:$levels"

# 7. The units' command lines work. uvswitch.service's ExecStart with the installed config
# (its runtime dir moved into TMP, so nothing touches /run/uvswitch):
exec_start() { sed -n 's/^ExecStart=//p' "$1"; }
# check_serves CTL EXPR WHAT: once CTL appears, the daemon's port list satisfies EXPR (r bound
# to the JSON reply); then it stops cleanly on SIGTERM.
check_serves() {
  local i
  for i in $(seq 1 100); do [ -S "$1" ] && break; sleep 0.1; done
  expect_exit 0 /usr/bin/uvswitchctl --control "$1" --json ports
  json_check "$OUT" "$2"
  stop_daemon TERM
  [ "$DAEMON_RC" -eq 0 ] || fail "$3's command exited with $DAEMON_RC"
}
read -r -a cmd <<<"$(exec_start $units/uvswitch.service)"
[ "${cmd[0]}" = /usr/bin/uvswitch ] || fail "uvswitch.service runs ${cmd[0]}"
CTL=$XDG_RUNTIME_DIR/uvswitch/control.sock
"${cmd[@]}" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
check_serves "$CTL" "[p['id'] for p in r['return']] == ['vm0', 'nat0']" uvswitch.service
pass "uvswitch.service's ExecStart (${cmd[*]}) serves vm0 and nat0"

# uvswitch@.service's, socket-activated as systemd does it (the listener as fd 3), with the
# unit's default UVSWITCH_ARGS.
args=$(sed -n 's/^Environment=UVSWITCH_ARGS=//p' "$units/uvswitch@.service")
line=$(exec_start "$units/uvswitch@.service")
read -r -a cmd <<<"${line//\$UVSWITCH_ARGS/$args} --control $TMP/inst.ctl"
systemd-socket-activate -l "$TMP/guest1.sock" "${cmd[@]}" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
for i in $(seq 1 100); do [ -S "$TMP/guest1.sock" ] && break; sleep 0.1; done
# The first connection starts uvswitch (socket activation); its vm0 then owns the listener.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.close()' \
  "$TMP/guest1.sock" || fail "cannot connect to the activation socket"
check_serves "$TMP/inst.ctl" \
  "[(p['id'], p['settings'].get('fd')) for p in r['return']] == [('vm0', '3'), ('nat0', None)]" \
  uvswitch@.service
pass "uvswitch@.service's ExecStart under socket activation: vm0 on fd 3, nat0 (${cmd[*]})"

# 8. Removed (purged) again: no file of the package left.
files=$(dpkg-query -L uvswitch | grep -E '^/(usr|etc|lib)/.*[^/]$' | while read -r f; do [ -d "$f" ] || echo "$f"; done)
purge || fail "apt-get purge uvswitch failed"
for f in $files; do [ ! -e "$f" ] || fail "$f is still there after purge"; done
[ ! -e /etc/uvswitch ] || fail "/etc/uvswitch is still there after purge"
pass "apt-get purge uvswitch: its $(wc -w <<<"$files") files are gone"
