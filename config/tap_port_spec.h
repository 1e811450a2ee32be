// SPDX-License-Identifier: MIT
// TapPortSpec: the checked settings of a tap port (kernel tap device).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"

namespace uvs::config {

struct PortTypeInfo;

/// tap,id=,ifname=[,vnet-hdr=on|off][,offload=on|off][,mtu=N]: a kernel tap device, created if
/// missing.
struct TapPortSpec {
  std::string ifname;
  bool vnet_hdr = true;  ///< IFF_VNET_HDR: offloads pass through with their header
  bool offload = true;   ///< with vnet_hdr: TUNSETOFFLOAD checksum, TSO (and USO) offloads
  std::optional<unsigned> mtu;
  bool operator==(const TapPortSpec&) const = default;
};

/// The tap type's registry entry (config/port_types.h).
extern const PortTypeInfo kTapPortType;

}  // namespace uvs::config
