// SPDX-License-Identifier: MIT
// The port type registry: the one list of port types, and the --help text made from it.
#include "config/port_types.h"

#include "config/dgram_port_spec.h"
#include "config/dpdk_port_spec.h"
#include "config/nat_port_spec.h"
#include "config/port_spec_parser.h"
#include "config/stream_port_spec.h"
#include "config/tap_port_spec.h"
#include "config/vhost_user_port_spec.h"
#include "config/vxlan_port_spec.h"

namespace uvs::config {
namespace {

// Adding a type: its <type>_port_spec.{h,cc} pair and its entry here. The order is that of
// --help and of the type lists in error messages.
const PortTypeInfo* const kTypes[] = {&kVhostUserPortType, &kTapPortType, &kStreamPortType,
                                      &kDgramPortType,     &kNatPortType, &kVxlanPortType,
                                      &kDpdkPortType};

// The width --help's other sections keep to.
constexpr size_t kHelpWidth = 100;

// Appends `text` word-wrapped at kHelpWidth: the first line starts with `first`, the others with
// `indent` spaces. A word longer than the line stays whole.
void append_wrapped(std::string* out, std::string_view first, std::string_view text,
                    size_t indent) {
  if (text.empty()) return;
  std::string line(first);
  bool fresh = true;  // nothing but the prefix on `line` yet
  while (!text.empty()) {
    // A parenthesised aside stays on one line, so that a reader (and help_readme.sh, which
    // skips asides when it collects key names) sees it whole.
    size_t end = 0;
    if (text.front() == '(') end = text.find(')');
    const size_t sp = text.find(' ', end == std::string_view::npos ? 0 : end);
    const std::string_view word = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
    if (!fresh && line.size() + 1 + word.size() > kHelpWidth) {
      *out += line + "\n";
      line.assign(indent, ' ');
      fresh = true;
    }
    if (!fresh) line += ' ';
    line += word;
    fresh = false;
  }
  *out += line + "\n";
}

// Appends each '\n'-separated line of `text`, the first indented by `first`, the others by
// `rest` spaces.
void append_lines(std::string* out, std::string_view text, size_t first, size_t rest) {
  size_t indent = first;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out->append(indent, ' ');
    *out += text.substr(0, nl);
    *out += '\n';
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    indent = rest;
  }
}

// "      key=VALUE: help", wrapped.
void append_key(std::string* out, const KeyRule& k) {
  std::string head = "      " + std::string(k.name) + "=" + std::string(k.value) + ":";
  append_wrapped(out, head + " ", k.help, 8);
}

}  // namespace

std::span<const PortTypeInfo* const> port_types() {
  return kTypes;
}

const PortTypeInfo* find_port_type(std::string_view name) {
  for (const PortTypeInfo* t : kTypes) {
    if (t->name == name) return t;
  }
  return nullptr;
}

std::string port_type_names(std::string_view last_sep) {
  std::string out;
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    if (i > 0) out += i + 1 == std::size(kTypes) ? std::string(last_sep) : std::string(", ");
    out += kTypes[i]->name;
  }
  return out;
}

std::string port_types_help() {
  std::string out;
  for (const PortTypeInfo* t : kTypes) {
    append_lines(&out, t->usage, 2, 6);
    append_wrapped(&out, "      ", t->summary, 6);
    for (const KeyRule& k : t->keys) append_key(&out, k);
  }
  std::string no_trunk;
  for (const PortTypeInfo* t : kTypes) {
    if (!t->trunk) no_trunk += (no_trunk.empty() ? "" : ", ") + std::string(t->name);
  }
  out += "  Every type also takes";
  if (!no_trunk.empty()) out += " (" + no_trunk + ": all but trunk)";
  out += ":\n";
  for (const KeyRule& k : shared_port_keys()) append_key(&out, k);
  return out;
}

}  // namespace uvs::config
