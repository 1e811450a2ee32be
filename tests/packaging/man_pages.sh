#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man pages the build generates, uvswitch(8) and uvswitchctl(8), hold every option and
# subcommand of the programs' --help (so they are not out of date), and man renders them
# without a groff warning. deb_install.sh checks the installed pages the same way.
source "$(dirname "$0")/../cli/lib.sh" "$@"
source "$(dirname "$0")/help_lib.sh"
MANDIR=$BUILD/packaging/man

# man_text PAGE.gz: the page as man prints it, warnings to $TMP/man.err.
man_text() {
  MANWIDTH=120 LC_ALL=C.UTF-8 man --warnings -l "$1" 2>"$TMP/man.err" | col -b
}

# check_page PAGE.gz PROGRAM: every option (and subcommand, and subcommand option) of PROGRAM
# appears in PAGE; the page renders cleanly.
check_page() {
  local page=$1 prog=$2 text n=0 opt sub
  [ -s "$page" ] || fail "$page was not built"
  [ ! "$prog" -nt "$page" ] || fail "$page is older than $prog (not rebuilt with it)"
  text=$(man_text "$page")
  [ ! -s "$TMP/man.err" ] || fail "man warns about $page: $(cat "$TMP/man.err")"
  for opt in $(help_options "$prog"); do
    grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<<"$text" ||
      fail "$(basename "$page"): option $opt of $(basename "$prog") --help is missing"
    n=$((n + 1))
  done
  for sub in $(help_subcommands "$prog"); do
    grep -qE "^ +$sub( |$)" <<<"$text" ||
      fail "$(basename "$page"): subcommand $sub of $(basename "$prog") --help is missing"
    for opt in $(help_options "$prog" "$sub" | grep -vx -- --help); do
      # The subcommand's section (.SS NAME) lists its own options (--help is said once for all).
      awk -v s="$sub" '$0 ~ "^   " s "$" { on = 1; next } on && /^(   [a-z]|[A-Z])/ { exit } on { print }' \
        <<<"$text" | grep -q -- "$opt" ||
        fail "$(basename "$page"): option $opt of '$sub' is missing from its COMMANDS entry"
      n=$((n + 1))
    done
    n=$((n + 1))
  done
  [ "$n" -ge 5 ] || fail "only $n options/subcommands found in $(basename "$prog") --help"
  # The page's sections come from the footer too: exit codes are documented.
  grep -q '^EXIT CODES' <<<"$text" || fail "$(basename "$page") has no EXIT CODES section"
  pass "$(basename "$page"): all $n options and subcommands of --help, renders without warnings"
}

check_page "$MANDIR/uvswitch.8.gz" "$UVSWITCH"
check_page "$MANDIR/uvswitchctl.8.gz" "$UVSWITCHCTL"
# NAME line: what whatis/apropos index.
man_text "$MANDIR/uvswitchctl.8.gz" | grep -A1 '^NAME' | grep -q 'uvswitchctl - ' ||
  fail "uvswitchctl(8) has no NAME line"
pass "NAME lines"
