// SPDX-License-Identifier: MIT
// StreamPortSpec: the checked settings of a stream port (QEMU -netdev stream link).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"

namespace uvs::config {

struct PortTypeInfo;

/// stream,id=,path=|addr=[,server=on|off]: frames over a byte stream, each preceded by a 32-bit
/// big-endian length (QEMU's -netdev stream framing). Exactly one of `path` (unix) and `addr`.
struct StreamPortSpec {
  std::string path;
  std::optional<SocketAddr> addr;
  bool server = true;
  std::optional<unsigned> mode;   ///< unix server socket's permissions (octal `mode=`)
  std::optional<GroupRef> group;  ///< unix server socket's group (`group=`)
  bool operator==(const StreamPortSpec&) const = default;
};

/// The stream type's registry entry (config/port_types.h).
extern const PortTypeInfo kStreamPortType;

}  // namespace uvs::config
