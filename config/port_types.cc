// SPDX-License-Identifier: MIT
// The port type registry: the one list of port types.
#include "config/port_types.h"

#include "config/dgram_port_spec.h"
#include "config/dpdk_port_spec.h"
#include "config/nat_port_spec.h"
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
  for (const PortTypeInfo* t : kTypes) out += t->help;
  return out;
}

}  // namespace uvs::config
