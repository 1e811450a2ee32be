// SPDX-License-Identifier: MIT
// The port type registry as the configuration sees it: each type's name, keys, reader, canonical
// writer, resources and --help text. Every list of port types (parser, config file, help) comes
// from here.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/key_reader.h"
#include "config/port_backend.h"
#include "config/result.h"

namespace uvs::config {

/// A spec's settings in keyval spelling, in order (see port_settings()).
using PortSettings = std::vector<std::pair<std::string, std::string>>;

/// What a port holds exclusively, so that the whole configuration can refuse two ports that
/// would fight over it (config_merge.cc).
struct PortClaims {
  std::string socket_path;  ///< the unix socket it binds or connects to; "" for none
  std::string resource;     ///< any other ("ifname=tap0", "local=IP:PORT"), readable; "" for none
};

/// One port type. Each is defined beside its reader in config/<type>_port_spec.cc and listed
/// once in port_types.cc; a PortSpec points at its type's entry.
struct PortTypeInfo {
  std::string_view name;          ///< the spec's type word ("vhost-user")
  std::span<const KeyRule> keys;  ///< the type's own keys; the shared ones are added by the parser
  /// Whether the type takes trunk= (a tagged port); every type takes id, thread, vlan and the
  /// port security keys.
  bool trunk = true;
  /// Reads and checks the type's own keys (the shared ones are read already) into the type's
  /// settings struct. Errors name the key.
  Result<PortBackend> (*read)(const KeyReader& reader);
  /// Appends the backend's settings (defaults included, values unescaped) in canonical order.
  void (*write)(const PortBackend& backend, PortSettings* out);
  /// What a port of this type holds exclusively; null when it holds nothing.
  PortClaims (*claims)(const PortBackend& backend) = nullptr;
  /// The spec's grammar for --help ("tap,id=ID,ifname=NAME[,mtu=N]"); '\n' continues it.
  std::string_view usage;
  /// What the type is, for --help; each key's own line follows, from `keys`.
  std::string_view summary;
};

/// Every port type, in registry order (the order of --help and of error hints).
std::span<const PortTypeInfo* const> port_types();

/// The type called `name`; null when there is none.
const PortTypeInfo* find_port_type(std::string_view name);

/// The type names joined for prose: "vhost-user, tap, ... `last_sep` vxlan".
std::string port_type_names(std::string_view last_sep);

/// The PORT SPECS body of --help: each type's usage, summary and one line per key, in registry
/// order, then the keys every type shares (port_spec_parser.h).
std::string port_types_help();

}  // namespace uvs::config
