#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `uvswitch --help` and the README agree: the same flags (README "Flags and keys", uvswitch
# flags table), port types and port keys (its Port keys table) and capture keys (the spec key
# table in README "Capture"). Every difference is named, with where to fix it.
source "$(dirname "$0")/lib.sh" "$@"
expect_exit 0 "$UVSWITCH" --help
python3 - "$TMP/cmd.out" "$SRC/README.md" <<'PY' || fail "uvswitch --help and README.md disagree (above)"
import re, sys

help_text = open(sys.argv[1]).read()
readme = open(sys.argv[2]).read()

def help_section(title):
    """Lines of the --help footer section whose heading starts with `title`, heading excluded."""
    lines = help_text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(title):
            body = []
            for l in lines[i + 1:]:
                if l and not l.startswith(" "):
                    break
                body.append(l)
            return body
    sys.exit(f"uvswitch --help has no '{title}' section")

def readme_section(title, level="## ", text=None):
    m = re.search(r"^" + re.escape(level + title) + r"\n(.*?)(?=^#{1,%d} )" % len(level.strip()),
                  (text or readme) + "\n# end\n", re.S | re.M)
    if not m:
        sys.exit(f"README.md has no '{level}{title}' section")
    return m.group(1)

def table_rows(text):
    """Cells of every row of the markdown tables in `text` (header and rule rows excluded)."""
    rows = []
    for line in text.split("\n"):
        if not line.startswith("|") or re.match(r"^\|[\s|:-]+\|$", line):
            continue
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows[1:] if rows else rows  # the first row is the header

def ticked(cell):
    return re.findall(r"`([^`]*)`", cell)

def keys_in(lines):
    # key=VALUE items; text in parentheses is prose about other programs (QEMU's chardev=).
    found = set()
    for l in lines:
        found |= set(re.findall(r"(?<![\w-])([a-z][a-z0-9-]*)=", re.sub(r"\([^)]*\)", "", l)))
    return found

# --help
options_block = help_text.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
help_flags = set(re.findall(r"^  (?:-\w,)?(--[a-z][a-z0-9-]*)", options_block, re.M))
spec_lines = help_section("PORT SPECS")
help_types = set(re.findall(r"^  ([a-z][a-z0-9-]*),", "\n".join(spec_lines), re.M))
help_port_keys = keys_in(spec_lines)
help_capture_keys = keys_in(help_section("CAPTURE SPECS")[:1])  # the grammar line

# README
ref = readme_section("Flags and keys")
readme_flags = set()
for row in table_rows(readme_section("uvswitch flags", "### ", ref)):
    readme_flags |= {w.split()[0] for w in ticked(row[0]) if w.startswith("--")}
readme_types, readme_port_keys = set(), set()
for row in table_rows(readme_section("Port keys", "### ", ref)):
    readme_types |= set(ticked(row[0]))
    # the keys are the ticked words of the second cell that are not values in parentheses
    readme_port_keys |= set(ticked(re.sub(r"\([^)]*\)", "", row[1])))
readme_capture_keys = set()
for row in table_rows(readme_section("Capture")):
    readme_capture_keys |= set(ticked(row[0]))

problems = []
def compare(what, in_help, in_readme, where):
    for k in sorted(in_help - in_readme):
        problems.append(f"{what} '{k}' is in uvswitch --help but not in README.md {where}")
    for k in sorted(in_readme - in_help):
        problems.append(f"{what} '{k}' is in README.md {where} but not in uvswitch --help")

compare("flag", help_flags, readme_flags, "('Flags and keys', uvswitch flags table)")
compare("port type", help_types, readme_types, "('Flags and keys', Port keys table)")
compare("port key", help_port_keys, readme_port_keys, "('Flags and keys', Port keys table)")
compare("capture key", help_capture_keys, readme_capture_keys, "('Capture', spec key table)")
for p in problems:
    print("MISMATCH:", p)
counts = (len(help_flags), len(help_types), len(help_port_keys), len(help_capture_keys))
if min(counts) == 0:
    sys.exit(f"parsed nothing from one part of --help: {counts}")
if problems:
    sys.exit(1)
print("flags %d, port types %d, port keys %d, capture keys %d" % counts)
PY
pass "uvswitch --help and README.md list the same flags, port types, port keys and capture keys"
