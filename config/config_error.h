// SPDX-License-Identifier: MIT
// ConfigError: the kinds of bad configuration input, and Error, the kind plus a message naming the
// key.
#pragma once

#include <string>
#include <string_view>

namespace uvs::config {

/// Why a piece of configuration was refused. One value per rule, so tests and callers can tell
/// "unknown key" from "bad number" without matching message text.
enum class ConfigError {
  kSyntax,        ///< malformed keyval item or TOML syntax
  kUnknownKey,    ///< key not valid here (message suggests the nearest valid one)
  kMissingKey,    ///< a required key is absent
  kDuplicateKey,  ///< a non-repeatable key given twice
  kDuplicateId,   ///< two ports share an id, or two captures share a file
  kBadNumber,     ///< not a decimal number
  kOutOfRange,    ///< a number outside its allowed range
  kBadBool,       ///< not on/off/yes/no/true/false
  kBadMac,        ///< not a usable unicast MAC address
  kBadVlan,       ///< VLAN id outside 1..4094 or a malformed trunk list
  kBadAddress,    ///< not an IP address, or an address in the wrong place
  kBadCidr,       ///< not a network in CIDR notation
  kBadHostPort,   ///< not IP:PORT / [IPv6]:PORT
  kBadPath,       ///< a path that cannot be used (exists and is not a socket, too long...)
  kBadValue,      ///< any other value a key does not accept
  kConflict,      ///< two keys or settings that exclude each other
  kUnknownPort,   ///< a reference to a port id that does not exist
  kFile,          ///< the config file cannot be read
};

/// A stable lower-case name for `e` ("unknown-key", ...). Never null.
const char* to_string(ConfigError e);

/// A refused configuration input: its kind, a message that names the flag/key and the value, and
/// the bare key it is about (empty when none), which lets the config-file reader point at the
/// line that key is on.
struct Error {
  ConfigError code = ConfigError::kBadValue;
  std::string message;
  std::string key;

  /// Builds an error about `key` (may be empty).
  static Error make(ConfigError code, std::string message, std::string key = {}) {
    return Error{code, std::move(message), std::move(key)};
  }
  /// Returns a copy whose message is "`prefix`: <message>", for adding where the input came from
  /// ("--port vm0", "uvswitch.toml:7").
  Error with_context(std::string_view prefix) const {
    Error e = *this;
    e.message = std::string(prefix) + ": " + message;
    return e;
  }
};

}  // namespace uvs::config
