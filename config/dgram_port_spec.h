// SPDX-License-Identifier: MIT
// DgramPortSpec: the checked settings of a dgram port (QEMU -netdev dgram link).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"

namespace uvs::config {

struct PortTypeInfo;

/// dgram,id=,local=IP:PORT,remote=IP:PORT: one frame per UDP datagram (QEMU's -netdev dgram).
struct DgramPortSpec {
  SocketAddr local;
  SocketAddr remote;
  bool operator==(const DgramPortSpec&) const = default;
};

/// The dgram type's registry entry (config/port_types.h).
extern const PortTypeInfo kDgramPortType;

}  // namespace uvs::config
