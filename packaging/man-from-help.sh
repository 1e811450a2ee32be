#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes a man page (roff, gzip'd) from a program's own CLI11 --help, so the page cannot drift
# from the binary: built at every build, tested against --help by tests/packaging/man_pages.sh.
#
# Usage: man-from-help.sh OUT.gz PROGRAM SECTION VERSION EXTRA.roff
#   EXTRA.roff: hand-written sections appended as they are (FILES, SEE ALSO).
#
# Not help2man: it refills every footer paragraph, and the footers here are preformatted (the
# port spec grammar, the config example, the exit code table). The options become .TP entries,
# each upper-case footer heading a .SH section kept verbatim (.nf), and a program with
# subcommands gets a COMMANDS section from each subcommand's own --help.
set -euo pipefail
out=$1 prog=$2 section=$3 version=$4 extra=$5
name=$(basename "$prog")
# The help must not depend on who builds: the runtime dir in defaults comes from the environment.
export XDG_RUNTIME_DIR=/run
help=$("$prog" --help)

# roff-escape stdin: backslashes, hyphens (so they copy as ASCII '-'), and a leading '.' or '''.
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

title=$(printf '%s\n' "$help" | head -1)
summary=${title#"$name: "}
usage=$(printf '%s\n' "$help" | sed -n 's/^Usage: //p' | head -1)
upper=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')

{
  printf '.\\" Generated from `%s --help` by packaging/man-from-help.sh; do not edit.\n' "$name"
  printf '.TH %s %s "" "uvswitch %s" "System Administration"\n' "$upper" "$section" "$version"
  printf '.SH NAME\n%s \\- %s\n' "$name" "$(printf '%s' "$summary" | esc)"
  printf '.SH SYNOPSIS\n.B %s\n%s\n' "$name" "$(printf '%s' "${usage#"$name" }" | esc)"
  printf '.SH DESCRIPTION\n%s\n' "$(printf '%s' "$summary" | esc)."

  # The "Options:" and "Subcommands:" lists: "  NAME ARGS   help" or "  NAME ARGS" with the
  # help on the next, deeper-indented line(s).
  list_section() {  # list_section HEADING ROFF_TITLE
    printf '%s\n' "$help" | awk -v h="$1" '
      $0 == h ":" { on = 1; next }
      on && /^$/ { exit }
      on && /^  [^ ]/ {
        line = substr($0, 3)
        if (match(line, /   +/)) { item = substr(line, 1, RSTART - 1); text = substr(line, RSTART + RLENGTH) }
        else { item = line; text = "" }
        printf "@TP\n@B %s\n", item
        if (text != "") print text
        next
      }
      on { sub(/^ +/, ""); print }
    ' | esc | sed -e 's/^@TP$/.TP/' -e 's/^@B \(.*\)$/\\fB\1\\fR/'
  }
  printf '.SH OPTIONS\n'
  list_section Options
  if printf '%s\n' "$help" | grep -q '^Subcommands:$'; then
    printf '.SH SUBCOMMANDS\n'
    list_section Subcommands
    printf '.SH COMMANDS\nEach takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR besides what its entry lists.\n'
    for sub in $(printf '%s\n' "$help" | awk '/^Subcommands:$/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'); do
      printf '.SS %s\n.nf\n' "$sub"
      # Its usage, positionals and options; the footer that follows repeats the program's own.
      # Every subcommand has -h,--help: left out, and so is an Options: list with nothing else.
      "$prog" "$sub" --help | awk '
        NR == 1 { next }
        /^Options:$/ { o = 1; held = $0; next }
        o && /^$/ { exit }
        o && /^  -h,--help/ { next }
        o && held != "" { print held; held = "" }
        { print }' | sed -e '${/^$/d}' | esc
      printf '.fi\n'
    done
  fi

  # Footer: text after the last list. An upper-case heading at column 0 ("EXIT CODES:",
  # "PORT SPECS (...):", "RUNTIME DIRECTORY: text") opens a section; lines before the first
  # heading are notes.
  printf '%s\n' "$help" | awk '
    /^(Options|Subcommands|Positionals):$/ { inlist = 1; next }
    inlist && /^$/ { inlist = 0; started = 1; next }
    inlist || !started { next }
    match($0, /^[A-Z][A-Z]+( [A-Z]+)*( \([^)]*\))?:/) {
      head = $0; sub(/( \(.*)?:.*$/, "", head)
      rest = substr($0, length(head) + 1); sub(/^:/, "", rest); sub(/^ +/, "", rest)
      if (open) print "@FI"
      printf "@SH %s\n@NF\n", head
      if (rest != "") print rest
      open = 1; next
    }
    !seen && !open && /./ { print "@SH NOTES"; print "@NF"; open = 1; seen = 1 }
    { sub(/^  /, ""); print }
    END { if (open) print "@FI" }
  ' | esc | sed -e 's/^@SH \(.*\)$/.SH "\1"/' -e 's/^@NF$/.nf/' -e 's/^@FI$/.fi/'
  cat "$extra"
} >"$out.tmp"
gzip -9n -c "$out.tmp" >"$out"
rm -f "$out.tmp"
