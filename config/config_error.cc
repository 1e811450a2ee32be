// SPDX-License-Identifier: MIT
// ConfigError names.
#include "config/config_error.h"

namespace uvs::config {

const char* to_string(ConfigError e) {
  switch (e) {
    case ConfigError::kSyntax:
      return "syntax";
    case ConfigError::kUnknownKey:
      return "unknown-key";
    case ConfigError::kMissingKey:
      return "missing-key";
    case ConfigError::kDuplicateKey:
      return "duplicate-key";
    case ConfigError::kDuplicateId:
      return "duplicate-id";
    case ConfigError::kBadNumber:
      return "bad-number";
    case ConfigError::kOutOfRange:
      return "out-of-range";
    case ConfigError::kBadBool:
      return "bad-bool";
    case ConfigError::kBadMac:
      return "bad-mac";
    case ConfigError::kBadVlan:
      return "bad-vlan";
    case ConfigError::kBadAddress:
      return "bad-address";
    case ConfigError::kBadCidr:
      return "bad-cidr";
    case ConfigError::kBadHostPort:
      return "bad-host-port";
    case ConfigError::kBadPath:
      return "bad-path";
    case ConfigError::kBadValue:
      return "bad-value";
    case ConfigError::kConflict:
      return "conflict";
    case ConfigError::kUnknownPort:
      return "unknown-port";
    case ConfigError::kFile:
      return "file";
  }
  return "unknown";
}

}  // namespace uvs::config
