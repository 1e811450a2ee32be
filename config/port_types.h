// SPDX-License-Identifier: MIT
// The port type registry as the configuration sees it: each type's name, keys, reader, canonical
// writer and --help text. Every list of port types (parser, config file, help) comes from here.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/key_reader.h"
#include "config/port_spec.h"
#include "config/result.h"

namespace uvs::config {

/// A spec's settings in keyval spelling, in order (see port_settings()).
using PortSettings = std::vector<std::pair<std::string, std::string>>;

/// One port type. The entry at index i reads specs into alternative i of PortBackend, so
/// PortType(i) names it.
struct PortTypeInfo {
  std::string_view name;          ///< the spec's type word ("vhost-user")
  std::span<const KeyRule> keys;  ///< the type's own keys; the shared ones are added by the parser
  /// Whether the type takes trunk= (a tagged port); every type takes id, thread, vlan and the
  /// port security keys.
  bool trunk = true;
  /// Reads and checks the type's own keys (the shared ones are read already). Errors name the key.
  Result<PortBackend> (*read)(const KeyReader& reader);
  /// Appends the backend's settings (defaults included, values unescaped) in canonical order.
  void (*write)(const PortBackend& backend, PortSettings* out);
  /// The type's block in `uvswitch --help`: "  synopsis\n" then lines indented by six spaces.
  std::string_view help;
};

// The entries, one per type, each defined beside its reader in <type>_port_spec.cc. Their order
// in port_types.cc is PortBackend's.
extern const PortTypeInfo kVhostUserPortType;
extern const PortTypeInfo kTapPortType;
extern const PortTypeInfo kStreamPortType;
extern const PortTypeInfo kDgramPortType;
extern const PortTypeInfo kNatPortType;
extern const PortTypeInfo kVxlanPortType;
extern const PortTypeInfo kDpdkPortType;

/// Every port type, in PortType order.
std::span<const PortTypeInfo* const> port_types();

/// The type called `name`; null when there is none.
const PortTypeInfo* find_port_type(std::string_view name);

/// The registry entry of `t`.
const PortTypeInfo& port_type_info(PortType t);

/// The type names joined for prose: "vhost-user, tap, ... `last_sep` vxlan".
std::string port_type_names(std::string_view last_sep);

/// The help blocks of every type, in order, for the PORT SPECS section of --help.
std::string port_types_help();

}  // namespace uvs::config
