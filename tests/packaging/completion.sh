#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bash completion of uvswitchctl (packaging/bash-completion/uvswitchctl), driven the way bash
# drives it (COMP_WORDS/COMP_CWORD, then the function `complete -p` names) against a test
# daemon: subcommands and options as --help lists them, port ids, NAT port ids and capture ids
# from the daemon the command line's --control names, and nothing (quickly) without a daemon.
source "$(dirname "$0")/../cli/lib.sh" "$@"
source "$(dirname "$0")/help_lib.sh"
COMPLETION=$SRC/packaging/bash-completion/uvswitchctl
[ -f "$COMPLETION" ] || fail "$COMPLETION missing"

# complete_words WORD...: what completing the last WORD (may be empty) offers, sorted, one a
# line. Word 0 is the built uvswitchctl, as a user would type its path.
complete_words() {
  bash --norc --noprofile -c '
    source "$1"; shift
    case "$(complete -p uvswitchctl)" in *"-F _uvswitchctl "*) ;; *) echo "NO-SPEC"; exit 0 ;; esac
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _uvswitchctl uvswitchctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$UVSWITCHCTL" "$@" | sed '/^$/d' | sort
}

# expect WANT WORD...: completing WORD... offers exactly WANT (space-separated, any order).
expect() {
  local want got
  want=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort)
  shift
  got=$(complete_words "$@")
  [ "$got" = "$want" ] || fail "completing [$*]: expected [$(echo $want)], got [$(echo $got)]"
}

[ "$(complete_words "")" != NO-SPEC ] || fail "the completion file does not register _uvswitchctl"
pass "complete -p uvswitchctl names _uvswitchctl"

subs=$(help_subcommands "$UVSWITCHCTL")
[ "$(wc -l <<<"$subs")" -ge 10 ] || fail "uvswitchctl --help lists too few subcommands: $subs"
expect "$subs" ""
expect "$(grep '^port-' <<<"$subs")" "port-"
expect "$(help_options "$UVSWITCHCTL")" "--"
expect "--control" "--con"
pass "subcommands and options as uvswitchctl --help lists them"

start_daemon --control "$CTL" --threads 1 --port "vhost-user,id=vm0,path=$TMP/vm0.sock" \
  --port "vhost-user,id=vm1,path=$TMP/vm1.sock,vlan=10" --port "stream,id=st1,path=$TMP/st1.sock" \
  --port nat,id=nat0 --port nat,id=natb,vlan=10
all="vm0 vm1 st1 nat0 natb"
expect "$all" --control "$CTL" port-del ""
expect "vm0 vm1" --control "$CTL" port-del vm
expect "" --control "$CTL" port-del vm0 ""
expect "nat0 natb" --control = "$CTL" hostfwd-list ""
expect "nat0 natb" "--control=$CTL" hostfwd-add ""
expect "$all" --control "$CTL" --json fdb-flush --port ""
expect "vm0, vm1," --control "$CTL" capture-start v
expect "port=nat0 port=natb" --control "$CTL" capture-start port=n
expect "nat0 natb" --control "$CTL" capture-start port = n
expect "$(help_options "$UVSWITCHCTL" capture-stop)" --control "$CTL" capture-stop --
pass "port ids, NAT port ids and spec prefixes from the daemon on --control"

expect_exit 0 "$UVSWITCHCTL" --control "$CTL" --json capture-start "st1,file=$TMP/st1.pcap"
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["return"]["id"])' <<<"$OUT")
expect "$id" --control "$CTL" capture-stop --id ""
names=$("$UVSWITCHCTL" --control "$CTL" --json call query-commands |
  python3 -c 'import json,sys; print("\n".join(c["name"] for c in json.load(sys.stdin)["return"] if c["name"].startswith("capture")))')
expect "$names" --control "$CTL" call capture
pass "capture ids ($id) and daemon command names"

# No daemon there: no words, and no wait beyond uvswitchctl's own one-second timeout.
start=$(date +%s%N)
expect "" --control "$TMP/none.sock" port-del ""
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 3000 ] || fail "completing without a daemon took $ms ms"
stop_daemon TERM
pass "without a daemon: nothing offered, in $ms ms"
