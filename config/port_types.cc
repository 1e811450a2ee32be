// SPDX-License-Identifier: MIT
// The port type registry: the one list of port types, in PortBackend order.
#include "config/port_types.h"

#include <variant>

namespace uvs::config {
namespace {

// Adding a type: its <type>_port_spec.{h,cc} pair, its struct in PortBackend and its PortType,
// and its entry here, all at the same index.
const PortTypeInfo* const kTypes[] = {&kVhostUserPortType, &kTapPortType, &kStreamPortType,
                                      &kDgramPortType,     &kNatPortType, &kVxlanPortType,
                                      &kDpdkPortType};

static_assert(std::size(kTypes) == std::variant_size_v<PortBackend>,
              "one registry entry per PortBackend alternative");

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

const PortTypeInfo& port_type_info(PortType t) {
  return *kTypes[static_cast<size_t>(t)];
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
  for (const PortTypeInfo* t : kTypes) out += t->help;
  return out;
}

}  // namespace uvs::config
