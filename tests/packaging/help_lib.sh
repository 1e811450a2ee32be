# SPDX-License-Identifier: MIT
# What a program's --help defines, for the tests that hold other documents to it: its long
# options, its subcommands, and each subcommand's options. Sourced; reads a program path.

# help_options PROGRAM [SUBCOMMAND]: the long options of the Options: list, one a line.
help_options() {
  "$@" --help | awk '/^Options:$/ { on = 1; next } on && /^$/ { exit } on { print }' |
    grep -oE '^  (-[a-zA-Z],)?--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+'
}

# help_subcommands PROGRAM: the names of the Subcommands: list, one a line.
help_subcommands() {
  "$1" --help | awk '/^Subcommands:$/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'
}
